"""ProblemCatalog: problems defined by users, persisted in the store and rebuilt on demand."""

from __future__ import annotations

from aopt.errors import InvalidInput, NotFound

__all__ = ["ProblemCatalog"]

# Keys paola adds to a problem's stored record beside what Problem.to_record() gives.
_EXTRA_KEYS = ("id", "created_at", "bounds_given")


def _is_benchmark(name: str) -> bool:
    from aopt.problems import get_benchmark

    try:
        get_benchmark(name)
    except LookupError:
        return False
    return True


def _slug(name) -> str:
    text = "".join(ch if ch.isalnum() else "_" for ch in str(name))[:40].strip("_")
    return text or "code"


class ProblemCatalog:
    """Creates problems in a store and loads them back (by id or by name) as Problem objects."""

    def __init__(self, store):
        self.store = store
        self._cache: dict[int, tuple[dict, object]] = {}

    def create(self, name, objective, dimension=None, bounds=None, constraints=None,
               sense="minimize", description="", *, gradient=None, limits=None,
               properties=None) -> tuple[dict, object]:
        from aopt.problems import make_problem

        registered = self.registered(objective)
        if registered is not None:
            objective = registered["objective"]
            gradient = gradient or registered.get("gradient")
            description = description or registered.get("description") or ""
        elif (isinstance(objective, str) and objective.strip().isidentifier() and isinstance(dimension, int)
              and dimension > 1 and not _is_benchmark(objective)):
            names = [f["name"] for f in self.store.list_functions()] if hasattr(self.store, "list_functions") else []
            raise NotFound(f"no function is registered as {objective.strip()!r} (registered: "
                           f"{', '.join(names) or 'none'}); register one with /register NAME FILE.py:FUNCTION, "
                           f"or give the objective as FILE.py:FUNCTION")
        problem = make_problem(name=name, objective=objective, dimension=dimension, bounds=bounds,
                               constraints=constraints, sense=sense, description=description,
                               gradient=gradient, limits=limits, properties=properties)
        record = problem.to_record()
        record["bounds_given"] = bounds is not None
        problem_id = self.store.add_problem(record)
        stored = self.store.get_problem(problem_id)
        problem.id = problem_id
        problem.bounds_given = record["bounds_given"]
        self._cache[problem_id] = (stored, problem)
        return stored, problem

    def create_from_source(self, name, source: str, function: str, dimension=None, **kw
                           ) -> tuple[dict, object]:
        """A code problem from Python source text (written by a model): saved under the store."""
        from pathlib import Path

        from aopt.sandbox import CodeSpec

        if not isinstance(source, str) or not source.strip():
            raise InvalidInput("source must be the text of a Python module defining the objective function")
        if len(source) > 200_000:
            raise InvalidInput(f"source has {len(source)} characters; at most 200000 are accepted")
        folder = Path(getattr(self.store, "path", ".")) / "code"
        spec = CodeSpec.from_source(source, function, folder, name=_slug(name))
        return self.create(name, f"{spec.path}:{function}", dimension, **kw)

    def register_function(self, name: str, function: str, gradient: str | None = None,
                          description: str = "") -> dict:
        """Name a user function ("model.py:cost") once, so requests can say "minimize my_cost"."""
        from aopt.problems import get_benchmark
        from aopt.sandbox import load_code_spec

        if not isinstance(name, str) or not name.strip().isidentifier():
            raise InvalidInput(f"a function name must be one word like my_cost (letters, digits, _); got {name!r}")
        name = name.strip()
        try:
            get_benchmark(name)
        except LookupError:
            pass
        else:
            raise InvalidInput(f"{name!r} is a built-in benchmark; choose another name")
        spec = load_code_spec(function)
        grad = load_code_spec(gradient) if gradient else None
        record = {"name": name, "objective": f"{spec.path}:{spec.function}",
                  "gradient": f"{grad.path}:{grad.function}" if grad else None,
                  "description": description if isinstance(description, str) else ""}
        self.store.register_function(record)
        return self.store.get_function(name)

    def registered(self, objective) -> dict | None:
        """The registered function named by `objective`, if it is one."""
        if isinstance(objective, str) and objective.strip().isidentifier() and hasattr(self.store, "get_function"):
            return self.store.get_function(objective.strip())
        return None

    def load(self, ref) -> tuple[dict, object]:
        """A problem by id (int or digits) or by name (the newest with that name)."""
        from aopt.problems import Problem

        record = self.record(ref)
        cached = self._cache.get(record["id"])
        if cached is not None:
            return cached
        clean = {k: v for k, v in record.items() if k not in _EXTRA_KEYS}
        problem = Problem.from_record(clean)
        problem.id = record["id"]
        problem.bounds_given = record.get("bounds_given", True)
        self._cache[record["id"]] = (record, problem)
        return record, problem

    def record(self, ref) -> dict:
        if isinstance(ref, bool) or ref is None:
            raise InvalidInput(f"problem_id must be a problem number or name; got {ref!r}")
        if isinstance(ref, float) and ref.is_integer():
            ref = int(ref)
        if isinstance(ref, str) and ref.strip().lstrip("#").isdigit():
            ref = int(ref.strip().lstrip("#"))
        if isinstance(ref, int):
            return self.store.get_problem(ref)
        if isinstance(ref, str) and ref.strip():
            found = self.store.find_problem(ref.strip())
            if found is None:
                names = sorted({p["name"] for p in self.store.list_problems()})
                known = ", ".join(names[:20]) if names else "none yet: create one with create_problem"
                raise NotFound(f"no problem named {ref!r}. Known problems: {known}")
            return found
        raise InvalidInput(f"problem_id must be a problem number or name; got {ref!r}")

    @staticmethod
    def hard_bounds(problem) -> bool:
        """Bounds a user gave are constraints; a benchmark's default domain is only a search region."""
        return problem.kind != "benchmark" or getattr(problem, "bounds_given", True)
