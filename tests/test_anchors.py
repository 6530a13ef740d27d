"""Anchors: the names and figures that tie reports of one event together, in any language."""

from __future__ import annotations

import pytest

from server.anchors import MAX_ANCHORS, anchors, idf, similarity


@pytest.mark.parametrize("text, expected", [
    ("Peskov denied that Trump called Putin.", {"peskov", "trump", "putin"}),
    # Capitalised only because a sentence starts there: not a name.
    ("The Kremlin said. However, nothing changed.", {"kremlin"}),
    # Acronyms, mixed tokens and hyphenated names stay whole.
    ("The WHO said COVID-19 cases at NTU rose; McDonald agreed with G20 and Coca-Cola.",
     {"who", "covid-19", "ntu", "mcdonald", "g20", "coca-cola"}),
    # Figures of two digits or more, with decimals and per cent; single digits are too common.
    ("Turnout was 93% of 1,200 voters, up 4.5 points from 7 years ago and 12.5% in 2019.",
     {"turnout", "93%", "1200", "12.5%", "2019"}),
    # Names inside unspaced Chinese: the Chinese characters around them do not hide them.
    ("南洋理工大学NTU对COVID-19的研究显示93%的学生已接种疫苗。", {"ntu", "covid-19", "93%"}),
    ("Kerajaan Malaysia mengumumkan 93% pelajar NTU telah divaksin.", {"kerajaan", "malaysia", "93%", "ntu"}),
    ("no names at all, only words in lower case.", set()),
    ("", set()),
])
def test_anchors(text, expected):
    assert set(anchors(text)) == expected


def test_anchors_are_distinct_and_most_frequent_first():
    found = anchors("Putin met Trump. Putin spoke. Putin left. Trump stayed.")
    assert found == ["putin", "trump"]


def test_a_very_long_page_keeps_only_its_most_repeated_anchors():
    text = " ".join(f"Name{i:04d}" for i in range(MAX_ANCHORS + 100)) + " Repeated Repeated"
    found = anchors(text)
    assert len(found) == MAX_ANCHORS and found[0] == "repeated"


@pytest.mark.parametrize("df, articles, rarer_than", [
    (0, 100, (1, 100)),
    (1, 100, (50, 100)),
    (50, 100, (100, 100)),
])
def test_idf_falls_with_how_many_articles_name_it(df, articles, rarer_than):
    assert idf(df, articles) > idf(*rarer_than) > 0


@pytest.mark.parametrize("mine, theirs, expected", [
    ({"a", "b"}, {"a", "b"}, 1.0),
    ({"a", "b"}, {"c", "d"}, 0.0),
    ({"a"}, set(), 0.0),
    # Sharing the rare anchor counts for more than sharing the common one.
    ({"rare", "common"}, {"rare", "x"}, pytest.approx(3 / (4 * 6) ** 0.5)),
    ({"rare", "common"}, {"common", "x"}, pytest.approx(1 / (4 * 4) ** 0.5)),
])
def test_similarity(mine, theirs, expected):
    weight = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0, "rare": 3.0, "common": 1.0, "x": 3.0}
    assert similarity(mine, theirs, weight) == expected
