"""The offline model's grammar: a request in words -> a list of `Step`s.

A request is split into clauses at "then", and at ",", ";", "and", "." when a command
verb follows ("..., then compare them", "... and show the best"). Each clause is
one step (optimize, continue, compare, show, analyze, list...) or adds runs to the
optimize step before it ("... with Nelder-Mead, then with BFGS").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aopt.agent._extract import (Clause, extract_bounds, extract_budget, extract_dimension, extract_run_ids,
                                 extract_seed, extract_start)
from aopt.agent._lexicon import (FIXED_2D, GLOBAL_ALGORITHMS, WORD_NUMBERS, find_algorithms, find_benchmarks,
                                 normalize_text)
from aopt.agent._objective import find_constraints, find_objective, identifiers, slug

__all__ = ["ProblemSpec", "RunSpec", "Step", "Request", "parse_request", "MAX_TEXT"]

MAX_TEXT = 4000


@dataclass
class ProblemSpec:
    kind: str  # "benchmark" or "expression"
    objective: str
    dimension: int | None = None
    bounds: Any = None
    constraints: list = field(default_factory=list)
    sense: str = "minimize"
    name: str = ""
    properties: list = field(default_factory=list)  # what the user says of the objective

    def tool_args(self) -> dict:
        args: dict = {"name": self.name, "objective": self.objective}
        if self.dimension is not None:
            args["dimension"] = self.dimension
        if self.bounds is not None:
            args["bounds"] = self.bounds
        if self.constraints:
            args["constraints"] = list(self.constraints)
        if self.sense != "minimize":
            args["sense"] = self.sense
        if self.properties:
            args["properties"] = list(self.properties)
        return args


@dataclass
class RunSpec:
    algorithm: str = "auto"
    x0: Any = None
    max_evaluations: int | None = None
    seed: int | None = None
    options: dict = field(default_factory=dict)
    parent: Any = None  # a run id, or "last"
    algorithm_given: bool = False


@dataclass
class Step:
    action: str  # optimize, compare, show, analyze, list_runs, list_problems, list_algorithms,
    #              algorithm_info, benchmarks, help, greet, unknown
    problem: ProblemSpec | None = None
    problem_ref: str | None = None  # "last": the problem of the latest run; "parent": of the parent run
    dimension: int | None = None  # a new dimension for the referred problem ("now in 20D")
    runs: list = field(default_factory=list)
    run_ids: list = field(default_factory=list)
    ref: str | None = None  # "new", "last", "best", "lastN"
    count: int | None = None
    filters: dict = field(default_factory=dict)
    topic: str | None = None
    understood: list = field(default_factory=list)
    text: str = ""


@dataclass
class Request:
    text: str
    steps: list
    understood: list


_VERBS = (r"(?:compare|show|display|list|analy[sz]e|diagnose|explain|continue|resume|warm[\s-]?start|refine|polish|"
          r"optimi[sz]e|minimi[sz]e|maximi[sz]e|solve|try|rerun|re-run|redo|repeat|get|give|tell|print|report|"
          r"summari[sz]e|what|which|why|plot|find|rank|describe)\b(?!\s*=)")
_SPLIT = re.compile(rf"\s*(?:[,;]?\s*\band\s+then\b|[,;.]?\s*\bthen\b|[,;]?\s*\bafter\s+that\b|[,;]?\s*\bafterwards\b|"
                    rf"[,;]?\s*\bfinally\b|(?:[,;]|\.(?=\s)|\band\b|\balso\b|\bnext\b)\s*(?=(?:please\s+|also\s+)?{_VERBS}))\s*")


def split_clauses(text: str) -> list[str]:
    """Top-level clause boundaries (never inside brackets)."""
    low = text.lower()
    depth, mask = 0, []
    for ch in low:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        mask.append(ch if depth == 0 else "x")
    masked = "".join(mask)
    parts, last = [], 0
    for m in _SPLIT.finditer(masked):
        if m.start() > last:
            parts.append(text[last:m.start()])
        last = m.end()
    parts.append(text[last:])
    return [p.strip(" ,;.") for p in parts if p.strip(" ,;.!?")]


def _benchmark_in(c: Clause):
    hits = find_benchmarks(c.work)
    if not hits:
        return None
    s, e, name = hits[0]
    c.blank(s, e)
    c.take(r"\b(?:function|benchmark|problem)\b")
    return name


def _parse_options(c: Clause) -> RunSpec:
    run = RunSpec()
    run.seed = extract_seed(c)
    run.max_evaluations, run.options = extract_budget(c)
    run.x0 = extract_start(c)
    return run


# what a user may say of an objective (create_problem's `properties`), in their words
_PROPERTY_WORDS = (
    ("multimodal", r"multi-?modal|(?:many|lots\s+of|several|multiple)\s+local\s+(?:minima|optima)|rugged"),
    ("noisy", r"noisy|has\s+noise|with\s+noise|stochastic"),
    ("expensive", r"expensive|costly|slow\s+to\s+(?:evaluate|compute|run)|takes?\s+(?:seconds|minutes)"),
    ("convex", r"convex"),
    ("smooth", r"smooth|differentiable"),
)


def _properties(c: Clause) -> list[str]:
    found = []
    for name, pattern in _PROPERTY_WORDS:
        m = c.take(rf"\b(?:it\s+is\s+|it's\s+|(?:the\s+)?(?:objective|function)\s+is\s+)?(?:{pattern})\b")
        if m and name not in found:
            found.append(name)
    if "convex" in found and "multimodal" in found:
        found.remove("convex")
    return found


def _algorithms(c: Clause) -> list[str]:
    m = c.take(r"\b(?:all|every|each)\s+(?:the\s+|of\s+the\s+)?global\s+(?:methods|algorithms|optimi[sz]ers|solvers)\b")
    if m:
        return list(GLOBAL_ALGORITHMS)
    hits = find_algorithms(c.work, c.text)
    for s, e, _ in hits:
        c.blank(s, e)
    out = []
    for _, _, name in hits:
        if name not in out:
            out.append(name)
    return out


_Q = r"\b(?:list|show|display|print|see|view|what|which|whats|get|give|tell|all|my|available|supported|known|there|" \
     r"have|do|does|can|could|handle|handles|support|supports|any)\b|\?"
_STATUS = {"failed": "failed", "failures": "failed", "completed": "completed", "finished": "completed",
           "interrupted": "interrupted", "running": "running", "stopped": "interrupted"}
_COUNT = r"(\d{1,3}|" + "|".join(WORD_NUMBERS) + r")"


def _count(word: str) -> int:
    return WORD_NUMBERS.get(word) or int(word)


def parse_clause(text: str, previous: Step | None) -> Step:
    c = Clause(text)
    low = c.low
    if not re.search(r"[a-z0-9]", low):
        return Step("unknown")
    if re.fullmatch(r"\s*(?:help|h|usage|commands|examples?|how\s+does\s+this\s+work|what\s+can\s+you\s+do|"
                    r"how\s+(?:do|can)\s+i\s+use\s+(?:you|this|paola)|what\s+do\s+you\s+understand)\W*", low) or \
            re.search(r"\bwhat can you do\b|\bwhat do you understand\b", low):
        return Step("help")
    if re.fullmatch(r"\s*(?:hi|hello|hey|hallo|yo|thanks|thank\s+you|thx|ok|okay|cool|great|nice|good\s+"
                    r"(?:morning|afternoon|evening))(?:\s+(?:paola|there|you|so\s+much|a\s+lot))?\W*", low):
        return Step("greet")

    kind, objective, sense = find_objective(c)
    bench = None if kind else _benchmark_in(c)
    properties = _properties(c) if kind in ("code", "expression") else []
    compare = bool(re.search(r"\b(?:compare|comparison|comparing|contrast|versus|vs\.?|rank|which\s+(?:one\s+|run\s+)?"
                             r"(?:is|was|did|performed)\s+(?:better|best))\b", low))
    analyze = bool(re.search(r"\b(?:analy[sz]e|analysis|diagnos[ei]s|diagnose|explain|why|what\s+went\s+wrong|"
                             r"inspect|troubleshoot)\b", low))
    cont = bool(re.search(r"\b(?:continue|continuing|resume|warm[\s-]?start(?:ed|ing)?|warmstart|restart(?:ing)?\s+"
                          r"from|refine|polish|pick\s+up|carry\s+on|keep\s+going|start(?:ing)?\s+from\s+(?:run|the\s+"
                          r"(?:best|result|end|last))|from\s+the\s+(?:best|result|end)\s+of|initiali[sz]ed?\s+(?:from|"
                          r"with)\s+run)\b(?!\s*=)", low))
    question = bool(re.search(_Q, low))
    last_n = re.search(rf"\b(?:last|latest|previous|recent|newest|final)\s+{_COUNT}\b(?:\s+runs?)?", low)
    if last_n:
        c.blank(last_n.start(), last_n.end())
    ids = extract_run_ids(c, bare=compare and not (kind or bench))
    options = _parse_options(c)
    dim = extract_dimension(c)
    obj_ids = set(identifiers(objective)) if objective else set()
    pair, per, power_dim = extract_bounds(c, tuple(sorted(obj_ids)))
    constraints = find_constraints(c, obj_ids) if kind == "expression" else (
        find_constraints(c, {f"x{i}" for i in range(1, 100)}) if kind == "code" else [])
    algos = _algorithms(c)
    understood = []
    if bench or objective:
        understood.append(f"the problem `{bench or objective}`")
    if algos:
        understood.append("the algorithm" + ("s " if len(algos) > 1 else " ") + ", ".join(f"`{a}`" for a in algos))
    if dim:
        understood.append(f"{dim} dimensions")
    if ids:
        understood.append("run " + ", ".join(map(str, ids)))

    it_ref = re.search(r"\b(?:it|that|this|the\s+(?:last|latest|previous|recent|newest|current)(?:\s+(?:one|run|"
                       r"result|optimi[sz]ation))?|the\s+result|the\s+run|the\s+same(?:\s+problem)?|its|again)\b", low)
    best_ref = re.search(r"\b(?:best|winner|winning|better)\b", low)
    step = Step("unknown", understood=understood)

    def runs_for(algorithms, parent=None):
        names = algorithms or ["auto"]
        return [RunSpec(a, options.x0, options.max_evaluations, options.seed, dict(options.options), parent,
                        bool(algorithms)) for a in names]

    def problem_spec():
        if kind == "code":
            name = re.sub(r"[^A-Za-z0-9]+", "_", objective.rsplit(":", 1)[-1]).strip("_") or "code"
            n = dim or (len(options.x0) if isinstance(options.x0, list) else None)
            return ProblemSpec("code", objective, n, pair if pair is not None else (dict(per) if per else None),
                               constraints, sense, f"{name}_{n}d" if n else name, properties)
        if kind == "expression":
            bounds = per or pair
            if per and pair and not isinstance(pair[0], list):
                bounds = {**{v: pair for v in sorted(obj_ids) if v not in per and re.fullmatch(r"[A-Za-z]\w*", v)},
                          **per}
            name = "expr_" + slug(objective)
            return ProblemSpec("expression", objective, dim, bounds, constraints, sense, name, properties)
        n = dim or power_dim
        if n is None and isinstance(options.x0, list) and bench not in FIXED_2D:
            n = len(options.x0)
        if n is None and isinstance(pair, list) and pair and isinstance(pair[0], list):
            n = len(pair)
        n = 2 if bench in FIXED_2D else (n or 2)
        bounds = pair if pair is not None else (dict(per) if per else None)
        return ProblemSpec("benchmark", bench, n, bounds, [], sense, re.sub(r"[^a-z0-9]+", "_", bench) + f"_{n}d")

    def fill_start(spec_dim, runs):
        for r in runs:
            if r.x0 in ("zeros", "ones"):
                r.x0 = [0.0 if r.x0 == "zeros" else 1.0] * spec_dim if spec_dim else None
            elif isinstance(r.x0, list) and len(r.x0) == 1 and spec_dim and spec_dim > 1:
                r.x0 = r.x0 * spec_dim
        return runs

    has_problem = bool(kind or bench)
    if compare and has_problem and algos and not ids:
        spec = problem_spec()
        step = Step("optimize", spec, runs=fill_start(spec.dimension, runs_for(algos)), understood=understood)
        return _with_compare(step)
    if compare and algos and not ids and previous is not None and previous.action == "optimize":
        # "..., then compare with Nelder-Mead": one more run of the previous problem, then the comparison
        previous.runs.extend(runs_for(algos))
        return Step("compare", ref="new", understood=understood)
    if compare:
        step.action = "compare"
        step.run_ids = ids
        if len(ids) < 2:
            if last_n:
                step.ref, step.count = "lastN", max(2, _count(last_n.group(1)))
            elif re.search(r"\b(?:last|latest|previous|recent)\s+(?:runs|ones)\b", low):
                step.ref, step.count = "lastN", 2
            else:
                step.ref = "new"
            if len(ids) == 1:
                step.run_ids, step.ref = ids, "with_last"
        return step
    if ids and analyze:
        return Step("analyze", run_ids=ids, understood=understood)
    if analyze and not has_problem and not algos and (it_ref or re.search(r"\b(?:converge|fail|stuck|wrong|"
                                                                          r"slow)", low)):
        return Step("analyze", ref="best" if best_ref and not it_ref else "last", understood=understood)
    if cont and not has_problem:
        parent = ids[0] if ids else "last"
        step = Step("optimize", problem_ref="parent", runs=runs_for(algos, parent), understood=understood)
        return step
    algo_word = re.search(r"\b(?:algorithms?|algos?|methods?|optimi[sz]ers?|solvers?|techniques?)\b", low)
    if algo_word and not has_problem and not ids and (question or re.search(r"\b(?:for|with)\b", low)):
        filters = {}
        if re.search(r"\bconstrain|\bconstraints?\b|\bsubject\b", low):
            filters["handles_constraints"] = True
        if re.search(r"\bbound", low):
            filters["handles_bounds"] = True
        if re.search(r"\b(?:gradient|derivative)[\s-]*free\b|\bwithout\s+(?:gradients?|derivatives?)\b|\bno\s+"
                     r"(?:gradients?|derivatives?)\b|\bzeroth", low):
            filters["uses_gradient"] = False
        elif re.search(r"\b(?:use|uses|using|need|needs|require|requires|with)\s+(?:the\s+)?(?:gradients?|"
                       r"derivatives?|jacobians?)\b|\bgradient[\s-]*based\b", low):
            filters["uses_gradient"] = True
        step = Step("list_algorithms", filters=filters, understood=understood)
        if re.search(r"\bequalit", low):
            step.topic = "equality"
        elif re.search(r"\bglobal\b", low):
            step.topic = "global"
        elif re.search(r"\blocal\b", low):
            step.topic = "local"
        return step
    if len(algos) == 1 and not has_problem and not ids and re.search(
            r"\b(?:what\s+is|what's|whats|tell\s+me\s+about|describe|explain|info\s+(?:on|about)|how\s+does|"
            r"what\s+does)\b", low):
        return Step("algorithm_info", topic=algos[0], understood=understood)
    if not has_problem and re.search(r"\b(?:benchmarks?|test\s+(?:functions?|problems?)|built[\s-]?in\s+(?:functions?|"
                                     r"problems?)|known\s+functions|functions\s+(?:do\s+you|are\s+there|can))\b", low):
        return Step("benchmarks", understood=understood)
    listing = re.search(r"\b(?:list|show|display|print|what|which)\b", low) and not re.search(
        r"\b(?:optimi[sz]e|minimi[sz]e|maximi[sz]e|solve)\b", low)
    if (not has_problem or (bench and listing)) and not ids and re.search(r"\bruns\b|\bhistory\b|\bexperiments\b", low) and \
            (question or re.fullmatch(r"\W*(?:my\s+|the\s+|all\s+)?runs\W*", low) or "recent" in low):
        step = Step("list_runs", understood=understood)
        for word, status in _STATUS.items():
            if re.search(rf"\b{word}\b", low):
                step.filters["status"] = status
        m = re.search(rf"\b(?:last|latest|recent|newest|first|top)\s+{_COUNT}\b", low)
        if m:
            step.filters["limit"] = _count(m.group(1))
        m = re.search(r"\b(?:of|for|on)\s+(?:problem\s+)?([a-z][\w\-]*_\w+)", low)
        if m:
            step.filters["problem"] = c.text[m.start(1):m.end(1)]
        elif bench:
            step.filters["problem"] = problem_spec().name
        return step
    if not has_problem and not ids and re.search(r"\bproblems\b|\bproblem\s+list\b", low) and \
            (question or re.fullmatch(r"\W*(?:my\s+|the\s+|all\s+)?problems\W*", low)):
        return Step("list_problems", understood=understood)
    show = re.search(r"\b(?:show|display|get|details?|describe|info|information|print|open|look\s+at|view|see|report|"
                     r"result|results|summary|summari[sz]e|what\s+(?:is|was|were|are)|how\s+did)\b", low)
    if ids and not has_problem and (show or not algos) and not cont:
        return Step("show", run_ids=ids, understood=understood)
    if show and not has_problem and not algos and (best_ref or it_ref):
        return Step("show", ref="best" if best_ref else "last", understood=understood)
    if has_problem:
        spec = problem_spec()
        step = Step("optimize", spec, runs=fill_start(spec.dimension, runs_for(algos)), understood=understood)
        return step
    opt_verb = re.search(r"\b(?:optimi[sz]e|minimi[sz]e|maximi[sz]e|solve|run|rerun|re-run|redo|repeat|retry|"
                         r"again|try|instead|same|now|also|too|use|switch|what\s+about|how\s+about|with)\b", low)
    has_options = bool(options.seed is not None or options.max_evaluations or options.options or
                       options.x0 is not None or dim)
    if previous is not None and previous.action == "optimize" and (algos or has_options) and \
            not re.search(r"\b(?:again|retry|rerun|re-run|redo|repeat)\b", low) and dim is None:
        # "..., then with BFGS": more runs of the previous clause's problem
        base = previous.runs[-1] if previous.runs else RunSpec()
        for r in runs_for(algos):
            for attr in ("x0", "max_evaluations", "seed"):
                if getattr(r, attr) is None:
                    setattr(r, attr, getattr(base, attr))
            r.options = {**base.options, **r.options}
            previous.runs.append(r)
        return Step("merged")
    if algos or (opt_verb and (has_options or it_ref)) or (has_options and it_ref):
        return Step("optimize", problem_ref="last", dimension=dim, runs=runs_for(algos), understood=understood)
    return step


def _with_compare(step: Step) -> Step:
    step.filters["then_compare"] = True
    return step


def parse_request(text: Any) -> Request:
    """Parse one user message; never raises."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = normalize_text(text[:MAX_TEXT]).strip()
    steps: list[Step] = []
    understood: list[str] = []
    previous = None
    for clause in split_clauses(text)[:12]:
        try:
            step = parse_clause(clause, previous)
        except (ValueError, OverflowError, RecursionError, IndexError, KeyError, TypeError, re.error):
            step = Step("unknown")
        if step.action == "merged":
            continue
        step.text = clause
        understood.extend(step.understood)
        if step.filters.pop("then_compare", False):
            steps.append(step)
            steps.append(Step("compare", ref="new"))
            previous = step
            continue
        steps.append(step)
        if step.action == "optimize":
            previous = step
    if not steps or all(s.action == "unknown" for s in steps):
        steps = [Step("unknown", understood=understood, text=text)]
    return Request(text, steps, understood)
