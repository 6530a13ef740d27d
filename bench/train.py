"""Train the learned layer of the article stance (server/models/stance.json) on a stance set (FNC-1 format).

    python -m bench train stance --data ../shared/data/stance --out server/models/stance.json \
        [--cache /tmp/stance-vectors.npz] [--limit N] [--folds 5] [--hold-out 300] [--oof-out oof.csv]

Every row goes through the product's path up to the decision: the body split into claims, the embedder,
the rules' pair judgements of the closest claims, `judge.stance_inputs`. Rows the rules find unrelated,
and bodies of fewer than `stance_model.MIN_CLAIMS` claims, are left out (the product leaves them to the
rules too). Targets: agree -> supports, disagree ->
disputes, discuss and unrelated -> neither (an off-topic article backs nothing).

The figures printed are out of fold: cross-validation grouped by body, so no article is in the fold that
scores it and in the folds that trained it; the label is decided as the product decides (the most probable
class; no threshold is tuned), and the final model is fitted on every row. Training uses scikit-learn; running the model needs numpy alone.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
from pathlib import Path

import numpy as np

from server import stance_model
from server.judge import stance_inputs
from server.stance_model import CLASSES, FEATURES

from . import common, stance as stance_bench

log = logging.getLogger(__name__)

TARGET = {"agree": "supports", "disagree": "disputes", "discuss": "neither", "unrelated": "neither"}
FNC_OF = {"supports": "agree", "disputes": "disagree", "neither": "discuss"}
HOLD_OUT = 300  # the first rows of FNC-1: what `bench all --quick` scores, kept out of training
DEPTH, TREES, LEARNING_RATE = 2, 100, 0.1  # small trees: the weights stay a few dozen kilobytes
# Disputes are rare (6 % of judged rows): weighted twice, the most probable class is "disputes" for about
# one in seven disputing articles, four in ten of those shown being right (out of fold).
CLASS_WEIGHT = {"supports": 1.0, "disputes": 2.0, "neither": 1.0}


def featurise(pairs) -> tuple[np.ndarray, list[str | None], list[str]]:
    """(features of the rows the rules judge, the rules' FNC label of every row, which rows were kept)."""
    rows, rules, kept = [], [], []
    for n, (row, headline, claims, sims) in enumerate(pairs):
        if not claims:
            rules.append(None)
            continue
        features, summary = stance_inputs(headline, claims, sims)
        rules.append(summary.label)
        if summary.label is None or len(claims) < stance_model.MIN_CLAIMS:
            continue  # the product leaves these to the rules
        rows.append(features)
        kept.append(n)
    return np.asarray(rows, dtype=float), rules, kept


def _fit(x: np.ndarray, y: np.ndarray) -> dict:
    """Boosted trees of depth 2 (sklearn's HistGradientBoostingClassifier), exported as plain node lists
    that server/stance_model.py walks without scikit-learn."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_depth=DEPTH, max_iter=TREES, learning_rate=LEARNING_RATE,
                                           early_stopping=False, random_state=0)
    model.fit(x, y, sample_weight=np.asarray([CLASS_WEIGHT[CLASSES[c]] for c in y]))
    # Scores per class; two classes come back as one score (the second's log-odds), an absent class never wins.
    present = [int(c) for c in model.classes_]
    scored = present if len(present) > 2 else present[1:]
    baseline = [0.0 if c in present else -30.0 for c in range(len(CLASSES))]
    for c, value in zip(scored, np.ravel(model._baseline_prediction)):
        baseline[c] = float(value)
    trees = []
    for iteration in model._predictors:
        for label, predictor in zip(scored, iteration):
            nodes = predictor.nodes
            trees.append({"class": label, "feature": [int(f) if not leaf else -1 for f, leaf in
                                                      zip(nodes["feature_idx"], nodes["is_leaf"])],
                          "threshold": [float(t) for t in nodes["num_threshold"]],  # exact: values sit on them
                          "left": nodes["left"].tolist(), "right": nodes["right"].tolist(),
                          "value": [round(float(v), 6) for v in nodes["value"]]})
    spec = {"kind": "boosted trees", "baseline": baseline, "trees": trees}
    # The exported trees must say what the fitted model says.
    check = x[: min(len(x), 200)]
    walked = np.asarray([stance_model.StanceModel.raw_probabilities(spec, row) for row in check])
    expected = np.zeros((len(check), len(CLASSES)))
    expected[:, present] = model.predict_proba(check)
    if not np.allclose(walked, expected, atol=1e-4):
        raise AssertionError("exported trees disagree with the fitted model")
    return {**spec, "fitted": model}


def _probabilities(spec: dict, x: np.ndarray) -> np.ndarray:
    """The same as walking the exported trees (checked in _fit), faster."""
    out = np.zeros((len(x), len(CLASSES)))
    out[:, [int(c) for c in spec["fitted"].classes_]] = spec["fitted"].predict_proba(x)
    return out


def cross_validate(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int) -> np.ndarray:
    """Out-of-fold labels (as the product decides: stance_model.decide), grouped by body."""
    from sklearn.model_selection import GroupKFold

    pred = np.zeros(len(y), dtype=int)
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        pred[test] = _decide(_probabilities(_fit(x[train], y[train]), x[test]), x[test])
    return pred


def _decide(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Class index per row, as the product decides (stance_model.decide)."""
    return np.asarray([CLASSES.index(stance_model.decide(dict(zip(CLASSES, row)), vector))
                       for row, vector in zip(p, x)], dtype=int)


def f1_table(gold: list[str], pred: list[str]) -> dict:
    out = {}
    for label in ("agree", "disagree", "discuss", "unrelated"):
        tp = sum(g == p == label for g, p in zip(gold, pred))
        n_pred, n_gold = pred.count(label), gold.count(label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        out[label] = {"precision": round(precision, 3), "recall": round(recall, 3),
                      "f1": round(2 * precision * recall / (precision + recall), 3) if tp else 0.0}
    return out


def fnc_relative(gold: list[str], pred: list[str]) -> float:
    def points(g, p):
        score = 0.25 if (g == "unrelated") == (p == "unrelated") else 0.0
        return score + (0.75 if g == p and g != "unrelated" else 0.0)

    return 100 * sum(points(g, p) for g, p in zip(gold, pred)) / sum(points(g, g) for g in gold)


def _figures(gold: list[str], pred: list[str], rules: list[str]) -> dict:
    return {"rows": len(gold), "fnc_relative": round(fnc_relative(gold, pred), 2), "f1": f1_table(gold, pred),
            "rules_alone": round(fnc_relative(gold, rules), 2),
            "relatedness_cut": round(fnc_relative(gold, [r if r == "unrelated" else "discuss" for r in rules]), 2)}


def train(data: Path, out: Path, limit: int | None = None, folds: int = 5, cache: Path | None = None,
          oof_out: Path | None = None, embedder=None, hold_out: int = 0) -> dict:
    """Cross-validate, fit on every row, write the weights; return the figures. The bodies of the first
    `hold_out` rows are kept out of training altogether (the rows `bench all --quick` scores), so the
    benchmark of the product path on them is a held-out figure."""
    pairs, _, _ = stance_bench.load_pairs(data, limit, embedder, cache=cache)
    x, rules, kept = featurise(pairs)
    gold = [row["Stance"] for row, *_ in pairs]
    held_bodies = {row["Body ID"] for row, *_ in pairs[:hold_out]}
    train_rows = np.asarray([i for i, n in enumerate(kept) if pairs[n][0]["Body ID"] not in held_bodies], dtype=int)
    held_rows = np.asarray([i for i, n in enumerate(kept) if pairs[n][0]["Body ID"] in held_bodies], dtype=int)
    y = np.asarray([CLASSES.index(TARGET[gold[n]]) for n in kept])
    groups = np.asarray([pairs[n][0]["Body ID"] for n in kept])
    folds = min(folds, len(set(groups[train_rows])))
    oof = cross_validate(x[train_rows], y[train_rows], groups[train_rows], folds)
    spec = _fit(x[train_rows], y[train_rows])  # the final model: every training row

    rules_fnc = [stance_bench.FNC_LABEL[label] for label in rules]
    honest = list(rules_fnc)  # each row labelled by a model that never saw its body
    for i, label in zip(train_rows, oof):
        honest[kept[i]] = FNC_OF[CLASSES[label]]
    if len(held_rows):
        for i, label in zip(held_rows, _decide(_probabilities(spec, x[held_rows]), x[held_rows])):
            honest[kept[i]] = FNC_OF[CLASSES[label]]
    if oof_out:
        with open(oof_out, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(stance_bench.HEADER)
            writer.writerows([row["Headline"], row["Body ID"], label] for (row, *_), label in zip(pairs, honest))

    held = [n for n, (row, *_) in enumerate(pairs) if row["Body ID"] in held_bodies]
    trained_on = [n for n, (row, *_) in enumerate(pairs) if row["Body ID"] not in held_bodies]
    figures = {
        "rows": len(pairs), "rows_judged": len(kept), "rows_trained": len(train_rows),
        "bodies_trained": len(set(groups[train_rows])), "bodies_held_out": len(held_bodies), "folds": folds,
        "out_of_fold": _figures([gold[n] for n in trained_on], [honest[n] for n in trained_on],
                                [rules_fnc[n] for n in trained_on]),
        "held_out": _figures([gold[n] for n in held], [honest[n] for n in held], [rules_fnc[n] for n in held])
        if held else None,
    }
    spec.pop("fitted")
    spec = {
        "features": list(FEATURES), "classes": list(CLASSES), **spec,
        "trained": {"data": Path(data).name, "rows": len(pairs), "rows_trained": len(train_rows),
                    "kept_out": f"the bodies of the first {hold_out} rows" if hold_out else "none",
                    "date": dt.date.today().isoformat(), "command": "python -m bench train stance",
                    "model": f"gradient-boosted trees, depth {DEPTH}, {TREES} rounds, learning rate "
                             f"{LEARNING_RATE}, class weights {CLASS_WEIGHT}",
                    "licence": "weights derived from the FNC-1 training set (itself derived from the Emergent "
                               "data set): research and evaluation use",
                    "out_of_fold": figures["out_of_fold"], "held_out": figures["held_out"]},
    }
    stance_model.save(spec, Path(out))
    stance_model.load.cache_clear()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench train", description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["stance"])
    parser.add_argument("--data", type=Path, required=True, help="folder with bodies.csv and stances.csv")
    parser.add_argument("--out", type=Path, default=stance_model.MODEL_PATH, help="weights JSON to write")
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=None, help="an .npz keeping the sentence vectors between runs")
    parser.add_argument("--oof-out", type=Path, default=None,
                        help="write each row's label from a model that never saw its body (FNC-1 CSV) here")
    parser.add_argument("--hold-out", type=int, default=HOLD_OUT,
                        help=f"keep the bodies of the first N rows out of training (default {HOLD_OUT}: the rows "
                             "`bench all --quick` scores)")
    args = parser.parse_args(argv)
    figures = train(args.data, args.out, args.limit, args.folds, args.cache, args.oof_out, common.get_embedder(),
                    args.hold_out)
    print(json.dumps(figures, indent=1))
    return 0
