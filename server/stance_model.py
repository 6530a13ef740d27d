"""The learned layer of an article's stance: small boosted trees over pair features.

`article_stance` (server/judge.py) judges an article's claims closest to a headline with the rules; this
module turns those judgements and a few signals of the article's wording (refuting words in the sentences
closest to the claim, denials, hedges, attribution, overlap, similarity) into the probability that the
article backs the claim, disputes it, or neither. The weights are trained by `python -m bench train
stance` with cross-validation grouped by article, and committed as JSON (server/models/stance.json):
feature names, class names, the trees (depth 2) as plain lists and where they came from.
Running it walks a few hundred tiny trees in plain Python: no scikit-learn at run time.

The reader never sees a probability without a reason: judge.py words each label from the rules' pair
judgements or from the article's own sentence.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from server.claims import Claim

MODEL_PATH = Path(__file__).with_name("models") / "stance.json"
CLASSES = ("supports", "disputes", "neither")
TOP = 5  # the article's claims closest to the claim: those the rules judge
# The layer weighs an article's wording: below this many claims there is no article to weigh (a headline
# alone, a caption), and the rules decide. Training leaves those rows out likewise.
MIN_CLAIMS = 3

# Words an article uses to call a report false, in a few kinds that weigh differently. General English,
# not taken from any data set.
CUES = {
    "hoax": r"hoax(?:es)?|fake[ds]?|fabricat(?:ed|ion)|made[- ]up|bogus|doctored|photoshopped|scam|spoof"
            r"|satir(?:e|ical)|parody|prank",
    "false": r"false(?:ly)?|untrue|not true|not real|never happened|misleading|baseless|no evidence|no proof"
             r"|incorrect|wrong",
    "debunk": r"debunk(?:s|ed|ing)?|refut(?:e|es|ed)|dismiss(?:es|ed)|reject(?:s|ed)|rebut(?:s|ted)?|retract(?:s|ed)?",
    "deny": r"den(?:y|ies|ied|ial|ials)",
    "rumour": r"rumou?rs?|myths?|speculation|unfounded",
}
CUE_PATTERNS = {kind: re.compile(rf"\b(?:{words})\b", re.I) for kind, words in CUES.items()}
REFUTING = re.compile(r"\b(?:" + "|".join(CUES.values()) + r")\b", re.I)
# Words of an article that relays a report without vouching for it.
UNVERIFIED = re.compile(
    r"\b(?:reportedly|allegedly|alleged|purported(?:ly)?|claim(?:s|ed)?|unconfirmed|unverified|could not"
    r" (?:be )?(?:independently )?(?:verified|confirmed)|according to|apparently|rumou?red|supposedly)\b",
    re.I,
)
# Words of an article that vouches for what it reports.
CONFIRMING = re.compile(r"\b(?:confirm(?:s|ed)?|official(?:ly)?|announced|verified|revealed|indeed|proved)\b", re.I)
NEGATION = re.compile(r"\b(?:not|never|no|nobody|none|nothing|neither|nor|without)\b|n[’']t\b", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")

FEATURES = (
    "max_similarity",
    "mean_top_similarity",
    "share_related_claims",
    "log_claims",
    "rule_supports",
    "rule_disputes",
    "rule_related",
    "rule_supports_confidence",
    "rule_disputes_confidence",
    "refuting_top",
    "refuting_best_similarity",
    "refuting_any",
    "denies_top",
    "negation_top",
    "hedged_top",
    "unverified_top",
    "unverified_all",
    "confirming_top",
    "attributed_top",
    "question_top",
    "headline_negation",
    "headline_hedged",
    "headline_refuting",
    "headline_question",
    "overlap_best",
    "headline_coverage",
    "negation_mismatch",
    *(f"cue_{kind}_top" for kind in CUES),
    *(f"cue_{kind}_all" for kind in CUES),
)


def _content(text: str) -> set[str]:
    from server.judge import content_words  # the judge's own notion of a content word

    return content_words(text)


def features(claim: Claim, ranked: list[tuple[float, Claim]], judgements: list, all_claims: list[Claim]) -> list[float]:
    """The feature vector, in FEATURES order, of an article against one claim.

    ranked: the article's TOP claims closest to the claim, (similarity, claim), most similar first;
    judgements: the rules' pair judgement of each of them (same order); all_claims: every claim of the
    article."""
    top = [c for _, c in ranked]
    sims = [s for s, _ in ranked]
    n_top = max(len(top), 1)
    labels = [j.label for j in judgements]

    def share(test) -> float:
        return sum(bool(test(c)) for c in top) / n_top

    refuting_sims = [s for s, c in ranked if REFUTING.search(c.text)]
    headline_words = _content(claim.proposition or claim.text)
    top_words = set().union(*(_content(c.text) for c in top)) if top else set()
    overlaps = [len(headline_words & _content(c.text)) / len(headline_words) if headline_words else 0.0 for c in top]
    every = all_claims or top
    values = {
        "max_similarity": max(sims, default=0.0),
        "mean_top_similarity": sum(sims) / n_top,
        "share_related_claims": sum(s >= 0.45 for s in sims) / n_top,
        "log_claims": math.log1p(len(every)),
        "rule_supports": labels.count("supports") / n_top,
        "rule_disputes": labels.count("disputes") / n_top,
        "rule_related": labels.count("related") / n_top,
        "rule_supports_confidence": max((j.confidence for j in judgements if j.label == "supports"), default=0.0),
        "rule_disputes_confidence": max((j.confidence for j in judgements if j.label == "disputes"), default=0.0),
        "refuting_top": share(lambda c: REFUTING.search(c.text)),
        "refuting_best_similarity": max(refuting_sims, default=0.0),
        "refuting_any": math.log1p(sum(bool(REFUTING.search(c.text)) for c in every)),
        "denies_top": share(lambda c: c.polarity == "denies"),
        "negation_top": share(lambda c: NEGATION.search(c.text)),
        "hedged_top": share(lambda c: c.details.get("hedged")),
        "unverified_top": share(lambda c: UNVERIFIED.search(c.text)),
        "unverified_all": sum(bool(UNVERIFIED.search(c.text)) for c in every) / max(len(every), 1),
        "confirming_top": share(lambda c: CONFIRMING.search(c.text)),
        "attributed_top": share(lambda c: c.speaker),
        "question_top": share(lambda c: c.polarity == "questions" or c.text.rstrip().endswith("?")),
        "headline_negation": float(bool(NEGATION.search(claim.text)) or claim.polarity == "denies"),
        "headline_hedged": float(bool(claim.details.get("hedged") or UNVERIFIED.search(claim.text))),
        "headline_refuting": float(bool(REFUTING.search(claim.text))),
        "headline_question": float(claim.polarity == "questions" or claim.text.rstrip().endswith("?")),
        "overlap_best": max(overlaps, default=0.0),
        "headline_coverage": len(headline_words & top_words) / len(headline_words) if headline_words else 0.0,
        # The closest sentence negates where the headline does not, or the other way round.
        "negation_mismatch": float(bool(top) and bool(NEGATION.search(top[0].text)) != bool(NEGATION.search(claim.text))),
    }
    for kind, pattern in CUE_PATTERNS.items():
        values[f"cue_{kind}_top"] = share(lambda c: pattern.search(c.text))
        values[f"cue_{kind}_all"] = math.log1p(sum(bool(pattern.search(c.text)) for c in every))
    return [float(values[name]) for name in FEATURES]


class StanceModel:
    """Boosted trees loaded from JSON: each tree adds its leaf's value to one class's score, and a softmax
    of the scores gives the probabilities."""

    def __init__(self, spec: dict):
        if tuple(spec["features"]) != FEATURES:
            raise ValueError("stance model was trained on other features than this code computes: retrain it")
        if tuple(spec["classes"]) != CLASSES:
            raise ValueError(f"stance model classes {spec['classes']} are not {CLASSES}")
        self.spec = spec

    @staticmethod
    def raw_probabilities(spec: dict, vector) -> np.ndarray:
        scores = np.asarray(spec["baseline"], dtype=float).copy()
        for tree in spec["trees"]:
            node = 0
            while tree["feature"][node] >= 0:
                go_left = vector[tree["feature"][node]] <= tree["threshold"][node]
                node = tree["left"][node] if go_left else tree["right"][node]
            scores[tree["class"]] += tree["value"][node]
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()

    def probabilities(self, vector: list[float]) -> dict[str, float]:
        return dict(zip(CLASSES, self.raw_probabilities(self.spec, vector).tolist()))

    def decide(self, probabilities: dict[str, float], vector: list[float]) -> str:
        return decide(probabilities, vector)


def decide(probabilities: dict[str, float], vector: list[float]) -> str:
    """The most probable class (training weighs the rare "disputes" twice, so no threshold is tuned), except
    that an article whose sentence closest to the claim calls something false never backs a claim that
    itself neither denies nor calls anything false (a wrong "backs" misleads more than silence): it gets
    the more probable of the other two."""
    label = max(CLASSES, key=lambda name: probabilities[name])
    value = dict(zip(FEATURES, vector))
    claim_refutes = value["headline_refuting"] or value["headline_negation"]
    closest_refutes = 0 < value["max_similarity"] <= value["refuting_best_similarity"]
    # ... nor one whose closest sentence negates it when the rules find a dispute ("will not reopen").
    closest_negates = value["negation_mismatch"] and value["rule_disputes"] > 0
    if label == "supports" and not claim_refutes and (closest_refutes or closest_negates):
        return max(("disputes", "neither"), key=lambda name: probabilities[name])
    return label


def save(spec: dict, path: Path = MODEL_PATH) -> None:
    """One key a line and one tree a line: small, and a retrained model reads as a diff of its trees."""
    lines = []
    for key, value in spec.items():
        if key == "trees":
            trees = ",\n  ".join(json.dumps(tree, separators=(",", ":")) for tree in value)
            lines.append(f'"trees": [\n  {trees}\n ]')
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{\n " + ",\n ".join(lines) + "\n}\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load(path: Path = MODEL_PATH) -> StanceModel | None:
    """The committed model, or None when there is none (the rules alone then decide)."""
    if not Path(path).is_file():
        return None
    return StanceModel(json.loads(Path(path).read_text(encoding="utf-8")))
