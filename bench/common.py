"""What every benchmark shares: where the shared data and scorer live, the embedder, fresh stores, scoring."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from server.embeddings import make_embedder
from server.pipeline import Engine
from server.store import Store

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
# "hash" runs every benchmark without loading the model (tests, dry runs); figures are then meaningless.
MODEL_ENV = "CROSSCURRENT_BENCH_MODEL"


def shared_dir() -> Path:
    return Path(os.environ.get("CROSSCURRENT_SHARED") or REPO.parent / "shared")


def data_root() -> Path:
    return shared_dir() / "data"


def scorer_path() -> Path:
    return shared_dir() / "bench" / "score.py"


_embedders: dict[str, object] = {}


def embedder_name() -> str:
    return os.environ.get(MODEL_ENV) or "all-MiniLM-L6-v2"


def get_embedder():
    """One embedder per process and model name, so the model loads once for a whole `all` run."""
    name = embedder_name()
    if name not in _embedders:
        _embedders[name] = make_embedder(name)
    return _embedders[name]


@contextmanager
def fresh_engine(embedder=None):
    """An Engine over a new store in a temporary data folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="crosscurrent-bench-") as folder:
        store = Store(Path(folder) / "crosscurrent.db")
        try:
            yield Engine(store, embedder or get_embedder())
        finally:
            store.close()


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as rows:
        return [json.loads(line) for line in rows if line.strip()]


def write_jsonl(path: Path, rows) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as sink:
        for row in rows:
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def score(task: str, data: Path, pred: Path) -> tuple[int, dict | None, str]:
    """Run the shared scorer with --json: (exit status, parsed result or None, stderr)."""
    scorer = scorer_path()
    if not scorer.is_file():
        return 2, None, f"scorer not found: {scorer}"
    done = subprocess.run([sys.executable, str(scorer), task, "--data", str(data), "--pred", str(pred), "--json"],
                          capture_output=True, text=True)
    result = None
    if done.returncode == 0:
        try:
            result = json.loads(done.stdout)
        except json.JSONDecodeError:
            return 2, None, "scorer printed no JSON: " + done.stdout[-500:]
    return done.returncode, result, done.stderr.strip()
