"""Stance benchmark (FNC-1 format): each body's judgement of a headline, through the product's code.

The headline is one claim; the body is split into claims as an article would be. Each body's claims and
each distinct headline are embedded once, in batches. The article stance maps to FNC-1 labels:
supports -> agree, disputes -> disagree, related -> discuss, none -> unrelated.

    python -m bench.stance --data DIR --out pred.csv [--limit N]
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
from server.judge import article_stance

logger = logging.getLogger(__name__)

FNC_LABEL = {"supports": "agree", "disputes": "disagree", "related": "discuss", None: "unrelated"}


def _read_csv(path: Path) -> list[dict]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _embed_unique(embedder, texts: list[str]) -> dict[str, np.ndarray]:
    """One vector per distinct text: bodies repeat the same sentences, headlines repeat across bodies."""
    unique = list(dict.fromkeys(texts))
    vectors = embedder.embed(unique)
    return dict(zip(unique, vectors))


def predict(data_dir: Path, out: Path, limit: int | None = None, embedder=None) -> dict:
    """Label every (Headline, Body ID) row and write CSV ``Headline,Body ID,Stance`` to ``out``."""
    started = time.perf_counter()
    embedder = embedder or Embedder()
    data_dir = Path(data_dir)
    rows = _read_csv(data_dir / "stances.csv")
    rows = rows[:limit] if limit is not None else rows
    needed = {row["Body ID"] for row in rows}
    bodies: dict[str, list] = {}
    for body in _read_csv(data_dir / "bodies.csv"):
        if body["Body ID"] in needed:
            text = body["articleBody"]
            bodies[body["Body ID"]] = extract_claims(None, text) or [make_claim(text.strip(), 1)]
    headlines = {h: make_claim(h.strip(), 0, True) for h in dict.fromkeys(row["Headline"] for row in rows)}
    texts = [c.text for claims in bodies.values() for c in claims] + [c.text for c in headlines.values()]
    vector_of = _embed_unique(embedder, texts)
    embedded = time.perf_counter()
    body_matrix = {bid: np.stack([vector_of[c.text] for c in claims]) for bid, claims in bodies.items()}

    counts: dict[str, int] = {}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Headline", "Body ID", "Stance"])
        for row in rows:
            headline = headlines[row["Headline"]]
            claims = bodies.get(row["Body ID"], [])
            sims = body_matrix[row["Body ID"]] @ vector_of[headline.text] if claims else []
            stance = article_stance(headline, claims, [float(s) for s in sims])
            label = FNC_LABEL[stance.label]
            counts[label] = counts.get(label, 0) + 1
            writer.writerow([row["Headline"], row["Body ID"], label])
    finished = time.perf_counter()
    return {
        "pairs": len(rows),
        "bodies": len(bodies),
        "claims_embedded": len(vector_of),
        "labels": counts,
        "embed_seconds": round(embedded - started, 1),
        "judge_seconds": round(finished - embedded, 1),
        "seconds": round(finished - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with bodies.csv and stances.csv")
    parser.add_argument("--out", type=Path, required=True, help="predictions CSV to write")
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    print(json.dumps(predict(args.data, args.out, args.limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
