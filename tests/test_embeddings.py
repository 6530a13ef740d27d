"""The embedding model as the server loads it: the packaged model, unit vectors, and a process set up so
numpy's threads leave the cores to the model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from server.embeddings import DIMS, Embedder, HashEmbedder, from_blob, from_blobs, to_blob


@pytest.mark.model
def test_the_model_gives_unit_vectors_that_place_paraphrases_closer_than_other_topics(real_embedder):
    vectors = real_embedder.embed([
        "The council approved the budget on Tuesday.",
        "On Tuesday the council passed the budget.",
        "Heavy rain flooded the coastal road overnight.",
    ])
    assert vectors.shape == (3, DIMS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


@pytest.mark.model
def test_numpy_keeps_one_blas_thread_once_the_model_is_loaded(real_embedder):
    assert real_embedder.loaded
    blas = [pool for pool in threadpool_info() if pool["internal_api"] == "openblas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


@pytest.mark.parametrize("texts", [[], ["one"], ["the harbour", "the harbour", "a tram line"]])
def test_vectors_round_trip_through_their_stored_form(texts):
    vectors = HashEmbedder().embed(texts)
    assert vectors.shape == (len(texts), DIMS)
    blobs = [to_blob(v) for v in vectors]
    assert all(np.array_equal(from_blob(b), v) for b, v in zip(blobs, vectors))
    assert np.array_equal(from_blobs(blobs, DIMS), vectors.reshape(len(texts), DIMS))


# The model as ONNX Runtime runs it: the vectors sentence-transformers gives, made once per cache folder.

SAME_VECTOR_TEXTS = [
    "The council approved the budget on Tuesday.",
    "Nobody was hurt when the crane fell, the fire service said.",
    "El gobierno negó que el puente vaya a cerrar.",
    "政府否认桥梁将关闭。",
    "Kerajaan menafikan jambatan itu akan ditutup.",
    "A",
    "",
    "a very long claim that keeps going " * 60,  # past the model's 256 tokens
]


@pytest.fixture(scope="module")
def torch_vectors():
    from server.embeddings import TorchEncoder, packaged_model_path

    return TorchEncoder(packaged_model_path()).encode(SAME_VECTOR_TEXTS, 4)


@pytest.mark.model
def test_onnx_runtime_gives_the_vectors_sentence_transformers_gives(real_embedder, torch_vectors):
    assert real_embedder.runtime == "onnx"
    vectors = real_embedder.embed(SAME_VECTOR_TEXTS)
    assert np.min(np.sum(vectors * torch_vectors, axis=1)) > 0.9999
    one_at_a_time = np.vstack([real_embedder.embed([text]) for text in SAME_VECTOR_TEXTS])
    assert np.min(np.sum(one_at_a_time * torch_vectors, axis=1)) > 0.9999


@pytest.mark.model
@pytest.mark.parametrize("workers, batch_size", [(1, 64), (3, 64), (4, 2)])
def test_runs_split_across_threads_give_the_same_vectors(real_embedder, torch_vectors, workers, batch_size):
    from server.embeddings import MODEL_NAME, OnnxEncoder, packaged_model_path

    encoder = OnnxEncoder(real_embedder.cache_dir / "onnx" / MODEL_NAME / "model.onnx",
                          packaged_model_path() / "tokenizer.json", 256, workers=workers)
    vectors = encoder.encode(SAME_VECTOR_TEXTS, batch_size)
    assert np.min(np.sum(vectors * torch_vectors, axis=1)) > 0.9999


def _break_nothing(folder):
    pass


def _damage_the_model(folder):
    (folder / "model.onnx").write_bytes(b"not a model")


def _stale_description(folder):
    description = json.loads((folder / "export.json").read_text())
    (folder / "export.json").write_text(json.dumps({**description, "package": "0.0.0-older"}))


def _lose_the_description(folder):
    (folder / "export.json").unlink()


@pytest.mark.model
@pytest.mark.parametrize("spoil, exports_again", [
    (_break_nothing, False),
    (_damage_the_model, True),
    (_stale_description, True),
    (_lose_the_description, True),
])
def test_a_prepared_model_is_reused_and_made_again_when_damaged_or_stale(
        session_model_cache, tmp_path, monkeypatch, torch_vectors, spoil, exports_again):
    from server import embeddings

    prepared = session_model_cache / "onnx" / embeddings.MODEL_NAME
    Embedder(session_model_cache).warm()  # the session's own export exists
    cache = tmp_path / "cache"
    shutil.copytree(prepared, cache / "onnx" / embeddings.MODEL_NAME)
    spoil(cache / "onnx" / embeddings.MODEL_NAME)
    exports = []
    real_export = embeddings.export_onnx
    monkeypatch.setattr(embeddings, "export_onnx", lambda *a: (exports.append(a), real_export(*a)))
    embedder = Embedder(cache)
    vectors = embedder.embed(SAME_VECTOR_TEXTS)
    assert (len(exports) == 1) is exports_again and embedder.runtime == "onnx"
    assert np.min(np.sum(vectors * torch_vectors, axis=1)) > 0.9999
    assert not [p.name for p in (cache / "onnx" / embeddings.MODEL_NAME).iterdir() if p.name.startswith(".")]


@pytest.mark.model
def test_when_no_export_can_be_made_the_model_runs_through_torch(tmp_path, monkeypatch, torch_vectors):
    from server import embeddings

    def failing_export(source, folder):
        raise RuntimeError("the exporter is broken on this machine")

    monkeypatch.setattr(embeddings, "export_onnx", failing_export)
    embedder = Embedder(tmp_path / "cache")
    vectors = embedder.embed(SAME_VECTOR_TEXTS)
    assert embedder.runtime == "torch"
    assert np.min(np.sum(vectors * torch_vectors, axis=1)) > 0.9999


@pytest.mark.model
def test_a_start_with_the_model_prepared_imports_no_torch(real_embedder, session_model_cache, tmp_path):
    """What makes a start fast: the server answers without importing torch or sentence-transformers."""
    script = (
        "import sys\n"
        "from server.app import create_app\n"
        f"app = create_app({{'data_dir': {str(tmp_path / 'data')!r}, 'cache_dir': {str(session_model_cache)!r}}})\n"
        "app.extensions['crosscurrent'].engine.embedder.warm()\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'scipy', 'sklearn')\n"
        "         if m in sys.modules]\n"
        "print(app.extensions['crosscurrent'].engine.embedder.runtime, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "onnx []"


@pytest.mark.model
@pytest.mark.parametrize("use_real_model, runtime", [(False, "hash"), (True, "onnx")])
def test_health_says_how_the_model_runs(request, use_real_model, runtime):
    app = request.getfixturevalue("real_app" if use_real_model else "hash_app")
    if use_real_model:
        app.extensions["crosscurrent"].engine.embedder.warm()
    health = app.test_client().get("/api/health").json
    assert health["model_loaded"] is True and health["model_runtime"] == runtime


@pytest.mark.parametrize("lengths, batch_size, workers, expected", [
    ([10, 30, 20], 64, 1, [[1, 2, 0]]),                       # longest first, one run
    ([10, 30, 20, 5], 64, 2, [[1, 2], [0, 3]]),              # one run per worker
    ([256, 256, 3], 64, 1, [[0], [1], [2]]),                  # a claim of 256 tokens runs alone
    ([100, 90, 80, 70], 64, 1, [[0, 1], [2, 3]]),             # 2 x 100 tokens fit in 256, 3 x 100 do not
    ([5] * 5, 2, 1, [[0, 1], [2, 3], [4]]),                   # never more rows than the batch size
    ([], 64, 2, []),
])
def test_runs_group_neighbouring_lengths_within_the_token_bound(lengths, batch_size, workers, expected):
    from server.embeddings import OnnxEncoder

    encoder = OnnxEncoder.__new__(OnnxEncoder)
    encoder.workers = workers
    assert encoder._runs(lengths, batch_size) == expected


def _touched(path):
    os.utime(path, ns=(1, 1))


def _first_byte_changed(path):
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))


def _last_byte_changed(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def _grown(path):
    path.write_bytes(path.read_bytes() + b"\0")


@pytest.mark.parametrize("change, same", [
    (_touched, True),                 # another install of the same package: its file time differs
    (_first_byte_changed, False),
    (_last_byte_changed, False),
    (_grown, False),
])
def test_an_export_is_known_by_the_weights_it_was_made_from(tmp_path, change, same):
    from server.embeddings import _source_stamp

    weights = tmp_path / "model.safetensors"
    weights.write_bytes(bytes(range(256)) * 20_000)      # 5 MB: beginning and end are read, not the middle
    before = _source_stamp(tmp_path)
    change(weights)
    assert (_source_stamp(tmp_path) == before) is same
