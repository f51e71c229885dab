"""ProblemCatalog: problems defined by users, persisted in the store and rebuilt on demand."""

from __future__ import annotations

from aopt.errors import InvalidInput, NotFound

__all__ = ["ProblemCatalog"]

# Keys paola adds to a problem's stored record beside what Problem.to_record() gives.
_EXTRA_KEYS = ("id", "created_at", "bounds_given")


class ProblemCatalog:
    """Creates problems in a store and loads them back (by id or by name) as Problem objects."""

    def __init__(self, store):
        self.store = store
        self._cache: dict[int, tuple[dict, object]] = {}

    def create(self, name, objective, dimension=None, bounds=None, constraints=None,
               sense="minimize", description="") -> tuple[dict, object]:
        from aopt.problems import make_problem

        problem = make_problem(name=name, objective=objective, dimension=dimension, bounds=bounds,
                               constraints=constraints, sense=sense, description=description)
        record = problem.to_record()
        record["bounds_given"] = bounds is not None
        problem_id = self.store.add_problem(record)
        stored = self.store.get_problem(problem_id)
        problem.id = problem_id
        problem.bounds_given = record["bounds_given"]
        self._cache[problem_id] = (stored, problem)
        return stored, problem

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
