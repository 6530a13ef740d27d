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


@pytest.mark.parametrize("text, shared", [
    # A place is one anchor whatever the language names it in, under its English name.
    ("日本首相访问德国。", {"japan", "germany"}),
    ("日本首相訪問德國。", {"japan", "germany"}),
    ("Perdana Menteri Jepun melawat Jerman.", {"japan", "germany"}),
    ("Le Premier ministre du Japon en Allemagne.", {"japan", "germany"}),
    # Several words, and the longest name where one holds another.
    ("美国和巴布亚新几内亚签署协议。", {"united states", "papua new guinea"}),
    ("Amerika Syarikat dan Papua New Guinea.", {"united states", "papua new guinea"}),
    # A large figure with its scale word is the same figure in digits, whatever the language.
    ("政府拨款3500万元。", {"35000000"}),
    ("Kerajaan memperuntukkan 35 juta.", {"35000000"}),
    ("The government set aside 35 million.", {"35000000"}),
    ("The government set aside 35,000,000.", {"35000000"}),
    ("约4万人和268亿", {"40000", "26800000000"}),
    ("26.8 billion and 40 thousand", {"40000", "26800000000"}),
])
def test_places_and_scaled_figures_are_shared_across_languages(text, shared):
    english = ("The summit in Japan and Germany set aside 35 million for 40 thousand people in the United States "
               "and Papua New Guinea, 26.8 billion in all.")
    assert shared <= set(anchors(text)) & set(anchors(english))


@pytest.mark.parametrize("text, absent", [
    # Case tells a country from a common word.
    ("We ate turkey from china bowls.", {"turkey", "china"}),
    # A place inside a longer word is not named.
    ("The Nigerian delegation left.", {"niger", "nigeria"}),
    # A scale word alone is no figure.
    ("Millions attended; a billion watched.", {"1000000", "1000000000"}),
])
def test_what_is_not_a_place_or_a_figure(text, absent):
    assert not absent & set(anchors(text))


def test_a_place_named_in_another_language_is_quoted_by_its_english_name():
    from server.relatedness import original_case

    assert original_case("united states", "美国总统") == "United States"
    assert original_case("japan", "Japan's prime minister") == "Japan"


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


def test_a_very_long_page_is_read_for_names_only_up_to_a_bound(monkeypatch):
    import server.anchors

    monkeypatch.setattr(server.anchors, "READ_CHARS", 60)
    found = anchors("Ostrand met Vale in Porthaven on Tuesday. " + "The rest of the page goes on. " * 5 + "Late Kestrel")
    assert {"ostrand", "vale", "porthaven"} <= set(found) and "kestrel" not in found
