"""Shared fixtures: every test gets its own data folder; the real model loads once per session."""

from __future__ import annotations

import os

import pytest

from helpers import issue_token


@pytest.fixture(scope="session", autouse=True)
def session_model_cache(tmp_path_factory):
    """The model prepared for ONNX Runtime once per test session (servers started by tests inherit it),
    never in the reader's own cache folder."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("CROSSCURRENT_CACHE")
    os.environ["CROSSCURRENT_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("CROSSCURRENT_CACHE", None)
    else:
        os.environ["CROSSCURRENT_CACHE"] = previous


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
