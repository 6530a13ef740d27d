"""Country and region names in many languages, read as one name: "日本", "Jepun", "Japon" and "Japan" are
the same place.

A Chinese report writes every name in characters, so it shares no spelled name with an English report of
the same event; the places both name are then the only anchors they can share. The names come from the
Unicode CLDR (through Babel), one list per language below, each mapped to its English name, lower-cased,
which is also the anchor an English article already has for a one-word name.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

from babel import Locale

# The languages whose place names are read: those of the readers' pages we know of, and the large ones.
LANGUAGES = ("en", "zh", "zh_Hant", "ja", "ko", "ms", "id", "de", "fr", "es", "pt", "it", "nl", "ru")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


@cache
def _names() -> tuple[dict[str, str], re.Pattern, re.Pattern]:
    english = Locale.parse("en").territories
    canonical: dict[str, str] = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            # Two-letter codes are countries and territories; numeric ones are continents and regions
            # ("Europe", "Asia"), too broad to pin a report to an event.
            if len(code) == 2 and code.isalpha() and code in english and len(name) >= 2:
                canonical.setdefault(name, english[code].lower())
    # Names in Chinese, Japanese or Korean script sit between other characters, without spaces.
    cjk = [n for n in canonical if _CJK.search(n)]
    spaced = [n for n in canonical if not _CJK.search(n)]
    return (canonical, re.compile(_trie_pattern(cjk)), re.compile(r"(?<!\w)" + _trie_pattern(spaced) + r"(?!\w)"))


def _trie_pattern(names: list[str]) -> str:
    """One regular expression for many names, shaped as a trie of their characters so that a position is
    tried against the few names sharing its first letters, not against all of them. Longer names win."""
    trie: dict = {}
    for name in names:
        node = trie
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return pattern(trie)


def places(text: str) -> Counter:
    """{English name, lower-cased: times named} for every country or territory the text names, in any of
    LANGUAGES. Matching is case-sensitive: "Turkey" is a country, "turkey" a bird."""
    canonical, cjk, spaced = _names()
    found: Counter = Counter()
    for pattern in (cjk, spaced):
        found.update(canonical[m] for m in pattern.findall(text or ""))
    return found
