"""Shared fixtures: every test gets its own data folder; the real model loads once per session."""

from __future__ import annotations

import pytest

from helpers import issue_token


@pytest.fixture(autouse=True)
def isolated_data(tmp_path, monkeypatch):
    """No test ever touches the reader's real data folder, nor the benchmark data beside the repository
    (a test that needs a scorer or data writes its own and points CROSSCURRENT_SHARED at it)."""
    data = tmp_path / "data"
    monkeypatch.setenv("CROSSCURRENT_DATA", str(data))
    monkeypatch.setenv("CROSSCURRENT_SHARED", str(tmp_path / "no-benchmark-data"))
    monkeypatch.delenv("CROSSCURRENT_PORT", raising=False)
    monkeypatch.delenv("CROSSCURRENT_MODEL", raising=False)
    return data


@pytest.fixture(scope="session")
def real_embedder():
    from server.embeddings import Embedder

    embedder = Embedder()
    embedder.warm()
    return embedder


@pytest.fixture
def hash_app(isolated_data):
    from server.app import create_app

    app = create_app({"data_dir": isolated_data, "model": "hash", "TESTING": True})
    yield app
    app.extensions["crosscurrent"].store.close()


@pytest.fixture
def real_app(isolated_data, real_embedder):
    from server.app import create_app

    app = create_app({"data_dir": isolated_data, "TESTING": True}, embedder=real_embedder)
    yield app
    app.extensions["crosscurrent"].store.close()


@pytest.fixture
def auth(hash_app):
    return {"Authorization": f"Bearer {issue_token(hash_app)}"}
