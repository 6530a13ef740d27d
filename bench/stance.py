"""Stance benchmark (FNC-1 format): how each body stands to a headline, through the product's judge.

The headline is one claim; the body is split into claims as an article would be. Each body's claims and
each distinct headline are embedded once, in batches. `server.judge.article_stance` (what the popup shows:
the pair judge on the body's closest claims, weighed by the learned layer in server/models/stance.json)
maps to FNC-1 labels: supports -> agree, disputes -> disagree, related -> discuss, none -> unrelated.
The layer is trained on FNC-1 train (`python -m bench train stance`) with the bodies of the first 300 rows
kept out, and `bench all` (quick and full) scores FNC-1 only on rows of those held-out bodies (the full
run: the first 4,000 of their 14,237 rows); the training prints the out-of-fold figures of the rest.

Baselines written from the same run: the relatedness cut alone (the judge's RELATED_MIN on the best
similarity: discuss above it, unrelated below) and a constant label ("discuss").

    python -m bench.stance --data DIR --out pred.csv [--limit N] [--relatedness-out cut.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from server.claims import extract_claims, make_claim
from server.embeddings import Embedder
from server.judge import RELATED_MIN, article_stance

logger = logging.getLogger(__name__)

FNC_LABEL = {"supports": "agree", "disputes": "disagree", "related": "discuss", None: "unrelated"}
HEADER = ["Headline", "Body ID", "Stance"]


def _read_csv(path: Path) -> list[dict]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _embed_unique(embedder, texts: list[str]) -> dict[str, np.ndarray]:
    """One vector per distinct text: bodies repeat the same sentences, headlines repeat across bodies."""
    unique = list(dict.fromkeys(texts))
    vectors = embedder.embed(unique)
    return dict(zip(unique, vectors))


def _rows(data_dir: Path, limit: int | None) -> list[dict]:
    rows = _read_csv(Path(data_dir) / "stances.csv")
    return rows[:limit] if limit is not None else rows


def constant(data_dir: Path, out: Path, limit: int | None = None, label: str = "discuss") -> dict:
    """The trivial baseline: one label for every row."""
    rows = _rows(data_dir, limit)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([row["Headline"], row["Body ID"], label] for row in rows)
    return {"pairs": len(rows), "labels": {label: len(rows)}}


def load_pairs(data_dir: Path, limit: int | None = None, embedder=None, cache: Path | None = None):
    """Each row with its headline claim, the body's claims and their similarities to the headline:
    [(row, headline, claims, similarities)], and the seconds spent embedding. `cache` (an .npz file) keeps
    the vectors between runs, keyed by text (training reads the whole set more than once)."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    rows = _rows(data_dir, limit)
    needed = {row["Body ID"] for row in rows}
    bodies: dict[str, list] = {}
    for body in _read_csv(data_dir / "bodies.csv"):
        if body["Body ID"] in needed:
            text = body["articleBody"]
            bodies[body["Body ID"]] = extract_claims(None, text) or [make_claim(text.strip(), 1)]
    headlines = {h: make_claim(h.strip(), 0, True) for h in dict.fromkeys(row["Headline"] for row in rows)}
    texts = [c.text for claims in bodies.values() for c in claims] + [c.text for c in headlines.values()]
    vector_of: dict[str, np.ndarray] = {}
    if cache and Path(cache).is_file():
        with np.load(cache, allow_pickle=False) as stored:
            vector_of = dict(zip(stored["texts"].tolist(), stored["vectors"]))
    missing = [t for t in dict.fromkeys(texts) if t not in vector_of]
    if missing:
        vector_of.update(_embed_unique(embedder or Embedder(), missing))
        if cache:
            np.savez(cache, texts=np.array(list(vector_of)), vectors=np.stack(list(vector_of.values())))
    embed_seconds = time.perf_counter() - started
    body_matrix = {bid: np.stack([vector_of[c.text] for c in claims]) for bid, claims in bodies.items()}
    pairs = []
    for row in rows:
        headline = headlines[row["Headline"]]
        claims = bodies.get(row["Body ID"], [])
        sims = [float(s) for s in body_matrix[row["Body ID"]] @ vector_of[headline.text]] if claims else []
        pairs.append((row, headline, claims, sims))
    return pairs, embed_seconds, len(vector_of)


def predict(data_dir: Path, out: Path, limit: int | None = None, embedder=None,
            relatedness_out: Path | None = None) -> dict:
    """Label every (Headline, Body ID) row and write CSV ``Headline,Body ID,Stance`` to ``out`` (and the
    relatedness-cut baseline of the same similarities to ``relatedness_out``)."""
    started = time.perf_counter()
    pairs, embed_seconds, embedded_texts = load_pairs(data_dir, limit, embedder)
    embedded = time.perf_counter()
    counts: dict[str, int] = {}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cut_rows = []
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row, headline, claims, sims in pairs:
            stance = article_stance(headline, claims, sims)
            label = FNC_LABEL[stance.label]
            counts[label] = counts.get(label, 0) + 1
            writer.writerow([row["Headline"], row["Body ID"], label])
            cut_rows.append([row["Headline"], row["Body ID"],
                             "discuss" if sims and max(sims) >= RELATED_MIN else "unrelated"])
    if relatedness_out:
        with open(relatedness_out, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([HEADER] + cut_rows)
    finished = time.perf_counter()
    return {
        "pairs": len(pairs),
        "bodies": len({row["Body ID"] for row, *_ in pairs}),
        "claims_embedded": embedded_texts,
        "labels": counts,
        "embed_seconds": round(embed_seconds, 1),
        "judge_seconds": round(finished - embedded, 1),
        "seconds": round(finished - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with bodies.csv and stances.csv")
    parser.add_argument("--out", type=Path, required=True, help="predictions CSV to write")
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    parser.add_argument("--relatedness-out", type=Path, default=None,
                        help="also write the relatedness-cut baseline (discuss / unrelated) here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    print(json.dumps(predict(args.data, args.out, args.limit, relatedness_out=args.relatedness_out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
