"""Run-row fields: what each column accepts, how it is stored, and how it comes back.

Values are checked before any SQL runs so a bad field never reaches the database, and
every record returned holds plain Python types (JSON-ready).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from types import MappingProxyType

from aopt.errors import InvalidInput

__all__ = [
    "RUN_FIELDS", "RUN_COLUMNS", "STATUSES", "JSON_FIELDS",
    "now_iso", "encode_run_fields", "decode_run_row", "check_status", "to_json", "from_json",
]

STATUSES = ("running", "completed", "failed", "interrupted")

# field -> kind: int, float, text, time, bool, json, status
RUN_FIELDS: Mapping[str, str] = MappingProxyType({
    "problem_id": "int", "problem": "text", "algorithm": "text", "status": "status",
    "best_f": "float", "best_x": "json", "n_evaluations": "int", "n_iterations": "int",
    "n_gradient_evaluations": "int", "x0": "json", "options": "json", "seed": "int",
    "started_at": "time", "finished_at": "time", "duration_s": "float", "message": "text",
    "converged": "bool", "convergence": "json", "parent_id": "int", "description": "text",
    "pid": "int", "proc_start": "int", "host": "text", "output": "text", "max_evaluations": "int",
})
JSON_FIELDS = frozenset(k for k, kind in RUN_FIELDS.items() if kind == "json")
RUN_COLUMNS = ("id",) + tuple(RUN_FIELDS)

_KIND_HELP = MappingProxyType({
    "int": "a whole number or None", "float": "a number or None", "text": "text or None",
    "time": "an ISO-8601 time text, a datetime, epoch seconds or None", "bool": "True, False or None",
    "json": "a JSON-ready value (list, dict, number, text) or None",
})


def now_iso() -> str:
    """The current UTC time as ISO-8601 text ending in 'Z' (millisecond precision)."""
    return _iso(datetime.now(timezone.utc))


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value):
    """numpy scalars and arrays -> Python values, without importing numpy."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def to_json(value) -> str:
    return json.dumps(value, default=_plain, separators=(",", ":"))


def from_json(text):
    return None if text is None else json.loads(text)


def check_status(value, what: str = "status") -> str:
    if isinstance(value, str) and value.strip().lower() in STATUSES:
        return value.strip().lower()
    raise InvalidInput(f"{what} must be one of {', '.join(STATUSES)}; got {value!r}")


def _bad(name: str, kind: str, value) -> InvalidInput:
    return InvalidInput(f"run field {name} must be {_KIND_HELP[kind]}; got {value!r}")


def _encode(name: str, kind: str, value):
    value = _plain(value)
    if value is None:
        if kind == "status":
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}; got None")
        return None
    if kind == "json":
        try:
            return to_json(value)
        except (TypeError, ValueError) as exc:
            raise _bad(name, kind, value) from exc
    if kind == "status":
        return check_status(value)
    if kind == "bool":
        if isinstance(value, bool):
            return int(value)
        raise _bad(name, kind, value)
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _bad(name, kind, value)
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _bad(name, kind, value)
    if kind == "time":
        if isinstance(value, str):
            return value
        if isinstance(value, datetime):
            return _iso(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return _iso(datetime.fromtimestamp(value, timezone.utc))
        raise _bad(name, kind, value)
    if isinstance(value, str):  # text
        return value
    raise _bad(name, kind, value)


def encode_run_fields(fields: dict) -> dict:
    """Check `fields` against RUN_FIELDS and return column -> stored value.

    Raises InvalidInput naming an unknown field (with the valid ones) or a bad value.
    """
    unknown = [k for k in fields if k not in RUN_FIELDS]
    if unknown:
        raise InvalidInput(f"unknown run field{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(map(str, unknown))}; valid fields: {', '.join(RUN_FIELDS)}")
    return {name: _encode(name, RUN_FIELDS[name], value) for name, value in fields.items()}


def decode_run_row(row) -> dict:
    """A runs-table row (columns in RUN_COLUMNS order) -> a run record of plain types."""
    record = dict(zip(RUN_COLUMNS, row))
    for name in JSON_FIELDS:
        record[name] = from_json(record[name])
    if record["converged"] is not None:
        record["converged"] = bool(record["converged"])
    return record
