"""The embedding model as the server loads it: the packaged model, unit vectors, and a process set up so
numpy's threads leave the cores to the model."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from server.embeddings import DIMS, HashEmbedder, from_blob, from_blobs, to_blob


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
