"""Sentence splitting and claim selection with attribution.

News states most facts through someone ("Peskov denied Woodward's claim that ..."). Each kept sentence
becomes a Claim that records who says it (speaker), whether they assert, deny or question it (polarity),
the content with attribution and denial words stripped (proposition), and the details that can differ
between two reports of the same thing (numbers, dates, quantities, names). Pure Python and regex: no
language-model download.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from .cjk import CJK_CHAR, latin_length, word_count

log = logging.getLogger(__name__)


@dataclass
class Claim:
    text: str  # the sentence as written
    position: int  # 0 = headline, then sentence order in the body
    is_headline: bool
    speaker: str | None  # who asserts / denies it ("Peskov", "the Kremlin", "the book")
    polarity: str  # "asserts" | "denies" | "questions"
    proposition: str  # the content with attribution and denial words stripped
    details: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Sentence splitting

# Words that end in a period without ending the sentence (compared lower-case, without the period).
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm",
    "maj", "st", "jr", "sr", "rev", "hon", "pres", "supt", "det", "insp", "inc", "co", "corp", "ltd", "bros",
    "vs", "v", "etc", "approx", "dept", "est", "fig", "mt", "ft", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu", "thurs", "fri", "sat",
    "sun", "ave", "blvd", "rd", "e.g", "i.e", "cf", "al", "ca", "nos",
}
# Abbreviations that, followed by a capitalised word, may still end the sentence ("... in the U.S. The").
SENTENCE_FINAL_ABBREVIATIONS = {"etc", "a.m", "p.m", "inc", "co", "corp", "ltd", "jr", "sr"}
# Words that typically open a new sentence: after "U.S." or "a.m." they signal a boundary.
SENTENCE_STARTERS = {
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "but", "and", "this", "that", "these",
    "those", "there", "his", "her", "their", "its", "in", "on", "at", "after", "before", "when", "while",
    "if", "as", "however", "meanwhile", "still", "yet", "so", "then", "officials", "police",
}
OPEN_QUOTES = "“‘\"'"
CLOSE_QUOTES = "”’\"'"

_BOUNDARY = re.compile(r"(\.{3}|…|[.!?])([”’\"')\]]*)(\s+)")
_TOKEN_BEFORE = re.compile(r"([\w.]+)$")


def _is_abbreviation(token: str, next_word: str) -> bool:
    """Whether the period after `token` is an abbreviation's rather than the sentence's end."""
    low = token.lower().rstrip(".")
    next_low = next_word.lower().strip(OPEN_QUOTES)
    starts_sentence = next_low in SENTENCE_STARTERS
    if low == "no":  # "No. 10" but "No. That was all."
        return next_word[:1].isdigit()
    if re.fullmatch(r"[A-Z][A-Za-z]{0,2}", token) and re.fullmatch(r"\d{1,3}[,;:]?", next_word):
        return True  # "the ID. 4", "Vol. 2", "Art. 5": a short name with its number, not a sentence's end
    if re.fullmatch(r"[A-Z]", token):  # initials: "J. K. Rowling"
        return True
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", token):  # U.S, a.m, e.g, U.N
        return not (starts_sentence or low in SENTENCE_FINAL_ABBREVIATIONS and next_word[:1].isupper())
    if low in ABBREVIATIONS:
        if low in SENTENCE_FINAL_ABBREVIATIONS and next_word[:1].isupper() and starts_sentence:
            return False
        return True
    return False


# Chinese and Japanese full stops end a sentence with no space after them (closing quotes stay attached).
_CJK_SENTENCE = re.compile(r"[^。！？]+(?:[。！？]+[」』”’）)]*|$)")


def _quote_spans(paragraph: str) -> list[tuple[int, int]]:
    """Character spans of quotations that open and close within the paragraph."""
    spans = []
    for match in re.finditer(r"“[^“”]*”|(?<![\w])\"[^\"]*\"", paragraph):
        spans.append((match.start(), match.end()))
    return spans


def _split_paragraph(paragraph: str) -> list[str]:
    quotes = _quote_spans(paragraph)
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end(2)
        rest = paragraph[match.end():]
        next_word = rest.split(" ", 1)[0] if rest else ""
        if not next_word:
            continue
        first = next_word.lstrip(OPEN_QUOTES + "([")[:1]
        # A new sentence starts with a capital, a digit, an opening quote or a Chinese or Japanese character.
        if not (first.isupper() or first.isdigit() or next_word[:1] in OPEN_QUOTES + "(" or CJK_CHAR.match(first)):
            continue
        if match.group(1) == ".":
            token = _TOKEN_BEFORE.search(paragraph[: match.start(1)])
            if token and _is_abbreviation(token.group(1), next_word):
                continue
        # Inside a quotation that closes later in the paragraph: keep the quote whole.
        if any(qs < match.start(1) and end < qe for qs, qe in quotes):
            continue
        sentences.append(paragraph[start:end].strip())
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


def split_sentences(text: str) -> list[str]:
    """Sentences of news prose; a line break is always a boundary."""
    return list(_sentences(text))


def _sentences(text: str) -> Iterator[str]:
    for paragraph in (text or "").split("\n"):
        paragraph = re.sub(r"\s+", " ", paragraph).strip()
        if not paragraph:
            continue
        pieces = _CJK_SENTENCE.findall(paragraph) if CJK_CHAR.search(paragraph) else [paragraph]
        for piece in pieces:
            if piece.strip():
                yield from _split_paragraph(piece.strip())


# --------------------------------------------------------------------------------------------------
# Which sentences are claims

_BOILERPLATE = re.compile(
    r"©|\(c\)\s*\d{4}|copyright|all rights reserved|cookie|privacy policy|terms of (?:use|service)"
    r"|your email address|required fields|leave a (?:reply|comment)|comments? (?:are|is) closed"
    r"|this (?:story|article) (?:has been|was) (?:updated|corrected)|reporting by|editing by|additional reporting"
    r"|subscribe|newsletter|sign up|log in|advertisement|skip to|share (?:this|on)|copy link",
    re.I,
)
_CALL_TO_ACTION = re.compile(
    r"^(?:sign up|click|tap|read (?:more|the full|next)|follow (?:us|@)|subscribe|share|download|watch|listen"
    r"|get (?:the|our)|join|register|see also|related|more from|support (?:local|our|independent)|donate"
    r"|learn more|find out more|contact us|send us)\b",
    re.I,
)
_CAPTION = re.compile(
    r"^(?:photo|image|picture|file photo|caption|video|graphic)s?\s*[:|]|\((?:AP|AFP|Reuters|Getty)[^)]*\)\s*$"
    r"|\b(?:Getty Images|AP Photo|AFP via Getty|Shutterstock)\b",
    re.I,
)
_BYLINE = re.compile(r"^(?:by|posted by|written by)\s+[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}\b", re.I)
MIN_WORDS = 5


def _is_claim_sentence(sentence: str) -> bool:
    words = word_count(sentence)
    if words < MIN_WORDS or latin_length(sentence) < 25:
        return False
    if _BOILERPLATE.search(sentence) or _CALL_TO_ACTION.search(sentence) or _CAPTION.search(sentence):
        return False
    if _BYLINE.match(sentence) and words < 12:
        return False
    if sentence.rstrip(CLOSE_QUOTES + ")").endswith("?"):  # a question asks, it does not assert
        return False
    letters = sum(c.isalpha() for c in sentence)
    return letters >= 0.5 * len(sentence)


# --------------------------------------------------------------------------------------------------
# Attribution: speaker, polarity, proposition

_SAY = (
    r"said|says|told|tells|stated|states|added|adds|wrote|writes|reported|reports|claimed|claims"
    r"|confirmed|confirms|announced|announces|insisted|insists|argued|argues|alleged|alleges"
    r"|acknowledged|acknowledges|admitted|admits|noted|notes|explained|explains|estimated|estimates"
    r"|revealed|reveals|found|finds|showed|shows|warned|warns|predicted|predicts|believes|believed"
    r"|maintained|maintains|suggested|suggests"
)
# Verbs of saying that take a bare clause: "Peskov said the two men had not spoken".
_SAY_BARE = r"said|says|added|adds|wrote|writes|claimed|claims|confirmed|confirms|insisted|insists|argued|argues|believes|believed|maintains|maintained"
_DENY = (
    r"denied|denies|deny|rejected|rejects|reject|dismissed|dismisses|refuted|refutes|disputed|disputes|rebutted"
    r"|rebuffed|rebuffs|debunked|debunks"
)
_ASK = r"asked|asks|questioned|questions|wondered|wonders"
_REPORT_NOUN = (
    r"claims?|reports?|reporting|allegations?|suggestions?|assertions?|accounts?|rumou?rs?|stor(?:y|ies)|accusations?"
)
_ADVERB = (
    r"(?:also|again|later|previously|flatly|strongly|firmly|repeatedly|publicly|earlier|then|had|has|have|further"
    r"|reportedly|initially|privately|separately|quickly|angrily)"
)
_SUBJECT = r"(?P<subject>[A-Z“\"'‘][^.;:!?]{0,80}?)"
_LEAD = rf"^{_SUBJECT},?\s+(?:{_ADVERB}\s+)*"

_DENIAL_OF_REPORT = re.compile(
    rf"{_LEAD}(?P<verb>{_DENY})\s+(?:(?P<owner>[\w’'. ]{{1,40}}?)[’']s?\s+|the\s+|a\s+|an\s+)?"
    rf"(?:{_REPORT_NOUN})\s+that\s+(?P<prop>.+)$"
)
_DENIAL_THAT = re.compile(rf"{_LEAD}(?P<verb>{_DENY})\s+that\s+(?P<prop>.+)$")
_DENIAL_CLAUSE = re.compile(rf"{_LEAD}(?P<verb>denied|denies|deny|rejects|rejected)\s+(?P<prop>[A-Z].+)$")
_DENIAL_OBJECT = re.compile(rf"{_LEAD}(?P<verb>denied|denies|rejected|rejects)\s+(?P<prop>(?:the|a|an|any|all|{_REPORT_NOUN})\b.+)$")
_QUESTION_THAT = re.compile(rf"{_LEAD}(?P<verb>{_ASK})\s+(?:[^“\"]{{0,40}}?\s+)?(?:whether|if)\s+(?P<prop>.+)$")
_LEADING_SAY_THAT = re.compile(rf"{_LEAD}(?P<verb>{_SAY})\b(?:\s+[^“\"]{{0,60}}?)?\s+that\s+(?P<prop>.+)$")
_LEADING_SAY = re.compile(rf"{_LEAD}(?P<verb>{_SAY_BARE}),?\s+(?P<prop>[a-zA-Z“\"‘].+)$")
_ACCORDING_TO_LEADING = re.compile(r"^according to (?P<subject>[^,]{2,80}),\s*(?P<prop>.+)$", re.I)
_ACCORDING_TO_TRAILING = re.compile(r"^(?P<prop>.+?),?\s+according to (?P<subject>[^,]{2,80}?)\.?$", re.I)
# Speakers named by what they are, without a capital or an article: "..., officials said."
GROUP_SPEAKERS = r"officials|police|authorities|experts|analysts|witnesses|residents|sources|investigators|doctors|scientists|researchers"
_TRAILING_SAY = re.compile(
    rf"^(?P<prop>.+?)[,”\"’]+\s+(?P<subject>(?:[A-Z][\w’'.-]*|he|she|they|it|the\s+\w+|{GROUP_SPEAKERS})(?:\s+[\w’'.-]+){{0,6}}?)"
    rf"\s+(?:{_ADVERB}\s+)?(?P<verb>{_SAY}|{_DENY})\b(?P<tail>[^“\"]*)$"
)
_TRAILING_SAID_SUBJECT = re.compile(
    rf"^(?P<prop>.+?)[,”\"’]+\s+(?P<verb>said|says|told)\s+(?P<subject>[A-Z][^,]{{1,80}}?)\.?$"
)
_SUBORDINATORS = re.compile(r"^(?:but\s+|and\s+)?(?:when|if|as|after|before|while|because|since|although|though|once|until|in|on|at|for|with)\b", re.I)
_PASSIVE_END = re.compile(r"\b(?:was|were|is|are|be|been|being)(?:\s+\w+ly)?$", re.I)
_VERBISH = re.compile(rf"\b(?:{_SAY}|{_DENY})\b")


def _plausible_subject(subject: str) -> bool:
    """Whether the words before a verb of saying can be who says it (not a clause, not a passive)."""
    words = subject.split()
    if not words or len(words) > 9:
        return False
    if len(words) == 1 and words[0].lower() in {"the", "a", "an", "this", "that", "these", "those"}:
        return False
    if words[-1].lower() in {"who", "which", "that", "however", "clear", "making", "rounds", "today"}:
        return False  # "A woman who claims ...", "However, ...": a clause, not a speaker
    if re.fullmatch(rf"(?:{WEEKDAYS}|{MONTHS})", words[-1]):
        return False
    return not (_SUBORDINATORS.match(subject) or _PASSIVE_END.search(subject) or _VERBISH.search(subject))


# Negation of the main verb, and negative quantifiers ("nobody", "no one", "no evidence"). Saying one could not
# verify or reach, or declining to comment, withholds a stance: it is a hedge, not a denial.
_NOT_A_DENIAL_AFTER_NOT = (
    r"only|just|least|yet|immediately|the\s+first|clear|known|available|be\s+reached|respond|comment|return"
    r"|disclose|reveal|say|specify|elaborate|confirm|identif|name|verif|independently|been\s+able|be\s+able|able"
)
_NEGATION = re.compile(
    r"\b(?P<aux>had|has|have|did|does|do|is|are|was|were|will|would|could|can|should|has\s+been|had\s+been)"
    rf"\s+(?:not|never)\b(?!\s+to\b)(?!\s+(?:{_NOT_A_DENIAL_AFTER_NOT})\w*)"
    r"|(?<=\w)(?P<clitic>[’']s)\s+not\b(?!\s+(?:only|just|clear|known|yet)\b)"
    rf"|\b(?P<contr>had|has|have|did|does|do|is|are|was|were|would|could|should|wo|ca)n[’']t\b"
    rf"(?!\s+(?:{_NOT_A_DENIAL_AFTER_NOT})\w*)"
    r"|\bnever\b(?!\s+(?:before|again))"
    r"|\bno\s+longer\b"
    r"|\b(?P<nobody>nobody|no[\s-]one|nothing|none(?=\s+of\b)|none(?=\s+(?:was|were|is|are|has|have|had)\b))"
    r"|\b(?P<no>no)\s+(?!(?:more|less|fewer|doubt|matter|longer|one|immediate|comment|response|reply|word)\b)(?=[a-z])"
    r"|\b(?P<failed>fail(?:ed|s)?\s+to)\b(?!\s+(?:respond|comment|reply|return)\b)",
    re.I,
)
_SOMEONE = {"nobody": "someone", "no one": "someone", "no-one": "someone", "nothing": "something", "none": "some"}
_FLAT_DENIAL = re.compile(
    r"\b(?:not true|untrue|false|fake news|a lie|lies|nonsense|baseless|fabricat\w*|made up|hoax|debunked|bogus|(?:is|are|was|were)\s+(?:a\s+)?fake)\b",
    re.I,
)
_PRONOUNS = {"he", "she", "they", "it"}
_ORG_WORDS = {
    "news", "post", "times", "journal", "press", "agency", "ministry", "house", "office", "department",
    "party", "group", "council", "committee", "team", "campaign", "kremlin", "government", "police",
    "court", "bank", "company", "service", "union", "nations", "network", "tribune", "herald", "guardian",
}


def _short_speaker(subject: str) -> str | None:
    """A readable name for who speaks: "Kremlin spokesman Dmitry Peskov" -> "Peskov", "The book" -> "the book"."""
    subject = subject.strip(" ,.“”\"'‘’")

    subject = re.sub(r"^(?:but|and|so|yet|meanwhile|however|still|instead)\b[,\s]+", "", subject, flags=re.I)
    subject = re.split(r",\s", subject, maxsplit=1)[0]  # drop an apposition: "The book, titled War,"
    if not subject:
        return None
    words = subject.split()
    if words[0].lower() in {"the", "a", "an", "his", "her", "their", "its"}:
        return " ".join([words[0].lower()] + words[1:])
    run: list[str] = []
    for word in reversed(words):
        if word[:1].isupper():
            run.insert(0, word)
        else:
            break
    if len(run) >= 2 and run[-1].lower().strip("’'s") not in _ORG_WORDS and not run[-1].endswith(("’s", "'s")):
        return run[-1]
    return " ".join(run) if run else subject


def _clean_prop(prop: str) -> str:
    prop = prop.strip().strip(",;: ")
    prop = re.sub(r"^(?:that|whether|if)\s+", "", prop, flags=re.I)
    prop = prop.strip(" “”\"‘’,").rstrip(".").strip(" “”\"‘’,")
    return prop[:1].upper() + prop[1:] if prop else prop


_SUBORDINATE = re.compile(
    r"\s(?:to|so\s+that|because|since|which|who|whom|if|unless|when|while|after|before|but|although|though)\s", re.I
)


def _strip_negation(prop: str) -> tuple[str, bool]:
    """("the two men had not spoken", ...) -> ("the two men had spoken", True).

    Only a negation in the main clause negates the claim: "added reinforcement to ensure it doesn't bend"
    asserts the reinforcement."""
    match = _NEGATION.search(prop)
    clause_end = _SUBORDINATE.search(prop)
    if not match or (clause_end and clause_end.start() < match.start()):
        return prop, False

    def positive(m: re.Match) -> str:
        if m.group("aux"):
            return m.group("aux")
        if m.group("clitic"):
            return m.group("clitic")
        if m.group("nobody"):
            return _SOMEONE.get(re.sub(r"\s+", " ", m.group("nobody").lower()), "")
        if m.group("contr"):
            return {"wo": "will", "ca": "can"}.get(m.group("contr").lower(), m.group("contr"))
        return ""

    stripped = _NEGATION.sub(positive, prop, count=1)
    return re.sub(r"\s{2,}", " ", stripped).strip(), True


_SKIP_AFTER_NEGATION = {"be", "been", "being", "was", "were", "is", "are", "have", "has", "had", "ever", "a", "an",
                        "the", "any", "yet", "actually", "really", "in", "fact", "to"}


def negated_words(text: str) -> set[str]:
    """The words a main-clause negation bears on: "had not been closed" -> {"closed"}, "nobody was hurt" ->
    {"hurt"}, "no injuries were reported" -> {"injuries"}; empty when there is none."""
    match = _NEGATION.search(text)
    clause_end = _SUBORDINATE.search(text)
    if not match or (clause_end and clause_end.start() < match.start()):
        return set()
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text[match.end():])]
    kept = [w for w in words[:6] if w not in _SKIP_AFTER_NEGATION]
    return set(kept[:2])


def attribute(sentence: str) -> tuple[str | None, str, str]:
    """(speaker, polarity, proposition) of one sentence."""
    text = sentence.strip()
    patterns = (
        (_DENIAL_OF_REPORT, "denies"),
        (_QUESTION_THAT, "questions"),
        (_DENIAL_THAT, "denies"),
        (_DENIAL_OBJECT, "denies"),
        (_DENIAL_CLAUSE, "denies"),
        (_ACCORDING_TO_LEADING, None),
        (_ACCORDING_TO_TRAILING, None),
        (_LEADING_SAY_THAT, None),
        (_LEADING_SAY, None),
        (_TRAILING_SAID_SUBJECT, None),
        (_TRAILING_SAY, None),
    )
    speaker, prop = None, text
    for pattern, polarity in patterns:
        match = pattern.match(text)
        if not match:
            continue
        subject = match.group("subject").strip()
        if pattern not in (_ACCORDING_TO_LEADING, _ACCORDING_TO_TRAILING) and not _plausible_subject(subject):
            continue
        speaker, prop = _short_speaker(subject), match.group("prop")
        verb = match.groupdict().get("verb") or ""
        if polarity is None and re.fullmatch(_DENY, verb):
            polarity = "denies"
        if polarity is not None:
            return speaker, polarity, _clean_prop(prop)
        break
    prop = _clean_prop(prop)
    if text.rstrip(CLOSE_QUOTES + ")").endswith("?"):  # a headline that asks does not assert
        return speaker, "questions", prop
    if _FLAT_DENIAL.search(prop) and len(prop.split()) <= 12:  # "No, that's not true": the words are the denial
        return speaker, "denies", prop
    positive, negated = _strip_negation(prop)
    if negated:
        return speaker, "denies", _clean_prop(positive)
    return speaker, "asserts", prop


# --------------------------------------------------------------------------------------------------
# Details: numbers, dates, quantities, names

NUMBER_WORDS = {
    "zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "thousand": 1000, "dozen": 12, "once": 1, "twice": 2, "thrice": 3,
}
VAGUE_AMOUNTS = r"several|many|multiple|numerous|a few|few|dozens of|hundreds of|thousands of|a number of|some"
MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\."
)
WEEKDAYS = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_MAGNITUDE = r"(?:hundred|thousand|million|billion|trillion|bn|m|k)\b"
_UNIT = (
    r"(?:per\s?cent|percent|%|percentage points?|times|people|persons|deaths|dead|votes|seats|years?|months?|weeks?"
    r"|days?|hours?|minutes?|miles?|kilometres?|kilometers?|km|feet|metres?|meters?|tons?|tonnes?|dollars?"
    r"|euros?|pounds?|points?|cases?|children|adults|soldiers|troops|students|workers|jobs|homes|houses"
    r"|machines|devices|calls|[a-z]+s)\b"
)
_CURRENCY = r"[$€£¥]"
# "older than 30", "longer than 80 km": a bound on an amount, read like "more than" / "less than".
GREATER_THAN = r"greater|larger|bigger|higher|longer|taller|older|heavier|wider|deeper|farther|further"
SMALLER_THAN = r"smaller|lower|shorter|younger|lighter|narrower|shallower"
COMPARATIVES = f"{GREATER_THAN}|{SMALLER_THAN}"
_NUMBER = re.compile(
    rf"(?P<qual>(?:as (?:many|much|high|long|large|few|little|low) as|at least|at most|more than|less than"
    rf"|fewer than|up to|about|around|nearly|almost|roughly|approximately|over|under|(?:{COMPARATIVES}) than"
    rf"|above|below|exceeding)\s+)?"
    rf"(?<![\w.-])(?P<num>{_CURRENCY}?\d[\d,]*(?:\.\d+)?(?![\d,]*(?:st|nd|rd|th|s)\b)|\b(?:{'|'.join(NUMBER_WORDS)})\b)"
    rf"(?:\s*(?P<mag>{_MAGNITUDE}))?(?:[\s-]*(?P<unit>{_UNIT}))?",
    re.I,
)
_VAGUE = re.compile(rf"\b(?P<vague>{VAGUE_AMOUNTS})\s+(?P<unit>times|occasions|calls|people|years|months|weeks|days)\b", re.I)
_NUMERIC_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})(?![\d/.]\d)"
_DATE = re.compile(
    rf"\b(?:{_NUMERIC_DATE}|(?:{MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{MONTHS})(?:,?\s+\d{{4}})?"
    rf"|(?:{MONTHS})(?:\s+\d{{4}})?|{WEEKDAYS}|(?:19|20)\d{{2}}(?!['’]s\b))\b",  # "the 1990's" is no year
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b(?:[A-Z][a-z’'.-]+|[A-Z]{2,})(?:\s+(?:of\s+)?(?:[A-Z][a-z’'.-]+|[A-Z]{2,}))*")
_HEDGE = re.compile(
    r"\b(?:reportedly|allegedly|purportedly|apparently|rumou?r(?:ed|s)?|unconfirmed|unverified|(?-i:may)|might"
    r"|possibly|possible|perhaps|could|claims?|claimed|alleged|suggests?|appears? to|seems? to|believed to"
    r"|said to be|reported to|expected to|predicts?|predicted|speculat\w*|doubts?|questions raised"
    r"|reports? (?:say|says|said|suggest)|(?:[:,-]\s*|\()(?:report|reports|sources|source)\)?$"
    r"|could\s+not\s+(?:be\s+)?(?:independently\s+)?(?:verif|confirm)\w*|(?:has|have|had)\s+not\s+been\s+able\s+to"
    r"|(?:cannot|can't|couldn't|could not)\s+(?:independently\s+)?(?:verif|confirm)\w*|declined\s+to\s+comment"
    r"|not\s+(?:been\s+)?(?:independently\s+)?verified)\b",
    re.I,
)
_YEAR = re.compile(r"^(?:19|20)\d{2}$")


@lru_cache(maxsize=1 << 14)
def number_value(text: str) -> float | None:
    """The numeric value of a number string: "seven" -> 7, "$1.5 million" -> 1.5e6, "as many as 7 times" -> 7."""
    match = _NUMBER.search(text)
    if not match:
        return None
    raw = match.group("num").lower().lstrip("$€£¥").replace(",", "")
    value = float(NUMBER_WORDS[raw]) if raw in NUMBER_WORDS else float(raw)
    mag = (match.group("mag") or "").lower()
    scale = {"hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
    return value * scale.get(mag, 1.0) * (1e12 if mag == "trillion" else 1.0)


_RELATIVE_CLAUSE = re.compile(
    r"^(?P<subject>(?:The|A|An|[A-Z][\w’'-]*)(?:\s+[\w’'-]+){0,5}),\s+(?:which|who)\s+(?P<clause>[^,]{8,120}),"
)


def subclaims(text: str) -> list[str]:
    """Statements nested in a sentence: "The book, which is set to be published Oct. 15, raises ..." yields
    "The book is set to be published Oct. 15"."""
    match = _RELATIVE_CLAUSE.match(text.strip())
    if not match:
        return []
    return [f"{match.group('subject')} {match.group('clause')}"]


def extract_details(text: str) -> dict:
    """Numbers with their units, dates, vague quantities, names, and whether the sentence hedges."""
    dates = [m.group(0) for m in _DATE.finditer(text)]
    date_spans = [m.span() for m in _DATE.finditer(text)]
    numbers = []
    for match in _NUMBER.finditer(text):
        if any(s <= match.start("num") < e for s, e in date_spans):
            continue  # "Oct. 15", "2021" are dates, not counts
        num = match.group("num")
        if num.lower() in {"one", "once"} and not match.group("unit") and not match.group("qual"):
            continue  # "one of the few", "at once": rarely a count
        if _YEAR.match(num):
            continue
        numbers.append(match.group(0).strip().rstrip(","))
    quantities = [m.group(0) for m in _VAGUE.finditer(text)]
    quantities += [n for n in numbers if re.search(r"\b(?:times|once|twice|thrice)\b", n, re.I)]
    names = []
    for match in _NAME.finditer(text):
        name = match.group(0).strip()
        if name not in names and name.lower() not in _PRONOUNS and not re.match(rf"(?:{MONTHS}|{WEEKDAYS})$", name):
            names.append(name)
    return {
        "numbers": numbers,
        "dates": dates,
        "quantities": quantities,
        "names": names,
        "hedged": bool(_HEDGE.search(text)),
        "subclaims": subclaims(text),
    }


# --------------------------------------------------------------------------------------------------
# Language: polarity, quantities and dates are read with English rules only

_ENGLISH_WORDS = set(
    """the of and to is was were are has have had that this with for from by it its not said says will would
    been be they he she his her their which who than after in on at as a an but or we you""".split()
)
# Frequent function words of the other languages a reader's history holds (Spanish, German, French,
# Portuguese, Malay and Indonesian), none of them also an English word.
_OTHER_WORDS = set(
    """que el la los las del por para con una según dijo negó fue está están pero como más sus
    der das und nicht ist sei dass hat wurde ein eine einen mit von zu den dem des auf für sich sagte auch
    les est une du et pas qui dans sur pour il elle sont été selon
    não uma com pelo pela foram
    yang dan di tidak ini itu dengan untuk dari bahwa kata ke akan pada oleh telah sudah ada juga tersebut
    tak mereka kerana karena kepada bagi bahawa""".split()
)


@lru_cache(maxsize=4096)   # asked of the same claims for every pair a capture judges
def reads_as_english(text: str) -> bool:
    """Whether English rules can read this sentence: mostly Latin letters (a name given in Chinese or Japanese
    in passing is fine), and more English function words than those of another language."""
    text = text or ""
    letters = sum(c.isalpha() for c in text)
    if letters and len(CJK_CHAR.findall(text)) > 0.2 * letters:
        return False
    words = re.findall(r"[^\W\d_]+", text.lower())
    english = sum(w in _ENGLISH_WORDS for w in words)
    other = sum(w in _OTHER_WORDS for w in words)
    return other == 0 or english >= 2 * other


# --------------------------------------------------------------------------------------------------
# Claims

_BARE_QUOTE = re.compile(r"^[“\"](?P<quote>[^”\"]+?)[,.!?]?[”\"]\s*,?\s*(?P<rest>.*)$")


def make_claim(sentence: str, position: int = 0, is_headline: bool = False) -> Claim:
    """One sentence as a Claim, kept whatever it says (a statement to check against others)."""
    speaker, polarity, proposition = attribute(sentence)
    details = extract_details(sentence)
    return Claim(sentence, position, is_headline, speaker, polarity, proposition, details)


# Work per page is bounded: a page's first claims (news puts what matters first) are embedded, matched and
# stored, the rest of a very long page is kept as text only. 300 claims is some 12,000 words.
MAX_CLAIMS_PER_PAGE = 300


def extract_claims(title: str | None, text: str, limit: int | None = None) -> list[Claim]:
    """The headline (position 0) and the body sentences that assert something checkable; the first
    `limit` of them (a very long page is read no further)."""
    claims: list[Claim] = []
    if title and word_count(title) >= 3:
        claims.append(make_claim(title.strip(), 0, True))
    last_named: str | None = None
    position = 0
    for sentence in _sentences(text):
        if limit is not None and len(claims) >= limit:
            break
        position += 1
        if not _is_claim_sentence(sentence):
            continue
        claim = make_claim(sentence, position, False)
        if claim.speaker and claim.speaker.lower() in _PRONOUNS:
            claim.speaker = last_named or claim.speaker  # "he told RBC" -> the last named speaker
        previous = claims[-1] if claims and not claims[-1].is_headline else None
        quote = _BARE_QUOTE.match(sentence)
        if (
            previous is not None
            and quote
            and claim.polarity == "denies"
            and previous.polarity == "denies"
            and previous.position == position - 1
            and claim.speaker in (None, previous.speaker)
        ):
            # “No, that's not true,” he told RBC: the words of the denial just reported.
            previous.details["quote"] = quote.group("quote").strip()
        if claim.speaker and claim.speaker.lower() not in _PRONOUNS:
            last_named = claim.speaker
        claims.append(claim)
    log.debug("%d claims from %d characters", len(claims), len(text or ""))
    return claims
