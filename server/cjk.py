"""Chinese, Japanese and Korean text: written without spaces between words, so lengths counted in words
or Latin characters undersell it."""

from __future__ import annotations

import re

CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# One Chinese character carries about as much as three Latin letters: a 150-character brief is an article.
LATIN_CHARS_PER_CJK = 3


def cjk_chars(text: str) -> int:
    return len(CJK_CHAR.findall(text))


def word_count(text: str) -> int:
    """Words of a sentence; unspaced Chinese or Japanese counts one word per two characters."""
    return len(CJK_CHAR.sub(" ", text).split()) + cjk_chars(text) // 2


def latin_length(text: str) -> int:
    """Length of the text as if it were written in Latin letters."""
    return len(text) + (LATIN_CHARS_PER_CJK - 1) * cjk_chars(text)
