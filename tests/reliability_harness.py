"""Shared pieces of the reliability checks: fuzzing strategies, store checks, crash and fault drivers.

`tests/test_reliability_*.py` run them briefly in the suite; `benchmarks/reliability.py` runs
them long (10,000 fuzz cases, 50+ kills, 8 processes, every fault) and prints the figures.

What counts as holding up:

- a tool call ends in a result, in `{"error": {"kind", "message"}}` with a kind from
  `DOCUMENTED_KINDS`, or (direct `.invoke` calls only) in pydantic's `ValidationError` when an
  argument has the wrong type; any other exception is a bug;
- a slash command prints its output or one `error:` line; only `/exit` raises (ExitShell);
- the store passes `PRAGMA integrity_check`, reopens, and its runs are consistent (`check_store`).
"""

from __future__ import annotations

import io
import json
import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]

# The error kinds a tool may answer with: aopt.errors plus the sandbox's (aopt/sandbox/_errors.py).
PAOLA_KINDS = {"invalid_input", "not_found", "incompatible_algorithm", "store_error", "code_not_allowed",
               "code_declined"}
SANDBOX_KINDS = {"sandbox", "import_error", "missing_function", "code_changed", "user_exception", "bad_return",
                 "timeout", "run_timeout", "memory", "exit", "crash", "stopped"}
DOCUMENTED_KINDS = PAOLA_KINDS | SANDBOX_KINDS

CANARY = "paola_fuzz_canary"  # a file injection attempts try to create in the working folder

# -- values ------------------------------------------------------------------------------------

INJECTIONS = [
    f"__import__('os').system('touch {CANARY}')", "__import__('os')", "__builtins__",
    "().__class__.__mro__[1].__subclasses__()", "x.__class__", "getattr(x, '__dict__')", "globals()",
    "eval('1+1')", f"exec('open(\"{CANARY}\", \"w\")')", "open('/etc/passwd').read()", "lambda: 0",
    "x; import os", "import os", "[c for c in ().__class__.__base__.__subclasses__()]",
    "'; DROP TABLE runs; --", "1); DROP TABLE problems; --", "\" OR 1=1 --", "../../etc/passwd",
    "/dev/zero", "%s%s%s%n", "{0.__class__}", f"$(touch {CANARY})", f"`touch {CANARY}`",
    "x**9999999999", "10**10**10", "9**9**9**9", "sum(x[i] for i in range(10**12))",
    "sum(sum(x[i]*x[j] for j in range(10000)) for i in range(10000))", "x[100000000]", "x[-1]", "x[1.5]",
    "(" * 300 + "x" + ")" * 300, "-" * 3000 + "x", "x" + "+x" * 5000, "x if y else z", "not x",
    "x and y", "x @ y", "x == y", "nan", "inf", "-inf", "1e309", "0/0", "log(-1)", "1/x", "sqrt(-x**2-1)",
    "\x00", "x\x00+y", "\u202ex**2", "ｘ**2", "𝑥**2 + 𝑦", "x²+y²", "∑x", "😀", "e**e**e**e**e",
    "FILE.py:f", "/etc/passwd:main", "model.py:objective", "", " ", "\n\t", "x" * 30_000,
]

HUGE_TEXT = "x" * 1_000_000

special_floats = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1e-320, 1e-308,
                                  1.7976931348623157e308, -1e308, 1e16, 1e300])
special_ints = st.sampled_from([0, -1, 1, 2, 2**31 - 1, 2**31, 2**53 + 1, 2**63, 2**64, 10**100, -10**100])


def weird() -> st.SearchStrategy:
    """Values of the wrong kind, at the edges, or hostile: what no argument should choke on."""
    scalar = st.one_of(
        st.none(), st.booleans(), st.integers(), special_ints, st.floats(), special_floats,
        st.text(max_size=40), st.sampled_from(INJECTIONS), st.just(HUGE_TEXT), st.binary(max_size=8),
    )
    return st.recursive(scalar, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)


@st.composite
def maybe(draw, strategy: st.SearchStrategy, plausible_share: int = 6):
    """Mostly plausible values from `strategy`, sometimes (1 in plausible_share + 1) weird ones."""
    # (one_of(s, s, s, w) does not weight: Hypothesis drops the repeats)
    return draw(weird() if draw(st.integers(0, plausible_share)) == 3 else strategy)


ALGORITHMS = ["auto", "Nelder-Mead", "Powell", "CG", "BFGS", "Newton-CG", "L-BFGS-B", "TNC", "COBYLA", "COBYQA",
              "SLSQP", "trust-constr", "dogleg", "trust-ncg", "trust-exact", "trust-krylov",
              "differential_evolution", "dual_annealing", "shgo", "direct", "basinhopping",
              "nelder mead", "lbfgsb", "de", "DE", "annealing", "bfgs ", "newton", "simplex", "gradient"]
OPTION_NAMES = ["maxiter", "maxfev", "xatol", "fatol", "adaptive", "initial_simplex", "disp", "gtol", "eps",
                "maxcor", "ftol", "maxfun", "popsize", "strategy", "mutation", "recombination", "polish",
                "init", "tol", "n", "iters", "sampling_method", "niter", "T", "stepsize", "local_method",
                "initial_temp", "visit", "accept", "no_local_search", "locally_biased", "f_min",
                "rhobeg", "catol", "maxls", "xtol", "barrier_tol", "inexact", "unknown_option", ""]
OBJECTIVES = ["sphere", "rosenbrock", "rastrigin", "ackley", "griewank", "schwefel", "levy", "zakharov",
              "styblinski-tang", "beale", "booth", "himmelblau", "branin", "six-hump camel",
              "goldstein-price", "easom", "Rosenbrok", "michalewicz", "(x-3)**2 + y**2", "x^2 + 3*sin(y)",
              "sum((x[i]-i)**2 for i in range(5))", "x1*x2 - log(x3)", "abs(x) + abs(y)", "exp(x) - x",
              "x**2 - 1e308*y", "x/y", "max(x, y)", "floor(x)"]
CONSTRAINTS = ["x + y >= 1", "x*y == 2", "x**2 + y**2 <= 4", "x >= 0", "x1 + x2 <= 1", "y = 1", "x > y",
               "x + y", "1 >= 0", "z >= 1", "x[0] >= 0.5", "nan >= x", "x >= inf"]

number = st.one_of(st.floats(min_value=-10, max_value=10), st.floats(), special_floats, st.integers(-5, 5))
pair = st.lists(number, min_size=2, max_size=2)
bounds = st.one_of(st.none(), pair, st.lists(pair, max_size=6),
                   st.dictionaries(st.sampled_from(["x", "y", "z", "x1", "x[0]", "w"]), pair, max_size=3))


class Fresh:
    """A run to create right before the call (a run can be executed only once)."""

    def __init__(self, problem: str, algorithm: str):
        self.problem, self.algorithm = problem, algorithm

    def __repr__(self) -> str:
        return f"Fresh({self.problem!r}, {self.algorithm!r})"


SEED_PROBLEMS = {  # name -> create_problem arguments; small, so every run is quick
    "q": {"objective": "(x-3)**2 + y**2", "constraints": ["x + y <= 1"], "bounds": [-5, 5]},
    "rb": {"objective": "rosenbrock", "dimension": 3},
    "sph": {"objective": "sphere", "dimension": 2},
    "mx": {"objective": "-(x-1)**2 - (y+2)**2", "sense": "maximize"},
    "ras": {"objective": "rastrigin", "dimension": 2},
    "eq": {"objective": "x**2 + y**2", "constraints": ["x + y == 1"]},
}
N_SEED_RUNS = 4  # runs created by seed_store (ids 1..4)

EDGE_IDS = [0, -1, 2**63 - 1, 2**63, -2**63 - 1, 10**30, "9" * 40, 1.5, "1e3"]
problem_ref = st.one_of(st.sampled_from(list(SEED_PROBLEMS)), st.integers(1, len(SEED_PROBLEMS) + 1),
                        st.sampled_from(EDGE_IDS))
run_ref = st.one_of(st.integers(1, N_SEED_RUNS + 2), st.sampled_from(["1", "#2", " 3 ", 1.0, 2.0]),
                    st.sampled_from(EDGE_IDS))
fresh_run = st.builds(Fresh, st.sampled_from(list(SEED_PROBLEMS)), st.sampled_from(ALGORITHMS[:21]))
# mostly a new run (the only kind that executes), sometimes an existing one
new_or_old_run = st.integers(0, 4).flatmap(lambda i: run_ref if i == 2 else fresh_run)
BUDGET_CAP = 300  # the one argument the harness bounds, so that 10,000 cases finish


def _budget(value):
    """max_evaluations: a valid value above BUDGET_CAP (or None, a million) becomes BUDGET_CAP."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > BUDGET_CAP) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer() and value > BUDGET_CAP):
        return BUDGET_CAP
    return value


def _args(draw, required: dict, optional: dict) -> dict:
    """Arguments from per-name strategies; sometimes one required is missing or an unknown one is added."""
    out = {k: draw(s) for k, s in required.items()}
    for k, s in optional.items():
        if draw(st.booleans()):
            out[k] = draw(s)
    if out and draw(st.integers(0, 19)) == 7:  # not 0: Hypothesis favours the ends
        out.pop(draw(st.sampled_from(sorted(out))))
    if draw(st.integers(0, 19)) == 11:
        out[draw(st.sampled_from(["extra", "__class__", "run", "x", ""]))] = draw(weird())
    return out


@st.composite
def tool_case(draw, names: tuple[str, ...] | None = None) -> tuple[str, dict]:
    """(tool name, arguments) for any of the tools."""
    name = draw(st.sampled_from(names or TOOL_ORDER))
    text = st.one_of(st.text(max_size=30), st.sampled_from(INJECTIONS))
    if name == "create_problem":
        args = _args(draw, {"name": maybe(st.text(min_size=1, max_size=20)),
                            "objective": maybe(st.one_of(st.sampled_from(OBJECTIVES), st.sampled_from(INJECTIONS),
                                                         st.text(max_size=30)))},
                     {"dimension": maybe(st.one_of(st.integers(1, 12), st.sampled_from([0, -1, 100_001, 10**9]))),
                      "bounds": maybe(bounds),
                      "constraints": maybe(st.lists(st.one_of(st.sampled_from(CONSTRAINTS),
                                                              st.sampled_from(INJECTIONS)), max_size=3)),
                      "sense": maybe(st.sampled_from(["minimize", "maximize", "max", "MINIMISE", "up", ""])),
                      "description": maybe(text)})
    elif name == "start_optimization_run":
        args = _args(draw, {"problem_id": maybe(problem_ref)},
                     {"algorithm": maybe(st.sampled_from(ALGORITHMS)), "description": maybe(text),
                      "parent_run_id": maybe(st.one_of(st.none(), run_ref))})
    elif name == "run_scipy_optimization":
        options = st.one_of(st.none(), st.dictionaries(st.sampled_from(OPTION_NAMES),
                                                       st.one_of(st.integers(1, 50), number, weird()), max_size=3))
        args = _args(draw, {"run_id": maybe(new_or_old_run, 8)},
                     {"x0": maybe(st.one_of(st.none(), st.lists(number, min_size=1, max_size=4))),
                      "options": maybe(options),
                      "seed": maybe(st.one_of(st.none(), st.integers(0, 2**32 - 1), st.integers())),
                      "max_evaluations": maybe(st.integers(1, 200))})
        if "max_evaluations" in args:
            args["max_evaluations"] = _budget(args["max_evaluations"])
        else:
            args["max_evaluations"] = BUDGET_CAP
    elif name == "finalize_optimization_run":
        args = _args(draw, {"run_id": maybe(new_or_old_run)},
                     {"notes": maybe(st.one_of(text, st.just(HUGE_TEXT)))})
    elif name == "list_problems":
        args = _args(draw, {}, {})
    elif name == "list_runs":
        args = _args(draw, {}, {"problem": maybe(st.one_of(st.none(), problem_ref.map(str))),
                                "status": maybe(st.sampled_from([None, "running", "completed", "failed",
                                                                 "interrupted", "RUNNING", "done"])),
                                "limit": maybe(st.integers(-5, 500))})
    elif name in ("get_run", "analyze_run"):
        args = _args(draw, {"run_id": maybe(run_ref)}, {})
    elif name == "compare_runs":
        args = _args(draw, {"run_ids": maybe(st.lists(maybe(run_ref), max_size=5))}, {})
    elif name == "register_function":
        spec = st.one_of(st.sampled_from(CODE_SPECS), st.sampled_from(INJECTIONS), st.text(max_size=30))
        args = _args(draw, {"name": maybe(st.one_of(st.sampled_from(["my_cost", "sphere", "x", "1a", ""]),
                                                    st.text(max_size=20))),
                            "function": maybe(spec)},
                     {"gradient": maybe(st.one_of(st.none(), spec)), "description": maybe(text)})
    elif name == "create_problem_from_code":
        source = st.one_of(st.sampled_from(SOURCES), st.sampled_from(INJECTIONS), st.text(max_size=60))
        args = _args(draw, {"name": maybe(st.text(min_size=1, max_size=20)), "source": maybe(source),
                            "function": maybe(st.sampled_from(["f", "g", "missing", "", "1x", "__import__"])),
                            "dimension": maybe(st.one_of(st.integers(1, 6), st.sampled_from([0, -1, 10**9])))},
                     {"bounds": maybe(bounds), "sense": maybe(st.sampled_from(["minimize", "maximize", "up"]))})
    elif name == "list_algorithms":
        flag = maybe(st.sampled_from([None, True, False]))
        args = _args(draw, {}, {"handles_constraints": flag, "handles_bounds": flag, "uses_gradient": flag})
    else:  # pragma: no cover
        raise AssertionError(name)
    return name, args


TOOL_ORDER = ("create_problem", "start_optimization_run", "run_scipy_optimization", "finalize_optimization_run",
              "list_problems", "list_runs", "get_run", "compare_runs", "list_algorithms", "analyze_run",
              "register_function", "create_problem_from_code")
# user code for the two code tools: a real file, a missing one, and source text (run only if a run starts)
CODE_SPECS = [str(ROOT / "tests" / "sandbox_fixtures" / "model.py") + ":cost",
              str(ROOT / "tests" / "sandbox_fixtures" / "model.py") + ":nope", "missing.py:f", "model.py",
              ":f", "a.py:1f", "/etc/passwd:f"]
SOURCES = ["def f(x):\n    return float((x**2).sum())\n", "def f(x):\n    import os\n    os._exit(3)\n",
           "def g(x):\n    return 1.0\n", "this is not python", ""]

# -- running cases -------------------------------------------------------------------------------


def seed_store(ctx) -> None:
    """The problems every fuzz case may refer to, and a few finished runs."""
    from aopt.tools import build_tools

    tools = {t.name: t for t in build_tools(ctx)}
    for name, spec in SEED_PROBLEMS.items():
        out = tools["create_problem"].invoke({"name": name, **spec})
        assert "error" not in out, out
    for problem, algorithm in [("q", "SLSQP"), ("rb", "L-BFGS-B"), ("sph", "Nelder-Mead"), ("mx", "auto")]:
        run = tools["start_optimization_run"].invoke({"problem_id": problem, "algorithm": algorithm})
        tools["run_scipy_optimization"].invoke({"run_id": run["run_id"], "max_evaluations": 200})


class ToolFuzzer:
    """Calls tools on one context and classifies each outcome; raises on anything undocumented."""

    def __init__(self, ctx):
        from aopt.tools import build_tools

        self.ctx = ctx
        self.tools = {t.name: t for t in build_tools(ctx, include_code=True)}
        self.outcomes: dict[str, int] = {}
        self.by_tool: dict[str, dict[str, int]] = {}
        self.cases = 0

    def _resolve(self, args: dict) -> dict:
        out = dict(args)
        if isinstance(out.get("run_id"), Fresh):
            f = out["run_id"]
            start = self.tools["start_optimization_run"]
            run = start.invoke({"problem_id": f.problem, "algorithm": f.algorithm})
            if "error" in run:  # an incompatible pair: let paola choose
                run = start.invoke({"problem_id": f.problem, "algorithm": "auto"})
            out["run_id"] = run["run_id"]
        return out

    def call(self, name: str, args: dict) -> str:
        """Run one case; return its outcome ('result', 'error:KIND', 'validation_error')."""
        from pydantic import ValidationError

        args = self._resolve(args)
        self.ctx.settings.allow_code = self.cases % 2 == 0  # both the refusal and the sandboxed path
        try:
            out = self.tools[name].invoke(args)
        except ValidationError:
            outcome = "validation_error"
        else:
            outcome = classify(name, args, out)
        self.cases += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        per = self.by_tool.setdefault(name, {})
        per[outcome] = per.get(outcome, 0) + 1
        return outcome


def classify(name: str, args, out) -> str:
    """'result' or 'error:KIND'; AssertionError when the answer is not a documented one."""
    assert isinstance(out, dict), f"{name}({_short(args)}) returned {type(out).__name__}, not a dict"
    json.dumps(out)  # JSON-ready (NaN is allowed as JSON's NaN literal)
    if "error" in out:
        err = out["error"]
        assert set(out) == {"error"} and isinstance(err, dict), f"{name}: malformed error {out!r:.300}"
        assert err.get("kind") in DOCUMENTED_KINDS, f"{name}({_short(args)}): undocumented kind {err!r:.300}"
        assert isinstance(err.get("message"), str) and err["message"].strip(), f"{name}: empty message"
        return "error:" + err["kind"]
    return "result"


def _short(args) -> str:
    return repr(args)[:300]


# -- slash commands ----------------------------------------------------------------------------

SLASH_WORDS = ["help", "runs", "show", "compare", "plot", "tree", "problems", "problem", "algorithms", "export",
               "report", "model", "clear", "history", "?", "r", "s", "p", "e", "sh", "co", "x", ""]
SLASH_TOKENS = ["1", "2", "3", "#1", "0", "-1", "999999", "1e9", "nan", "--json", "--limit", "--status",
                "--problem", "--sort", "--format", "--no-plot", "--save", "-o", "--output", "--", "-", "--help",
                "-h", "csv", "json", "script", "completed", "running", "bogus", "q", "rb", "x.png", "out.svg",
                "report.md", "'", '"', "'unterminated", "\\", "\x00", "😀", "ｘ", "..", ".", "%s", "{}",
                "__import__('os')", "; rm -rf", "$(x)", "x" * 5000, "9" * 400]


def _safe_token(text: str) -> str:
    # Written files stay inside the working folder: no absolute or home paths.
    return text.replace("/", "_").replace("~", "_")


slash_line = st.builds(
    lambda word, tokens, raw: "/" + word + " " + _safe_token(" ".join(tokens) + raw),
    st.sampled_from(SLASH_WORDS),
    st.lists(st.one_of(st.sampled_from(SLASH_TOKENS), st.text(max_size=12)), max_size=5),
    st.one_of(st.just(""), st.text(max_size=20)),
)


class SlashFuzzer:
    """Runs slash command lines on a store; only /exit may raise, a failure prints one error line."""

    def __init__(self, store_path):
        from rich.console import Console

        from aopt.cli._commands import SlashCommands
        from aopt.cli._records import StoreReader

        self.out = io.StringIO()
        self.console = Console(file=self.out, width=100, color_system=None)
        self.reader = StoreReader(store_path)
        self.commands = SlashCommands(self.console, self.reader, agent=None)
        self.cases = 0
        self.outcomes: dict[str, int] = {}

    def call(self, line: str) -> str:
        from aopt.cli._registry import ExitShell

        self.out.seek(0)
        self.out.truncate()
        try:
            ok = self.commands.run(line)
        except ExitShell:
            outcome = "exit"
        else:
            outcome = "ok" if ok else "error"
            if not ok:
                assert "error: " in self.out.getvalue(), f"{line!r:.200} failed without an error line"
        self.cases += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        return outcome

    def close(self) -> None:
        self.reader.close()


# -- the store after the fact ----------------------------------------------------------------


def integrity(db_file) -> str:
    con = sqlite3.connect(str(db_file))
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def check_store(folder, expect_runs: dict | None = None) -> dict:
    """Integrity, a reopen, and consistent runs; returns {run_id: n_evaluations stored}.

    `expect_runs` ({run_id: minimal n_evaluations}) must all be there with at least that many.
    """
    from aopt.storage import SQLiteStore

    folder = Path(folder)
    assert integrity(folder / "paola.db") == "ok"
    store = SQLiteStore(folder)
    try:
        problems = {p["id"] for p in store.list_problems()}
        runs = store.list_runs(limit=None)
        ids = [r["id"] for r in runs]
        assert len(ids) == len(set(ids)), "duplicate run ids"
        assert store.count_runs() == len(runs)
        stored = {}
        for r in runs:
            assert r["problem_id"] in problems, f"run {r['id']} names a missing problem"
            assert r["status"] in ("running", "completed", "failed", "interrupted")
            h = store.load_evaluations(r["id"])
            n = len(h["f"])
            assert r["n_evaluations"] == n, f"run {r['id']}: n_evaluations {r['n_evaluations']} but {n} stored"
            assert list(h["index"]) == list(range(n))
            if r["status"] != "running":
                assert r["status"] != "running"
            stored[r["id"]] = n
        for run_id, n in (expect_runs or {}).items():
            assert run_id in stored, f"run {run_id} was lost"
            assert stored[run_id] >= n, f"run {run_id} lost evaluations: {stored[run_id]} < {n}"
        return stored
    finally:
        store.close()


# -- child processes ---------------------------------------------------------------------------


def python(code: str, *args, timeout: float = 120, env: dict | None = None, preexec=None, **kw):
    """Run `code` in a fresh Python with paola importable; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=str(ROOT), env={**os.environ, **(env or {})},
                          preexec_fn=preexec, **kw)


def spawn(code: str, *args, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, **kw)


def now() -> float:
    return time.time()


# -- crashes: SIGKILL at random moments -------------------------------------------------------

CRASH_CHILD = r"""
import json, os, random, sys, time
store_dir, side, phase, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
out = open(side, "a")

def say(**event):  # what the child knows is durable: written and fsynced before going on
    out.write(json.dumps({"wall": time.time(), **event}) + "\n"); out.flush(); os.fsync(out.fileno())

from aopt.runs import RunManager, _recorder
from aopt.storage import SQLiteStore
from aopt.storage._connection import SQLiteDatabase

import scipy.optimize  # noqa: F401 - imported before any run, so a run evaluates from its first instant
store = SQLiteStore(store_dir)
runs = RunManager(store)
Recorder = _recorder.RunRecorder

class TimedRecorder(Recorder):  # tells the parent when the run's clock (t = 0) started
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        say(event="recorder", run_id=self.run_id, wall0=time.time() - (time.perf_counter() - self._t0))

_recorder.RunRecorder = TimedRecorder

if phase == "flush":  # die inside an append_evaluations transaction, before its COMMIT
    flushes = {"n": 0, "die_at": rng.randint(1, 6)}
    original = SQLiteDatabase.run
    def run(self, fn, write=True, read_snapshot=False):
        if getattr(fn, "__qualname__", "").startswith("SQLiteStore.append_evaluations"):
            def dying(con):
                result = fn(con)
                flushes["n"] += 1
                if flushes["n"] >= flushes["die_at"]:
                    say(event="dying_in_flush", flush=flushes["n"])
                    os.kill(os.getpid(), 9)
                return result
            return original(self, dying, write, read_snapshot)
        return original(self, fn, write, read_snapshot)
    SQLiteDatabase.run = run

say(event="ready")
if phase == "create":
    while True:
        rec, _ = runs.problems.create(f"c{rng.randrange(10**6)}", "sphere", dimension=rng.randint(1, 5))
        say(event="problem", problem_id=rec["id"])
        say(event="run", run_id=runs.start_run(rec["id"], "BFGS"), evaluations=0)
elif phase in ("run", "flush"):
    rec, _ = runs.problems.create("crash", "rosenbrock", dimension=6)
    run_id = runs.start_run(rec["id"], "Nelder-Mead")
    say(event="run", run_id=run_id, evaluations=0)
    runs.execute(run_id, options={"maxiter": 10**8, "maxfev": 10**8, "xatol": 0, "fatol": 0},
                 max_evaluations=10**8)
    say(event="finished", run_id=run_id)
elif phase == "finalize":
    rec, _ = runs.problems.create("fin", "sphere", dimension=3)
    while True:
        run_id = runs.start_run(rec["id"], "L-BFGS-B")
        say(event="run", run_id=run_id, evaluations=0)
        done = runs.execute(run_id, max_evaluations=rng.randint(1, 60))
        say(event="run", run_id=run_id, evaluations=done["n_evaluations"], status=done["status"])
        runs.finalize(run_id, notes=f"note {run_id}")
        say(event="finalized", run_id=run_id)
"""

CRASH_PHASES = ("create", "run", "finalize", "flush")


def _events(side: Path) -> list[dict]:
    if not side.exists():
        return []
    out = []
    for line in side.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:  # a line cut by the kill
            pass
    return out


def crash_trial(store_dir, phase: str, seed: int, known: dict) -> dict:
    """Start a child on the store, SIGKILL it at a random moment of `phase`, then check the store.

    `known` ({run_id: evaluations}) holds what earlier trials left; it is checked and updated.
    Returns {"phase", "killed_after_s", "missing_s" (None unless a run was cut), "runs"}.
    """
    import random
    import signal

    rng = random.Random(seed)
    store_dir = Path(store_dir).resolve()
    side = store_dir.parent / f"crash-{seed}.jsonl"
    side.unlink(missing_ok=True)
    child = spawn(CRASH_CHILD, store_dir, side, phase, seed)
    try:
        deadline = time.time() + 60
        wanted = "recorder" if phase == "run" else "ready"
        while not any(e.get("event") == wanted for e in _events(side)):
            if child.poll() is not None:
                break
            assert time.time() < deadline, "the crash child never got going"
            time.sleep(0.005)
        if phase == "flush":
            child.wait(timeout=60)  # it kills itself inside a flush
            killed_at = None
            assert child.returncode == -signal.SIGKILL, child.stderr.read()[-2000:]
        else:
            assert child.poll() is None, child.stderr.read()[-2000:]
            time.sleep(rng.uniform(0.05, 0.5) if phase != "run" else rng.uniform(0.15, 1.2))
            killed_at = time.time()
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    events = _events(side)
    acknowledged: dict[int, int] = {}
    for e in events:
        if e.get("event") == "run":
            acknowledged[e["run_id"]] = max(acknowledged.get(e["run_id"], 0), e.get("evaluations", 0))
    stored = check_store(store_dir, expect_runs={**known, **acknowledged})
    # no run duplicated: at most one run beyond those the child saw created (the one in flight)
    new = set(stored) - set(known)
    assert set(acknowledged) <= new and len(new) <= len(acknowledged) + 1, (sorted(new), sorted(acknowledged))
    missing = None
    from aopt.storage import SQLiteStore

    with SQLiteStore(store_dir) as store:
        for run_id in new:
            run = store.get_run(run_id)
            assert run["status"] in ("completed", "failed", "interrupted"), f"run {run_id} still {run['status']}"
        finalized = {e["run_id"] for e in events if e.get("event") == "finalized"}
        for run_id in finalized:
            assert f"note {run_id}" in store.get_run(run_id)["notes"]
        clocks = {e["run_id"]: e["wall0"] for e in events if e.get("event") == "recorder"}
        if phase == "run" and killed_at is not None:
            (run_id, wall0), = clocks.items()
            h = store.load_evaluations(run_id)
            assert len(h["t"]) > 0, f"a run killed {killed_at - wall0:.3f} s in has no flushed evaluation: {events}"
            missing = killed_at - (wall0 + float(h["t"][-1]))
            assert store.get_run(run_id)["status"] == "interrupted"
        if phase == "flush":
            (run_id, _), = clocks.items()
            assert store.get_run(run_id)["status"] == "interrupted"
    known.update(stored)
    side.unlink(missing_ok=True)
    return {"phase": phase, "missing_s": missing, "runs": len(new)}


# -- concurrency: processes sharing one store ---------------------------------------------------

WORKER_CHILD = r"""
import json, os, sys, time, traceback
store_dir, go, worker, n_runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
from aopt.tools import Context, build_tools
ctx = Context.open(store_dir)
tools = {t.name: t for t in build_tools(ctx)}
while not os.path.exists(go):  # start together
    time.sleep(0.001)
made, errors, reads = [], [], 0
for i in range(n_runs):
    try:
        p = tools["create_problem"].invoke({"name": f"w{worker}-{i}", "objective": "sphere", "dimension": 3})
        r = tools["start_optimization_run"].invoke({"problem_id": p["problem_id"], "algorithm": "L-BFGS-B"})
        made.append(r["run_id"])
        res = tools["run_scipy_optimization"].invoke({"run_id": r["run_id"], "max_evaluations": 40})
        fin = tools["finalize_optimization_run"].invoke({"run_id": r["run_id"], "notes": f"worker {worker}"})
        listing = tools["list_runs"].invoke({"limit": 20})
        one = tools["get_run"].invoke({"run_id": r["run_id"]})
        reads += 2
        for out in (p, r, res, fin, listing, one):
            if "error" in out:
                errors.append(out["error"]["message"])
    except Exception:
        errors.append(traceback.format_exc())
print(json.dumps({"worker": worker, "runs": made, "errors": errors, "reads": reads}))
"""


def concurrency_trial(store_dir, processes: int = 8, runs_each: int = 10) -> dict:
    """`processes` children create problems and runs and read the list at once; returns figures."""
    store_dir = Path(store_dir).resolve()
    go = store_dir.parent / "go"
    go.unlink(missing_ok=True)
    from aopt.storage import SQLiteStore

    SQLiteStore(store_dir).close()  # the schema exists before the race
    before = set(check_store(store_dir))
    children = [spawn(WORKER_CHILD, store_dir, go, w, runs_each) for w in range(processes)]
    time.sleep(1.5)  # let every child import paola and wait
    t0 = time.perf_counter()
    go.touch()
    results = []
    for c in children:
        out, err = c.communicate(timeout=300)
        assert c.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = time.perf_counter() - t0
    go.unlink(missing_ok=True)
    errors = [e for r in results for e in r["errors"]]
    assert not errors, errors[:3]
    assert not any("locked" in e for e in errors)
    ids = [i for r in results for i in r["runs"]]
    assert len(ids) == len(set(ids)) == processes * runs_each, "run ids collide or runs are missing"
    stored = check_store(store_dir)
    assert set(ids) <= set(stored) and not (set(ids) & before)
    from aopt.storage import SQLiteStore

    with SQLiteStore(store_dir) as store:
        for run_id in ids:
            run = store.get_run(run_id)
            assert run["status"] == "completed" and run["n_evaluations"] == stored[run_id] > 0, run
            assert run["notes"].startswith("worker ")
    return {"processes": processes, "runs": len(ids), "reads": sum(r["reads"] for r in results),
            "seconds": elapsed}


WRITER_CHILD = r"""
import json, sys, time
from aopt.runs import RunManager
from aopt.storage import SQLiteStore
store = SQLiteStore(sys.argv[1]); runs = RunManager(store)
budget = int(sys.argv[2])
rec, _ = runs.problems.create("writer", "rosenbrock", dimension=8)
run_id = runs.start_run(rec["id"], "Nelder-Mead")
print(json.dumps({"run_id": run_id}), flush=True)
t0 = time.perf_counter()
run = runs.execute(run_id, options={"maxiter": 10**8, "maxfev": 10**8, "xatol": 0, "fatol": 0},
                   max_evaluations=budget)
print(json.dumps({"run_id": run_id, "status": run["status"], "n": run["n_evaluations"],
                  "seconds": time.perf_counter() - t0}), flush=True)
"""


def reader_beside_writer(store_dir, budget: int = 200_000, read: bool = True) -> dict:
    """A writer process runs one long optimization while this process reads the store through the
    shell's slash commands; the writer must finish with every evaluation and the reader see no error."""
    store_dir = Path(store_dir).resolve()
    writer = spawn(WRITER_CHILD, store_dir, budget)
    first = json.loads(writer.stdout.readline())
    fuzz = SlashFuzzer(store_dir)
    lines = ["/runs", f"/show {first['run_id']}", f"/plot {first['run_id']}", "/problems", "/tree",
             f"/runs --status running", f"/show {first['run_id']} --no-plot"]
    reads = 0
    try:
        while read and writer.poll() is None:
            line = lines[reads % len(lines)]
            assert fuzz.call(line) == "ok", f"{line}: {fuzz.out.getvalue()[-500:]}"
            reads += 1
    finally:
        fuzz.close()
    out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "completed" and result["n"] == budget, result
    stored = check_store(store_dir)
    assert stored[result["run_id"]] == budget
    return {"reads": reads, "writer_seconds": result["seconds"], "evaluations": budget}


# -- the disk: read-only, full, corrupted, newer -------------------------------------------------


def make_store_with_runs(folder, n_runs: int = 3) -> dict:
    """A closed store holding `n_runs` completed runs; returns {run_id: evaluations}."""
    from aopt.runs import RunManager
    from aopt.storage import SQLiteStore

    with SQLiteStore(folder) as store:
        runs = RunManager(store)
        rec, _ = runs.problems.create("kept", "rosenbrock", dimension=3)
        for _ in range(n_runs):
            runs.execute(runs.start_run(rec["id"], "L-BFGS-B"), max_evaluations=150)
    return check_store(folder)


def digest(folder) -> str:
    import hashlib

    return hashlib.sha256((Path(folder) / "paola.db").read_bytes()).hexdigest()


OPEN_AND_WRITE = r"""
import json, sys
from aopt.errors import PaolaError
try:
    from aopt.tools import Context, build_tools
    ctx = Context.open(sys.argv[1])
    tools = {t.name: t for t in build_tools(ctx)}
    outs = [tools["list_runs"].invoke({}), tools["create_problem"].invoke({"name": "new", "objective": "sphere"})]
    run = tools["start_optimization_run"].invoke({"problem_id": "kept", "algorithm": "dual_annealing"})
    outs.append(run)
    if "run_id" in run:  # annealing restarts until the budget is spent: about 5 MB of evaluations
        outs.append(tools["run_scipy_optimization"].invoke({"run_id": run["run_id"], "max_evaluations": 100000,
                                                            "options": {"maxiter": 10**6}, "seed": 1}))
    errors = [o["error"] for o in outs if "error" in o]
    print(json.dumps({"errors": errors}))
except PaolaError as exc:
    print(json.dumps({"errors": [{"kind": exc.kind, "message": str(exc)}]}))
"""


def _ran(proc) -> dict:
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _first_store_error(result: dict, fault: str) -> str:
    errors = result["errors"]
    assert errors, f"{fault}: everything succeeded"
    assert all(e["kind"] == "store_error" for e in errors), errors
    return errors[0]["message"]


def can_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def fault_read_only(folder) -> dict:
    """The store folder on a read-only bind mount (root ignores permissions, so chmod is not enough)."""
    folder = Path(folder).resolve()
    kept = make_store_with_runs(folder)
    before = digest(folder)
    if can_unshare():
        script = (f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && "
                  f"{sys.executable} -c \"$CHILD\" {folder}")
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], cwd=str(ROOT),
                              capture_output=True, text=True, timeout=120, env={**os.environ, "CHILD": OPEN_AND_WRITE})
        how = "read-only bind mount"
    else:
        os.chmod(folder, 0o755)
        os.chmod(folder / "paola.db", 0o644)
        proc = python(OPEN_AND_WRITE, folder, preexec=lambda: (os.setgid(65534), os.setuid(65534)))
        how = "another user (nobody)"
    message = _first_store_error(_ran(proc), "read-only")
    assert digest(folder) == before
    check_store(folder, expect_runs=kept)
    return {"fault": f"read-only store folder ({how})", "message": message}


FSIZE_CHILD = r"""
import resource, signal, sys, os
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
""" + OPEN_AND_WRITE


def fault_full_disk_fsize(folder) -> dict:
    """A full disk as RLIMIT_FSIZE: the database may grow by only 64 KiB."""
    folder = Path(folder).resolve()
    kept = make_store_with_runs(folder)
    size = (folder / "paola.db").stat().st_size
    proc = python(FSIZE_CHILD.replace("sys.argv[1]", "sys.argv[1]"), folder, size + 65536)
    message = _first_store_error(_ran(proc), "full disk")
    check_store(folder, expect_runs=kept)
    return {"fault": "full disk (RLIMIT_FSIZE, 64 KiB to grow)", "message": message}


TMPFS_VERIFY = r"""
import json, sys
sys.path.insert(0, ".")
from tests.reliability_harness import check_store
kept = {int(k): v for k, v in json.loads(sys.argv[2]).items()}
print(json.dumps({"stored": len(check_store(sys.argv[1], expect_runs=kept))}))
"""

TMPFS_MAKE = r"""
import json, sys
sys.path.insert(0, ".")
from tests.reliability_harness import make_store_with_runs
print(json.dumps(make_store_with_runs(sys.argv[1])))
"""


def fault_full_disk_tmpfs(folder) -> dict | None:
    """A really full disk: a 2 MiB tmpfs in a private mount namespace (None when not permitted)."""
    if not can_unshare():
        return None
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "store"
    py = sys.executable
    script = (f"mount -t tmpfs -o size=2m tmpfs {folder} && "
              f"kept=$({py} -c \"$MAKE\" {store} | tail -1) && "
              f"{py} -c \"$WRITE\" {store} && "
              f"{py} -c \"$VERIFY\" {store} \"$kept\"")
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MAKE": TMPFS_MAKE, "WRITE": OPEN_AND_WRITE, "VERIFY": TMPFS_VERIFY})
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines() if line.startswith("{")]
    write = next(r for r in lines if "errors" in r)
    message = _first_store_error(write, "full tmpfs")
    assert lines[-1]["stored"] >= 3
    return {"fault": "full disk (2 MiB tmpfs)", "message": message}


def fault_corrupted(folder, how: str) -> dict:
    """Damage the closed database file (`header`, `pages` or `truncated`); paola must refuse it untouched."""
    folder = Path(folder).resolve()
    make_store_with_runs(folder, n_runs=6)
    db = folder / "paola.db"
    data = bytearray(db.read_bytes())
    if how == "header":
        data[:16] = b"definitely not s"
    elif how == "pages":
        for page in range(1, len(data) // 4096):
            data[page * 4096 + 7: page * 4096 + 700] = os.urandom(693)
    elif how == "truncated":
        data = data[: len(data) // 2 + 123]
    db.write_bytes(bytes(data))
    before = digest(folder)
    message = _first_store_error(_ran(python(OPEN_AND_WRITE, folder)), f"corrupted ({how})")
    assert digest(folder) == before, "paola modified a corrupted store"
    assert not (folder / "paola.db-wal").exists() or (folder / "paola.db-wal").stat().st_size == 0
    return {"fault": f"corrupted database ({how})", "message": message}


def fault_newer_schema(folder) -> dict:
    folder = Path(folder).resolve()
    kept = make_store_with_runs(folder)
    con = sqlite3.connect(str(folder / "paola.db"))
    con.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 'the future')")
    con.commit()
    con.close()
    before = digest(folder)
    message = _first_store_error(_ran(python(OPEN_AND_WRITE, folder)), "newer schema")
    assert "newer paola" in message and digest(folder) == before
    con = sqlite3.connect(str(folder / "paola.db"))
    con.execute("DELETE FROM schema_version WHERE version = 99")
    con.commit()
    con.close()
    check_store(folder, expect_runs=kept)  # nothing else changed
    return {"fault": "store from a newer schema", "message": message}


def all_faults(base) -> list[dict]:
    base = Path(base)
    out = [fault_read_only(base / "ro"), fault_full_disk_fsize(base / "fsize")]
    tmpfs = fault_full_disk_tmpfs(base / "tmpfs")
    if tmpfs is not None:
        out.append(tmpfs)
    out += [fault_corrupted(base / f"corrupt-{how}", how) for how in ("header", "pages", "truncated")]
    out.append(fault_newer_schema(base / "newer"))
    return out
