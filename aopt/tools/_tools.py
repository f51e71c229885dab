"""The agent's tools: thin LangChain adapters over the problem and run API.

Every tool returns JSON-ready data. A mistake the caller can fix comes back as
`{"error": {"kind": ..., "message": ...}}` so a model can read it and try again.
"""

from __future__ import annotations

from typing import Any, Callable

from langchain_core.tools import BaseTool, tool

from aopt.errors import InvalidInput, PaolaError
from aopt.tools._context import Context, current_context

__all__ = ["build_tools", "TOOL_NAMES"]

TOOL_NAMES = (
    "create_problem", "start_optimization_run", "run_scipy_optimization", "finalize_optimization_run",
    "list_problems", "list_runs", "get_run", "compare_runs", "list_algorithms", "analyze_run",
    "register_function", "create_problem_from_code",
)
CODE_TOOL = "create_problem_from_code"


def _benchmark_names() -> str:
    from aopt.problems import list_benchmarks

    rows = list_benchmarks()
    anyd = ", ".join(b["name"] for b in rows if b["dimension"] == "any")
    fixed = ", ".join(b["name"] for b in rows if b["dimension"] != "any")
    return f"{anyd}; 2-D: {fixed}"


def _algorithm_names() -> str:
    from aopt.optimize import list_algorithms

    by_library: dict[str, list[str]] = {}
    for info in list_algorithms():
        if info.name != "auto":
            by_library.setdefault(info.library, []).append(info.name)
    return "; ".join(f"{library}: {', '.join(names)}" for library, names in by_library.items())


def _described(**names: Callable[[], str]):
    """Fill a tool's docstring from the registries ({benchmarks}, {algorithms}), so the model sees
    the names as they are, not a copy that drifts."""
    def decorate(function):
        function.__doc__ = function.__doc__.format(**{k: make() for k, make in names.items()})
        return function
    return decorate


def _guard(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except PaolaError as exc:
        return {"error": {"kind": exc.kind, "message": str(exc)}}


def build_tools(context: Context | Callable[[], Context] = current_context,
                include_code: bool | None = None) -> list[BaseTool]:
    """The tools bound to one context (or to a function returning the context to use).

    `create_problem_from_code` is offered only when `include_code` is true; by default,
    when the context's settings allow code (always for the module-level tools, which
    still refuse unless the settings allow it when called).
    """
    if include_code is None:
        include_code = not isinstance(context, Context) or context.settings.allow_code
    get = (lambda: context) if isinstance(context, Context) else context
    from aopt.runs import _analysis as views

    @tool
    @_described(benchmarks=_benchmark_names)
    def create_problem(name: str, objective: str, dimension: int | None = None,
                       bounds: list | dict | None = None, constraints: list[str] | None = None,
                       sense: str = "minimize", description: str = "", gradient: str | None = None,
                       properties: list[str] | None = None) -> dict:
        """Define an optimization problem and store it; returns its problem_id.

        objective: a benchmark name ({benchmarks}) or an expression such as "(x-3)**2 + y**2" or
        "sum((x[i]-i)**2 for i in range(5))", or a user's Python function "FILE.py:FUNCTION"
        (or the name it was registered under) taking a vector x.
        dimension: number of variables (benchmarks default to 2; code objectives need it).
        bounds: [lo, hi] for every variable, a list of [lo, hi] per variable, or {{"x": [lo, hi]}}.
        constraints: expressions like "x + y >= 1", "x*y == 2".
        sense: "minimize" or "maximize". gradient: "FILE.py:FUNCTION" for a code objective.
        properties: what the user knows of the objective, any of "multimodal", "smooth",
        "noisy", "expensive", "convex" (auto plans with them).
        """
        def call():
            ctx = get()
            record, problem = ctx.problems.create(name, objective, dimension, bounds, constraints,
                                                  sense, description, gradient=gradient,
                                                  limits=ctx.settings.code_limits or None,
                                                  properties=properties)
            return {"problem_id": record["id"], **problem.summary()}
        return _guard(call)

    @tool
    @_described(algorithms=_algorithm_names)
    def start_optimization_run(problem_id: int | str, algorithm: str = "auto", description: str = "",
                               parent_run_id: int | None = None) -> dict:
        """Start a tracked run of a problem (id or name) with an algorithm; returns its run_id.

        algorithm: "auto" (paola chooses and uses the budget) or a method ({algorithms}).
        parent_run_id: warm-start from that run's best point.
        """
        def call():
            ctx = get()
            run_id = ctx.runs.start_run(problem_id, algorithm, description, parent_run_id)
            run = ctx.runs.get(run_id)
            return {"run_id": run_id, "problem_id": run["problem_id"], "problem": run["problem"],
                    "algorithm": run["algorithm"], "parent_run_id": run.get("parent_id")}
        return _guard(call)

    @tool
    def run_scipy_optimization(run_id: int, x0: list[float] | None = None, options: dict | None = None,
                               seed: int | None = None, max_evaluations: int | None = None) -> dict:
        """Run the optimizer of a started run, recording every evaluation; returns the result and its
        claim (what it proves: optimum, global, local, not_converged, unbounded, infeasible).

        x0: start point (default: the parent run's best point, else drawn from seed, else the
        centre of the bounds). options: SciPy options of the algorithm, e.g. {"maxiter": 200}.
        max_evaluations: budget of objective evaluations (auto without one: 3,000 per variable
        inside finite bounds, cut to about 30 s of evaluations).
        """
        def call():
            ctx = get()
            run = ctx.runs.execute(run_id, x0=x0, options=options, seed=seed,
                                   max_evaluations=max_evaluations, progress=ctx.progress)
            return views.run_summary(run)
        return _guard(call)

    @tool
    def finalize_optimization_run(run_id: int, notes: str = "") -> dict:
        """Close a run, attaching optional notes; returns the run's final summary."""
        return _guard(lambda: views.run_summary(get().runs.finalize(run_id, notes)))

    @tool
    def list_problems() -> dict:
        """List stored problems (id, name, kind, dimension, objective)."""
        def call():
            rows = get().store.list_problems()
            return {"problems": [
                {"problem_id": p["id"], "name": p["name"], "kind": p.get("kind"),
                 "dimension": p.get("dimension"), "objective": str(p.get("objective"))[:200],
                 "sense": p.get("sense")} for p in rows[-50:]]}
        return _guard(call)

    @tool
    def list_runs(problem: str | None = None, status: str | None = None, limit: int = 20) -> dict:
        """List stored runs, newest first; filter by problem name or status
        (running, completed, failed, interrupted)."""
        def call():
            store = get().store
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise InvalidInput(f"limit must be a positive whole number; got {limit!r}")
            n = min(limit, 200)
            rows = store.list_runs(problem=problem, status=status, limit=n)
            return {"runs": [views.run_summary(r) for r in rows],
                    "total": store.count_runs(problem=problem, status=status)}
        return _guard(call)

    @tool
    def get_run(run_id: int) -> dict:
        """One run in full: summary, options, start point, and a short convergence history."""
        def call():
            ctx = get()
            run = ctx.runs.get(run_id)
            out = views.run_summary(run)
            out.update({"x0": views.compact_vector(run.get("x0")), "options": run.get("options") or {},
                        "notes": run.get("notes") or "", "description": run.get("description") or "",
                        "convergence": run.get("convergence") or {}})
            if run.get("n_evaluations"):
                h = ctx.runs.history(run["id"], max_points=12)
                out["history"] = [{"evaluation": int(i), "f": views._round(f)}
                                  for i, f in zip(h["index"], h["f"])]
            return out
        return _guard(call)

    @tool
    def compare_runs(run_ids: list[int]) -> dict:
        """Compare two or more runs side by side and name the best (same problem only)."""
        return _guard(lambda: views.compare_runs(get().runs, run_ids))

    @tool
    def list_algorithms(handles_constraints: bool | None = None, handles_bounds: bool | None = None,
                        uses_gradient: bool | None = None) -> dict:
        """List the algorithms paola can run and what each handles; filter by capability."""
        from aopt.optimize import list_algorithms as algorithms

        rows = []
        for info in algorithms():
            if info.name == "auto":
                continue
            if handles_constraints is not None and info.handles_constraints != handles_constraints:
                continue
            if handles_bounds is not None and info.handles_bounds != handles_bounds:
                continue
            if uses_gradient is not None and info.uses_gradient != uses_gradient:
                continue
            d = info.to_dict()
            d.pop("options")
            rows.append(d)
        return {"algorithms": rows}

    @tool
    def analyze_run(run_id: int) -> dict:
        """Explain a run: convergence, stagnation, constraint violation, evaluations spent,
        and what to try next."""
        return _guard(lambda: views.analyze_run(get().runs, run_id))

    @tool
    def register_function(name: str, function: str, gradient: str | None = None,
                          description: str = "") -> dict:
        """Register a user's Python function ("FILE.py:FUNCTION") under a short name, so
        later requests can use the name as an objective ("minimize my_cost in 4 dims")."""
        def call():
            record = get().problems.register_function(name, function, gradient, description)
            return {"registered": record["name"], "objective": record["objective"],
                    "gradient": record.get("gradient")}
        return _guard(call)

    @tool
    def create_problem_from_code(name: str, source: str, function: str, dimension: int,
                                 bounds: list | dict | None = None, constraints: list[str] | None = None,
                                 sense: str = "minimize", description: str = "") -> dict:
        """Define a problem whose objective is Python code you write; it runs in a sandbox
        after the user confirms. source: a module defining `function(x)` that takes a numpy
        vector of length `dimension` and returns a float (numpy and the standard library only).
        """
        def call():
            ctx = get()
            if not ctx.settings.allow_code:
                return {"error": {"kind": "code_not_allowed", "message": (
                    "running Python code written by the model is switched off. Start paola with "
                    "--allow-code (or set PAOLA_ALLOW_CODE=1), or define the objective as an "
                    "expression, a benchmark, or the user's own FILE.py:FUNCTION")}}
            if ctx.confirm_code is not None and not ctx.confirm_code(source, function):
                return {"error": {"kind": "code_declined", "message":
                                  "the user declined to run this code; nothing was created"}}
            record, problem = ctx.problems.create_from_source(
                name, source, function, dimension, bounds=bounds, constraints=constraints, sense=sense,
                description=description, limits=ctx.settings.code_limits or None)
            return {"problem_id": record["id"], **problem.summary()}
        return _guard(call)

    tools = [create_problem, start_optimization_run, run_scipy_optimization, finalize_optimization_run,
             list_problems, list_runs, get_run, compare_runs, list_algorithms, analyze_run,
             register_function, create_problem_from_code]
    assert tuple(t.name for t in tools) == TOOL_NAMES
    return [t for t in tools if include_code or t.name != CODE_TOOL]
