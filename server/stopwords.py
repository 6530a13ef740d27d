"""Function words: the words every article uses, whatever it reports. One list for the whole product.

ENGLISH serves search (words too common to look up), the judge (words that carry no proposition) and
relatedness (words that say nothing about which event an article reports). BY_LANGUAGE holds the most
frequent words of other languages: enough to tell languages apart on a paragraph, and to keep them out of
word overlap.
"""

from __future__ import annotations

ENGLISH = frozenset(
    """a an the and or but nor of to in on at by for with from as is are was were be been being has have had
    do does did not no never this that these those it its he she they them his her their we our ours you your
    yours i me my him will would could should can may might must shall than then there here also very so too
    such about into over out after before since while when where which who whom whose what why how all any
    each few some more most other only just even still yet if because said says say told according mrs
    someone something somebody anyone anything""".split()
)

BY_LANGUAGE = {
    "en": "the and of to in is that for it was with on as by are have from this be not".split(),
    "de": "der die und das ist nicht ein eine zu den mit sich auf für von dem des auch".split(),
    "fr": "le la les et des est une du dans que pour qui pas sur au avec ce il".split(),
    "es": "el la los las y de que en un una es por con para del se no su al".split(),
    "it": "il la di che e è un una per non del della sono con le gli si da".split(),
    "pt": "o a os as e de que do da em um uma para com não no na se por".split(),
    "nl": "de het een en van is dat niet op te in zijn met voor er ook die".split(),
    "sv": "och att det som en är på av för med den till inte har de ett".split(),
    "pl": "i w nie na się z że do to jest jak o po ale co tak od".split(),
    "ms": "yang dan di ke dari untuk dengan ini itu pada dalam tidak akan oleh telah sudah juga atau ada kata "
          "bagi lebih para serta antara mereka kami kita saya beliau tersebut bahawa bahwa seperti hanya masih".split(),
}

# Every list above together: function words in any of these languages.
FUNCTION_WORDS = ENGLISH.union(*BY_LANGUAGE.values())
