"""Judging claim pairs: fixed similarities for the rules, the real model for the four story pages."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from helpers import STORY_PAGES, page_html
from server import stance_model
from server.claims import extract_claims, make_claim
from server.judge import article_stance, judge, may_dispute, rules_article_stance, stance_features

PUBLISHED = "The book is set to be published on Oct. 15 by Simon & Schuster."
SEVEN_CALLS = (
    'The book, titled "War," also reports that Trump and Putin have spoken on the telephone as many as seven '
    "times since Trump left the White House in 2021."
)
PESKOV_DENIAL = (
    "Peskov also denied Woodward’s claim that Trump and Putin have spoken on the telephone several times since "
    "Trump left office."
)


PAIRS = [
    # Denial against assertion.
    (PESKOV_DENIAL, SEVEN_CALLS, 0.6, "disputes", ["Peskov denies", "the book"]),
    ("The minister said the bridge had not been closed.", "The bridge was closed on Monday, the city said.",
     0.75, "disputes", ["minister denies"]),
    # A report called false, close to the claim, denies it even in other words.
    ("Reports that Mayor Lin resigned are false, the city said.", "Mayor Lin quit on Friday.", 0.62,
     "disputes", ["The city denies"]),
    ("Reports that Mayor Lin resigned are false, the city said.", "Mayor Lin quit on Friday.", 0.5,
     "related", []),
    # ... or a hoax: a sentence that calls the report false denies it, it never backs it.
    ("Reports that a whale swam up the river to the old mill are a hoax, the coast guard said.",
     "A whale swam up the river to the old mill.", 0.8, "disputes", ["The coast guard denies"]),
    # ... but an assertion that itself holds a denial is too mixed to set against one.
    ("The Kremlin confirms it got the machines, denies the calls.", PESKOV_DENIAL, 0.7, "related", []),
    # Negation and its scope: a plain negative sentence disputes what its negation bears on.
    ("Nobody was hurt in the fire at the depot.", "Several people were hurt in the fire at the depot.", 0.8,
     "disputes", ["denies"]),
    ("No one was injured when the roof of the school collapsed.",
     "Four workers were injured when the roof of the school collapsed.", 0.8, "disputes", ["denies"]),
    ("The ruling party failed to win a majority in parliament.",
     "The ruling party won a majority in parliament.", 0.85, "disputes", ["denies"]),
    ("The vaccine is not safe, officials said.", "The vaccine is safe, officials said.", 0.93, "disputes",
     ["Officials deny this", "not safe"]),
    # ... not what it does not bear on, nor a negation in a subordinate clause.
    ("The mayor did not attend the opening of the new bridge.", "The new bridge opened to traffic on Monday.",
     0.6, "related", []),
    ("Engineers fitted steel beams so that the roof would not sag.", "Engineers fitted steel beams to the roof.",
     0.85, "related", ["negation"]),
    # Different numbers, dates, quantities and outcomes for the same thing.
    ("The storm killed 12 people in the county.", "The storm killed 30 people in the county.", 0.9,
     "disputes", ["Different number", "12 people", "30 people"]),
    ("The storm killed at least 12 people in the county.", "The storm killed 30 people in the county.", 0.9,
     "supports", ["Same claim"]),
    ("The air quality index in the capital reached 408 on Sunday.",
     "The air quality index in the capital is 218 right now.", 0.8, "related",
     ["different number", "408", "218"]),
    ("The air quality index reached 408 on Sunday, a hazardous level.",
     "The air quality index right now is 218, which is poor.", 0.59, "related", ["different number: “408” vs “218”"]),
    ("The air quality index in the capital reached 408 on Sunday.",
     "The air quality index in the capital reached 218 on Sunday.", 0.95, "disputes",
     ["Different number", "408", "218"]),
    ("Between 10 and 20 people were arrested at the march.", "15 people were arrested at the march.", 0.9,
     "supports", []),
    ("About 200 people attended the rally in the park.", "210 people attended the rally in the park.", 0.9,
     "supports", []),
    ("The book will be published on Oct. 22 by Simon & Schuster.", PUBLISHED, 0.85, "disputes",
     ["Different date", "Oct. 22", "Oct. 15"]),
    ("The election will be held on 3/3/2024, the commission said.",
     "The election will be held on 5/3/2024, the commission said.", 0.95, "disputes",
     ["Different date", "3/3/2024", "5/3/2024"]),
    ("The summit opens on 3/5/2024 in the capital.", "The summit opens on 5/3/2024 in the capital.", 0.95,
     "related", ["dates"]),
    ("The new law takes effect on 2024-07-01 across the state.",
     "The new law takes effect on July 1, 2024 across the state.", 0.9, "supports", []),
    ("Mara Quinn was born on 26 September 1989 in Leeds.", "Mara Quinn was born on the 24th of September in Leeds.",
     0.9, "disputes", ["Different date", "26 September 1989", "24th of September"]),
    ("The play opened in the West End in 1979.", "The play opened in the West End in 1978.", 0.9, "disputes",
     ["Different year", "1979", "1978"]),
    ("The play opened in the West End after 1979.", "The play opened in the West End in 1981.", 0.9,
     "supports", []),
    # Years that differ with no sign they are the same event's: neither a dispute nor an agreement.
    ("The ferry service was created by the harbour board in 1963.",
     "The ferry service of the harbour board first sailed in 1964.", 0.85, "related",
     ["years differ", "1963", "1964"]),
    ("The bakery opened its first shop before 1950.", "The bakery opened its first shop in 1950.", 0.95,
     "disputes", ["Different year", "before 1950"]),
    ("The village had 4,512 residents.", "The village had 4,513 residents.", 0.95, "disputes",
     ["Different number"]),
    ("The 12th regiment was sent to the border.", "The 13th regiment was sent to the border.", 0.9, "disputes",
     ["Different number", "12", "13"]),
    ("All passengers survived the crash, the airline said.",
     "Only some passengers survived the crash, the airline said.", 0.9, "disputes",
     ["Different quantity", "all", "only some"]),
    ("Unemployment rose sharply in the state last month.", "Unemployment fell sharply in the state last month.",
     0.9, "disputes", ["Opposite outcome", "rose", "fell"]),
    ("The senator was acquitted of the bribery charges.", "The senator was convicted of the bribery charges.",
     0.85, "disputes", ["acquitted", "convicted"]),
    ("Police said the suspect, Daniel Marsh, was arrested in Leeds on Friday.",
     "Police said the suspect, Daniel Marsh, was arrested in Bristol on Friday.", 0.92, "disputes",
     ["Different name", "Leeds", "Bristol"]),
    # An amount without a unit is set against the other's amount of the same thing (the words before it) ...
    ("The town had a population of 4,120 at the last census.",
     "The population of the town was more than 4,500 at the last census.", 0.8, "disputes",
     ["Different number", "4,120", "more than 4,500"]),
    ("The post office has the ZIP code 40512.", "The post office, in the old mill, has the ZIP code 40513.", 0.7,
     "disputes", ["Different number", "40512", "40513"]),
    # ... not against an amount of something else, nor one told of another time.
    ("The town had a population of 4,120 at the last census.",
     "The town spent 5,300 on the census, the council said.", 0.8, "related", []),
    ("The river's level stood at 412 on Sunday, the agency said.",
     "The river's level is 290 right now, the agency said.", 0.8, "related", ["different number"]),
    # A bound ("longer than", "older than", "as high as") is checked as a bound, however round the figure.
    ("The new bridge is longer than 900 metres.", "The new bridge is 850 metres long.", 0.8, "disputes",
     ["Different number", "longer than 900 metres", "850 metres"]),
    ("The new bridge is longer than 800 metres.", "The new bridge is 850 metres long.", 0.9, "supports", []),
    ("The singer was older than 40 when she retired.", "The singer retired at the age of 35.", 0.9, "disputes",
     ["Different number", "older than 40", "35"]),
    ("Gusts as high as 140 km an hour hit the coast.", "Gusts of 120 km an hour hit the coast.", 0.9,
     "supports", []),
    ("The valley is less than 20 km wide.", "The valley is 25 km wide.", 0.9, "disputes", ["Different number"]),
    # The year of a full date is the year of what the sentence says happened ...
    ("The choir was founded on 12 March 1961 in the old town.",
     "The choir was founded in 1962 in the old town.", 0.9, "disputes", ["Different year", "1961", "1962"]),
    # ... and "1962 as part of" is the year 1962, not an amount of something.
    ("The regiment was formed on 12 March 1961.", "The regiment was formed in 1962 as part of the new army.", 0.9,
     "related", ["1961", "1962"]),
    # A day within a span the other gives is not a different date; a day outside it is.
    ("The divers were rescued on May 5 near the reef.",
     "The divers were rescued between May 1 and June 30 near the reef.", 0.9, "supports", []),
    ("The divers were rescued on July 5 near the reef.",
     "The divers were rescued between May 1 and June 30 near the reef.", 0.9, "disputes", ["Different date"]),
    # An age at death against a life span given for the same person (by name), exactly when both dates are full.
    ("Mara Quinn died aged 75 in Leeds.", "Mara Quinn (1911–1988) taught music in Leeds for forty years.", 0.6,
     "disputes", ["Different age", "died aged 75", "76 or 77"]),
    ("The painter Ada Lund was 78 when she died.",
     "The painter Ada Lund (June 13, 1911 – September 1, 1988) lived in Oslo.", 0.6, "disputes",
     ["Different age", "was 78 when she died", ": 77"]),
    ("The painter Ada Lund was 77 when she died.",
     "The painter Ada Lund (June 13, 1911 – September 1, 1988) lived in Oslo.", 0.6, "supports", []),
    ("Mara Quinn died aged 75 in Leeds.",
     "Her teacher at the conservatory, Ada Lund (1911–1988), lived in Leeds for forty years.", 0.6, "related", []),
    # Two dates of birth of one person (the same names before each date), from "born" or a life span ...
    ("Mara Quinn was born on July 21, 1941, in Leeds.", "Mara Quinn (born 21 July 1940) is a British painter.", 0.5,
     "disputes", ["Different date of birth", "July 21, 1941", "21 July 1940"]),
    ("Mara Quinn was born on July 21, 1940, in Leeds.", "Mara Quinn (born 21 July 1940) is a British painter.", 0.5,
     "related", []),
    ("Tom Quinn was born on 2 March 1952 in Hull.",
     "Mara Quinn (born 2 March 1948) and Tom Quinn (2 March 1950 – 5 May 2010) were painters.", 0.6, "disputes",
     ["Different date of birth", "2 March 1952", "2 March 1950"]),
    # ... not the birth of another person of the same family name,
    ("Tom Quinn was born on 2 March 1950 in Hull.",
     "Mara Quinn (born 2 March 1948) and Tom Quinn (2 March 1950 – 5 May 2010) were painters.", 0.6, "supports", []),
    # ... nor a year the sentence only counts from, nor a decade (which is no agreement with a year outside it).
    ("Mara Quinn was born the year after 1939 in Leeds.", "Mara Quinn (born 21 July 1940) is a British painter.",
     0.6, "supports", []),
    ("Mara Quinn was born in the 1930's in Leeds.", "Mara Quinn (born 21 July 1940) is a British painter.", 0.6,
     "related", ["years differ", "1930s", "1940"]),
    ("Mara Quinn was born in the 1940s in Leeds.", "Mara Quinn (born 21 July 1940) is a British painter.", 0.6,
     "supports", []),
    # One thing written two ways is not a different detail: abbreviations, acronyms, spellings, figures.
    ("UN officials arrived in the capital on Monday to inspect the dam.",
     "United Nations officials arrived in the capital on Monday to inspect the dam.", 0.97, "supports", []),
    ("U.S. officials arrived in the capital on Monday to inspect the dam.",
     "US officials arrived in the capital on Monday to inspect the dam.", 0.99, "supports", []),
    ("Houses shook near the epicentre of the quake on the coast.",
     "Houses shook near the epicenter of the quake on the coast.", 0.98, "supports", []),
    ("Hundreds died in the Sept. 19 earthquake in the old city.",
     "Hundreds died in the Sep 19 earthquake in the old city.", 0.98, "supports", []),
    ("President Zelensky said the troops had crossed the river.",
     "President Zelenskyy said the troops had crossed the river.", 0.99, "supports", []),
    ("The minister's adviser, Kim Sang Mok, said talks would resume.",
     "The minister's adviser, Kim Sang-mok, said talks would resume.", 0.98, "supports", []),
    ("Up to eight people died in the flooding on the island.", "Up to 8 people died in the flooding on the island.",
     0.99, "supports", []),
    ("The deal was signed in Aug. by both companies.", "The deal was signed in August by both companies.", 0.98,
     "supports", []),
    # ... but two names that only look alike are two names.
    ("The minister flew to Austria on Tuesday for the trade talks.",
     "The minister flew to Australia on Tuesday for the trade talks.", 0.92, "disputes",
     ["Different name", "Austria", "Australia"]),
    ("The mayor met Ken Hall on Friday about the budget.", "The mayor met Kent Hall on Friday about the budget.",
     0.95, "disputes", ["Different name", "Ken", "Kent"]),
    # A near copy with another word in one place may be a synonym: never a dispute, never support.
    ("Police arrested twelve protesters outside the city hall on Friday.",
     "Police detained twelve protesters outside the city hall on Friday.", 0.95, "related",
     ["one detail differs"]),
    # Vague and exact counts can both be true.
    ("They have spoken several times since 2021.", "They have spoken seven times since 2021.", 0.9,
     "supports", ["Same claim"]),
    # Agreement.
    (PUBLISHED, "The book is set to be published Oct. 15.", 0.9, "supports", ["Same claim"]),
    ("The storm killed 12 people in the county, officials said.", "Twelve people died in the county storm.",
     0.85, "supports", ["Same claim"]),
    ("Peskov said the two men had not spoken by phone since 2021.", PESKOV_DENIAL, 0.63, "supports",
     ["Same denial"]),
    # A hedge is not a denial, and a hedged report does not support a plain one.
    ("The company reportedly plans to cut 500 jobs.", "The company plans to cut 500 jobs.", 0.9, "related",
     ["hedges"]),
    ("Channel 9 has not been able to independently verify the video of the flood.",
     "Channel 9 showed a video of the flood.", 0.6, "related", []),
    # Sharing a name is sharing a topic, not a statement.
    ("WeWork is headquartered in New York City.", "Inside the WeWork investigation: what regulators found",
     0.72, "related", ["Same topic"]),
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
]


@pytest.mark.parametrize("new, old, similarity, label, reason_words", PAIRS)
def test_judge_with_fixed_similarity(new, old, similarity, label, reason_words):
    judgement = judge(make_claim(new, 1), make_claim(old, 1), similarity)
    assert judgement.label == label, judgement
    assert 0.0 <= judgement.confidence <= 1.0
    assert judgement.reason or label is None
    for word in reason_words:
        assert word in judgement.reason, judgement


@pytest.mark.parametrize("new, old", sorted({(new, old) for new, old, *_ in PAIRS} | {(old, new) for new, old, *_ in PAIRS}))
def test_a_pair_the_quick_test_rules_out_is_never_a_dispute(new, old):
    a, b = make_claim(new, 1), make_claim(old, 1)
    for similarity in [x / 100 for x in range(20, 100, 5)]:
        if judge(a, b, similarity).label == "disputes":
            assert may_dispute(a, b, similarity), similarity


# Denials and assertions in other languages: English rules cannot read them, so never supports or disputes.
OTHER_LANGUAGES = [
    ("es", "El ministro negó que el puente estuviera cerrado.", "El ministro dijo que el puente estaba cerrado."),
    ("de", "Der Minister bestritt, dass die Brücke gesperrt war.", "Der Minister sagte, dass die Brücke gesperrt war."),
    ("ms", "Menteri menafikan bahawa jambatan itu ditutup.", "Menteri berkata bahawa jambatan itu ditutup."),
    ("id", "Menteri membantah bahwa jembatan itu ditutup.", "Menteri mengatakan bahwa jembatan itu ditutup."),
    ("zh", "部长否认大桥已经关闭。", "部长说大桥已经关闭。"),
    ("zh-en", "部长说大桥已经关闭。", "The minister said the bridge was closed."),
]


@pytest.mark.parametrize("language, new, old", OTHER_LANGUAGES)
@pytest.mark.parametrize("similarity", [0.6, 0.9, 0.99])
def test_other_languages_are_at_most_related(language, new, old, similarity):
    for a, b in ((new, old), (old, new), (new, new)):
        judgement = judge(make_claim(a, 1), make_claim(b, 1), similarity)
        assert judgement.label == "related", (language, judgement)
        assert "not in English" in judgement.reason


@pytest.mark.parametrize(
    "similarities, label",
    [
        ([0.2, 0.3, 0.3], None),
        ([0.3, 0.3, 0.55], "related"),
        ([0.9, 0.3, 0.55], "supports"),
        ([0.3, 0.65, 0.55], "disputes"),
        ([0.3, 0.55, 0.5], "related"),  # a denial this far from the claim is not the article's stance
        ([0.9, 0.65, 0.55], "related"),  # the article reports both sides
    ],
)
def test_rules_sum_up_the_pair_judgements(similarities, label):
    headline = make_claim("The storm killed 12 people in the county", 0, True)
    body = [
        make_claim("The storm killed 12 people in the county on Sunday.", 1),
        make_claim("The mayor said the storm had not killed anyone in the county.", 2),
        make_claim("Rescue crews searched the flooded roads for survivors on Sunday.", 3),
    ]
    stance = rules_article_stance(headline, body, similarities)
    assert stance.label == label
    # The summary is one of the pair judgements, or says why it is none of them.
    pairs = {(j.label, j.reason) for j in (judge(c, headline, s) for c, s in zip(body, similarities))}
    assert (stance.label, stance.reason) in pairs or stance.label in ("related", None)


def test_article_stance_relaying_who_says_it_does_not_support():
    headline = make_claim("The storm killed 12 people in the county", 0, True)
    body = [make_claim("The storm killed 12 people in the county, officials said.", 1)]
    assert judge(body[0], headline, 0.9).label == "supports"
    assert article_stance(headline, body, [0.9]).label == "related"


def test_article_stance_hedged_article_does_not_support():
    headline = make_claim("The company will cut 500 jobs this year", 0, True)
    body = [
        make_claim("The company will cut 500 jobs this year, the union said.", 1),
        make_claim("Analysts said the plan could still change before the summer.", 2),
        make_claim("The company reportedly discussed the plan with investors.", 3),
    ]
    assert article_stance(headline, body, [0.9, 0.4, 0.5]).label == "related"


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


# --------------------------------------------------------------------------------------------------
# The learned layer of the article stance (server/stance_model.py, weights in server/models/stance.json)

# Invented articles: (headline, [(sentence, its similarity to the headline)], the article's stance). Each has
# the length of a short news story, with background sentences far from the headline.
BACKGROUND = [
    ("The city has about 200,000 residents and a busy harbour.", 0.22),
    ("Local schools were closed for the holidays this week.", 0.15),
    ("The regional council meets again next month to discuss the budget.", 0.18),
    ("Weather forecasters expect rain for the rest of the week.", 0.12),
    ("The local newspaper was founded in 1887 and prints six days a week.", 0.1),
]
ARTICLES = [
    # Articles that call the report false, or deny it.
    ("Giant squid found alive in the city canal",
     [("Reports that a giant squid was found alive in the city canal are a hoax, officials said.", 0.82),
      ("The photo that spread online was doctored, experts said.", 0.48),
      ("No squid has ever been seen in the canal, the harbour master said.", 0.61),
      ("The story was a fake made up by a prank website.", 0.5),
      ("Several news sites shared the false report before it was debunked.", 0.55)] + BACKGROUND, "disputes"),
    ("Famous chef dies in car crash",
     [("The chef is alive and well, his agent said, calling the reports of his death false.", 0.71),
      ("The fake story spread quickly on social media on Monday.", 0.52),
      ("It is not the first time the chef has been the target of a death hoax.", 0.58),
      ("His agent said the chef was not in any car crash and was cooking in his restaurant.", 0.66)]
     + BACKGROUND, "disputes"),
    # Articles that say the same in their own voice.
    ("Storm kills 12 people in the county",
     [("The storm killed 12 people in the county on Sunday.", 0.91),
      ("Twelve people died when the storm hit the county.", 0.86),
      ("Rescue crews searched the flooded roads for survivors.", 0.5),
      ("The county confirmed the deaths on Monday.", 0.62),
      ("Winds of up to 120 km per hour tore roofs from houses.", 0.45)] + BACKGROUND, "supports"),
    # Articles that relay the report without taking a side.
    ("Company plans to cut 500 jobs",
     [("The company reportedly plans to cut 500 jobs, according to a person familiar with the matter.", 0.8),
      ("The company did not respond to a request for comment.", 0.5),
      ("The report could not be independently verified.", 0.45),
      ("Analysts said job cuts were possible but the plan could still change.", 0.6),
      ("The company allegedly discussed the plan with investors last week.", 0.55)] + BACKGROUND, "related"),
    ("Singer to star in new space film",
     [("The singer is said to be in talks to star in a new space film, a magazine claimed.", 0.78),
      ("Neither the studio nor the singer's spokesman would confirm the report.", 0.5),
      ("The film is reportedly set to begin shooting next year.", 0.55)] + BACKGROUND, "related"),
]


def _article(headline: str, sentences: list[tuple[str, float]]):
    return (make_claim(headline, 0, True), [make_claim(text, n) for n, (text, _) in enumerate(sentences, start=1)],
            [sim for _, sim in sentences])


@pytest.mark.parametrize("headline, sentences, label", ARTICLES)
def test_learned_article_stance(headline, sentences, label):
    claim, others, sims = _article(headline, sentences)
    stance = article_stance(claim, others, sims)
    assert stance.label == label, stance
    assert stance.reason and 0.0 <= stance.confidence <= 1.0
    if label in ("supports", "disputes"):
        # The reason quotes the article or gives the rules' reason for one of its sentences.
        reasons = {judge(o, claim, s).reason for o, s in zip(others, sims)}
        assert stance.reason in reasons or any(o.text[:40] in stance.reason for o in others), stance


def test_committed_weights_load_and_match_the_features():
    spec = json.loads(stance_model.MODEL_PATH.read_text())
    assert tuple(spec["features"]) == stance_model.FEATURES
    assert {"data", "date", "licence", "out_of_fold"} <= set(spec["trained"])
    model = stance_model.load()
    assert model is not None
    claim, others, sims = _article(*ARTICLES[0][:2])
    vector = stance_features(claim, others, sims)
    assert len(vector) == len(stance_model.FEATURES)
    probabilities = model.probabilities(vector)
    assert set(probabilities) == set(stance_model.CLASSES)
    assert sum(probabilities.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("features, label", [
    ({}, "supports"),
    ({"max_similarity": 0.8, "refuting_best_similarity": 0.6}, "supports"),  # a refuting word further off
    ({"max_similarity": 0.8, "refuting_best_similarity": 0.8}, "disputes"),  # the closest sentence calls it false
    ({"max_similarity": 0.8, "refuting_best_similarity": 0.8, "headline_refuting": 1.0}, "supports"),  # so does the claim
    ({"max_similarity": 0.8, "refuting_best_similarity": 0.8, "headline_negation": 1.0}, "supports"),
    ({"negation_mismatch": 1.0, "rule_disputes": 0.2}, "disputes"),  # the closest sentence negates it
    ({"negation_mismatch": 1.0}, "supports"),                          # ... in a way the rules find no dispute in
])
def test_an_article_calling_the_report_false_never_backs_it(features, label):
    vector = [features.get(name, 0.0) for name in stance_model.FEATURES]
    assert stance_model.decide({"supports": 0.6, "disputes": 0.3, "neither": 0.1}, vector) == label


def test_weights_for_other_features_are_refused():
    spec = json.loads(stance_model.MODEL_PATH.read_text())
    spec["features"] = list(reversed(spec["features"]))
    with pytest.raises(ValueError, match="retrain"):
        stance_model.StanceModel(spec)


@pytest.mark.parametrize("headline, sentences, label", ARTICLES)
def test_a_headline_alone_is_left_to_the_rules(headline, sentences, label):
    claim, others, sims = _article(headline, sentences[: stance_model.MIN_CLAIMS - 1])
    assert article_stance(claim, others, sims) == rules_article_stance(claim, others, sims)


def test_without_weights_the_rules_decide():
    claim, others, sims = _article(*ARTICLES[0][:2])
    assert article_stance(claim, others, sims, model=None) == rules_article_stance(claim, others, sims)


def _write_stance_set(folder: Path, bodies: dict[int, str], stances: list[tuple[str, int, str]]) -> None:
    folder.mkdir()
    with open(folder / "bodies.csv", "w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(["Body ID", "articleBody"])
        writer.writerows(bodies.items())
    with open(folder / "stances.csv", "w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(["Headline", "Body ID", "Stance"])
        writer.writerows(stances)


def test_training_runs_on_a_tiny_invented_set(tmp_path):
    from bench import train
    from server.embeddings import HashEmbedder

    topics = ["the harbour bridge was closed by the city council", "the river dam burst after heavy rain",
              "the museum sold the famous painting to a collector", "the zoo lost its oldest elephant last week",
              "the airline cancelled all flights to the island", "the school banned phones in every classroom"]
    bodies, stances = {}, []
    for n, topic in enumerate(topics):
        headline = topic[0].upper() + topic[1:]
        bodies[3 * n] = (f"Officials said {topic}. It was confirmed that {topic} on Monday. "
                         f"The mayor said that {topic} and thanked the staff.")
        bodies[3 * n + 1] = (f"Reports that {topic} are false. The story is a hoax and officials denied that {topic}. "
                             f"A spokesman said the rumour was made up.")
        bodies[3 * n + 2] = (f"It was reportedly claimed that {topic}. The claim could not be verified. "
                             f"Residents said they had heard that {topic}.")
        stances += [(headline, 3 * n, "agree"), (headline, 3 * n + 1, "disagree"), (headline, 3 * n + 2, "discuss")]
    _write_stance_set(tmp_path / "set", bodies, stances)
    out = tmp_path / "stance.json"
    figures = train.train(tmp_path / "set", out, folds=3, embedder=HashEmbedder(), hold_out=3)
    assert figures["rows"] == len(stances) and figures["folds"] == 3
    # The first body is kept out of training and scored apart; the others are scored out of fold.
    assert figures["bodies_held_out"] == 3 and figures["held_out"]["rows"] == 3
    assert figures["out_of_fold"]["rows"] == len(stances) - 3
    assert set(figures["out_of_fold"]["f1"]) == {"agree", "disagree", "discuss", "unrelated"}
    model = stance_model.StanceModel(json.loads(out.read_text()))
    assert model.spec["trained"]["rows"] == len(stances)
    vector = [0.0] * len(stance_model.FEATURES)
    assert model.decide({"supports": 0.2, "disputes": 0.5, "neither": 0.3}, vector) == "disputes"
