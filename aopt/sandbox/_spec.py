"""Code specs: "FILE.py:FUNCTION" resolved to an absolute path, with a copy and hash of the source.

A problem defined by code stores its `CodeSpec` (path, function, source,
sha256), so a run can be reproduced and a later edit of the file is noticed
(`changed_since()`). Source text written by a model becomes a file in a store
folder (`CodeSpec.from_source`) and runs exactly like a user's file. Nothing
here imports or executes the code: that only happens in the worker process.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from aopt.errors import InvalidInput, NotFound

__all__ = ["CodeSpec", "load_code_spec", "ACCEPTED_SPEC"]

ACCEPTED_SPEC = "FILE.py:FUNCTION, e.g. 'model.py:cost' or '/abs/path/model.py:cost'"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CodeSpec:
    """One function in one Python file, pinned to the source it had when the spec was made."""

    path: str  # absolute
    function: str
    source: str
    sha256: str  # of the file's bytes

    @property
    def text(self) -> str:
        """The spec as "PATH:FUNCTION" (absolute path)."""
        return f"{self.path}:{self.function}"

    @property
    def filename(self) -> str:
        return os.path.basename(self.path)

    def current_sha256(self) -> Optional[str]:
        """Hash of the file as it is now, or None when it no longer exists."""
        try:
            return _sha256(Path(self.path).read_bytes())
        except OSError:
            return None

    def changed_since(self) -> bool:
        """True when the file now differs from the stored source (or is gone)."""
        return self.current_sha256() != self.sha256

    def to_record(self) -> dict:
        """JSON-ready dict for the store (includes the full source)."""
        return {"path": self.path, "function": self.function, "source": self.source, "sha256": self.sha256}

    @classmethod
    def from_record(cls, record: dict) -> "CodeSpec":
        try:
            return cls(str(record["path"]), str(record["function"]), str(record["source"]), str(record["sha256"]))
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"a stored code spec needs path, function, source and sha256; got {record!r}") from exc

    def restore(self) -> "CodeSpec":
        """Write the stored source back to `path` when the file is missing; refuse to overwrite a different file."""
        current = self.current_sha256()
        if current == self.sha256:
            return self
        if current is not None:
            raise InvalidInput(f"{self.path} has changed since the problem was defined; not overwriting it")
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        Path(self.path).write_bytes(self.source.encode("utf-8"))
        return self

    @classmethod
    def from_source(cls, source: str, function: str, directory: Union[str, os.PathLike], *, name: str = "code") -> "CodeSpec":
        """Store `source` as a file under `directory` (content-addressed) and return its spec.

        Used for code written by a model: it then runs in the same worker
        sandbox as a user's file. The same source always maps to the same file.
        """
        if not isinstance(source, str) or not source.strip():
            raise InvalidInput("source must be non-empty Python text defining the function")
        _check_function_name(function, f"{name}:{function}")
        stem = "".join(c if (c.isalnum() or c == "_") else "_" for c in name) or "code"
        data = source.encode("utf-8")
        digest = _sha256(data)
        folder = Path(directory).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}_{digest[:12]}.py"
        if not path.exists() or _sha256(path.read_bytes()) != digest:
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return cls(str(path), function, source, digest)


def _check_function_name(function: str, spec: str) -> None:
    parts = function.split(".") if function else [""]
    if not all(p.isidentifier() for p in parts):
        raise InvalidInput(
            f"{spec!r}: {function!r} is not a Python function name; accepted form: {ACCEPTED_SPEC}"
        )


def load_code_spec(spec: Union[str, CodeSpec], base_dir: Union[str, os.PathLike, None] = None) -> CodeSpec:
    """Parse "FILE.py:FUNCTION", resolve the file (relative to `base_dir`, default the cwd) and pin its source.

    Raises InvalidInput for a malformed spec or a file that is not .py, and
    NotFound when the file does not exist. The function itself is checked when
    a worker imports the file (importing here would run user code in paola's process).
    """
    if isinstance(spec, CodeSpec):
        return spec
    if not isinstance(spec, str) or ":" not in spec:
        raise InvalidInput(f"code objective {spec!r} is not of the form {ACCEPTED_SPEC}")
    file_part, _, function = spec.strip().rpartition(":")
    file_part, function = file_part.strip(), function.strip()
    if not file_part or not function:
        raise InvalidInput(f"code objective {spec!r} is not of the form {ACCEPTED_SPEC}")
    _check_function_name(function, spec)
    if not file_part.endswith(".py"):
        raise InvalidInput(f"{file_part!r} (from {spec!r}) is not a .py file; accepted form: {ACCEPTED_SPEC}")
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    path = (base / Path(file_part).expanduser()).resolve()
    if not path.is_file():
        where = "" if Path(file_part).expanduser().is_absolute() else f" (relative paths are resolved against {base.resolve()})"
        raise NotFound(f"no such file: {path} (from {spec!r}){where}")
    data = path.read_bytes()
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text ({exc}); save it as UTF-8") from None
    return CodeSpec(str(path), function, source, _sha256(data))
