"""The documented grammar of the offline model (Markdown), shown by `help` and when a request is not understood."""

from __future__ import annotations

__all__ = ["GRAMMAR_HELP", "EXAMPLES", "SWITCH_MODEL"]

EXAMPLES = (
    "optimize 10D Rosenbrock with SLSQP",
    "minimize (x-3)^2 + y^2 subject to x + y >= 1",
    "maximize x*y s.t. x + y <= 10 for x in [0, 5] with -2 <= y <= 8",
    "optimize rastrigin 5D with Nelder-Mead and differential evolution, then compare them",
    "run ackley in 10 dims with DE, seed 42, max 2000 evaluations",
    "try it again with BFGS",
    "continue run 3 with L-BFGS-B",
    "compare runs 2 and 4",
    "show run 5",
    "list my runs",
    "which algorithms handle constraints?",
)

SWITCH_MODEL = (
    "To use a full language model instead of the offline one: start paola with "
    "`--model openai:gpt-4o-mini` (and `OPENAI_API_KEY` set), type `/model openai:gpt-4o-mini` in the shell, "
    "or set `PAOLA_MODEL` to any LangChain `provider:model` (e.g. `ollama:qwen2.5`; `OPENAI_BASE_URL` "
    "points the OpenAI client at a compatible local server)."
)

def _algorithm_names() -> str:
    """The algorithms with a short alias each, from the registry (the one place they are written)."""
    from aopt.optimize import list_algorithms

    parts = []
    for info in list_algorithms():
        if info.name == "auto":
            continue
        short = min(info.aliases, key=len) if info.aliases else ""
        parts.append(f"{info.name} (`{short}`)" if short and len(short) <= 4 else info.name)
    return ", ".join(parts)


GRAMMAR_HELP = """\
## What the offline model understands

paola's embedded `offline` model needs no network and no API key. It reads requests
in plain words, in any order, with common synonyms and typos, and turns them into
the same tool calls a language model would make.

**Optimize a benchmark.** `optimize` / `minimize` / `maximize` / `run` / `solve` a benchmark:
sphere, rosenbrock, rastrigin, ackley, griewank, schwefel, levy, zakharov, styblinski-tang
(any dimension); beale, booth, himmelblau, branin, six-hump camel, goldstein-price, easom (2-D).
Misspellings are fine (`rosenbrok`, `rastrigrin`, `ackely`).

- dimension: `10D`, `10-dimensional`, `in 10 dims`, `10 dimensions`, `10 variables`, `n=10`, `dim 10`
- algorithm: `with SLSQP`, `using nelder mead`, `via L-BFGS-B`; none means `auto`
- bounds: `within [-5, 5]`, `bounds -2 to 2`, `in [-1, 1]^3`
- start point: `from (1, 1)`, `starting at [0, 0, 0]`, `x0 = 1, 2`, `from the origin`
- budget: `with 500 evaluations`, `budget of 2000 evals`, `max 1000 function evaluations`;
  iterations: `maxiter 50`; options: `popsize 30`, `gtol 1e-8`
- seed: `seed 42`, `random seed=7`

**Minimize or maximize an expression.** `minimize (x-3)^2 + y^2 subject to x + y >= 1`

- constraints after `subject to`, `s.t.`, `such that`, `where`, joined by `and`, commas or `;`;
  each uses `<=`, `>=`, `==`, `=`, `<` or `>` (also `≤`, `≥`)
- bounds: `for x in [0, 5]`, `with -2 <= y <= 2`, `x between 0 and 1`, `within [-5, 5]`
- `^` is a power; `2x` and `100(y - x^2)` are products; `sum((x[i]-1)**2 for i in range(5))` works

**Several runs or steps in one request**, joined by `and`, `then` or commas:
`optimize rastrigin 5D with Nelder-Mead and with differential evolution, then compare them`.

**Follow-ups** refer to earlier runs of the conversation:

| say | does |
|---|---|
| `try it again with BFGS`, `now with powell`, `the same with seed 3`, `now in 20D` | a new run of the last problem |
| `continue run 3 with L-BFGS-B`, `warm start from the last run` | a new run starting from run 3's best point |
| `compare runs 2 and 4`, `compare the last two`, `compare them` | runs side by side, the best named |
| `show run 5`, `show the best run`, `show the last run` | one run in full |
| `analyze run 3`, `why did run 3 not converge?` | a diagnosis and what to try next |
| `list my runs`, `list failed runs`, `list the last 5 runs` | the run list |
| `list problems`, `what benchmarks are there?` | problems and benchmarks |
| `which algorithms handle constraints?`, `gradient-free methods`, `what is COBYLA?` | the algorithms |

**Say what you know of the objective** (code and expressions): `it is noisy`, `expensive`,
`multimodal` (`many local minima`), `smooth`, `convex`; `auto` plans with it.

**Algorithms** (case and punctuation do not matter): """ + _algorithm_names() + """, and `auto`.

""" + SWITCH_MODEL + "\n"
