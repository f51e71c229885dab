"""The offline model's plan: the steps of a request as a generator of tool calls.

`run_plan` replays the tool results of this turn into the plan's generator (the
same calls come out in the same order, so replay is exact) and returns either the
next tool call or, when the plan is done or a step failed, the final answer.
"""

from __future__ import annotations

from typing import Any, Iterable

from aopt.agent import _answer as A
from aopt.agent._grammar import Request, Step
from aopt.agent._lexicon import FIXED_2D
from aopt.agent._memory import Memory, ToolCall, is_error

__all__ = ["run_plan", "Next", "fit_options"]


class Next:
    """What the model says next: a tool call (`call`) or the final answer (`text`)."""

    def __init__(self, call: tuple[str, dict] | None = None, text: str | None = None):
        self.call, self.text = call, text


class _Stop(Exception):
    pass


class _Plan:
    def __init__(self, request: Request, memory: Memory, tools: Iterable[str] | None):
        self.request, self.mem = request, memory
        self.tools = None if tools is None else set(tools)
        self.out = A.Answer()
        self.turn_runs: list[int] = []
        memory.new_group()

    # -- one tool call: yields it, records the result, stops the plan on an unrecoverable error
    def call(self, name: str, args: dict, *, soft: bool = False):
        if self.tools is not None and name not in self.tools:
            self.out.unavailable(name)
            raise _Stop
        result = yield (name, args)
        self.mem.absorb(ToolCall(name, args, "", result))
        if is_error(result):
            self.out.error(name, args, result)
            if not soft:
                raise _Stop
            return None
        return result if isinstance(result, dict) else {"value": result}

    def program(self):
        steps = self.request.steps
        known = [s for s in steps if s.action != "unknown"]
        try:
            for step in steps:
                handler = getattr(self, "do_" + step.action, None)
                if step.action == "unknown":
                    if not known:
                        self.out.not_understood(self.request)
                    else:
                        self.out.skipped(step.text)
                    continue
                yield from handler(step)
        except _Stop:
            pass
        return self.out.render()

    # -- the steps
    def do_help(self, step: Step):
        self.out.help()
        return
        yield

    def do_greet(self, step: Step):
        self.out.greet()
        return
        yield

    def do_benchmarks(self, step: Step):
        self.out.benchmarks()
        return
        yield

    def _last_problem(self):
        if self.mem.last_problem_id is not None:
            return self.mem.last_problem_id
        return None

    def _resolve_run(self, ref):
        """A run id for "last"/"best", from this turn, then earlier turns, then the store."""
        if isinstance(ref, int):
            return ref
        if ref == "best":
            if len(self.turn_runs) < 2 and self.mem.best_seq > self.mem.group_seq:
                return self.mem.best_run_id
            group = self.turn_runs if len(self.turn_runs) >= 2 else self.mem.last_group(2)
            best = A.best_of([self.mem.runs.get(r, {}) | {"run_id": r} for r in group],
                             self.mem.sense_of(self.mem.problem_of(group[0])) if group else "minimize")
            if best is not None:
                return best
            if self.mem.best_run_id is not None:
                return self.mem.best_run_id
        if self.turn_runs:
            return self.turn_runs[-1]
        run = self.mem.last_run()
        if run is not None:
            return run
        listed = yield from self.call("list_runs", {"limit": 1})
        rows = listed.get("runs") or []
        if rows and isinstance(rows[0], dict) and rows[0].get("run_id") is not None:
            if ref == "best" and rows[0].get("problem"):
                # nothing in this conversation: the best run of the newest run's problem, ranked by
                # the store (compare_runs knows whether the problem is maximized)
                same = yield from self.call("list_runs", {"problem": rows[0]["problem"], "limit": 50})
                ids = [r["run_id"] for r in same.get("runs") or [] if r.get("best_f") is not None]
                if len(ids) >= 2:
                    ranked = yield from self.call("compare_runs", {"run_ids": ids}, soft=True)
                    if ranked and ranked.get("best_run_id") is not None:
                        return ranked["best_run_id"]
            return rows[0]["run_id"]
        self.out.ask_run()
        raise _Stop

    def do_optimize(self, step: Step):
        problem_id, base_algorithm = None, None
        if step.problem is not None:
            made = yield from self.call("create_problem", step.problem.tool_args())
            problem_id = made.get("problem_id")
        elif step.problem_ref == "parent":
            parent = step.runs[0].parent if step.runs else "last"
            parent = yield from self._resolve_run(parent)
            for r in step.runs:
                r.parent = parent
            problem_id = self.mem.problem_of(parent)
            if problem_id is None:
                yield from self.call("get_run", {"run_id": parent})
                problem_id = self.mem.problem_of(parent)
            base_algorithm = (self.mem.runs.get(parent) or {}).get("algorithm")
        else:
            problem_id = self._last_problem()
            if problem_id is None:
                self.out.ask_problem(step)
                raise _Stop
            last = self.mem.last_run()
            base_algorithm = (self.mem.runs.get(last) or {}).get("algorithm") if last is not None else None
            if step.dimension:
                args = dict((self.mem.problems.get(problem_id) or {}).get("args") or {})
                if not args or args.get("objective") in FIXED_2D or "dimension" not in args:
                    self.out.cannot_resize(step.dimension)
                    raise _Stop
                bench = str(args["objective"])
                args.update(dimension=step.dimension, name=f"{bench.replace('-', '_').replace(' ', '_')}_"
                                                            f"{step.dimension}d")
                made = yield from self.call("create_problem", args)
                problem_id = made.get("problem_id")
        if problem_id is None:
            self.out.ask_problem(step)
            raise _Stop
        done = []
        for spec in step.runs:
            algorithm = spec.algorithm
            if not spec.algorithm_given and base_algorithm:
                algorithm = base_algorithm
            args: dict[str, Any] = {"problem_id": problem_id, "algorithm": algorithm,
                                    "description": self.request.text[:200]}
            if spec.parent is not None:
                args["parent_run_id"] = spec.parent
            started = yield from self.call("start_optimization_run", args, soft=len(step.runs) > 1)
            if started is None:
                continue
            run_id = started.get("run_id")
            self.turn_runs.append(run_id)
            run_args: dict[str, Any] = {"run_id": run_id}
            options, budget = fit_options(started.get("algorithm") or algorithm, spec.options, spec.max_evaluations)
            if isinstance(spec.x0, list):
                run_args["x0"] = spec.x0
            if options:
                run_args["options"] = options
            if spec.seed is not None:
                run_args["seed"] = spec.seed
            if budget:
                run_args["max_evaluations"] = budget
            result = yield from self.call("run_scipy_optimization", run_args, soft=True)
            final = yield from self.call("finalize_optimization_run", {"run_id": run_id}, soft=True)
            summary = final or result
            if summary:
                facts = {**(result or {}), **summary}
                self.out.run(facts, self.mem.problems.get(problem_id))
                done.append(facts)
        if len(done) >= 2:
            self.out.best_of_runs(done, self.mem.sense_of(problem_id))

    def do_compare(self, step: Step):
        ids = list(step.run_ids)
        if step.ref == "with_last":
            other = [r for r in (self.turn_runs or self.mem.created) if r not in ids]
            ids = ids + other[-1:]
        elif len(ids) < 2 and step.ref == "new":
            ids = list(self.turn_runs) if len(self.turn_runs) >= 2 else self.mem.last_group(2)
        if len(ids) < 2 and step.ref in ("new", "lastN", "with_last"):
            n = step.count or 2
            known = self.mem.created
            if len(known) >= n and step.ref == "lastN":
                ids = known[-n:]
            else:
                listed = yield from self.call("list_runs", {"limit": n})
                ids = [r["run_id"] for r in listed.get("runs") or [] if isinstance(r, dict) and "run_id" in r][::-1]
        if len(ids) < 2:
            self.out.ask_compare(ids)
            raise _Stop
        result = yield from self.call("compare_runs", {"run_ids": ids})
        self.out.compare(result)

    def do_show(self, step: Step):
        ids = list(step.run_ids)
        if not ids:
            ids = [(yield from self._resolve_run(step.ref or "last"))]
        for run_id in ids[:10]:
            result = yield from self.call("get_run", {"run_id": run_id}, soft=len(ids) > 1)
            if result:
                self.out.show(result)

    def do_analyze(self, step: Step):
        ids = list(step.run_ids)
        if not ids:
            ids = [(yield from self._resolve_run(step.ref or "last"))]
        for run_id in ids[:10]:
            result = yield from self.call("analyze_run", {"run_id": run_id}, soft=len(ids) > 1)
            if result:
                self.out.analysis(result)

    def do_list_runs(self, step: Step):
        args = {k: v for k, v in step.filters.items() if v is not None}
        result = yield from self.call("list_runs", args)
        self.out.runs_table(result, args)

    def do_list_problems(self, step: Step):
        result = yield from self.call("list_problems", {})
        self.out.problems_table(result)

    def do_list_algorithms(self, step: Step):
        result = yield from self.call("list_algorithms", dict(step.filters))
        self.out.algorithms(result, step.filters, step.topic)

    def do_algorithm_info(self, step: Step):
        result = yield from self.call("list_algorithms", {})
        self.out.algorithm_info(result, step.topic)


_EVAL_CAPS = ("maxfev", "maxfun")  # SciPy's two spellings of "at most this many evaluations"


def fit_options(algorithm: Any, options: dict, budget: int | None) -> tuple[dict, int | None]:
    """The run's options and evaluation budget for `algorithm`.

    "maxfev=N"/"maxfun=N" go to SciPy under the spelling the method accepts; a method (or `auto`)
    that has neither gets N as paola's evaluation budget instead. N is also the budget when none
    was given, so a cap above paola's default is not cut short. Other options pass as written
    (the tool names the valid ones when the method has no such option)."""
    options = dict(options or {})
    caps = [k for k in _EVAL_CAPS if k in options]
    if not caps:
        return options, budget
    try:
        from aopt.optimize._registry import get_algorithm
        accepted = set(get_algorithm(str(algorithm)).options)
    except Exception:  # noqa: BLE001 - an unknown name: the tool reports it
        return options, budget
    value = options[caps[0]]
    for k in caps:
        options.pop(k)
    spelling = next((k for k in (caps[0],) + _EVAL_CAPS if k in accepted), None)
    if spelling is not None and accepted:
        options[spelling] = value
    if budget is None and isinstance(value, int) and value > 0:
        budget = value
    return options, budget


def run_plan(request: Request, memory: Memory, turn_calls: list[ToolCall], tools: Iterable[str] | None) -> Next:
    """Replay this turn's tool results into the plan; the next call, or the final answer."""
    plan = _Plan(request, memory, tools)
    gen = plan.program()
    try:
        pending = next(gen)
        for done in turn_calls:
            name, args = pending
            if done.name != name:
                # the history took another path (another model wrote it): answer from what is known
                plan.out.note_diverged()
                return Next(text=plan.out.render())
            pending = gen.send(done.result)
        return Next(call=pending)
    except StopIteration as stop:
        return Next(text=stop.value or plan.out.render())
