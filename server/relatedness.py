"""Whether two articles report the same event, decided for the articles as a whole.

One loose sentence match ("the Kremlin denied it", "police said") says little: two articles are taken to
be on the same story only when they share much of what pins a report to its event. Three signals:

- anchors: the names, places and figures both name (anchors.py), weighted by rarity in the reader's
  history; they carry across languages.
- words: the TF-IDF cosine of their words (Chinese and Japanese as character pairs); it is only
  meaningful between articles in the same language, so pairs across languages rest on anchors alone.
- meaning: the cosine of the two articles' meaning vectors (the mean of their claims' vectors), which
  finds two reports of one event told in different words; the embedding model reads English only, so
  only between English articles.

A pair is on the same story when either signal reaches SAME_STORY; stories are the connected groups of
such pairs, so they do not depend on the order the articles were read in. A story can grow through a
chain of pairs; what the reader is shown beside an article are the members that also reach SHOWN
with it directly, each with the reason in words.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import cosines
from .anchors import idfs
from .stopwords import FUNCTION_WORDS


@dataclass(frozen=True)
class Thresholds:
    words: float                # TF-IDF cosine, same language
    anchors: float              # anchor similarity, same language
    anchors_across: float       # anchor similarity, different languages
    meaning: float              # cosine of the meaning vectors, both English (all-MiniLM-L6-v2)


# Set on the dev stories stream for precision first (each signal alone is right about 9 times in 10 at
# these levels); SHOWN scales the rarity-weighted overlaps by SHOWN_SCALE, so the two move together. A
# cosine does not scale that way: meaning shows what it joins, no less.
SAME_STORY = Thresholds(words=0.25, anchors=0.33, anchors_across=0.20, meaning=cosines.SAME_STORY_MEANING)
SHOWN_SCALE = 0.7
SHOWN = Thresholds(*(SHOWN_SCALE * v for v in (SAME_STORY.words, SAME_STORY.anchors, SAME_STORY.anchors_across)),
                   meaning=SAME_STORY.meaning)
MEANING_LANGUAGE = "en"      # the one language the embedding model reads

MAX_WORDS = 1_000            # distinct words kept per article (the most frequent): bounds storage and work
TEXT_CHARS = 30_000          # characters of an article read for its words
WORD_CANDIDATES = 40         # earlier articles compared in full, best by anchors...
LINKED_CANDIDATES = 10       # ... plus those holding the most of its claims' matches
REASON_NAMES = 3             # shared names quoted in a reason

_TOKEN = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def words(title: str | None, text: str) -> Counter:
    """The article's word counts: lower-cased words of two or more characters that are not function words,
    numbers, and overlapping character pairs of Chinese and Japanese runs (which have no spaces). Shared
    between callers: read it, never change it."""
    return _words_of(f"{title or ''}\n{text[:TEXT_CHARS]}")


@lru_cache(maxsize=512)    # the same earlier articles are compared with capture after capture
def _words_of(body: str) -> Counter:
    counts: Counter = Counter()
    for run in _CJK_RUN.findall(body):
        counts.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    for token in _TOKEN.findall(_CJK_RUN.sub(" ", body)):
        token = token.lower()
        if (len(token) > 1 or token.isdigit()) and token not in FUNCTION_WORDS:
            counts[token] += 1
    if len(counts) > MAX_WORDS:
        counts = Counter(dict(counts.most_common(MAX_WORDS)))
    return counts


def language_of(language: str | None, text: str) -> str:
    """The language to compare words in: the page's own (ISO 639-1), else its script."""
    if language:
        return language.lower()[:2]
    sample = text[:2000]
    letters = sum(ch.isalpha() for ch in sample) or 1
    return "cjk" if len(_CJK.findall(sample)) / letters > 0.3 else "latin"


def word_similarities(mine: Counter, theirs: dict[int, Counter], frequency_of, articles: int) -> dict[int, float]:
    """The cosine of the new article's unit TF-IDF vector (log-scaled counts, each word's rarity at the
    moment) with each earlier article's: {article: cosine}. `frequency_of(words)` gives {word: articles
    using it} (absent: none). One shared vocabulary, the weights worked out as arrays: a capture compares
    some fifty articles of up to MAX_WORDS words each."""
    vocabulary = {w: i for i, w in enumerate(set(mine).union(*theirs.values()))}
    if not vocabulary:
        return {other: 0.0 for other in theirs}
    frequency = frequency_of(list(vocabulary))
    counts = np.zeros(len(vocabulary))
    rows = np.fromiter(map(vocabulary.get, frequency, itertools.repeat(-1)), np.intp, len(frequency))
    known = rows >= 0               # words asked about (a frequency_of may answer more)
    counts[rows[known]] = np.fromiter(frequency.values(), np.float64, len(frequency))[known]
    rarity = idfs(counts, articles)

    def unit_vector(words: Counter) -> tuple[np.ndarray, np.ndarray]:
        rows = np.fromiter(map(vocabulary.__getitem__, words), np.intp, len(words))
        weights = (1.0 + np.log(np.fromiter(words.values(), np.float64, len(words)))) * rarity[rows]
        return rows, weights / (math.sqrt(weights @ weights) or 1.0)

    new = np.zeros(len(vocabulary))
    if mine:
        rows, weights = unit_vector(mine)
        new[rows] = weights
    scores = {}
    for other, words in theirs.items():
        if words:
            rows, weights = unit_vector(words)
            scores[other] = float(weights @ new[rows])
        else:
            scores[other] = 0.0
    return scores


def meaning_vector(claim_vectors: np.ndarray) -> np.ndarray | None:
    """The article's meaning: the unit mean of its claims' (unit) vectors; None without claims."""
    if claim_vectors is None or len(claim_vectors) == 0:
        return None
    mean = np.asarray(claim_vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else None


@dataclass
class Pair:
    """How one article relates to another, as a whole."""
    other: int
    anchors: float
    words: float
    same_language: bool
    shared_names: list[str] = field(default_factory=list)
    reprint: bool = False
    meaning: float = 0.0            # 0 unless both are English and have claims

    def reaches(self, limits: Thresholds) -> bool:
        if self.reprint or self.meaning >= limits.meaning:
            return True
        if self.same_language:
            return self.words >= limits.words or self.anchors >= limits.anchors
        return self.anchors >= limits.anchors_across

    @property
    def same_story(self) -> bool:
        return self.reaches(SAME_STORY)

    @property
    def shown(self) -> bool:
        return self.reaches(SHOWN)

    @property
    def strength(self) -> float:
        """One number to order pairs by: each signal relative to its own threshold."""
        if self.reprint:
            return 10.0
        limits = SAME_STORY
        if self.same_language:
            return max(self.words / limits.words, self.anchors / limits.anchors, self.meaning / limits.meaning)
        return self.anchors / limits.anchors_across

    def reason(self) -> str:
        if self.reprint:
            return "the same wire copy"
        parts = []
        if self.shared_names:
            parts.append("names " + ", ".join(self.shared_names))
        if self.same_language and self.words >= SHOWN.words:
            parts.append(f"{round(100 * self.words)}% word overlap")
        said = ["says much the same in other words"] if self.meaning >= SHOWN.meaning else []
        if parts:
            return "; ".join(["shares " + " and ".join(parts), *said])
        return said[0] if said else "same story"


@dataclass
class Other:
    """What is known of one earlier article when a new one is compared with it."""
    anchors: float                      # anchor similarity to the new article
    names: set[str]                     # those of its anchors the new article names too
    language: str
    words: float                        # the TF-IDF cosine of its words with the new article's
    meaning: np.ndarray | None = None   # its meaning vector, when it has one under this model


@dataclass
class Article:
    """The new article, as it is compared."""
    names: list[str]                    # its anchors, most frequent first
    name_weight: dict[str, float]
    language: str
    text: str
    meaning: np.ndarray | None = None


def compare(new: Article, others: dict[int, Other], reprint_of: int | None) -> list[Pair]:
    """A Pair for every compared earlier article, strongest first."""
    pairs, written = [], {}             # written: {anchor: as the article writes it}, for the reasons
    for other_id, other in others.items():
        same_language = other.language == new.language
        word_score = other.words if same_language else 0.0
        shared = [a for a in new.names if a in other.names]     # most frequent first, then the rarest
        shared.sort(key=lambda a: -round(new.name_weight.get(a, 0.0), 6))
        quoted = [a for a in shared if not any(ch.isdigit() for ch in a)][:REASON_NAMES]
        for anchor in quoted:
            if anchor not in written:
                written[anchor] = original_case(anchor, new.text)
        names = [written[a] for a in quoted]
        meaning = 0.0
        if (same_language and new.language == MEANING_LANGUAGE
                and new.meaning is not None and other.meaning is not None):
            meaning = float(new.meaning @ other.meaning)
        pairs.append(Pair(other_id, round(other.anchors, 4), round(word_score, 4), same_language,
                          names, reprint=other_id == reprint_of, meaning=round(meaning, 4)))
    return sorted(pairs, key=lambda p: (-p.strength, p.other))


def original_case(anchor: str, text: str) -> str:
    """Anchors are stored lower-cased; a reason quotes them as the article wrote them, or, for a place
    it names in another language, by the place's English name."""
    match = re.search(r"(?<![\w])" + re.escape(anchor) + r"(?![\w])", text, re.IGNORECASE)
    return match.group(0) if match else anchor.title()
