"""The offline model's final answers: short Markdown built only from tool results."""

from __future__ import annotations

import re
from typing import Any

from aopt.agent._compact import claim_facts
from aopt.agent._help import EXAMPLES, GRAMMAR_HELP, SWITCH_MODEL
from aopt.agent._lexicon import BENCHMARKS, FIXED_2D, GLOBAL_ALGORITHMS, MULTIMODAL, fmt_num
from aopt.optimize import CLAIMS, claim_label, claim_of

__all__ = ["Answer", "best_of", "fmt_vector"]

_MAX_X = 6


def fmt_vector(x: Any) -> str:
    if x is None:
        return "n/a"
    if not isinstance(x, (list, tuple)):
        return fmt_num(x)
    items = [fmt_num(v) if not isinstance(v, str) else "…" for v in x]
    items = [v for i, v in enumerate(items) if not (v == "…" and i > 0 and items[i - 1] == "…")]
    if len(items) > _MAX_X:
        items = items[:4] + ["…"] + items[-1:]
    return "[" + ", ".join(items) + "]"


def _yes(value) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


def _result(r: dict, fallback: str = "") -> str:
    """'result: **local minimum** (KKT residual 3e-09 <= tolerance ...)': what the run proves, and why."""
    facts = claim_facts(r)
    claim = claim_of(facts)
    if claim is None:
        return "result: **not checked**" + (f" ({fallback})" if fallback else "")
    reason = str(facts.get("reason") or fallback).strip()
    head = CLAIMS[claim][0]
    if reason.lower().startswith(head + ":"):  # "not converged: ..." is not said twice
        reason = reason[len(head) + 1:].strip()
    return f"result: **{claim_label(facts)}**" + (f" ({reason})" if reason else "")


def _label(r: dict) -> str:
    """The claim label for a table cell ("local minimum", "not converged", ...; n/a when never checked)."""
    label = claim_label(claim_facts(r))
    return "n/a" if label == "—" else label


def best_of(rows: list[dict], sense: str = "minimize"):
    """The run id with the best value among result rows (None when none has a value).

    Like compare_runs: the best value wins whatever the runs claim (a local minimum is not preferred to a
    better value), but a run that found no feasible point comes after those that did.
    """
    scored = [r for r in rows if isinstance(r.get("best_f"), (int, float)) and r.get("run_id") is not None]
    if not scored:
        return None
    sign = -1.0 if sense == "maximize" else 1.0
    return min(scored, key=lambda r: (claim_of(claim_facts(r)) == "infeasible", sign * r["best_f"]))["run_id"]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:60]


class Answer:
    """Sections of the final answer, in the order the plan produced them."""

    def __init__(self):
        self.parts: list[str] = []
        self.advice: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def render(self) -> str:
        parts = self.parts + ([" ".join(self.advice)] if self.advice else [])
        return "\n\n".join(p for p in parts if p).strip() or "Done."

    # -- runs
    def run(self, r: dict, problem: dict | None) -> None:
        rid = r.get("run_id")
        conv = r.get("converged")
        line = (f"**Run {rid}** ({r.get('algorithm', '?')} on `{r.get('problem', '?')}`): "
                f"best f = `{fmt_num(r.get('best_f'))}` at x = `{fmt_vector(r.get('best_x'))}`; "
                f"{_result(r, r.get('message') or '')}; {r.get('n_evaluations', 0)} evaluations")
        if r.get("status") and r.get("status") != "completed":
            line += f"; status: {r['status']}"
        if r.get("parent_run_id"):
            line += f"; warm-started from run {r['parent_run_id']}"
        self.add(line + ".")
        if conv is False:
            self.advice.append(self._suggest(r, problem))
        elif claim_of(claim_facts(r)) == "local":
            advice = self._deeper(r, problem)
            if advice:
                self.advice.append(advice)

    def _deeper(self, r: dict, problem: dict | None) -> str:
        """For a local minimum of a problem with many local minima: a deeper one may exist, and how to look."""
        problem = problem or {}
        bench = problem.get("benchmark") or problem.get("objective") or r.get("problem") or ""
        multimodal = problem.get("multimodal") or any(str(bench).startswith(b) for b in MULTIMODAL)
        if not multimodal or r.get("algorithm") in GLOBAL_ALGORITHMS or str(r.get("algorithm")).startswith("auto"):
            return ""
        name = str(problem.get("name") or bench)
        return (f"Run {r.get('run_id')} found a local minimum of a problem with many local minima, so a deeper "
                f"one may exist: try `optimize {name} with differential evolution`, or `auto`, whose restarts "
                f"give global evidence when they agree.")

    def _suggest(self, r: dict, problem: dict | None) -> str:
        rid, algorithm = r.get("run_id"), r.get("algorithm")
        problem = problem or {}
        bench = problem.get("benchmark") or problem.get("objective") or r.get("problem") or ""
        multimodal = problem.get("multimodal") or any(str(bench).startswith(b) for b in MULTIMODAL)
        constrained = bool(problem.get("constraints"))
        text = f"Run {rid} did not converge."
        message = f"{r.get('message', '')} {r.get('convergence_reason', '')}".lower()
        if "unbounded" in message or "no finite minimum" in message:
            return text + (" The objective looks unbounded, so no start point or method can fix it: add "
                           "bounds or constraints (e.g. `... for x in [-10, 10]`), or check its sign.")
        if r.get("best_f") is None:
            if "nan or infinite" in message or r.get("n_evaluations"):
                return text + (" No evaluation gave a finite value: start inside the objective's domain "
                               "(e.g. `... from (1, 1)`), or give bounds that keep to it.")
            return text + " It made no evaluation: see the message above, fix the objective or try `auto`."
        if "budget" in message or "maximum number" in message or "max" in message and "eval" in message:
            more = max(5000, 2 * int(r.get("n_evaluations") or 0))
            return text + (f" It ran out of evaluations: try `continue run {rid} with {algorithm} and {more} "
                           f"evaluations`.")
        if "never left its start point" in message:
            return text + (f" It stopped on its start point, which is flat or a saddle: try another start, "
                           f"e.g. `try it again with {algorithm} and seed 1`, or `auto`, which restarts "
                           f"from other points.")
        if multimodal and algorithm not in GLOBAL_ALGORITHMS:
            name = str(problem.get("name") or bench)
            return text + (f" The problem has many local minima, so a global method is a better bet: "
                           f"`optimize {name} with differential evolution` (or `continue run {rid} with "
                           f"basinhopping`).")
        if constrained:
            alt = "trust-constr" if algorithm == "SLSQP" else "SLSQP"
            return text + f" Try a warm start with a constrained method: `continue run {rid} with {alt}`."
        alt = "BFGS" if algorithm == "L-BFGS-B" else "L-BFGS-B"
        return text + f" Try a warm start from its best point: `continue run {rid} with {alt}`."

    def best_of_runs(self, rows: list[dict], sense: str) -> None:
        best = best_of(rows, sense)
        if best is not None:
            row = next(r for r in rows if r.get("run_id") == best)
            self.add(f"Best of these: **run {best}** ({row.get('algorithm')}) with f = `{fmt_num(row.get('best_f'))}` "
                     f"({_label(row)}).")

    def compare(self, result: dict) -> None:
        rows = [r for r in result.get("runs") or [] if isinstance(r, dict)]
        lines = ["| run | algorithm | problem | best f | result | evaluations |", "|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r.get('run_id')} | {_cell(r.get('algorithm'))} | {_cell(r.get('problem'))} | "
                         f"{fmt_num(r.get('best_f'))} | {_cell(_label(r))} | {r.get('n_evaluations', '')} |")
        best = result.get("best_run_id")
        if best is not None:
            row = next((r for r in rows if r.get("run_id") == best), {})
            lines.append(f"\n**Best: run {best}** ({row.get('algorithm', '?')}) with f = "
                         f"`{fmt_num(row.get('best_f'))}`" + (f" ({_label(row)})" if row else "") + ".")
        elif result.get("note"):
            lines.append(f"\n{result['note']}.")
        self.add("\n".join(lines))

    def show(self, r: dict) -> None:
        lines = [f"**Run {r.get('run_id')}** — {r.get('algorithm')} on `{r.get('problem')}` ({r.get('status')})",
                 f"- best f: `{fmt_num(r.get('best_f'))}`",
                 f"- best x: `{fmt_vector(r.get('best_x'))}`",
                 f"- {_result(r)}",
                 f"- evaluations: {r.get('n_evaluations', 0)}, iterations: "
                 f"{r['n_iterations'] if r.get('n_iterations') is not None else 'not reported'}, "
                 f"time: {fmt_num(r.get('duration_s'))} s"]
        if r.get("x0") is not None:
            lines.append(f"- start point: `{fmt_vector(r.get('x0'))}`")
        if r.get("parent_run_id"):
            lines.append(f"- warm-started from run {r['parent_run_id']}")
        if r.get("seed") is not None:
            lines.append(f"- seed: {r['seed']}")
        if r.get("options"):
            lines.append(f"- options: `{r['options']}`")
        if r.get("message"):
            lines.append(f"- message: {r['message']}")
        self.add("\n".join(lines))

    def analysis(self, result: dict) -> None:
        run = result.get("run") or {}
        conv = result.get("convergence") or {}
        lines = [f"**Run {run.get('run_id')}** ({run.get('algorithm')} on `{run.get('problem')}`): "
                 f"best f = `{fmt_num(run.get('best_f'))}`, {_result({**run, 'convergence': conv})}."]
        p = result.get("progress") or {}
        if p:
            lines.append(f"- progress: f went from `{fmt_num(p.get('first_f'))}` to `{fmt_num(p.get('best_f'))}`; "
                         f"the best was found at evaluation {p.get('best_found_at_evaluation')} of "
                         f"{p.get('evaluations')}")
        if result.get("stagnation"):
            lines.append("- it stagnated: most evaluations brought no improvement")
        for key in ("max_violation", "grad_norm", "kkt_residual", "gap_to_optimum"):
            if conv.get(key) is not None:
                lines.append(f"- {key.replace('_', ' ')}: `{fmt_num(conv[key])}`")
        for s in result.get("suggestions") or []:
            lines.append(f"- suggestion: {s}")
        self.add("\n".join(lines))

    # -- lists
    def runs_table(self, result: dict, args: dict) -> None:
        rows = [r for r in result.get("runs") or [] if isinstance(r, dict)]
        if not rows:
            self.add("There are no runs yet" + (" matching that filter" if args else "") +
                     ". Try `optimize 2D rosenbrock with BFGS`.")
            return
        lines = ["| run | problem | algorithm | status | best f | result |", "|---|---|---|---|---|---|"]
        for r in rows[:20]:
            lines.append(f"| {r.get('run_id')} | {_cell(r.get('problem'))} | {_cell(r.get('algorithm'))} | "
                         f"{r.get('status')} | {fmt_num(r.get('best_f'))} | {_cell(_label(r))} |")
        total = result.get("total", len(rows))
        lines.append(f"\n{total} run{'s' if total != 1 else ''} in total; `show run N` shows one in full.")
        self.add("\n".join(lines))

    def problems_table(self, result: dict) -> None:
        rows = [p for p in result.get("problems") or [] if isinstance(p, dict)]
        if not rows:
            self.add("No problems are stored yet. Try `optimize 2D rosenbrock with BFGS`.")
            return
        lines = ["| id | name | kind | dimension | objective |", "|---|---|---|---|---|"]
        for p in rows[-20:]:
            lines.append(f"| {p.get('problem_id')} | {_cell(p.get('name'))} | {p.get('kind')} | "
                         f"{p.get('dimension')} | {_cell(p.get('objective'))} |")
        self.add("\n".join(lines))

    def algorithms(self, result: dict, filters: dict, topic: str | None) -> None:
        rows = [a for a in result.get("algorithms") or [] if isinstance(a, dict)]
        if topic == "equality":
            rows = [a for a in rows if a.get("handles_equality_constraints")]
        elif topic in ("global", "local"):
            rows = [a for a in rows if a.get("family") == topic]
        what = []
        if filters.get("handles_constraints") or topic == "equality":
            what.append("handle " + ("equality " if topic == "equality" else "") + "constraints")
        if filters.get("handles_bounds"):
            what.append("handle bounds")
        if filters.get("uses_gradient") is False:
            what.append("need no gradient")
        if filters.get("uses_gradient") is True:
            what.append("use gradients")
        head = ("Algorithms that " + " and ".join(what) if what else
                (f"{topic.capitalize()} algorithms" if topic in ("global", "local") else "Available algorithms"))
        if not rows:
            self.add(head + ": none.")
            return
        lines = [head + ":"]
        for a in rows:
            lines.append(f"- **{a.get('name')}**" + (f" — {a['summary']}" if a.get("summary") else ""))
        lines.append("\n`auto` lets paola choose from the problem's properties.")
        self.add("\n".join(lines))

    def algorithm_info(self, result: dict, topic: str | None) -> None:
        rows = [a for a in result.get("algorithms") or [] if isinstance(a, dict)]
        row = next((a for a in rows if str(a.get("name")).lower() == str(topic).lower()), None)
        if row is None:
            self.add(f"`{topic}`: paola chooses a method from the problem's properties." if topic == "auto"
                     else f"I know no algorithm `{topic}`.")
            return
        caps = [("handles bounds", row.get("handles_bounds")), ("handles constraints", row.get("handles_constraints")),
                ("uses gradients", row.get("uses_gradient"))]
        self.add(f"**{row.get('name')}** ({row.get('family')}): {row.get('summary', '')}\n" +
                 "; ".join(f"{k}: {_yes(v)}" for k, v in caps) + ".")

    # -- words only
    def benchmarks(self) -> None:
        anyd = [b for b in BENCHMARKS if b not in FIXED_2D]
        self.add("Built-in benchmarks: " + ", ".join(anyd) + " (any dimension); " + ", ".join(sorted(FIXED_2D)) +
                 " (2-D). Multimodal (many local minima): " + ", ".join(sorted(MULTIMODAL)) +
                 ". Example: `optimize 10D rastrigin with differential evolution`. "
                 "`list problems` shows the problems you have defined.")

    def help(self) -> None:
        self.add(GRAMMAR_HELP)

    def greet(self) -> None:
        self.add("Hello! I am paola's offline model. Try `optimize 10D rosenbrock with SLSQP`, or `help` for "
                 "what I understand.")

    def not_understood(self, request) -> None:
        got = request.understood
        text = "I did not understand that request"
        text += (" completely. I understood " + ", ".join(got) + ", but not what to do with "
                 + ("it." if len(got) == 1 else "them.")) if got else "."
        examples = "\n".join(f"- `{e}`" for e in EXAMPLES[:8])
        self.add(f"{text}\n\nPhrasings I understand, for example:\n{examples}\n\n"
                 f"Type `help` for the whole grammar. {SWITCH_MODEL}")

    def skipped(self, text: str) -> None:
        self.advice.append(f"I did not understand the part “{text[:80]}”; `help` lists what I understand.")

    def ask_run(self) -> None:
        self.add("Which run do you mean? There are no runs in this conversation yet. Say for example "
                 "`show run 5`, or `list my runs` to see the ids.")

    def ask_problem(self, step) -> None:
        what = ("with " + ", ".join(r.algorithm for r in step.runs if r.algorithm_given)) if step.runs and \
            any(r.algorithm_given for r in step.runs) else ""
        self.add(f"Which problem should I optimize{(' ' + what) if what else ''}? There is no earlier problem in this "
                 "conversation. Say for example `optimize 5D rosenbrock with BFGS` or "
                 "`minimize (x-3)^2 + y^2 subject to x + y >= 1`.")

    def ask_compare(self, ids) -> None:
        self.add("I need at least two runs to compare" + (f" (I found only run {ids[0]})" if ids else "") +
                 ". Say for example `compare runs 2 and 4`, or `list my runs` to see the ids.")

    def cannot_resize(self, n: int) -> None:
        self.add(f"I can change the dimension only of an any-dimension benchmark from this conversation; say for "
                 f"example `optimize {n}D rosenbrock with BFGS`.")

    def unavailable(self, name: str) -> None:
        self.add(f"The tool `{name}` is not available to me in this session, so I cannot do that step.")

    def note_diverged(self) -> None:
        self.add("The tool calls of this turn do not follow my plan, so I stop here; the results above are what "
                 "the tools returned.")

    def error(self, name: str, args: dict, result: Any) -> None:
        err = result.get("error") if isinstance(result, dict) else None
        if isinstance(err, dict):
            kind, message = err.get("kind", "error"), str(err.get("message", err))
        elif err is not None:
            kind, message = "error", str(err)
        else:
            kind, message = "error", "no result came back"
        message = message[:600].rstrip()
        if message and message[-1] not in ".!?":
            message += "."
        message = re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", message)  # shown as written, not as Markdown
        what = {"create_problem": "define the problem", "start_optimization_run": "start the run",
                "run_scipy_optimization": "run the optimizer", "finalize_optimization_run": "finalize the run",
                "get_run": "read the run", "compare_runs": "compare the runs", "analyze_run": "analyze the run",
                "list_runs": "list the runs", "list_problems": "list the problems",
                "list_algorithms": "list the algorithms"}.get(name, f"call `{name}`")
        text = f"I could not {what}: {message}"
        if kind == "incompatible_algorithm":
            text += (f" `{args.get('algorithm')}` cannot handle this problem; constrained problems need e.g. "
                     "SLSQP, trust-constr or COBYLA, and `auto` always picks a compatible method.")
        elif kind == "not_found" and re.search(r"\brun\b", message, re.I):
            text += " `list my runs` shows the run ids."
        self.add(text)
