"""Every test gets its own store and no model credentials, so nothing leaks between tests."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv("AOPT_STORE", str(store))
    for name in ("OPENAI_API_KEY", "PAOLA_MODEL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    yield store
