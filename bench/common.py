"""What every benchmark shares: where the shared data and scorer live, the embedder, fresh stores, scoring."""

from __future__ import annotations

import argparse
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
KEEP_HISTORY_HELP = ("keep each size's synthetic history in DIR/<size>/ and reuse it next time (the 100k history "
                     "takes 25 to 45 minutes to build and 9 GB; what a run captures into it is forgotten by the next)")


def history_sizes(text: str) -> tuple[int, ...]:
    """`--sizes 1000,10000`: history sizes in articles, for argparse."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected article counts separated by commas, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive article counts, got {text!r}")
    return sizes


def count_between(low: int, high: int):
    """An argparse type: a whole number from `low` to `high`."""
    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {value}")
        return value
    return count


# The benchmark data and scorer: beside the repository unless CROSSCURRENT_SHARED names another folder.
DEFAULT_SHARED = REPO.parent / "shared"


def shared_dir() -> Path:
    return Path(os.environ.get("CROSSCURRENT_SHARED") or DEFAULT_SHARED)


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


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    """{"body": {"f1": ..}} -> {"body.f1": ..}: every scalar figure by a dotted name."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = value
    return flat


def primary_figure(result: dict) -> tuple[str, float | None]:
    name = result.get("primary", "")
    return name, flatten(result.get("metrics", {})).get(name)


# -- subsets: the first N items of a task folder, so a limited run is scored on what it predicted ---------
def _link(src: Path, dst: Path) -> None:
    dst.symlink_to(src.resolve(), target_is_directory=src.is_dir())


def _head_lines(src: Path, dst: Path, count: int, header: bool = False) -> list[str]:
    """Copy the first `count` records (plus a header line) and return them. CSV fields may hold newlines,
    so CSV files go through the csv module."""
    import csv

    if src.suffix == ".csv":
        with open(src, newline="", encoding="utf-8") as rows, open(dst, "w", newline="", encoding="utf-8") as sink:
            reader, writer = csv.reader(rows), csv.writer(sink)
            kept = []
            for n, row in enumerate(reader):
                if n > count:
                    break
                writer.writerow(row)
                kept.append(row)
        return kept
    with open(src, encoding="utf-8") as rows:
        kept = [line for line in rows if line.strip()][:count]
    dst.write_text("".join(kept), encoding="utf-8")
    return kept


def _held_out_rows(src: Path, dst: Path, count: int, first_rows: int) -> None:
    """The first `count` stance rows whose body is among the bodies of the first `first_rows` rows."""
    import csv

    with open(src, newline="", encoding="utf-8") as rows:
        reader = csv.DictReader(rows)
        fields, records = reader.fieldnames, list(reader)
    bodies = {r["Body ID"] for r in records[:first_rows]}
    with open(dst, "w", newline="", encoding="utf-8") as sink:
        writer = csv.DictWriter(sink, fieldnames=fields)
        writer.writeheader()
        writer.writerows([r for r in records if r["Body ID"] in bodies][:count])


def make_subset(task: str, src: Path, dst: Path, limit: int, claims_limit: int | None = None,
                held_out_bodies: int | None = None) -> Path:
    """A task folder holding the first `limit` items of `src` (large shared files are linked, not copied).
    For claims, `claims_limit` also cuts the verified claims to the gold ones plus the first N others. For
    stance, `held_out_bodies` keeps only rows whose body is one of the first N rows' bodies: those the
    learned stance layer was not trained on."""
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    if task == "extraction":
        pages = [json.loads(l) for l in _head_lines(src / "pages.jsonl", dst / "pages.jsonl", limit)]
        wanted = {p["id"] for p in pages}
        write_jsonl(dst / "gold.jsonl", (g for g in read_jsonl(src / "gold.jsonl") if g["id"] in wanted))
        _link(src / "html", dst / "html")
    elif task == "claims":
        queries = [json.loads(l)["id"] for l in _head_lines(src / "queries.jsonl", dst / "queries.jsonl", limit)]
        wanted = set(queries)
        qrels = [l for l in (src / "qrels.tsv").read_text(encoding="utf-8").splitlines() if l.split("\t")[0] in wanted]
        (dst / "qrels.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
        if claims_limit is None:
            _link(src / "claims.jsonl", dst / "claims.jsonl")
        else:
            gold = {l.split("\t")[1] for l in qrels}
            claims = read_jsonl(src / "claims.jsonl")
            others = [c for c in claims if c["id"] not in gold][:claims_limit]
            write_jsonl(dst / "claims.jsonl", [c for c in claims if c["id"] in gold] + others)
    elif task == "stance" and held_out_bodies:
        _held_out_rows(src / "stances.csv", dst / "stances.csv", limit, held_out_bodies)
        _link(src / "bodies.csv", dst / "bodies.csv")
    elif task == "stance":
        _head_lines(src / "stances.csv", dst / "stances.csv", limit)
        _link(src / "bodies.csv", dst / "bodies.csv")
    elif task == "nli":
        _head_lines(src / "pairs.jsonl", dst / "pairs.jsonl", limit)
    elif task in ("stories", "coverage"):
        _head_lines(src / "articles.jsonl", dst / "articles.jsonl", limit)
    else:
        raise ValueError(f"unknown task {task!r}")
    return dst
