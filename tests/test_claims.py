"""Sentence splitting, claim selection and attribution on news prose."""

from __future__ import annotations

import pytest

from server.cjk import word_count
from server.claims import (
    attribute, extract_claims, extract_details, make_claim, negated_words, number_value, reads_as_english,
    split_sentences,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "The U.S. economy grew 3.5 percent. Officials were pleased.",
            ["The U.S. economy grew 3.5 percent.", "Officials were pleased."],
        ),
        (
            "The book is set to be published on Oct. 15 by Simon & Schuster. It has 400 pages.",
            ["The book is set to be published on Oct. 15 by Simon & Schuster.", "It has 400 pages."],
        ),
        (
            "Mr. Smith met Dr. Jones at 10 a.m. on Friday. They talked.",
            ["Mr. Smith met Dr. Jones at 10 a.m. on Friday.", "They talked."],
        ),
        (
            "She lives at No. 10 Downing Street. No. That was all.",
            ["She lives at No. 10 Downing Street.", "No.", "That was all."],
        ),
        (
            "The novel by J. K. Rowling sold well. Critics agreed.",
            ["The novel by J. K. Rowling sold well.", "Critics agreed."],
        ),
        (
            "Peskov denied it. “No, that’s not true,” he told Russian outlet RBC. Trump did too.",
            ["Peskov denied it.", "“No, that’s not true,” he told Russian outlet RBC.", "Trump did too."],
        ),
        (
            '"No, that\'s not true," he told reporters. "Is it?" she asked.',
            ['"No, that\'s not true," he told reporters.', '"Is it?" she asked.'],
        ),
        (
            "“He’s a storyteller. A bad one. And he’s lost his marbles,” Trump said of Woodward.",
            ["“He’s a storyteller. A bad one. And he’s lost his marbles,” Trump said of Woodward."],
        ),
        (
            "He paused... and then left. Wait… Nothing happened.",
            ["He paused... and then left.", "Wait…", "Nothing happened."],
        ),
        (
            "Medical equipment went to the U.S. The Kremlin confirmed it.",
            ["Medical equipment went to the U.S.", "The Kremlin confirmed it."],
        ),
        ("First paragraph without a stop\nSecond one.", ["First paragraph without a stop", "Second one."]),
        ("Why did it happen? Nobody knows!", ["Why did it happen?", "Nobody knows!"]),
        # Chinese full stops end a sentence with no space after them; closing quotes stay attached.
        ("卫生部表示，新增病例下降。他说：“情况好转。”专家仍然担心！",
         ["卫生部表示，新增病例下降。", "他说：“情况好转。”", "专家仍然担心！"]),
        ("南洋理工大学NTU发布报告。COVID-19 cases fell. 数据来自卫生部",
         ["南洋理工大学NTU发布报告。", "COVID-19 cases fell.", "数据来自卫生部"]),
        # Model names, titles and numbered things keep their periods.
        (
            "Dealers sold more of the ID. 4 than expected. Prices fell.",
            ["Dealers sold more of the ID. 4 than expected.", "Prices fell."],
        ),
        (
            "Gov. Ana Ruiz signed the bill on Friday. It takes effect in May.",
            ["Gov. Ana Ruiz signed the bill on Friday.", "It takes effect in May."],
        ),
        (
            "The U.S. Senate passed the bill. The House votes next week.",
            ["The U.S. Senate passed the bill.", "The House votes next week."],
        ),
        (
            "Art. 5 of the treaty applies, the minister said. Allies agreed.",
            ["Art. 5 of the treaty applies, the minister said.", "Allies agreed."],
        ),
        (
            "The family moved into No. 10 in July. Reporters waited outside.",
            ["The family moved into No. 10 in July.", "Reporters waited outside."],
        ),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    "sentence, speaker, polarity, proposition",
    [
        (
            "Peskov also denied Woodward’s claim that Trump and Putin have spoken on the telephone several times "
            "since Trump left office.",
            "Peskov",
            "denies",
            "Trump and Putin have spoken on the telephone several times since Trump left office",
        ),
        (
            "Kremlin spokesman Dmitry Peskov said the two men had not spoken by phone since 2021.",
            "Peskov",
            "denies",
            "The two men had spoken by phone since 2021",
        ),
        (
            "The Kremlin rejected a report that Donald Trump has held private phone calls with Vladimir Putin.",
            "the Kremlin",
            "denies",
            "Donald Trump has held private phone calls with Vladimir Putin",
        ),
        (
            'The book, titled "War," also reports that Trump and Putin have spoken on the telephone.',
            "the book",
            "asserts",
            "Trump and Putin have spoken on the telephone",
        ),
        (
            "Former President Donald Trump did send coronavirus testing devices to Putin, the Kremlin confirmed "
            "Wednesday.",
            "the Kremlin",
            "asserts",
            "Former President Donald Trump did send coronavirus testing devices to Putin",
        ),
        (
            "Donald Trump secretly sent testing machines to Vladimir Putin, according to a new book by Bob Woodward.",
            "a new book by Bob Woodward",
            "asserts",
            "Donald Trump secretly sent testing machines to Vladimir Putin",
        ),
        (
            "Kremlin spokesperson Dmitry Peskov told Bloomberg News in a written statement that “we also sent "
            "equipment at the beginning of the pandemic.”",
            "Peskov",
            "asserts",
            "We also sent equipment at the beginning of the pandemic",
        ),
        (
            "Senators asked whether the agency had followed the law.",
            "Senators",
            "questions",
            "The agency had followed the law",
        ),
        ("“No, that’s not true,” he told Russian outlet RBC.", "he", "denies", "No, that’s not true"),
        (
            "Kremlin denies Trump and Putin have talked since 2021",
            "Kremlin",
            "denies",
            "Trump and Putin have talked since 2021",
        ),
        (
            "The story was initially reported in a new book by Bob Woodward.",
            None,
            "asserts",
            "The story was initially reported in a new book by Bob Woodward",
        ),
        (
            "Floodwaters swept through Asheville's Biltmore Village in late September.",
            None,
            "asserts",
            "Floodwaters swept through Asheville's Biltmore Village in late September",
        ),
    ],
)
def test_attribute(sentence, speaker, polarity, proposition):
    assert attribute(sentence) == (speaker, polarity, proposition)


@pytest.mark.parametrize(
    "sentence, speaker, polarity, proposition",
    [
        # Negative quantifiers and failure deny; the negation's scope is the main clause.
        ("Nobody was hurt in the fire.", None, "denies", "Someone was hurt in the fire"),
        ("No injuries were reported at the depot.", None, "denies", "Injuries were reported at the depot"),
        ("The bill failed to pass the Senate.", None, "denies", "The bill pass the Senate"),
        ("The vaccine is not safe, officials said.", "officials", "denies", "The vaccine is safe"),
        ("Crews built a wall so that the river would not flood the town.", None, "asserts",
         "Crews built a wall so that the river would not flood the town"),
        # Hedges withhold a stance: they are not denials.
        ("Channel 9 News has not been able to independently verify this.", None, "asserts",
         "Channel 9 News has not been able to independently verify this"),
        ("The agency could not verify the video.", None, "asserts", "The agency could not verify the video"),
        ("The company declined to comment on the report.", None, "asserts",
         "The company declined to comment on the report"),
        ("Police couldn't confirm the names of the victims.", None, "asserts",
         "Police couldn't confirm the names of the victims"),
        ("There was no immediate comment from the ministry.", None, "asserts",
         "There was no immediate comment from the ministry"),
        ("The company failed to respond to questions.", None, "asserts", "The company failed to respond to questions"),
        # A headline that asks does not assert.
        ("Is the bridge closed for good?", None, "questions", "Is the bridge closed for good?"),
    ],
)
def test_attribute_negation_and_hedges(sentence, speaker, polarity, proposition):
    assert attribute(sentence) == (speaker, polarity, proposition)


@pytest.mark.parametrize(
    "sentence, key, expected",
    [
        ("They have spoken as many as seven times since 2021.", "numbers", ["as many as seven times"]),
        ("They have spoken as many as seven times since 2021.", "dates", ["2021"]),
        ("They have spoken several times since Trump left office.", "quantities", ["several times"]),
        ("Unemployment rose to 3.5 percent in October.", "numbers", ["3.5 percent"]),
        ("The company lost $1.2 billion last year.", "numbers", ["$1.2 billion"]),
        ("Abbott Covid-19 testing machines were scarce.", "numbers", []),
        ("The 12th regiment marched in the 1990s and the 21st century.", "numbers", []),
        ("The vote is on 3/5/2024, not 2024-05-04.", "dates", ["3/5/2024", "2024-05-04"]),
        ("The vote is on 3/5/2024, not 2024-05-04.", "numbers", []),
        ("Channel 9 has not been able to independently verify this.", "hedged", True),
        ("The company declined to comment.", "hedged", True),
        ("She was born on the 24th of September.", "dates", ["24th of September"]),
        ("The book is set to be published on Oct. 15 by Simon & Schuster.", "dates", ["Oct. 15"]),
        ("The Kremlin confirmed Wednesday that it received the devices.", "dates", ["Wednesday"]),
        ("The Kremlin confirmed Wednesday that it received the devices.", "names", ["Kremlin", "Wednesday"][:1]),
        ("The ship reportedly sank near the coast.", "hedged", True),
        ("The ship sank near the coast.", "hedged", False),
        ("The ship may have sunk near the coast.", "hedged", True),
        ("The ship sank near the coast on May 10.", "hedged", False),
        (
            "The book, which is set to be published Oct. 15, raises questions about the war.",
            "subclaims",
            ["The book is set to be published Oct. 15"],
        ),
    ],
)
def test_extract_details(sentence, key, expected):
    assert extract_details(sentence)[key] == expected


@pytest.mark.parametrize("sentence, words", [
    ("The bridge had not been closed on Monday.", {"closed", "on"}),
    ("Nobody was hurt in the fire.", {"hurt", "fire"}),
    ("Crews built a wall so that the river would not flood.", set()),
    ("The bridge was closed on Monday.", set()),
])
def test_negated_words(sentence, words):
    assert negated_words(sentence) == words


@pytest.mark.parametrize("text, english", [
    ("The minister said the bridge was closed.", True),
    ("Kremlin denies Trump and Putin have talked since 2021", True),
    ("Apple Watch sales top 19 million", True),           # no function words at all: read as English
    ("The festival, known in Spanish as la Feria de Abril, opened on Monday.", True),
    ("Saiyuki (最遊記) is a manga series that ran from 1997 to 2002.", True),  # a name in passing
    ("El ministro negó que el puente estuviera cerrado.", False),
    ("Der Minister sagte, dass die Brücke nicht gesperrt war.", False),
    ("Menteri berkata bahawa jambatan itu tidak ditutup.", False),
    ("Menteri membantah bahwa jembatan itu ditutup.", False),
    ("部长否认大桥已经关闭。", False),
])
def test_reads_as_english(text, english):
    assert reads_as_english(text) is english


@pytest.mark.parametrize(
    "text, value",
    [("seven times", 7), ("as many as 7 times", 7), ("$1.5 million", 1.5e6), ("12,000 people", 12000), ("a lot", None)],
)
def test_number_value(text, value):
    assert number_value(text) == value


BODY = "\n".join(
    [
        "By Dana Whitfield · October 8, 2024",
        "Peskov also denied Woodward’s claim that Trump and Putin have spoken on the telephone several times "
        "since Trump left office. “No, that’s not true,” he told Russian outlet RBC.",
        "Will the war end soon?",
        "Sign up for our free newsletter to get the morning briefing.",
        "© 2024 Capital Ledger. All rights reserved.",
        "Read more about the war in Ukraine and the Middle East here.",
        "Photo: Vladimir Putin at the Kremlin in Moscow last year.",
        "Short bit.",
        "Senators asked whether the agency had followed the law when it sent the machines.",
    ]
)


def test_extract_claims_keeps_statements_and_drops_the_rest():
    claims = extract_claims("Kremlin denies Trump and Putin have talked since 2021", BODY)
    texts = [c.text for c in claims]
    assert texts == [
        "Kremlin denies Trump and Putin have talked since 2021",
        "Peskov also denied Woodward’s claim that Trump and Putin have spoken on the telephone several times "
        "since Trump left office.",
        "“No, that’s not true,” he told Russian outlet RBC.",
        "Senators asked whether the agency had followed the law when it sent the machines.",
    ]
    headline, denial, quote, question = claims
    assert (headline.position, headline.is_headline) == (0, True)
    assert [c.position for c in claims[1:]] == [2, 3, 11]
    assert not any(c.is_headline for c in claims[1:])
    # The pronoun is the last named speaker, and the denial carries the words said.
    assert quote.speaker == "Peskov"
    assert denial.details["quote"] == "No, that’s not true"
    assert question.polarity == "questions"


def test_extract_claims_without_title():
    claims = extract_claims(None, "Residents formed volunteer crews to clear debris and deliver water.")
    assert [(c.position, c.is_headline) for c in claims] == [(1, False)]


def test_make_claim_keeps_any_sentence():
    claim = make_claim("Short bit.")
    assert (claim.text, claim.position, claim.polarity) == ("Short bit.", 0, "asserts")


@pytest.mark.parametrize("text, words", [
    ("The Kremlin denied it on Friday.", 6),
    ("卫生部表示新增病例下降", 5),              # unspaced Chinese: one word per two characters
    ("南洋理工大学NTU发布报告", 6),
    ("", 0),
])
def test_word_count(text, words):
    assert word_count(text) == words


def test_chinese_body_sentences_become_claims():
    text = ("卫生部周五表示，过去一周全国新增病例比前一周下降了百分之二十。"
            "南洋理工大学的研究人员说，疫苗接种率已经达到百分之九十三。好。")
    claims = extract_claims("新加坡新增病例连续第二周下降", text)
    assert [c.text for c in claims] == [
        "新加坡新增病例连续第二周下降",
        "卫生部周五表示，过去一周全国新增病例比前一周下降了百分之二十。",
        "南洋理工大学的研究人员说，疫苗接种率已经达到百分之九十三。",
    ]


@pytest.mark.parametrize("limit", [1, 2, 5, 50])
def test_a_limit_keeps_the_first_claims_and_reads_no_further(limit):
    text = "\n".join(f"The council of district {n} approved {n + 3} new bus routes on Tuesday." for n in range(20))
    every = extract_claims("Bus routes approved across the city", text)
    assert extract_claims("Bus routes approved across the city", text, limit) == every[:limit]
