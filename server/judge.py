"""Supports / disputes / related between two claims, with a confidence and a reason a reader understands.

The embedding similarity says whether two claims are about the same thing; the claims' structure (polarity,
numbers, dates, antonyms) says whether they agree. A "disputes" label must be earned twice over: the two
claims must be close in meaning AND share their content words, and the conflict must be explicit. A false
alarm costs the reader's trust, so doubtful cases fall back to "related".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from server.claims import Claim, number_value

log = logging.getLogger(__name__)

LABELS = ("supports", "disputes", "related")

# Cosine similarity (all-MiniLM-L6-v2, L2-normalised) bands.
RELATED_MIN = 0.45  # below: different topics, no label
SAME_MIN = 0.70  # at or above: the same proposition, whatever the wording
SAME_WITH_OVERLAP_MIN = 0.50  # ... or this close and sharing most content words
SAME_OVERLAP = 0.5
DISPUTE_MIN = 0.45  # a conflict between claims less similar than this is not believed
DISPUTE_OVERLAP = 0.3
DETAIL_CONFLICT_MIN = 0.72  # numbers / dates / antonyms differ: only between near-paraphrases
SAME_DENIAL_MIN = 0.58  # two denials this close deny the same thing
BARE_NUMBER_MIN = 0.9  # two amounts without units are compared only between near-copies
SAME_TEXT_MIN = 0.92  # this close, the two say the same thing whatever the parse of their polarity says
RESTATE_MIN = 0.25  # a nested statement restated word for word can sit in a longer, less similar sentence
RESTATE_CONTAINMENT = 0.9


@dataclass
class Judgement:
    label: str | None  # one of LABELS, or None = unrelated (not shown)
    confidence: float  # 0..1
    reason: str


UNRELATED = Judgement(None, 0.0, "")

STOPWORDS = set(
    """a an the and or but of to in on at by for with from as is are was were be been being has have had do does
    did not no never this that these those it its he she they them his her their we our you your i me my
    will would could should can may might must shall than then there here also very so such about into over
    after before since while when where which who whom whose what why how all any some more most other said
    says say told according just only even still yet if""".split()
)

ANTONYMS = [
    ({"confirmed", "confirms", "confirm", "acknowledged", "admitted"}, {"denied", "denies", "deny", "rejected"}),
    ({"rose", "rise", "rises", "risen", "increase", "increased", "increases", "up", "grew", "grow", "gained",
      "higher", "jumped", "surged", "climbed"},
     {"fell", "fall", "falls", "fallen", "decrease", "decreased", "decreases", "down", "shrank", "dropped",
      "lower", "declined", "plunged", "slumped"}),
    ({"won", "wins", "win", "victory", "defeated", "beat"}, {"lost", "loses", "lose", "defeat", "conceded"}),
    ({"guilty", "convicted"}, {"acquitted", "innocent", "cleared", "exonerated"}),
    ({"alive", "survived", "rescued", "found"}, {"dead", "died", "killed", "missing"}),
    ({"approved", "passed", "accepted", "signed"}, {"rejected", "vetoed", "blocked", "refused"}),
    ({"open", "opened", "reopened"}, {"closed", "shut"}),
    ({"true", "real", "genuine", "authentic"}, {"false", "fake", "hoax", "untrue", "fabricated"}),
    ({"arrested", "detained", "charged"}, {"released", "freed"}),
    ({"resigned", "quit", "fired"}, {"stays", "remain", "remains", "reinstated"}),
]

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_UNIT_ALIASES = {"percent": "%", "per cent": "%", "percentage point": "%", "times": "times", "once": "times",
                 "twice": "times", "thrice": "times"}


def _stem(word: str) -> str:
    word = word.lower().strip("'’-").replace("’", "'")
    word = re.sub(r"'s$", "", word)
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1}


def predicate_words(text: str) -> set[str]:
    """Content words that are not names: what is said about the people, not who they are."""
    words = _WORD.findall(text)
    return {_stem(w) for w in words if w.lower() not in STOPWORDS and len(w) > 1 and not w[:1].isupper()}


def overlap(a: str, b: str) -> float:
    """Share of the shorter text's content words that the other one also has."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def _quote(text: str, limit: int = 110) -> str:
    text = text.strip().strip("“”\"")
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def _who(claim: Claim) -> str:
    return claim.speaker[:1].upper() + claim.speaker[1:] if claim.speaker else "One report"


# --------------------------------------------------------------------------------------------------
# Conflicting details


def _unit(number: str) -> str | None:
    words = number.lower().split()
    if not words:
        return None
    last = words[-1]
    if "%" in number or "percent" in number or "per cent" in number:
        return "%"
    if last in _UNIT_ALIASES:
        return _UNIT_ALIASES[last]
    if re.fullmatch(r"[a-z]+", last) and number_value(last) is None and last not in {"million", "billion", "thousand"}:
        return last.rstrip("s")
    if number.startswith(("$", "€", "£")):
        return number[0]
    return None


def _is_round(number: str) -> bool:
    """ "2,000" or "300 million" but not "2,084" or "924 million": a figure written as rounded."""
    digits = re.search(r"\d[\d,]*(?:\.\d+)?", number)
    if not digits:
        return False
    significant = digits.group(0).replace(",", "").replace(".", "").strip("0")
    return len(significant) <= 2 and (number_value(number) or 0) >= 100


def _compatible(a: str, b: str) -> bool:
    """Whether two amounts of the same unit can both be true ("as many as 7" and "5")."""
    va, vb = number_value(a), number_value(b)
    # "one year after", "at once": the word "one" is rarely a count worth disputing.
    if va is None or vb is None or any(re.match(r"(?:one|once)\b", x.lower()) for x in (a, b)):
        return True
    if va == vb:
        return True
    for x, vx, vy in ((a, va, vb), (b, vb, va)):
        low = x.lower()
        if re.match(r"(as many as|up to|at most|less than|fewer than|under)\b", low) and vy <= vx:
            return True
        if re.match(r"(at least|more than|over)\b", low) and vy >= vx:
            return True
        if re.match(r"(about|around|nearly|almost|roughly|approximately)\b", low) and abs(vx - vy) <= 0.15 * vx:
            return True
        if _is_round(x) and abs(vx - vy) <= 0.1 * vx:  # "$2,000" for "$2,084": a rounded figure
            return True
    return False


def number_conflict(new: Claim, old: Claim, similarity: float) -> tuple[str, str] | None:
    """A pair of amounts of the same unit that cannot both be true, or None."""
    by_unit_new: dict[str, list[str]] = {}
    by_unit_old: dict[str, list[str]] = {}
    for numbers, target in ((new.details.get("numbers", []), by_unit_new), (old.details.get("numbers", []), by_unit_old)):
        for number in numbers:
            unit = _unit(number)
            if unit:
                target.setdefault(unit, []).append(number)
    for unit in set(by_unit_new) & set(by_unit_old):
        a_list, b_list = by_unit_new[unit], by_unit_old[unit]
        # One amount each side: with several, which one pairs with which is a guess.
        if len(a_list) == 1 and len(b_list) == 1 and not _compatible(a_list[0], b_list[0]):
            return a_list[0], b_list[0]
    # One bare amount each side ("The population was 76,728" vs "... was 76,729").
    a_all, b_all = new.details.get("numbers", []), old.details.get("numbers", [])
    if len(a_all) == 1 and len(b_all) == 1 and similarity >= BARE_NUMBER_MIN:
        units = {_unit(a_all[0]), _unit(b_all[0])}
        if units == {None} and not _compatible(a_all[0], b_all[0]):
            return a_all[0], b_all[0]
    return None


_DAY_DATE = re.compile(r"\b(?P<month>[A-Z][a-z]{2})[a-z]*\.?\s+(?P<day>\d{1,2})\b|\b(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>[A-Z][a-z]{2})")


def _day(date: str) -> tuple[str, int] | None:
    """("sep", 26) from "26 September 1989", "Sept. 26", "the 26th of September"."""
    match = _DAY_DATE.search(date)
    if not match:
        return None
    month = match.group("month") or match.group("month2")
    return month.lower(), int(match.group("day") or match.group("day2"))


def date_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """Two different day dates (month and day) for what reads as the same event."""
    a = [(d, _day(d)) for d in new.details.get("dates", []) if _day(d)]
    b = [(d, _day(d)) for d in old.details.get("dates", []) if _day(d)]
    if len(a) == 1 and len(b) == 1 and a[0][1] != b[0][1]:
        return a[0][0], b[0][0]
    return None


_BOUNDED_YEAR = re.compile(
    r"\b(?:after|before|since|until|till|by|than|from|between|to|around|circa|c\.|early|late|mid|end\s+of)\s+"
    r"(?:the\s+)?(?:(?:19|20)\d{2})|\b(?:19|20)\d{2}\s+(?:[a-z]+s|and\s+(?:19|20)\d{2})\b"
)


def _plain_years(claim: Claim) -> list[str]:
    """Years stated as the time of the thing itself: not "after 1999", "since 2021", "1900 metres"."""
    bounded = {m.group(0)[-4:] for m in re.finditer(r"(?:19|20)\d{2}", " ".join(_BOUNDED_YEAR.findall(claim.text)))}
    return [d for d in claim.details.get("dates", []) if re.fullmatch(r"(?:19|20)\d{2}", d) and d not in bounded]


def year_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """One plain year each side, and not the same one ("a 1978 musical" vs "a 1979 musical")."""
    a, b = _plain_years(new), _plain_years(old)
    if len(set(a)) == 1 and len(set(b)) == 1 and a[0] != b[0] and len(new.details.get("dates", [])) == len(a):
        return a[0], b[0]
    return None


def antonym_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """A word in one claim whose opposite is in the other, each side using only one of the two."""
    wa = {w.lower() for w in _WORD.findall(new.text)}
    wb = {w.lower() for w in _WORD.findall(old.text)}
    for left, right in ANTONYMS:
        for x, y in ((left, right), (right, left)):
            if wa & x and wb & y and not wa & y and not wb & x:
                return sorted(wa & x)[0], sorted(wb & y)[0]
    return None


# --------------------------------------------------------------------------------------------------
# The judgement


_DENIAL_WORDS = re.compile(
    r"\b(?:den(?:y|ies|ied)|reject(?:s|ed)?|refut(?:e|es|ed)|not|never|no|n't|false|untrue)\b|n[’']t\b", re.I
)


def _polarity_conflict(new: Claim, old: Claim) -> bool:
    """One side denies what the other plainly asserts (an "assertion" that itself holds a denial, like
    "X confirms A, denies B", is too mixed to set against a denial)."""
    if {new.polarity, old.polarity} != {"asserts", "denies"}:
        return False
    asserter = new if new.polarity == "asserts" else old
    return not _DENIAL_WORDS.search(asserter.text)


_EXPLICIT_DENIAL = re.compile(
    r"\b(?:den(?:y|ies|ied)|reject(?:s|ed)|refut(?:e|es|ed)|dismiss(?:es|ed)|disputed?|rebutt?ed)\b"
    r"|\bnot true\b|\buntrue\b|\bfalse\b",
    re.I,
)


def _denial_is_believable(new: Claim, old: Claim) -> bool:
    """Someone denying a report is news; a plain negative sentence often isn't the opposite of anything."""
    denier = new if new.polarity == "denies" else old
    return bool(denier.speaker or _EXPLICIT_DENIAL.search(denier.text))


def _contained(short: str, long: str) -> float:
    words = content_words(short)
    return len(words & content_words(long)) / len(words) if len(words) >= 4 else 0.0


def _restatement(new: Claim, old: Claim) -> str | None:
    """A statement nested in one claim that the other states in full."""
    for a, b in ((new, old), (old, new)):
        for sub in a.details.get("subclaims", []):
            if _contained(sub, b.proposition or b.text) >= RESTATE_CONTAINMENT:
                return sub
    return None


def _denial_reason(new: Claim, old: Claim) -> str:
    denier, asserter = (new, old) if new.polarity == "denies" else (old, new)
    words = denier.details.get("quote") or denier.text
    who = _who(denier)
    if asserter.speaker:
        return f"{who} denies what {asserter.speaker} asserts: {_quote(words)}"
    return f"{who} denies this: {_quote(words)}"


def judge(new: Claim, old: Claim, similarity: float) -> Judgement:
    """How `new` stands to an earlier claim `old`, given the cosine similarity of their embeddings."""
    if similarity < RELATED_MIN:
        restated = _restatement(new, old) if similarity >= RESTATE_MIN else None
        if restated and new.polarity == old.polarity:
            return Judgement("supports", 0.6, f"Same claim: {_quote(restated)}")
        return UNRELATED
    shared = overlap(new.proposition or new.text, old.proposition or old.text)
    same = (
        similarity >= SAME_MIN
        or (similarity >= SAME_WITH_OVERLAP_MIN and shared >= SAME_OVERLAP)
        or (similarity >= SAME_DENIAL_MIN and new.polarity == old.polarity == "denies")
        or _restatement(new, old) is not None
    )
    # Sharing only names ("Trump", "Putin") is sharing a topic, not a statement.
    shares_predicate = bool(predicate_words(new.proposition or new.text) & predicate_words(old.proposition or old.text))
    close_enough_to_dispute = similarity >= DISPUTE_MIN and shared >= DISPUTE_OVERLAP and shares_predicate

    # Near-identical wording with opposite parsed polarity is a parsing slip more often than a dispute.
    if (close_enough_to_dispute and similarity < SAME_TEXT_MIN and _polarity_conflict(new, old)
            and _denial_is_believable(new, old)):
        confidence = min(0.95, 0.5 + 0.5 * similarity + 0.2 * shared - 0.2)
        return Judgement("disputes", round(confidence, 2), _denial_reason(new, old))

    if similarity >= DETAIL_CONFLICT_MIN and shared >= SAME_OVERLAP and new.polarity == old.polarity:
        checks = (
            ("Different number", lambda: number_conflict(new, old, similarity)),
            ("Different date", lambda: date_conflict(new, old)),
            ("Different year", lambda: year_conflict(new, old)),
            ("Opposite outcome", lambda: antonym_conflict(new, old)),
        )
        for kind, check in checks:
            conflict = check()
            if conflict:
                confidence = min(0.9, 0.3 + 0.6 * similarity)
                reason = f"{kind}: {_quote(conflict[0], 60)} vs {_quote(conflict[1], 60)}"
                return Judgement("disputes", round(confidence, 2), reason)

    if not same:
        return Judgement("related", round(similarity, 2), "Same topic")

    if "questions" in (new.polarity, old.polarity) and new.polarity != old.polarity:
        asker = new if new.polarity == "questions" else old
        return Judgement("related", round(similarity * 0.8, 2), f"{_who(asker)} questions this")

    if new.polarity != old.polarity and similarity < SAME_TEXT_MIN:
        # One says no where the other says yes, but not clearly enough to call it a dispute.
        return Judgement("related", round(similarity * 0.8, 2), "Same topic, told differently")

    confidence = round(min(0.95, 0.4 + 0.6 * similarity * (0.7 + 0.3 * shared)), 2)
    if new.polarity == "denies":
        by = f" by {new.speaker}" if new.speaker else ""
        return Judgement("supports", confidence, f"Same denial{by}: {_quote(new.details.get('quote') or new.text)}")
    if new.details.get("hedged") != old.details.get("hedged"):
        return Judgement("supports", round(confidence * 0.85, 2), "Same claim, one report hedges it")
    return Judgement("supports", confidence, "Same claim")


ARTICLE_RELATED_MIN = RELATED_MIN  # an article is about a claim when one of its claims is this close
ARTICLE_SUPPORT_MIN = 0.80  # an article supports a claim when it restates it nearly word for word ...
ARTICLE_HEDGE_MAX = 0.2  # ... and does not hedge much ("reportedly", "claims", "may") around it
ARTICLE_DISPUTE_MIN = 0.6  # and disputes it only when the disputing claim is this close


def article_stance(claim: Claim, others: list[Claim], similarities: list[float]) -> Judgement:
    """How a whole article (its claims `others`) stands to one claim, e.g. a headline.

    Stricter than claim against claim: an article that reports a claim together with doubts about it, or
    reports a denial alongside the claim, is discussing it, not taking a side. So a dispute must come from
    a close claim with an explicit denial or conflict, and support from a near restatement in an article
    that does not hedge.
    """
    if not others:
        return UNRELATED
    pairs = sorted(zip(similarities, others), key=lambda pair: pair[0], reverse=True)
    best = pairs[0][0]
    if best < ARTICLE_RELATED_MIN:
        return UNRELATED
    verdicts = [(judge(other, claim, sim), sim, other) for sim, other in pairs[:5] if sim >= ARTICLE_RELATED_MIN]
    # The article must be the side that denies or differs: an article that repeats a report the claim
    # itself denies is reporting what is denied, usually together with the denial.
    disputes = [j for j, sim, o in verdicts if j.label == "disputes" and sim >= ARTICLE_DISPUTE_MIN
                and (o.polarity == "denies" or o.polarity == claim.polarity)]
    supports = [j for j, sim, _ in verdicts if j.label == "supports" and sim >= ARTICLE_DISPUTE_MIN]
    if disputes and not supports:  # both sides reported: the article discusses the claim
        return max(disputes, key=lambda j: j.confidence)
    hedged_share = sum(bool(o.details.get("hedged")) for o in others) / len(others)
    if hedged_share <= ARTICLE_HEDGE_MAX and not claim.details.get("hedged"):
        supports = [j for j, sim, o in verdicts
                    if j.label == "supports" and sim >= ARTICLE_SUPPORT_MIN and not o.details.get("hedged")]
        if supports:
            return max(supports, key=lambda j: j.confidence)
    return Judgement("related", round(best, 2), "Same topic")
