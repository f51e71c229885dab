"""Code specs: "FILE.py:FUNCTION" parsing, pinned source and hash, functions from source text."""

from __future__ import annotations

from pathlib import Path

import pytest

from aopt.errors import InvalidInput, NotFound
from aopt.sandbox import CodeSpec, Limits, UserCodeError, Worker, load_code_spec

FAST = Limits(eval_timeout=5, memory_mb=1024)


@pytest.fixture
def model_file(tmp_path) -> Path:
    path = tmp_path / "model.py"
    path.write_text("def cost(x):\n    return float(x[0] ** 2)\n")
    return path


def test_spec_resolves_path_and_pins_source(model_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = load_code_spec("model.py:cost")
    assert spec.path == str(model_file.resolve()) and spec.function == "cost"
    assert spec.source == model_file.read_text() and len(spec.sha256) == 64
    assert spec.text.endswith("model.py:cost") and not spec.changed_since()
    assert CodeSpec.from_record(spec.to_record()) == spec
    assert load_code_spec("sub/../model.py:cost", base_dir=tmp_path) == spec


@pytest.mark.parametrize("bad", ["model.py", "model.py:", ":cost", "model.py:1cost", "model.py:co st", 42])
def test_malformed_specs_say_what_is_accepted(bad):
    with pytest.raises(InvalidInput, match="FILE.py:FUNCTION"):
        load_code_spec(bad)


def test_non_python_and_missing_files(tmp_path):
    (tmp_path / "model.txt").write_text("x")
    with pytest.raises(InvalidInput, match="is not a .py file"):
        load_code_spec(f"{tmp_path}/model.txt:cost")
    with pytest.raises(NotFound, match="no such file"):
        load_code_spec(f"{tmp_path}/absent.py:cost")


def test_a_changed_file_is_detected_and_refused_by_the_worker(model_file):
    spec = load_code_spec(f"{model_file}:cost")
    model_file.write_text("def cost(x):\n    return -1.0\n")
    assert spec.changed_since()
    with pytest.raises(UserCodeError) as info:
        Worker(spec, limits=FAST)
    assert info.value.kind == "code_changed" and "has changed since the problem was defined" in info.value.message
    with Worker(spec, limits=FAST, check_hash=False) as w:  # explicitly accepting the new code
        assert w.evaluate([3.0]) == -1.0
    model_file.unlink()
    assert spec.changed_since()
    spec.restore()  # the stored copy brings the file back
    assert not spec.changed_since()
    with Worker(spec, limits=FAST) as w:
        assert w.evaluate([3.0]) == 9.0


def test_function_from_source_text_runs_in_the_worker(tmp_path):
    source = "import math\n\ndef f(x):\n    return math.fsum(v * v for v in x)\n"
    spec = CodeSpec.from_source(source, "f", tmp_path / "store", name="llm sphere")
    assert Path(spec.path).parent == (tmp_path / "store").resolve() and spec.source == source
    assert CodeSpec.from_source(source, "f", tmp_path / "store", name="llm sphere") == spec  # content-addressed
    with Worker(spec, limits=FAST) as w:
        assert w.evaluate([1.0, 2.0]) == 5.0


def test_source_text_errors_are_reported_like_files(tmp_path):
    spec = CodeSpec.from_source("def f(x):\n    return x[0] +\n", "f", tmp_path)
    with pytest.raises(UserCodeError, match="line 2") as info:
        Worker(spec, limits=FAST)
    assert info.value.kind == "import_error"
    with pytest.raises(InvalidInput):
        CodeSpec.from_source("   ", "f", tmp_path)
    with pytest.raises(InvalidInput, match="not a Python function name"):
        CodeSpec.from_source("def f(x): return 1.0", "f(x)", tmp_path)


def test_sibling_modules_of_the_user_file_can_be_imported(tmp_path):
    (tmp_path / "helpers.py").write_text("def square(v):\n    return v * v\n")
    (tmp_path / "main.py").write_text("from helpers import square\n\ndef cost(x):\n    return float(square(x[0]))\n")
    with Worker(f"{tmp_path}/main.py:cost", limits=FAST) as w:
        assert w.evaluate([4.0]) == 16.0
