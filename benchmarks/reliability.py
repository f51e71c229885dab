"""Reliability figures: fuzzing, SIGKILLs, processes sharing a store, a misbehaving model, a bad disk.

    python benchmarks/reliability.py          # a quick pass (about a minute)
    python benchmarks/reliability.py --full   # 10,000 tool calls, 5,000 slash lines, 60 kills, ...

Prints a Markdown table (the README's Reliability section is this output). Every check is an
assertion from tests/reliability_harness.py: the script stops at the first thing that does not hold.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests import reliability_harness as h  # noqa: E402

SETTINGS = dict(deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def fuzz_tools(base: Path, cases: int, batch: int) -> dict:
    """`cases` tool calls in batches; after each batch: close, integrity_check, reopen, consistency."""
    from aopt.tools import Context

    store = base / "fuzz-tools"
    work = base / "fuzz-cwd"
    work.mkdir()
    os.chdir(work)
    ctx = Context.open(store)
    h.seed_store(ctx)
    ctx.close()
    totals: dict[str, int] = {}
    batches = 0
    done = 0
    while done < cases:
        n = min(batch, cases - done)
        ctx = Context.open(store)  # a reopen per batch
        fuzz = h.ToolFuzzer(ctx)

        @settings(max_examples=n, **SETTINGS)
        @given(h.tool_case())
        def case(c):
            fuzz.call(*c)

        case()
        ctx.close()
        h.check_store(store)
        batches += 1
        done += fuzz.cases
        for k, v in fuzz.outcomes.items():
            totals[k] = totals.get(k, 0) + v
        say(f"  tools: {done} cases, integrity ok after batch {batches}")
    assert not (work / h.CANARY).exists(), "an injection attempt ran"
    os.chdir(ROOT)
    return {"cases": done, "batches": batches, "outcomes": totals}


def fuzz_slash(base: Path, cases: int, batch: int) -> dict:
    from aopt.tools import Context

    store = base / "fuzz-slash"
    work = base / "slash-cwd"
    work.mkdir()
    ctx = Context.open(store)
    h.seed_store(ctx)
    ctx.close()
    os.chdir(work)
    totals: dict[str, int] = {}
    done = batches = 0
    while done < cases:
        fuzz = h.SlashFuzzer(store)

        @settings(max_examples=min(batch, cases - done), **SETTINGS)
        @given(h.slash_line)
        def case(line):
            fuzz.call(line)

        case()
        fuzz.close()
        h.check_store(store)
        done += fuzz.cases
        batches += 1
        for k, v in fuzz.outcomes.items():
            totals[k] = totals.get(k, 0) + v
    os.chdir(ROOT)
    say(f"  slash: {done} lines")
    return {"cases": done, "batches": batches, "outcomes": totals}


def crashes(base: Path, kills: int) -> dict:
    store = base / "crash" / "store"
    store.parent.mkdir()
    known: dict = {}
    by_phase: dict[str, int] = {}
    missing = []
    for i in range(kills):
        phase = h.CRASH_PHASES[i % len(h.CRASH_PHASES)]
        r = h.crash_trial(store, phase, 1000 + i, known)
        by_phase[phase] = by_phase.get(phase, 0) + 1
        if r["missing_s"] is not None:
            missing.append(r["missing_s"])
            assert r["missing_s"] <= 0.25, f"kill {i}: {r['missing_s']:.3f} s of evaluations missing"
        if (i + 1) % 10 == 0:
            say(f"  crashes: {i + 1} kills")
    return {"kills": kills, "by_phase": by_phase, "runs": len(known), "missing": missing}


def concurrency(base: Path, processes: int, runs_each: int, budget: int) -> dict:
    shared = h.concurrency_trial(base / "conc" / "store", processes, runs_each)
    alone = h.reader_beside_writer(base / "alone" / "store", budget, read=False)
    beside = h.reader_beside_writer(base / "beside" / "store", budget, read=True)
    return {**shared, "reads_beside": beside["reads"], "budget": budget,
            "writer_alone_s": alone["writer_seconds"], "writer_beside_s": beside["writer_seconds"]}


def model_faults() -> dict:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider",
                           "tests/test_reliability_model.py"], cwd=str(ROOT), capture_output=True, text=True)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
    assert proc.returncode == 0, proc.stdout[-3000:]
    passed = int(re.search(r"(\d+) passed", tail).group(1))
    return {"scenarios": passed}


def disk(base: Path) -> list[dict]:
    return h.all_faults(base / "disk")


def table(f: dict, base: Path) -> str:
    t, s, c, k, m = f["tools"], f["slash"], f["conc"], f["crash"], f["model"]
    o = t["outcomes"]
    errors = sum(v for key, v in o.items() if key.startswith("error:"))
    kinds = ", ".join(f"{key[6:]} {v:,}" for key, v in sorted(o.items()) if key.startswith("error:"))
    phases = ", ".join(f"{p} {n}" for p, n in k["by_phase"].items())
    lines = [
        "| area | what was tried | what held |",
        "|---|---|---|",
        f"| tools, fuzzed | {t['cases']:,} calls of the {len(h.TOOL_ORDER)} tools with random and hostile arguments (wrong "
        f"types, NaN/inf/huge/tiny numbers, empty and 1 MB strings, unicode, `__import__('os')` and SQL "
        f"injection), {t['batches']} batches | 0 undocumented exceptions: {o.get('result', 0):,} results, "
        f"{errors:,} documented errors ({kinds}), {o.get('validation_error', 0):,} pydantic ValidationErrors; "
        f"`PRAGMA integrity_check` ok and a reopen after every batch; no injection ran |",
        f"| slash commands, fuzzed | {s['cases']:,} random command lines | 0 exceptions: "
        f"{s['outcomes'].get('ok', 0):,} ran, {s['outcomes'].get('error', 0):,} one-line errors, "
        f"{s['outcomes'].get('exit', 0):,} /exit; store intact after every batch |",
        f"| crashes | {k['kills']} SIGKILLs at random moments ({phases}) | the store opened "
        f"{k['kills']}/{k['kills']} times; 0 runs lost or duplicated ({k['runs']:,} runs kept); every cut "
        f"run `interrupted` with its flushed evaluations; evaluations missing at most "
        f"{max(k['missing']):.3f} s (median {sorted(k['missing'])[len(k['missing']) // 2]:.3f} s, limit 0.25 s) |",
        f"| processes sharing a store | {c['processes']} processes creating problems and runs and reading the "
        f"run list at once ({c['reads']} reads) | {c['runs']} run ids, all unique, all completed with every "
        f"evaluation; 0 'database is locked' |",
        f"| the shell beside a writer | {c['reads_beside']:,} slash commands (/runs, /show, /plot, /tree) "
        f"while another process ran {c['budget']:,} evaluations | the writer finished with all {c['budget']:,} "
        f"evaluations, 0 errors on either side; writer time {c['writer_beside_s']:.2f} s beside the reader, "
        f"{c['writer_alone_s']:.2f} s alone |",
        f"| a misbehaving model | {m['scenarios']} scenarios: timeout, 429, 500, 503, a server down past the "
        f"retries, malformed, truncated and non-object tool-call arguments, unknown tools, a model that never "
        f"stops calling tools, one that answers without tools, an empty answer, Ctrl+C in a model call and "
        f"SIGINT mid-optimization | each a retry that succeeded or a clear message; every conversation valid "
        f"(each tool call answered) and the store consistent |",
    ]
    for d in f["disk"]:
        text = re.sub(re.escape(str(base)) + r"/disk/[\w-]+/", "STORE/", d["message"])
        lines.append(f"| the disk | {d['fault']} | a clear `store_error`: \"{text[:120]}"
                     f"{'…' if len(text) > 120 else ''}\"; data already stored untouched |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the long run: 10,000 tool calls, 60 kills, ...")
    args = parser.parse_args()
    full = args.full
    base = Path(tempfile.mkdtemp(prefix="paola-reliability-"))
    started = time.perf_counter()
    try:
        figures = {
            "tools": fuzz_tools(base, 10_000 if full else 600, 1_000 if full else 300),
            "slash": fuzz_slash(base, 5_000 if full else 300, 1_000 if full else 300),
            "crash": crashes(base, 60 if full else 8),
            "conc": concurrency(base, 8, 10 if full else 3, 200_000 if full else 50_000),
            "model": model_faults(),
            "disk": disk(base),
        }
    finally:
        os.chdir(ROOT)
        shutil.rmtree(base, ignore_errors=True)
    print(table(figures, base))
    print(f"\n({'full' if full else 'quick'} run, {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores; "
          f"`python benchmarks/reliability.py{' --full' if full else ''}`)")


if __name__ == "__main__":
    main()
