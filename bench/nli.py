"""NLI benchmark: premise vs hypothesis through the product's claims, embeddings and judge.

The premise is split into claims as an article body would be; the hypothesis is one claim. The pair judge
that captures use (`judge`) labels the premise's claims closest to the hypothesis, and the rules sum them up
(`server.judge.rules_article_stance`): supports -> entailment, disputes -> contradiction, related or none ->
neutral. The learned layer of `article_stance` is left out: it is trained on, and for, news articles against
a headline (measured by bench/stance.py), not encyclopaedia paragraphs. The trivial baseline, `constant`,
says "neutral" for every pair.

    python -m bench.nli --data DIR --out pred.jsonl [--limit N]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from server.claims import extract_claims, make_claim
from server.embeddings import Embedder
from server.judge import rules_article_stance

logger = logging.getLogger(__name__)

NLI_LABEL = {"supports": "entailment", "disputes": "contradiction", "related": "neutral", None: "neutral"}


def read_pairs(data_dir: Path, limit: int | None = None) -> list[dict]:
    with open(Path(data_dir) / "pairs.jsonl", encoding="utf-8") as rows:
        pairs = [json.loads(line) for line in rows if line.strip()]
    return pairs[:limit] if limit is not None else pairs


def constant(data_dir: Path, out: Path, limit: int | None = None, label: str = "neutral") -> dict:
    """The trivial baseline: one label for every pair."""
    pairs = read_pairs(data_dir, limit)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as sink:
        sink.writelines(json.dumps({"id": pair["id"], "label": label}) + "\n" for pair in pairs)
    return {"pairs": len(pairs), "labels": {label: len(pairs)}}


def predict(data_dir: Path, out: Path, limit: int | None = None, embedder=None) -> dict:
    """Label every pair and write JSONL ``{"id", "label"}`` to ``out``."""
    started = time.perf_counter()
    embedder = embedder or Embedder()
    pairs = read_pairs(data_dir, limit)
    premises = []
    for pair in pairs:
        # A premise whose sentences all fail the claim filters still says something: keep it whole.
        premises.append(extract_claims(None, pair["premise"]) or [make_claim(pair["premise"], 1)])
    hypotheses = [make_claim(pair["hypothesis"].strip()) for pair in pairs]
    texts = [c.text for claims in premises for c in claims] + [h.text for h in hypotheses]
    vectors = embedder.embed(texts)
    hypothesis_vectors = vectors[len(texts) - len(hypotheses):]
    counts: dict[str, int] = {}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    offset = 0
    with open(out, "w", encoding="utf-8") as sink:
        for pair, claims, hypothesis, h_vec in zip(pairs, premises, hypotheses, hypothesis_vectors):
            p_vecs = vectors[offset: offset + len(claims)]
            offset += len(claims)
            stance = rules_article_stance(hypothesis, claims, [float(s) for s in p_vecs @ h_vec])
            label = NLI_LABEL[stance.label]
            counts[label] = counts.get(label, 0) + 1
            sink.write(json.dumps({"id": pair["id"], "label": label}) + "\n")
    return {"pairs": len(pairs), "labels": counts, "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with pairs.jsonl")
    parser.add_argument("--out", type=Path, required=True, help="predictions JSONL to write")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pairs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    print(json.dumps(predict(args.data, args.out, args.limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
