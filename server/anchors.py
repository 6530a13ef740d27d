"""Anchors: the names and figures that pin a report to one event, whatever language it is written in.

Two reports of the same event name the same people, places and organisations and quote the same
figures, even when one is in English and the other in Chinese or Malay ("COVID-19", "NTU", "93%").
Weighted by how rare they are in the reader's history (IDF), the anchors two articles share are the
strongest sign that they tell the same story; the embedding model, trained on English, cannot see that
across languages.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .places import places

# Names: a capitalised word, an acronym, or a mixed token ("COVID-19", "McDonald", "G20"); figures: a number
# of two or more digits or with thousands separators, with its decimals or per cent. ASCII look-arounds,
# not \b: in "对COVID-19的" the Chinese characters around the name are word characters too.
_ANCHOR = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z][A-Za-z]*[A-Z0-9][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|[A-Z][a-z]{2,}(?:-[A-Z][a-z]+)*)(?![A-Za-z0-9])"
    r"|(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d{2,})(?:\.\d+)?%?"
)
# Capitalised because they open a sentence, not because they name something.
_COMMON = frozenset(
    """the and but for nor yet this that these those there then than they their them she her his him its
    our you your who what when where which while why how after before since until during with without from
    into onto upon about above below under over between among also however meanwhile still some many most
    more much other others such each every all any both either neither one two three four five six seven
    eight nine ten here now today yesterday tomorrow last next new not no yes if as at by in of on or to up
    mr mrs ms dr""".split()
)
# A large figure is written "3.5 million", "3.5 juta" or "350万": read with its scale word, it is one figure
# whatever the language, written out in digits like "3,500,000" is ("3500000").
_SCALES = {"thousand": 1e3, "ribu": 1e3, "million": 1e6, "juta": 1e6, "billion": 1e9, "bilion": 1e9,
           "miliar": 1e9, "milyar": 1e9, "trillion": 1e12, "trilion": 1e12, "triliun": 1e12,
           "万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8}
_SCALED = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(" + "|".join(_SCALES) + r")(?![A-Za-z])",
                     re.IGNORECASE)
MAX_ANCHORS = 400          # a very long page: its most repeated anchors are enough
READ_CHARS = 200_000       # ... read from its first 200,000 characters (a long news article has 50,000)


def anchors(text: str) -> list[str]:
    """The article's distinct anchors, lower-cased, most frequent first; large figures with their scale
    word as plain numbers and the places it names in any language under their English names (places.py),
    so that reports in two languages can share them."""
    counts: dict[str, int] = {}
    text = (text or "")[:READ_CHARS]
    for match in _ANCHOR.findall(text):
        token = match.lower().replace(",", "")
        if token in _COMMON and not match.isupper():   # "Who" opens a question, "WHO" is a name
            continue
        counts[token] = counts.get(token, 0) + 1
    for whole, decimals, scale in _SCALED.findall(text):
        figure = str(round(float(whole.replace(",", "") + decimals) * _SCALES[scale.lower()]))
        counts[figure] = counts.get(figure, 0) + 1
    for place, times in places(text).items():
        counts[place] = max(counts.get(place, 0), times)     # "Japan" is both a name and a place
    ranked = sorted(counts, key=lambda t: (-counts[t], t))
    return ranked[:MAX_ANCHORS]


# A young history cannot tell rare from common: with one earlier article every shared name would look as
# common as "the". Rarity is measured as if the history held PRIOR_ARTICLES more articles naming none of
# them, so two reports of one event look alike from the first day, and the prior fades as reading grows.
PRIOR_ARTICLES = 20
IDF_FLOOR = 0.1   # however common, a name or word weighs a little


def idf(document_frequency: int, articles: int) -> float:
    """Rarity of a name or word among `articles` earlier articles (smoothed, never negative). The store
    sums the same rarity in SQL over many articles' anchors (`anchor_overlaps`)."""
    return math.log((articles + PRIOR_ARTICLES + 1) / (document_frequency + 1)) + IDF_FLOOR


def idfs(document_frequencies: np.ndarray, articles: int) -> np.ndarray:
    """`idf` of many words at once."""
    return np.log((articles + PRIOR_ARTICLES + 1) / (document_frequencies + 1.0)) + IDF_FLOOR


def similarity(mine: set[str], theirs: set[str], weight: dict[str, float]) -> float:
    """IDF-weighted overlap of two anchor sets, normalised like a cosine (0..1)."""
    return overlap_score(sum(weight.get(a, 0.0) for a in mine & theirs),
                         sum(weight.get(a, 0.0) for a in mine), sum(weight.get(a, 0.0) for a in theirs))


def overlap_score(shared: float, mine: float, theirs: float) -> float:
    """The weight two anchor sets share over the geometric mean of their weights."""
    return shared / math.sqrt(mine * theirs) if shared > 0 and mine > 0 and theirs > 0 else 0.0
