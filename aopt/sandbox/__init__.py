"""Run user Python code (objectives, gradients, constraints) in a sandboxed worker process.

    from aopt.sandbox import Worker, Limits, load_code_spec

    with Worker("model.py:cost", gradient="model.py:grad",
                limits=Limits(eval_timeout=5, memory_mb=1024)) as w:
        f = w.evaluate([1.0, 2.0])            # one point, one round trip
        F = w.evaluate_batch(X)               # many points, one round trip
        print(w.output())                     # what the user's code printed

The user's file is imported only in the child process, so nothing it does
(exceptions, sys.exit, os._exit, segfaults, endless loops, memory bombs) can
take paola down; each failure is a `SandboxError` whose `kind` names it.

NaN policy: by default (`nan_policy="inf"`) a NaN objective value becomes +inf
(a failed point the optimizer moves away from) and a NaN constraint value
-inf (maximally violated); ±inf pass unchanged; all are counted in
`Worker.counts["nonfinite"]`. `nan_policy="raise"` makes any non-finite value
an error. Non-numbers and wrong shapes are always errors ("bad_return").

What to know:
- This isolates failures, it is not a security boundary: the user's code runs
  as the same user, in paola's working directory, with the same environment
  (plus OPENBLAS/OMP/MKL_NUM_THREADS=1 unless already set).
- A Worker is used by one thread at a time; it is cheap to start (~0.1 s) and
  must be closed (`with Worker(...)`, or `close()`; garbage collection and
  interpreter exit also kill the child).
- Ctrl+C while waiting for the child stops the child and re-raises.
"""

from aopt.sandbox._errors import LimitExceeded, SandboxError, UserCodeError, WorkerDied
from aopt.sandbox._limits import Limits
from aopt.sandbox._spec import ACCEPTED_SPEC, CodeSpec, load_code_spec
from aopt.sandbox._worker import NAN_POLICIES, Worker

__all__ = [
    "Worker",
    "Limits",
    "CodeSpec",
    "load_code_spec",
    "ACCEPTED_SPEC",
    "NAN_POLICIES",
    "SandboxError",
    "UserCodeError",
    "LimitExceeded",
    "WorkerDied",
]
