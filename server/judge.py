"""Supports / disputes / related between two claims, with a confidence and a reason a reader understands.

The embedding similarity says whether two claims are about the same thing; the claims' structure (polarity,
numbers, dates, quantities, antonyms) says whether they agree. Both labels are earned:

- "disputes" needs two claims close in meaning that share their content words, and an explicit conflict:
  a denial of the same proposition, a different number, date or year, a flipped quantifier, an opposite
  outcome.
- "supports" needs the same proposition with the same polarity, and numbers, dates, quantities, outcome and
  hedging that agree. When any of them differs, or the rules cannot read a claim (another language than
  English), the pair is at most "related", and the reason says why.

A false alarm costs the reader's trust and a wrong "supports" misleads them: doubtful cases are "related".
`article_stance` sums up, from the same pair judgements, how a whole article stands to one claim.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache

from server.cosines import (BARE_NUMBER_MIN, CALLED_FALSE_MIN, DETAIL_CONFLICT_MIN, DISPUTE_MIN, NEAR_COPY_DETAIL_MIN,
                            NEAR_COPY_MIN, PLAIN_NEGATION_MIN, RELATED_MIN, RESTATE_MIN, SAME_DENIAL_MIN, SAME_MIN,
                            SAME_WITH_OVERLAP_MIN)
from server.claims import (GREATER_THAN, GROUP_SPEAKERS, MONTHS, SMALLER_THAN, WEEKDAYS, Claim, negated_words,
                           number_value, reads_as_english)
from server.stopwords import ENGLISH

log = logging.getLogger(__name__)

LABELS = ("supports", "disputes", "related")

# The cosine bands (RELATED_MIN, SAME_MIN, ...) hold for one embedding model: they live in cosines.py with
# the model's other levels. Shares of content words, which hold for any model:
SAME_OVERLAP = 0.5  # with SAME_WITH_OVERLAP_MIN: most content words shared
DISPUTE_OVERLAP = 0.3
PLAIN_NEGATION_CONTAINED = 0.65  # a bare negative sentence holds this share of the other's words
NEAR_COPY_OVERLAP = 0.8  # with NEAR_COPY_MIN: nearly all content words shared
RESTATE_CONTAINMENT = 0.9


@dataclass
class Judgement:
    label: str | None  # one of LABELS, or None = unrelated (not shown)
    confidence: float  # 0..1
    reason: str
    detail: str = ""   # the kind of detail that differs, for a dispute over one ("Different age")


UNRELATED = Judgement(None, 0.0, "")
PERSON_DETAILS = {"Different age", "Different date of birth"}  # details of one person, tied by name
PLURAL_SPEAKERS = set(GROUP_SPEAKERS.split("|"))

STOPWORDS = ENGLISH          # words that carry no proposition

# Opposite outcomes: each side must use only one of the two sets.
ANTONYMS = [
    ({"confirmed", "confirms", "confirm", "acknowledged", "admitted"}, {"denied", "denies", "deny", "rejected"}),
    ({"rose", "rise", "rises", "risen", "increase", "increased", "increases", "grew", "grow", "gained",
      "higher", "jumped", "surged", "climbed"},
     {"fell", "fall", "falls", "fallen", "decrease", "decreased", "decreases", "shrank", "dropped",
      "lower", "declined", "plunged", "slumped"}),
    ({"won", "wins", "win", "victory", "defeated", "beat"}, {"lost", "loses", "lose", "defeat", "conceded"}),
    ({"guilty", "convicted"}, {"acquitted", "innocent", "cleared", "exonerated"}),
    ({"alive", "survived", "rescued"}, {"dead", "died", "killed"}),
    ({"approved", "passed", "accepted", "signed"}, {"rejected", "vetoed", "blocked", "refused"}),
    ({"open", "opened", "reopened"}, {"closed", "shut"}),
    ({"true", "real", "genuine", "authentic"}, {"false", "fake", "hoax", "untrue", "fabricated"}),
    ({"arrested", "detained"}, {"released", "freed"}),
    ({"resigned", "quit", "fired"}, {"stays", "remain", "remains", "reinstated"}),
    ({"safe", "harmless"}, {"unsafe", "dangerous", "harmful"}),
    ({"legal", "lawful"}, {"illegal", "unlawful"}),
    ({"allowed", "permitted", "lifted"}, {"banned", "prohibited", "forbidden"}),
    ({"succeeded", "successful", "success"}, {"failed", "unsuccessful", "failure"}),
    ({"majority"}, {"minority"}),
    ({"largest", "biggest"}, {"smallest"}),
    ({"oldest"}, {"youngest"}),
    ({"first", "earliest"}, {"last", "latest", "final"}),
]
# Quantifiers that cannot both describe the same group.
UNIVERSAL = {"all", "every", "everyone", "everybody", "everything", "always", "entirely", "fully", "completely"}
PARTIAL = {"some", "several", "few", "partially", "partly", "half", "sometimes", "rarely", "occasionally"}

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_UNIT_ALIASES = {"percent": "%", "per cent": "%", "percentage point": "%", "times": "times", "once": "times",
                 "twice": "times", "thrice": "times"}
_NEGATION_CUE = re.compile(
    r"\b(?:not|never|no|nobody|none|nothing|neither|nor|without|unable|fail(?:ed|s)?)\b|n[’']t\b", re.I
)


# The helpers below read one text at a time and are called for every pair a capture judges (a claim meets
# dozens of earlier ones), so each keeps its answers for the claims of the last few captures.
CLAIM_CACHE = 4096


@lru_cache(maxsize=1 << 15)
def _stem(word: str) -> str:
    word = word.lower().strip("'’-").replace("’", "'")
    word = re.sub(r"'s$", "", word)
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=CLAIM_CACHE)
def content_words(text: str) -> frozenset[str]:
    return frozenset({_stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1})


def _title_case(words: list[str]) -> bool:
    """A headline in Title Case ("Banksy Has Not Been Arrested"): capitals do not mark its names."""
    long_words = [w for w in words if len(w) > 3 and w[:1].isalpha()]
    return len(long_words) >= 3 and sum(w[:1].isupper() for w in long_words) >= 0.9 * len(long_words)


@lru_cache(maxsize=CLAIM_CACHE)
def predicate_words(text: str) -> frozenset[str]:
    """Content words that are not names: what is said about the people, not who they are."""
    words = _WORD.findall(text)
    names_unknown = _title_case(words)
    return frozenset({_stem(w) for w in words
                      if w.lower() not in STOPWORDS and len(w) > 1 and (names_unknown or not w[:1].isupper())})


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


def _words(claim: Claim) -> frozenset[str]:
    return _lower_words(claim.text)


@lru_cache(maxsize=CLAIM_CACHE)
def _lower_words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


@lru_cache(maxsize=CLAIM_CACHE)
def _word_list(text: str) -> tuple[list[str], list[str], Counter, bool]:
    """The words of a text in order, as written and lower-cased, how often each (lower-cased) occurs, and
    whether it is in Title Case."""
    words = _WORD.findall(text)
    lowered = [w.lower() for w in words]
    return words, lowered, Counter(lowered), _title_case(words)


# --------------------------------------------------------------------------------------------------
# Numbers


@lru_cache(maxsize=CLAIM_CACHE)
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


@lru_cache(maxsize=CLAIM_CACHE)
def _is_round(number: str) -> bool:
    """ "2,000" or "300 million" but not "2,084" or "924 million": a figure written as rounded."""
    digits = re.search(r"\d[\d,]*(?:\.\d+)?", number)
    if not digits:
        return False
    significant = digits.group(0).replace(",", "").replace(".", "").strip("0")
    return len(significant) <= 2 and (number_value(number) or 0) >= 100


_RANGE = re.compile(
    r"(?:between\s+)?(?P<lo>\d[\d,]*(?:\.\d+)?)\s*(?:-|–|—|to|and)\s*(?P<hi>\d[\d,]*(?:\.\d+)?)", re.I
)


@lru_cache(maxsize=CLAIM_CACHE)
def _ranges(text: str) -> tuple[tuple[float, float], ...]:
    """"between 10 and 20", "10-20", "10 to 20": spans a single figure elsewhere may fall in."""
    spans = []
    for match in _RANGE.finditer(text):
        lo, hi = (float(match.group(g).replace(",", "")) for g in ("lo", "hi"))
        if lo < hi:
            spans.append((lo, hi))
    return tuple(spans)


AMOUNT_WINDOW = 6  # words before an amount without a unit that say what it is the amount of
_AT_MOST = re.compile(
    rf"(?:as (?:many|much|high|long|large) as|up to|at most|less than|fewer than|under|below"
    rf"|(?:{SMALLER_THAN}) than)\b")
_AT_LEAST = re.compile(
    rf"(?:as (?:few|little|low) as|at least|more than|over|above|exceeding|(?:{GREATER_THAN}) than)\b")


def _compatible(a: str, b: str, spans: tuple[tuple[float, float], ...] = ()) -> bool:
    """Whether two amounts of the same unit can both be true ("as many as 7" and "5")."""
    va, vb = number_value(a), number_value(b)
    # "one year after", "at once": the word "one" is rarely a count worth disputing.
    if va is None or vb is None or any(re.match(r"(?:one|once)\b", x.lower()) for x in (a, b)):
        return True
    if va == vb:
        return True
    if any(lo <= v <= hi for lo, hi in spans for v in (va, vb)):
        return True
    bounds = [(x, vx, vy) for x, vx, vy in ((a, va, vb), (b, vb, va))
              if _AT_MOST.match(x.lower()) or _AT_LEAST.match(x.lower())]
    if bounds:  # a bound is exact: "longer than 900 metres" allows no 850, however round
        return any(vy <= vx if _AT_MOST.match(x.lower()) else vy >= vx for x, vx, vy in bounds)
    for x, vx, vy in ((a, va, vb), (b, vb, va)):
        low = x.lower()
        if re.match(r"(about|around|nearly|almost|roughly|approximately)\b", low) and abs(vx - vy) <= 0.15 * vx:
            return True
        if _is_round(x) and abs(vx - vy) <= 0.1 * vx:  # "$2,000" for "$2,084": a rounded figure
            return True
    return False


@lru_cache(maxsize=CLAIM_CACHE)
def _amount_of(text: str, number: str) -> tuple[str | None, frozenset[str]]:
    """What an amount without a unit measures: the nearest word before it that is not a name, and all such
    words up to any punctuation ("had a population of 1,713" -> "population"; "the population of the town
    was 4,500" -> "town", with "population" among the words before it)."""
    at = text.find(number)
    if at < 0:
        return None, frozenset()
    words = []
    for word in reversed(re.findall(r"[A-Za-z][A-Za-z'’-]*|[^\sA-Za-z]+", text[:at])[-AMOUNT_WINDOW:]):
        if not word[:1].isalpha():
            break
        if word.lower() not in STOPWORDS and word[:1].islower():
            words.append(_stem(word))
    return (words[0] if words else None), frozenset(words)


def _same_amount(a: tuple[str | None, frozenset[str]], b: tuple[str | None, frozenset[str]]) -> bool:
    """Two amounts of the same thing: each one's nearest word is among the words before the other."""
    return a[0] is not None and b[0] is not None and a[0] in b[1] and b[0] in a[1]


_NOW = re.compile(r"\b(?:now|today|tonight|yesterday|currently|at present"
                  r"|this (?:morning|afternoon|evening|week|month|year)|last (?:night|week|month|year))\b", re.I)


def _times(claim: Claim) -> frozenset[str]:
    """When a claim says its thing holds: its dates and words such as "now" or "last week"."""
    return _times_of(claim.text, tuple(claim.details.get("dates", [])))


@lru_cache(maxsize=CLAIM_CACHE)
def _times_of(text: str, dates: tuple[str, ...]) -> frozenset[str]:
    return frozenset(dates) | {m.group(0).lower() for m in _NOW.finditer(text)}


def number_conflict(new: Claim, old: Claim) -> tuple[str, str, bool] | None:
    """(amount, other amount, measures_the_same) for two amounts that cannot both be true, or None.

    A claim with one amount of a unit ("12 people") is checked against the other's amounts of that unit:
    it must agree with one of them. So is an amount without a unit against the other's amounts of the same
    thing (the words before them: "a population of"). Other amounts are compared only one against one."""
    a_all, b_all = new.details.get("numbers", []), old.details.get("numbers", [])
    if not (a_all and b_all):
        return None
    spans = _ranges(new.text) + _ranges(old.text)
    by_unit: list[dict[str, list[str]]] = [{}, {}]
    for claim, target in ((new, by_unit[0]), (old, by_unit[1])):
        for number in claim.details.get("numbers", []):
            unit = _unit(number)
            if unit:
                target.setdefault(unit, []).append(number)
    for unit in [u for u in by_unit[0] if u in by_unit[1]]:   # in the order the claim gives them
        a_list, b_list = by_unit[0][unit], by_unit[1][unit]
        few, many, flipped = (a_list, b_list, False) if len(a_list) <= len(b_list) else (b_list, a_list, True)
        if len(few) > 1:
            continue  # a list of figures: which pairs with which is a guess
        for number in few:
            if not any(_compatible(number, other, spans) for other in many):
                pair = (many[0], number) if flipped else (number, many[0])
                return pair[0], pair[1], True
    # ... told of the same time: "408 on Sunday" and "218 right now" can both be true.
    times = _times(new), _times(old)
    same_time = not all(times) or bool(times[0] & times[1])
    sides = [(new, [n for n in a_all if not _unit(n)] if same_time else []),
             (old, [n for n in b_all if not _unit(n)] if same_time else [])]
    flipped = len(sides[0][1]) > len(sides[1][1])
    (few_claim, few), (many_claim, many) = sides[::-1] if flipped else sides
    for number in few:
        measures = _amount_of(few_claim.text, number)
        same_thing = [other for other in many if _same_amount(measures, _amount_of(many_claim.text, other))]
        if same_thing and not any(_compatible(number, other, spans) for other in same_thing):
            pair = (same_thing[0], number) if flipped else (number, same_thing[0])
            return pair[0], pair[1], True
    if len(a_all) == 1 and len(b_all) == 1 and {_unit(a_all[0]), _unit(b_all[0])} == {None}:
        if not _compatible(a_all[0], b_all[0], spans):
            return a_all[0], b_all[0], False
    return None


# --------------------------------------------------------------------------------------------------
# Dates

_MONTH_NUMBER = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_WORD_DATE = re.compile(
    r"\b(?P<month>[A-Z][a-z]{2})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4}))?"
    r"|\b(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>[A-Z][a-z]{2})[a-z]*\.?(?:,?\s+(?P<year2>\d{4}))?"
)
_NUMERIC = re.compile(r"^(?:(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})|(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<yy>\d{2,4}))$")


def _valid(year: int | None, month: int, day: int) -> bool:
    try:
        date(year or 2000, month, day)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=CLAIM_CACHE)
def day_readings(text: str) -> frozenset[tuple[int | None, int, int]] | None:
    """The (year, month, day) a date can mean: "3/5/2024" is 3 May or 5 March; "Sept. 26" has no year.
    None for dates without a day ("2021", "Monday", "May 2021")."""
    match = _NUMERIC.match(text.strip())
    if match:
        if match.group("y"):
            year, month, day = int(match.group("y")), int(match.group("m")), int(match.group("d"))
            return frozenset({(year, month, day)}) if _valid(year, month, day) else None
        a, b, year = int(match.group("a")), int(match.group("b")), int(match.group("yy"))
        year = year + 2000 if year < 100 else year
        readings = frozenset((year, m, d) for m, d in ((a, b), (b, a)) if _valid(year, m, d))
        return readings or None
    match = _WORD_DATE.search(text)
    if not match:
        return None
    month = _MONTH_NUMBER.get((match.group("month") or match.group("month2")).lower()[:3])
    day = int(match.group("day") or match.group("day2"))
    year = match.group("year") or match.group("year2")
    if month is None or not _valid(int(year) if year else None, month, day):
        return None
    return frozenset({(int(year) if year else None, month, day)})


def _same_day(a: set, b: set) -> bool | None:
    """True when the two readings agree, False when no reading of one fits the other, None when unsure."""
    def fits(x, y):
        return x[1:] == y[1:] and (x[0] is None or y[0] is None or x[0] == y[0])

    matches = [(x, y) for x in a for y in b if fits(x, y)]
    if not matches:
        return False
    return True if len(a) == len(b) == 1 else None


_DATE_SPAN = re.compile(r"\b(?:between|from)\s+(?P<start>.+?)\s+(?:and|to|until|till|through)\s+(?P<end>[^,;]+)", re.I)


def _within_a_span(day: frozenset, text: str) -> bool:
    """Whether the text gives a span of days ("between May 1 and June 30, 1945") that the day falls in."""
    for match in _DATE_SPAN.finditer(text):
        end = day_readings(match.group("end"))
        start = day_readings(match.group("start"))
        if not (start and end and len(start) == len(end) == 1):
            continue
        (y1, m1, d1), (y2, m2, d2) = next(iter(start)), next(iter(end))
        for year, month, dom in day:
            if (m1, d1) <= (month, dom) <= (m2, d2) and (year is None or (y1 or y2 or year) <= year <= (y2 or year)):
                return True
    return False


def date_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """One day date on the side with fewer, matching none of the other's nor falling within a span the
    other gives: (date, other date)."""
    a = [(d, r) for d in new.details.get("dates", []) if (r := day_readings(d))]
    b = [(d, r) for d in old.details.get("dates", []) if (r := day_readings(d))]
    if not a or not b:
        return None
    few, many, flipped = (a, b, False) if len(a) <= len(b) else (b, a, True)
    if len(few) != 1 or _within_a_span(few[0][1], (new if flipped else old).text):
        return None
    if all(_same_day(few[0][1], other) is False for _, other in many):
        return (many[0][0], few[0][0]) if flipped else (few[0][0], many[0][0])
    return None


def dates_unsure(new: Claim, old: Claim) -> bool:
    """Whether two dates could be the same day only under different day/month orders ("3/5" and "5/3")."""
    a = [r for d in new.details.get("dates", []) if (r := day_readings(d))]
    b = [r for d in old.details.get("dates", []) if (r := day_readings(d))]
    return any(_same_day(x, y) is None for x in a for y in b) and not any(_same_day(x, y) for x in a for y in b)


_BOUNDED_YEAR = re.compile(
    r"\b(?:after|before|since|until|till|by|than|from|between|to|around|circa|c\.|early|late|mid|end\s+of)\s+"
    r"(?:the\s+)?(?:(?:19|20)\d{2})|\b(?:19|20)\d{2}\s+(?:[a-z]+s|and\s+(?:19|20)\d{2})\b"
)


def _plain_years(text: str, dates: tuple[str, ...]) -> list[str]:
    """Years stated as the time of the thing itself: not "after 1999", "since 2021", "1900 metres"."""
    bounded = {m.group(0)[-4:] for m in re.finditer(r"(?:19|20)\d{2}", " ".join(
        found for found in _BOUNDED_YEAR.findall(text) if found.split()[-1] not in STOPWORDS))}  # not "1970 as"
    return [d for d in dates if re.fullmatch(r"(?:19|20)\d{2}", d) and d not in bounded]


def _years(claim: Claim) -> frozenset[str]:
    """Plain years and the years of full dates ("2 June 2011")."""
    return _years_of(claim.text, tuple(claim.details.get("dates", [])))


@lru_cache(maxsize=CLAIM_CACHE)
def _years_of(text: str, dates: tuple[str, ...]) -> frozenset[str]:
    years = set(_plain_years(text, dates))
    for d in dates:
        if day_readings(d) and re.search(r"\b(?:19|20)\d{2}\b", d):
            years.add(re.search(r"\b(?:19|20)\d{2}\b", d).group(0))
    return frozenset(years)


_MONTH_WORD = re.compile(rf"(?:{MONTHS}|{WEEKDAYS})\.?|(?:st|nd|rd|th|of)")
_DECADE = re.compile(r"\b((?:1[5-9]|20)\d0)['’]?s\b")  # "the 1930s", "the 1930's"


@lru_cache(maxsize=CLAIM_CACHE)
def _decades(text: str) -> tuple[str, ...]:
    return tuple(_DECADE.findall(text))


_BEFORE_AFTER = re.compile(r"\b(?P<side>before|after)\s+(?:the\s+)?(?P<year>(?:19|20)\d{2})\b", re.I)


def year_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """A year on the side with fewer that the other side does not have ("opened in 1978" vs "opened in 1979"),
    or a year outside the other's bound ("before 1990" vs "in 1992")."""
    a, b = _years(new), _years(old)
    if len(a) == 1 and len(b) == 1 and a != b:
        (x,), (y,) = a, b
        if _year_anchor(new.text, x) and _year_anchor(new.text, x) == _year_anchor(old.text, y):
            return x, y
    for claim, other, flipped in ((new, old, False), (old, new, True)):
        for before, bound, said in _year_bounds(claim.text):
            for year in _years_in(other.text):
                if before == (int(year) >= bound):
                    return (year, said) if flipped else (said, year)
    return None


@lru_cache(maxsize=CLAIM_CACHE)
def _year_bounds(text: str) -> tuple[tuple[bool, int, str], ...]:
    """("before 1990" and the like): (before rather than after, the year, the words)."""
    return tuple((m.group("side").lower() == "before", int(m.group("year")), m.group(0))
                 for m in _BEFORE_AFTER.finditer(text))


@lru_cache(maxsize=CLAIM_CACHE)
def _years_in(text: str) -> tuple[str, ...]:
    """The years a text gives with "in" ("in 1992")."""
    return tuple(re.findall(r"\bin\s+((?:19|20)\d{2})\b", text))


def _year_anchor(text: str, year: str) -> str | None:
    """The word a year is the time of: "founded in 2010" -> "found", "a 2015 report" -> "report"."""
    match = re.search(rf"\b{year}\b", text)
    if not match:
        return None
    # "formed on 18 December 1969": the date's own words are not what it is the time of.
    before = [w for w in _WORD.findall(text[: match.start()])
              if w.lower() not in STOPWORDS and not w[0].isdigit() and not _MONTH_WORD.fullmatch(w)]
    after = [w for w in _WORD.findall(text[match.end():])[:3] if w.lower() not in STOPWORDS and w[:1].islower()]
    preceding = text[: match.start()].rstrip().lower()
    if re.search(r"\b(?:a|an|the|its|his|her|their)$", preceding) and after:
        return _stem(after[0])  # "a 2015 report"
    return _stem(before[-1]) if before else None


# "(June 13, 1911 – September 1, 1988)", "(Ada Maria Lund; 1911–1988)": a person's life.
_LIFESPAN = re.compile(
    r"\((?:[^()]*?;\s*)?(?P<born>[^()–—;]*?\b\d{4})\s*[–—-]\s*(?P<died>[^()–—;]*?\b\d{4})\s*\)")
_AGE_AT_DEATH = re.compile(
    r"\b(?:died|dead)\s+(?:at\s+(?:the\s+age\s+of\s+)?|aged\s+|at\s+age\s+)(?P<a>\d{1,3})\b"
    r"|\bwas\s+(?P<b>\d{1,3})\s+(?:years\s+old\s+)?when\s+(?:he|she|they)\s+died\b"
    r"|\blived\s+to\s+(?:be\s+|the\s+age\s+of\s+)(?P<c>\d{1,3})\b", re.I)


@lru_cache(maxsize=CLAIM_CACHE)
def _age_at_death(text: str) -> re.Match | None:
    return _AGE_AT_DEATH.search(text)


def _possible_ages(born: str, died: str) -> set[int]:
    """Ages at death a life span allows: one with both full dates, two with years alone."""
    first, last = day_readings(born), day_readings(died)
    year_born, year_died = int(re.findall(r"\d{4}", born)[-1]), int(re.findall(r"\d{4}", died)[-1])
    if first and last and len(first) == len(last) == 1:
        (_, m1, d1), (_, m2, d2) = next(iter(first)), next(iter(last))
        return {year_died - year_born - ((m2, d2) < (m1, d1))}
    return {year_died - year_born - 1, year_died - year_born}


def age_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """An age at death ("died at 79") that the other report's life span ("(June 13, 1911 – September 1,
    1988)") rules out: (age, span)."""
    for claim, other, flipped in ((new, old, False), (old, new, True)):
        stated = _age_at_death(claim.text)
        span = _LIFESPAN.search(other.text) if stated else None
        # The span is the life of the person named just before it, who must be the one said to have died.
        if not span or not _same_person(_named_near(other.text, span.start(), span.end()), _names(claim.text)):
            continue
        age = int(next(g for g in stated.groups() if g))
        possible = sorted(_possible_ages(span.group("born"), span.group("died")))
        if age not in possible:
            lived = f"{span.group('born').strip()} – {span.group('died').strip()}: {' or '.join(map(str, possible))}"
            pair = stated.group(0), lived
            return (pair[1], pair[0]) if flipped else pair
    return None


_NAME_WORD = re.compile(r"\b[A-Z][\w'’.-]{2,}")
_BOUNDED_TIME = re.compile(r"\b(?:after|before|since|until|by|around|circa|decade|century|between)\b", re.I)


def _names(text: str) -> list[str]:
    return [n for n in _NAME_WORD.findall(text) if not _MONTH_WORD.fullmatch(n)]


def _named_near(text: str, start: int, end: int) -> list[str]:
    """The names written just before a position ("Ada Lund (1911 – 1988)", back to the previous bracket),
    or else just after it ("Born on May 5, 1950, Ada Lund ..."): whose life a date is."""
    for before in reversed(re.split(r"[()]", text[max(0, start - 60): start])[-2:]):   # "Ada Lund (born ..."
        if _names(before):
            return _names(before)[-4:]
    return _names(text[end: end + 60])[:3]


def _same_person(named: list[str], other: list[str]) -> bool:
    """Whether two lists of names name one person: two names in common, or all of the shorter list."""
    mine, theirs = {n.lower() for n in named}, {n.lower() for n in other}
    shared = mine & theirs
    return len(shared) >= 2 or (bool(shared) and shared in (mine, theirs))


def _births(claim: Claim) -> tuple[tuple[str, list[str]], ...]:
    """The dates of birth the claim gives, each with the names of whose it is: from life spans
    ("(June 13, 1911 – September 1, 1988)") and from "born" followed by a date."""
    return _births_in(claim.text, tuple(claim.details.get("dates", [])))


@lru_cache(maxsize=CLAIM_CACHE)
def _births_in(text: str, dates: tuple[str, ...]) -> tuple[tuple[str, list[str]], ...]:
    found = [(span.group("born").strip(), _named_near(text, span.start(), span.end()))
             for span in _LIFESPAN.finditer(text)]
    for born in re.finditer(r"\bborn\b", text, re.I):
        for date_text in dates:
            at = text.find(date_text, born.end())
            if 0 <= at <= born.end() + 40 and re.search(r"\d{4}", date_text):
                # "born the year after 1921", "born in the decade after": not the date itself.
                if not _BOUNDED_TIME.search(text[born.end(): at]):
                    found.append((date_text, _named_near(text, born.start(), at + len(date_text))))
                break
    return tuple(found)


def birth_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """Two dates of birth of one person (the same names near both) that cannot be the same day: (date,
    other date)."""
    pairs = [(a, b) for a, names_a in _births(new) for b, names_b in _births(old) if _same_person(names_a, names_b)]
    differing = []
    for a, b in pairs:
        days_a, days_b = day_readings(a), day_readings(b)
        if days_a and days_b:
            differ = _same_day(days_a, days_b) is False
        else:
            differ = re.findall(r"\d{4}", a)[-1] != re.findall(r"\d{4}", b)[-1]
        if not differ:
            return None
        differing.append((a, b))
    return differing[0] if differing else None


# --------------------------------------------------------------------------------------------------
# Words


@lru_cache(maxsize=CLAIM_CACHE)
def _antonym_sides(text: str) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """For each pair of opposites the text uses a word of: (its words of the one side, of the other)."""
    words = _lower_words(text)
    return {number: (words & left, words & right) for number, (left, right) in enumerate(ANTONYMS)
            if words & left or words & right}


def antonym_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """A word in one claim whose opposite is in the other, each side using only one of the two."""
    sides_a, sides_b = _antonym_sides(new.text), _antonym_sides(old.text)
    for number in sorted(sides_a.keys() & sides_b.keys()):
        (a_left, a_right), (b_left, b_right) = sides_a[number], sides_b[number]
        for xa, ya, xb, yb in ((a_left, a_right, b_left, b_right), (a_right, a_left, b_right, b_left)):
            if xa and yb and not ya and not xb:
                return sorted(xa)[0], sorted(yb)[0]
    return None


def _quantifiers(claim: Claim) -> frozenset[str]:
    return _quantifiers_of(claim.text)


@lru_cache(maxsize=CLAIM_CACHE)
def _quantifiers_of(text: str) -> frozenset[str]:
    found = set(_lower_words(text) & (UNIVERSAL | PARTIAL))
    text = text.lower()
    if re.search(r"\bnot\s+(?:all|every)", text):
        found = (found - UNIVERSAL) | {"not all"}
    if re.search(r"\bonly\s+(?:some|a\s+few|part)\b", text):
        found.add("only some")
    return frozenset(found)


def quantifier_conflict(new: Claim, old: Claim) -> tuple[str, str] | None:
    """ "all" on one side, "some" / "not all" / "few" on the other, for the same group."""
    qa, qb = _quantifiers(new), _quantifiers(old)
    for x, y in ((qa, qb), (qb, qa)):
        universal = x & UNIVERSAL
        partial = y - UNIVERSAL
        if universal and partial and not y & UNIVERSAL and not x - UNIVERSAL:
            pair = (sorted(universal)[0], sorted(partial)[0])
            return pair if x is qa else (pair[1], pair[0])
    return None


_ORDINAL = re.compile(
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|final|\d+(?:st|nd|rd|th))$", re.I
)
_VAGUE_WORDS = {"several", "many", "some", "few", "numerous", "multiple", "dozens", "hundreds", "thousands", "a"}
_DIRECTION = re.compile(r"(?:north|south|east|west|upper|lower|central)", re.I)
_FREQUENCY = re.compile(r"(?:daily|weekly|monthly|annual|yearly|biennial|quarterly|hourly)$", re.I)


def _detail_kind(words: list[str], title_case: bool) -> str | None:
    """What kind of detail a few words are, when all of them are one: a number, a name, an ordinal..."""
    for kind, test in (("ordinal", _ORDINAL.match), ("number", lambda w: w[:1].isdigit()),
                       ("name", lambda w: w[:1].isupper() and not title_case),
                       ("direction", _DIRECTION.match), ("frequency", _FREQUENCY.match)):
        if words and all(test(w) for w in words):
            return kind
    return None


_MONTH_SPELLINGS = {m.lower() for m in re.findall(r"[A-Z][a-z]+", MONTHS)} | set(_MONTH_NUMBER) | {"sept"}


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _spelling(letters: str) -> str:
    """A word with the usual spelling variants undone: "neighbours", "epicentre", "organise", "barrelled",
    "Zelenskyy" -> "neighbors", "epicenter", "organize", "bareled", "zelensky"."""
    letters = re.sub(r"our", "or", letters)
    letters = re.sub(r"([^aeiou])re$", r"\1er", letters)
    letters = re.sub(r"is(e|ed|es|ing|ation)$", r"iz\1", letters)
    return re.sub(r"(.)\1", r"\1", letters)


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w.lower() not in STOPWORDS).lower()


def same_thing_written_differently(a: list[str], b: list[str]) -> bool:
    """Two spellings of one thing, which a reader would not call a different detail: "U.S." and "US",
    "Sang-mok" and "Sang Mok", "UN" and "United Nations", "Aug" and "August", "epicentre" and "epicenter",
    "eight" and "8"."""
    x, y = _letters(" ".join(a)), _letters(" ".join(b))
    if not x or not y or x == y:
        return True
    short, long_ = sorted((x, y), key=len)
    if len(a) + len(b) > 2 and short in (_initials(a), _initials(b)) and len(short) >= 2:
        return True  # an acronym
    if len(a) == len(b) == 1 and long_.startswith(short) and not short.isdigit() and (
            (len(short) >= 3 and len(long_) >= len(short) + 3)
            or (len(short) == 1 and a[0][0].isupper() and b[0][0].isupper())
            or {short, long_} <= _MONTH_SPELLINGS):
        return True  # an abbreviation: "Aug" and "August", "Gov" and "Governor", "Sep" and "Sept", "S" and "South"
    if _spelling(x) == _spelling(y):
        return True  # British and American spelling, a doubled letter
    values = number_value(" ".join(a)), number_value(" ".join(b))
    return values[0] is not None and values[0] == values[1]


def _aligned(a: list[str], b: list[str]) -> tuple[int, list[tuple[int, int, int, int]]]:
    """Words the two lists share in order, and the spans of one replaced by the other (i1, i2, j1, j2).
    The common beginning and end are matched first, so near copies (most of what is compared) leave
    SequenceMatcher only the few words around their difference."""
    shorter = min(len(a), len(b))
    head = 0
    while head < shorter and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shorter - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle_a, middle_b = a[head:len(a) - tail], b[head:len(b) - tail]
    if not middle_a or not middle_b:
        return head + tail, []
    matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
    matched = head + tail + sum(block.size for block in matcher.get_matching_blocks())
    return matched, [(i1 + head, i2 + head, j1 + head, j2 + head)
                     for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag == "replace"]


def substitution(new: Claim, old: Claim) -> tuple[str, str, str | None] | None:
    """Two near copies that differ in one place: (words, other words, kind of detail or None).
    Near copy: 80% of the shorter one's words in the same order. "Elena" for "Maria" is a name,
    "southern" for "northern" a direction; "arrested" for "detained" no detail (maybe synonyms)."""
    a, lower_a, count_a, title_a = _word_list(new.proposition or new.text)
    b, lower_b, count_b, title_b = _word_list(old.proposition or old.text)
    if min(len(a), len(b)) < 5:
        return None
    if len(count_a) > len(count_b):
        count_a, count_b = count_b, count_a
    if sum(min(n, count_b[w]) for w, n in count_a.items() if w in count_b) < 0.8 * min(len(a), len(b)):
        return None   # too few words in common for 80% of them to match in order
    matched, replaced = _aligned(lower_a, lower_b)
    if matched < 0.8 * min(len(a), len(b)):
        return None
    title_case = title_a or title_b
    for i1, i2, j1, j2 in replaced:
        if i2 - i1 > 2 or j2 - j1 > 2:
            continue
        wa = [w for w in a[i1:i2] if w.lower() not in STOPWORDS]
        wb = [w for w in b[j1:j2] if w.lower() not in STOPWORDS]
        if not (wa and wb) or {_stem(w) for w in wa} == {_stem(w) for w in wb}:
            continue
        if {w.lower() for w in wa + wb} & _VAGUE_WORDS:
            continue  # "several" for "seven": both can be true
        if same_thing_written_differently(a[i1:i2], b[j1:j2]):
            continue
        if _compatible(" ".join(a[i1:i2]), " ".join(b[j1:j2]), _ranges(new.text) + _ranges(old.text)) and \
                _detail_kind(wa, False) == "number":
            continue  # "about 200" for "210"
        kind_a = _detail_kind(wa, title_case or i1 == 0)
        kind = kind_a if kind_a and kind_a == _detail_kind(wb, title_case or j1 == 0) else None
        return " ".join(a[i1:i2]), " ".join(b[j1:j2]), kind
    return None


def _negation_cues(claim: Claim) -> int:
    return _negation_cues_in(claim.text)


@lru_cache(maxsize=CLAIM_CACHE)
def _negation_cues_in(text: str) -> int:
    return len(_NEGATION_CUE.findall(text))


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
    r"\b(?:den(?:y|ies|ied)|reject(?:s|ed)|refut(?:e|es|ed)|dismiss(?:es|ed)|disputed?|rebutt?ed|rebuff(?:s|ed)"
    r"|debunk(?:s|ed))\b"
    r"|\bnot true\b|\buntrue\b|\bfalse\b|\bhoax\b|\b(?:is|are|was|were)\s+(?:a\s+)?fake\b",
    re.I,
)


def _attributed_denial(new: Claim, old: Claim) -> bool:
    """Someone denying a report, or calling it false, is news. A speaker's negative sentence counts only
    when its negation bears on what the other claim says ("would not surprise me" denies nothing)."""
    denier = new if new.polarity == "denies" else old
    if _EXPLICIT_DENIAL.search(denier.text):
        return True
    return bool(denier.speaker) and _negation_hits(new, old, contained=0.0)


_STEMMED_STOPWORDS = frozenset(_stem(w) for w in STOPWORDS)


def _negation_hits(new: Claim, old: Claim, contained: float = 0.0) -> bool:
    """Whether a plain negative sentence negates what the other claim states: the words the negation bears
    on ("not been arrested", "nobody was hurt") are words the other claim asserts."""
    denier, asserter = (new, old) if new.polarity == "denies" else (old, new)
    negated = {_stem(w) for w in negated_words(denier.text)}
    if not negated & {_stem(w) for w in _WORD.findall(asserter.text)} - _STEMMED_STOPWORDS:
        return False
    # ... and it adds nothing of its own: "did not speak at the rally" is no denial of "spoke at the summit".
    words = content_words(denier.proposition or denier.text)
    return bool(words) and len(words & content_words(asserter.text)) >= contained * len(words)


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
    verb = "deny" if (denier.speaker or "").lower() in PLURAL_SPEAKERS else "denies"
    if asserter.speaker and asserter.speaker.lower() != (denier.speaker or "").lower():
        return f"{who} {verb} what {asserter.speaker} asserts: {_quote(words)}"
    return f"{who} {verb} this: {_quote(words)}"


def _difference(new: Claim, old: Claim) -> tuple[str, str, str, float | None] | None:
    """The first detail that differs, or None: (kind, this claim's, the other's, the similarity from which
    it is a dispute, or None when it never is). Any difference rules out "supports"."""
    numbers = number_conflict(new, old)
    if numbers:
        return "Different number", numbers[0], numbers[1], DETAIL_CONFLICT_MIN if numbers[2] else BARE_NUMBER_MIN
    # Tied to one person by name, these need no closer wording than "the same topic".
    for kind, check in (("Different age", age_conflict), ("Different date of birth", birth_conflict)):
        conflict = check(new, old)
        if conflict:
            return kind, conflict[0], conflict[1], RELATED_MIN
    for kind, check in (("Different date", date_conflict), ("Different year", year_conflict),
                        ("Different quantity", quantifier_conflict), ("Opposite outcome", antonym_conflict)):
        conflict = check(new, old)
        if conflict:
            return kind, conflict[0], conflict[1], DETAIL_CONFLICT_MIN
    swapped = substitution(new, old)
    if swapped:
        kind = {"number": "Different number", "name": "Different name", None: "One detail differs"}.get(
            swapped[2], "Different detail")
        return kind, swapped[0], swapped[1], NEAR_COPY_DETAIL_MIN if swapped[2] else None
    return None


def _difference_reason(kind: str, a: str, b: str) -> str:
    return f"{kind}: {_quote(a, 60)} vs {_quote(b, 60)}"


def _why_not_the_same(new: Claim, old: Claim) -> str | None:
    """Why two claims about the same thing cannot be said to agree, or None when nothing stands in the way."""
    for claim in (new, old):
        if not reads_as_english(claim.text):
            return "Same topic; not in English, so agreement is not judged"
    if "questions" in (new.polarity, old.polarity):
        asker = new if new.polarity == "questions" else old
        return f"{_who(asker)} questions this"
    if new.polarity != old.polarity:
        return "Same topic, told differently: one report says no"
    if new.polarity == "asserts" and (_negation_cues(new) > 0) != (_negation_cues(old) > 0):
        return "Same topic; one report has a negation the other lacks"
    if dates_unsure(new, old):
        return "Same topic; the dates are written in different orders and may differ"
    years_new, years_old = _years(new), _years(old)
    for claim, years in ((new, years_old), (old, years_new)):
        decades = _decades(claim.text)
        if decades and years and not any(int(d) <= int(y) < int(d) + 10 for d in decades for y in years):
            return f"Same topic; the years differ: {_quote(decades[0] + 's')} vs {_quote(min(years))}"
    if years_new and years_old and not years_new & years_old:
        # Not shown to be the same event's year ("created in 1963" vs "broadcast in 1964"), so no
        # dispute; but not an agreement either.
        return f"Same topic; the years differ: {_quote(min(years_new))} vs {_quote(min(years_old))}"
    if new.polarity == "asserts" and bool(new.details.get("hedged")) != bool(old.details.get("hedged")):
        return "Same topic; one report hedges it"
    return None


# "Reports that ... are a hoax", "the photo was fake": a sentence that calls a report false denies it.
_CALLS_FALSE = re.compile(
    r"\b(?:is|are|was|were|been)\s+(?:(?:a|an|just|all|entirely|completely)\s+)*"
    r"(?:hoax|fake|false|untrue|fabricated|made[- ]up|not true|baseless|bogus)\b",
    re.I,
)


@lru_cache(maxsize=CLAIM_CACHE)
def _calls_false(text: str) -> bool:
    return bool(_CALLS_FALSE.search(text))


def _calling_false_denies(claim: Claim) -> Claim:
    if claim.polarity == "asserts" and _calls_false(claim.text):
        return replace(claim, polarity="denies")
    return claim


def may_dispute(new: Claim, old: Claim, similarity: float) -> bool:
    """False only when `judge` cannot say "disputes": a cheap test, so that a capture can leave unjudged
    the pairs it would not keep anyway. Disputes need one side denying what the other asserts, claims
    close enough for a differing detail to count, or a person's age or date of birth given otherwise."""
    if similarity < min(RELATED_MIN, DISPUTE_MIN):
        return False
    if similarity >= min(DETAIL_CONFLICT_MIN, NEAR_COPY_MIN, NEAR_COPY_DETAIL_MIN, BARE_NUMBER_MIN):
        return True
    if age_conflict(new, old) or birth_conflict(new, old):
        return True
    return {_calling_false_denies(new).polarity, _calling_false_denies(old).polarity} == {"asserts", "denies"}


def judge(new: Claim, old: Claim, similarity: float) -> Judgement:
    """How `new` stands to an earlier claim `old`, given the cosine similarity of their embeddings."""
    new, old = _calling_false_denies(new), _calling_false_denies(old)
    if similarity < RELATED_MIN:
        restated = _restatement(new, old) if similarity >= RESTATE_MIN else None
        if restated and not _difference(new, old) and not _why_not_the_same(new, old):
            return Judgement("supports", 0.6, f"Same claim: {_quote(restated)}")
        return UNRELATED
    if not (reads_as_english(new.text) and reads_as_english(old.text)):
        return Judgement("related", round(similarity, 2), "Same topic; not in English, so agreement is not judged")

    prop_new, prop_old = new.proposition or new.text, old.proposition or old.text
    shared = overlap(prop_new, prop_old)
    # Sharing only names ("Trump", "Putin") is sharing a topic, not a statement.
    shares_predicate = bool(predicate_words(prop_new) & predicate_words(prop_old))
    same = shares_predicate and (
        similarity >= SAME_MIN
        or (similarity >= SAME_WITH_OVERLAP_MIN and shared >= SAME_OVERLAP
            and len(content_words(prop_new) & content_words(prop_old)) >= 2)
        or (similarity >= SAME_DENIAL_MIN and new.polarity == old.polarity == "denies")
    ) or _restatement(new, old) is not None

    # A denial of the same proposition.
    # A report called false or a hoax, close to the claim, denies it even in other words.
    called_false = _polarity_conflict(new, old) and similarity >= CALLED_FALSE_MIN and bool(
        _EXPLICIT_DENIAL.search((new if new.polarity == "denies" else old).text))
    if _polarity_conflict(new, old) and (shares_predicate or called_false):
        attributed = _attributed_denial(new, old)
        if (attributed and similarity >= DISPUTE_MIN and shared >= DISPUTE_OVERLAP) or (
                similarity >= PLAIN_NEGATION_MIN and shared >= DISPUTE_OVERLAP
                and _negation_hits(new, old, contained=PLAIN_NEGATION_CONTAINED)):
            confidence = min(0.95, 0.3 + 0.5 * similarity + 0.2 * shared - (0 if attributed else 0.1))
            return Judgement("disputes", round(confidence, 2), _denial_reason(new, old))

    difference = _difference(new, old)
    if difference and new.polarity == old.polarity != "questions":
        kind, a, b, dispute_min = difference
        close = similarity >= dispute_min if dispute_min is not None else False
        # A near copy whose subject is a pronoun ("It was released on ...") sits lower in similarity.
        close = close or (dispute_min == DETAIL_CONFLICT_MIN and similarity >= NEAR_COPY_MIN and shared >= NEAR_COPY_OVERLAP)
        # An age or a date of birth of one person is checked by the person's name, not by shared words
        # ("died at 79" / "(1911 – 1988)").
        if close and (kind in PERSON_DETAILS or shared >= SAME_OVERLAP and shares_predicate):
            confidence = min(0.9, 0.3 + 0.6 * similarity)
            return Judgement("disputes", round(confidence, 2), _difference_reason(kind, a, b), kind)
    if not same:
        if difference:  # the reader sees what differs even between claims that are not the same statement
            kind, a, b, _ = difference
            return Judgement("related", round(similarity, 2), f"Same topic; {_difference_reason(kind.lower(), a, b)}")
        return Judgement("related", round(similarity, 2), "Same topic")
    if difference:
        kind, a, b, _ = difference
        return Judgement("related", round(similarity * 0.8, 2), f"Same topic; {_difference_reason(kind.lower(), a, b)}")
    why_not = _why_not_the_same(new, old)
    if why_not:
        return Judgement("related", round(similarity * 0.8, 2), why_not)

    confidence = round(min(0.95, 0.4 + 0.6 * similarity * (0.7 + 0.3 * shared)), 2)
    if new.polarity == "denies":
        by = f" by {new.speaker}" if new.speaker else ""
        return Judgement("supports", confidence, f"Same denial{by}: {_quote(new.details.get('quote') or new.text)}")
    return Judgement("supports", confidence, "Same claim")


# --------------------------------------------------------------------------------------------------
# A whole article against one claim

ARTICLE_CLAIMS = 5  # the article's claims closest to the claim are judged
ARTICLE_DISPUTE_MIN = 0.6  # the article disputes a claim through one of its claims at least this close
ARTICLE_HEDGE_MAX = 0.2  # an article that hedges more than one in five of its claims about it reports, it does not agree


def _closest(claim: Claim, others: list[Claim], similarities: list[float]):
    """The article's ARTICLE_CLAIMS claims closest to the claim, (similarity, claim), most similar first,
    and the rules' judgement of each."""
    ranked = sorted(zip(similarities, others), key=lambda pair: pair[0], reverse=True)[:ARTICLE_CLAIMS]
    return ranked, [judge(other, claim, sim) for sim, other in ranked]


def stance_inputs(claim: Claim, others: list[Claim], similarities: list[float]) -> tuple[list[float], Judgement]:
    """The learned layer's features of an article against a claim and the rules' own summary, exactly as
    `article_stance` computes them (training calls this, so the two cannot drift apart)."""
    from server import stance_model

    ranked, judgements = _closest(claim, others, similarities)
    return stance_model.features(claim, ranked, judgements, others), _sum_up(claim, ranked, judgements)


def stance_features(claim: Claim, others: list[Claim], similarities: list[float]) -> list[float]:
    return stance_inputs(claim, others, similarities)[0]


def article_stance(claim: Claim, others: list[Claim], similarities: list[float], model="default") -> Judgement:
    """How a whole article (its claims `others`) stands to one claim, e.g. another article's headline.

    The rules judge the article's claims closest to the claim (`rules_article_stance` sums them up). When a
    trained stance model is present (server/models/stance.json), it weighs those judgements together with
    the article's wording (refuting words near the claim, denials, hedges, attribution) and decides whether
    the article backs the claim, disputes it, or neither; the reason is still in words: the rules' reason
    for the pair that carries the label, or the article's own sentence. An article of fewer than
    `stance_model.MIN_CLAIMS` claims (a headline alone) is left to the rules. `model=None` is the rules alone.
    """
    from server import stance_model

    if not others:
        return UNRELATED
    ranked, judgements = _closest(claim, others, similarities)
    rules = _sum_up(claim, ranked, judgements)
    learned = stance_model.load() if model == "default" else model
    if learned is None or rules.label is None or len(others) < stance_model.MIN_CLAIMS:
        return rules
    vector = stance_model.features(claim, ranked, judgements, others)
    probabilities = learned.probabilities(vector)
    label = learned.decide(probabilities, vector)
    confidence = round(probabilities[label], 2)
    if label == "neither":
        if rules.label == "related":
            return rules
        return Judgement("related", round(ranked[0][0], 2), "Same topic; the article takes no clear side")
    rule_label = [j for j in judgements if j.label == label]
    if rule_label:
        return Judgement(label, confidence, max(rule_label, key=lambda j: j.confidence).reason)
    close = [c for s, c in ranked if s >= RELATED_MIN] or [ranked[0][1]]
    if label == "disputes":
        doubting = [c for c in close if stance_model.REFUTING.search(c.text) or c.polarity == "denies"
                    or stance_model.NEGATION.search(c.text)]
        quote = (doubting or close)[0]
        who = f"{_who(quote)} says" if quote.speaker else "The article says"
        return Judgement("disputes", confidence, f"{who} otherwise: {_quote(quote.text)}")
    return Judgement("supports", confidence, f"The article says the same: {_quote(close[0].text)}")


def rules_article_stance(claim: Claim, others: list[Claim], similarities: list[float]) -> Judgement:
    """The rules alone: how the article's closest claims, judged pair by pair, sum up."""
    if not others:
        return UNRELATED
    return _sum_up(claim, *_closest(claim, others, similarities))


def _sum_up(claim: Claim, ranked: list[tuple[float, Claim]], judgements: list[Judgement]) -> Judgement:
    """The article disputes the claim when one of its closest claims does (the article being the side that
    denies or differs) and none supports it. It supports the claim, a claim stated as fact, when one of them
    says the same in the article's own voice, none disputes it, and the article hedges almost nothing it
    reports: an article that relays who says what, or hedges, reports the claim, it does not take it up.
    Otherwise the article is related (both sides, or no stance), or unrelated when no claim is close.
    """
    pairs = ranked
    labelled = [(j, o, sim) for j, (sim, o) in zip(judgements, ranked) if j.label]
    if not labelled:
        return UNRELATED
    # An article that repeats a report the claim itself denies is reporting what is denied.
    # ... and a dispute from a claim far from this one is a passing remark, not the article's stance.
    # ... unless it is about one person, by name: an age, a date of birth.
    disputes = [j for j, o, sim in labelled if j.label == "disputes"
                and (sim >= ARTICLE_DISPUTE_MIN or j.detail in PERSON_DETAILS)
                and (o.polarity == "denies" or o.polarity == claim.polarity)]
    supports = [(j, o) for j, o, _ in labelled if j.label == "supports"]
    if disputes and not supports:
        return max(disputes, key=lambda j: j.confidence)
    best = round(pairs[0][0], 2)
    if supports and disputes:
        return Judgement("related", best, "The article reports both sides")
    own_voice = [j for j, o in supports if not o.speaker or (o.speaker or "").lower() == (claim.speaker or "").lower()]
    # Hedges that matter are those around the claim: among the article's claims about it.
    hedged_share = sum(bool(o.details.get("hedged")) for _, o, _ in labelled) / len(labelled)
    # Only a claim stated as fact can be taken up: "X says Y" or "reportedly Y" is itself a report.
    stated_as_fact = not claim.speaker and not claim.details.get("hedged")
    if own_voice and stated_as_fact and hedged_share <= ARTICLE_HEDGE_MAX:
        return max(own_voice, key=lambda j: j.confidence)
    if supports:
        return Judgement("related", best, "The article reports this as what others say, or with doubts")
    return max((j for j, _, _ in labelled if j.label == "related"), key=lambda j: j.confidence,
               default=Judgement("related", best, "Same topic"))
