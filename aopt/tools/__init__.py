"""The agent's tools, usable directly: `from aopt.tools import create_problem; create_problem.invoke({...})`.

Module-level tools act on `current_context()`: the store named by `AOPT_STORE`
(default `./.aopt_runs`) unless `use_context(ctx)` says otherwise. An agent gets
tools bound to its own context from `build_tools(ctx)`.
"""

from aopt.tools._context import Context, Settings, current_context, use_context
from aopt.tools._tools import TOOL_NAMES, build_tools

ALL_TOOLS = build_tools(current_context)
(
    create_problem,
    start_optimization_run,
    run_scipy_optimization,
    finalize_optimization_run,
    list_problems,
    list_runs,
    get_run,
    compare_runs,
    list_algorithms,
    analyze_run,
    register_function,
    create_problem_from_code,
) = ALL_TOOLS

__all__ = [
    "ALL_TOOLS",
    "Context",
    "Settings",
    "TOOL_NAMES",
    "analyze_run",
    "build_tools",
    "compare_runs",
    "create_problem",
    "current_context",
    "create_problem_from_code",
    "finalize_optimization_run",
    "get_run",
    "list_algorithms",
    "list_problems",
    "list_runs",
    "register_function",
    "run_scipy_optimization",
    "start_optimization_run",
    "use_context",
]
