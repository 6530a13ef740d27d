"""Levels of cosine similarity that mean something, all in one place because they hold for one embedding
model only: all-MiniLM-L6-v2 with L2-normalised vectors (embeddings.MODEL_NAME). Another model spreads its
cosines differently, so changing the model means measuring and setting every level below again (the
claims, stance, NLI and coverage benchmarks; the learned stance layer in models/stance.json is trained on
this model's similarities too).
"""

from __future__ import annotations

from .embeddings import MODEL_NAME

CALIBRATED_FOR = MODEL_NAME

# Matching (matching.py): claim pairs below this are never shown.
SHOWN_MIN = 0.35

# The judge's bands (judge.py).
RELATED_MIN = 0.45  # below: different topics, no label
SAME_MIN = 0.70  # at or above, with a shared predicate: the same proposition, whatever the wording
SAME_WITH_OVERLAP_MIN = 0.60  # ... or this close and sharing most content words
DISPUTE_MIN = 0.45  # a denial between claims less similar than this is not believed
CALLED_FALSE_MIN = 0.6  # an explicit denial ("reports ... are false") this close needs no shared predicate
PLAIN_NEGATION_MIN = 0.55  # a bare negative sentence disputes a claim this close whose predicate it negates
DETAIL_CONFLICT_MIN = 0.70  # numbers / dates / antonyms differ: a dispute only between near-paraphrases
NEAR_COPY_MIN = 0.6  # ... or a little less close, sharing nearly all content words
NEAR_COPY_DETAIL_MIN = 0.75  # a near copy with one name, number or ordinal changed
BARE_NUMBER_MIN = 0.85  # two amounts without units are set against each other only between near-copies
SAME_DENIAL_MIN = 0.58  # two denials this close deny the same thing
RESTATE_MIN = 0.25  # a nested statement restated word for word can sit in a longer, less similar sentence

# Stories (stories.py): a sentence this close to an earlier one is the same sentence, re-edited (a reprint).
REPRINT_MIN = 0.93

# Relatedness (relatedness.py): two English articles whose meaning vectors (the mean of their claims'
# vectors) are this close tell the same story.
SAME_STORY_MEANING = 0.78
