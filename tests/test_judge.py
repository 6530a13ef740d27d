"""Judging claim pairs: fixed similarities for the rules, the real model for the four story pages."""

from __future__ import annotations

import html
import re

import pytest

from helpers import STORY_PAGES, page_html
from server.claims import extract_claims, make_claim
from server.judge import article_stance, judge

PUBLISHED = "The book is set to be published on Oct. 15 by Simon & Schuster."
SEVEN_CALLS = (
    'The book, titled "War," also reports that Trump and Putin have spoken on the telephone as many as seven '
    "times since Trump left the White House in 2021."
)
PESKOV_DENIAL = (
    "Peskov also denied Woodward’s claim that Trump and Putin have spoken on the telephone several times since "
    "Trump left office."
)


@pytest.mark.parametrize(
    "new, old, similarity, label, reason_words",
    [
        # Denial against assertion.
        (PESKOV_DENIAL, SEVEN_CALLS, 0.6, "disputes", ["Peskov denies", "the book"]),
        ("The minister said the bridge had not been closed.", "The bridge was closed on Monday, the city said.",
         0.75, "disputes", ["minister denies"]),
        # ... but an assertion that itself holds a denial is too mixed to set against one.
        ("The Kremlin confirms it got the machines, denies the calls.", PESKOV_DENIAL, 0.7, "related", []),
        # Different numbers, dates and outcomes for the same thing.
        ("The storm killed 12 people in the county.", "The storm killed 30 people in the county.", 0.9,
         "disputes", ["Different number", "12 people", "30 people"]),
        ("The storm killed at least 12 people in the county.", "The storm killed 30 people in the county.", 0.9,
         "supports", ["Same claim"]),
        ("The book will be published on Oct. 22 by Simon & Schuster.", PUBLISHED, 0.85, "disputes",
         ["Different date", "Oct. 22", "Oct. 15"]),
        ("Unemployment rose sharply in the state last month.", "Unemployment fell sharply in the state last month.",
         0.9, "disputes", ["Opposite outcome", "rose", "fell"]),
        ("The senator was acquitted of the bribery charges.", "The senator was convicted of the bribery charges.",
         0.85, "disputes", ["acquitted", "convicted"]),
        ("Rigby was born on 26 September 1989 in Liverpool.", "Rigby was born on the 24th of September in Liverpool.",
         0.9, "disputes", ["Different date", "26 September 1989", "24th of September"]),
        ("The musical opened on Broadway in 1979.", "The musical opened on Broadway in 1978.", 0.9, "disputes",
         ["Different year", "1979", "1978"]),
        ("The musical opened on Broadway after 1979.", "The musical opened on Broadway in 1981.", 0.9, "supports",
         []),
        ("The population of the town was 76,728.", "The population of the town was 76,729.", 0.95, "disputes",
         ["Different number"]),
        ("The 88th battalion was sent to the front.", "The 89th battalion was sent to the front.", 0.9, "supports",
         []),
        # A plain negative sentence is not someone denying a report.
        ("The film was not released in the 1980s.", "The film was released in 1985 in cinemas.", 0.8, "related",
         []),
        # Vague and exact counts can both be true.
        ("They have spoken several times since 2021.", "They have spoken seven times since 2021.", 0.9,
         "supports", ["Same claim"]),
        # Agreement.
        (PUBLISHED, "The book is set to be published Oct. 15.", 0.9, "supports", ["Same claim"]),
        ("Peskov said the two men had not spoken by phone since 2021.", PESKOV_DENIAL, 0.63, "supports",
         ["Same denial"]),
        # Conflicts between claims that only share names are not believed.
        ("Kremlin denies Trump and Putin have talked since 2021",
         "Trump’s critics have long taken issue with his coziness with leaders, including Putin.", 0.46,
         "related", []),
        # Questions are not stances.
        ("Senators asked whether the bridge had been closed.", "The bridge had been closed, the city said.", 0.8,
         "related", ["questions"]),
        # A statement nested in a longer sentence, restated in full elsewhere.
        ("The book, which is set to be published Oct. 15, raises questions about the war.", PUBLISHED, 0.37,
         "supports", ["published Oct. 15"]),
        # Bands of similarity alone.
        ("Shop owners spent days shoveling mud.", "Trump sent testing machines to Putin.", 0.1, None, []),
        ("The river flooded the village.", "Storms flooded several towns.", 0.55, "related", ["Same topic"]),
    ],
)
def test_judge_with_fixed_similarity(new, old, similarity, label, reason_words):
    judgement = judge(make_claim(new, 1), make_claim(old, 1), similarity)
    assert judgement.label == label
    assert 0.0 <= judgement.confidence <= 1.0
    for word in reason_words:
        assert word in judgement.reason


@pytest.mark.parametrize(
    "similarities, label",
    [
        ([0.2, 0.3, 0.3], None),
        ([0.3, 0.3, 0.55], "related"),
        ([0.9, 0.3, 0.55], "supports"),
        ([0.5, 0.65, 0.55], "disputes"),
    ],
)
def test_article_stance_aggregates_the_closest_claims(similarities, label):
    headline = make_claim("The storm killed 12 people in the county", 0, True)
    body = [
        make_claim("The storm killed 12 people in the county, officials said.", 1),
        make_claim("The mayor said the storm had not killed anyone in the county.", 2),
        make_claim("Rescue crews searched the flooded roads for survivors on Sunday.", 3),
    ]
    assert article_stance(headline, body, similarities).label == label


def test_article_stance_of_an_empty_article():
    assert article_stance(make_claim("Anything at all here"), [], []).label is None


# --------------------------------------------------------------------------------------------------
# The four story pages (tests/pages) with the real model

STORY = {number: name for number, (name, _) in enumerate(STORY_PAGES, start=1)}


def _page_claims(name: str):
    """Headline and article paragraphs picked by hand: tags stripped from the <article>'s <h1> and <p>s."""
    source = page_html(name)
    article = re.search(r"<article>(.*?)</article>", source, re.S).group(1)
    title = html.unescape(re.search(r"<h1>(.*?)</h1>", article, re.S).group(1))
    paragraphs = [html.unescape(re.sub(r"<[^>]+>", "", p)) for p in re.findall(r"<p[^>]*>(.*?)</p>", article, re.S)]
    return extract_claims(title, "\n".join(paragraphs))


@pytest.fixture(scope="module")
def pages(real_embedder):
    claims = {number: _page_claims(name) for number, name in STORY.items()}
    vectors = {number: real_embedder.embed([c.text for c in page]) for number, page in claims.items()}
    return claims, vectors


def _find(page, start: str):
    matches = [c for c in page if c.text.startswith(start)]
    assert len(matches) == 1, start
    return matches[0]


def _judge_pages(pages, new_page, new_start, old_page, old_start):
    claims, vectors = pages
    new, old = _find(claims[new_page], new_start), _find(claims[old_page], old_start)
    similarity = float(vectors[new_page][claims[new_page].index(new)] @ vectors[old_page][claims[old_page].index(old)])
    return judge(new, old, similarity)


@pytest.mark.model
@pytest.mark.parametrize(
    "new_page, new_start, old_page, old_start, label, reason_words",
    [
        (3, "Former governor Marcus Vale did send", 1, "Former governor Marcus Vale secretly sent", "supports",
         ["Same claim"]),
        (3, "Riedel also denied", 1, "The book, titled", "disputes", ["Riedel denies", "not true"]),
        (3, "The book, which is set to be published", 1, "The book is set to be published", "supports",
         ["Nov. 4"]),
        (4, "Ostrand spokesperson Tomas Riedel said", 1, "The book, titled", "disputes", ["Riedel denies"]),
        (4, "Ostrand spokesperson Tomas Riedel said", 3, "Riedel also denied", "supports", ["Same denial"]),
    ],
)
def test_story_pages_expected_outcomes(pages, new_page, new_start, old_page, old_start, label, reason_words):
    judgement = _judge_pages(pages, new_page, new_start, old_page, old_start)
    assert judgement.label == label, judgement
    for word in reason_words:
        assert word in judgement.reason


@pytest.mark.model
@pytest.mark.parametrize("other_page", [1, 3, 4])
def test_library_story_matches_nothing_on_the_other_pages(pages, other_page):
    claims, vectors = pages
    similarities = vectors[2] @ vectors[other_page].T
    labels = {
        judge(new, old, float(similarities[i, j])).label
        for i, new in enumerate(claims[2])
        for j, old in enumerate(claims[other_page])
    }
    labels |= {
        judge(old, new, float(similarities[i, j])).label
        for i, new in enumerate(claims[2])
        for j, old in enumerate(claims[other_page])
    }
    assert labels == {None}


@pytest.mark.model
def test_the_calls_story_raises_no_false_alarm_between_agreeing_pages(pages):
    """Pages 3 and 4 agree on the generators and the denial: no claim of page 4 disputes page 3's denial."""
    claims, vectors = pages
    denial = _find(claims[3], "Riedel also denied")
    sims = vectors[4] @ vectors[3][claims[3].index(denial)]
    labels = {judge(new, denial, float(s)).label for new, s in zip(claims[4], sims)}
    assert "disputes" not in labels
