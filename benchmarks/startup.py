"""How fast paola starts: time to the paola> prompt and for `paola runs`, against `python -c pass`.

Run: python benchmarks/startup.py [--repeat N]. Prints the median of N runs of each, and the
ratios. Goals: prompt ready < 0.5 s, `paola runs` < 0.3 s (LangChain + SciPy alone take ~3 s to import,
so both must start without them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time_process(argv, env) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def _time_prompt(argv, env) -> float:
    """Spawn the shell in a pseudo-terminal; seconds until 'paola>' is on screen."""
    import pexpect

    t0 = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", dimensions=(40, 120), timeout=30)
    child.expect("paola>")
    ready = time.perf_counter() - t0
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return ready


def _paola() -> list[str]:
    exe = shutil.which("paola", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return [exe] if exe else [sys.executable, "-m", "aopt"]


def _make_store(path: str, n_runs: int) -> None:
    from aopt.tools import Context

    ctx = Context.open(path)
    rec, _ = ctx.runs.problems.create("rb", "rosenbrock", 4)
    for i in range(n_runs):
        ctx.runs.execute(ctx.runs.start_run(rec["id"], "BFGS" if i % 2 else "Nelder-Mead"))
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--runs", type=int, default=30, help="runs in the benchmark store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store")
        _make_store(store, args.runs)
        env = {**os.environ, "AOPT_STORE": store, "TERM": "xterm-256color"}
        for name in ("OPENAI_API_KEY", "PAOLA_MODEL"):
            env.pop(name, None)
        paola = _paola()
        base = statistics.median(_time_process([sys.executable, "-c", "pass"], env) for _ in range(args.repeat))
        runs = statistics.median(_time_process(paola + ["runs"], env) for _ in range(args.repeat))
        runs_json = statistics.median(_time_process(paola + ["runs", "--json"], env) for _ in range(args.repeat))
        prompt = statistics.median(_time_prompt(paola, env) for _ in range(args.repeat))
        heavy = _time_process([sys.executable, "-c", "import langchain, langchain_openai, scipy.optimize"], env)
    print(f"store with {args.runs} runs; median of {args.repeat}; command: {' '.join(paola)}")
    print(f"{'python -c pass':<34}{base:8.3f} s   1.0x")
    for label, t, goal in (("paola runs", runs, 0.3), ("paola runs --json", runs_json, 0.3),
                           ("paola: prompt ready", prompt, 0.5)):
        verdict = "ok" if t < goal else "OVER"
        print(f"{label:<34}{t:8.3f} s {t / base:6.1f}x   goal < {goal} s: {verdict}")
    print(f"{'(import langchain+openai+scipy)':<34}{heavy:8.3f} s {heavy / base:6.1f}x   not on the startup path")


if __name__ == "__main__":
    main()
