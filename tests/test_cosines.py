"""The cosine levels are set for one embedding model: a change of model must be a deliberate review."""

from __future__ import annotations

from server import cosines, embeddings, judge, matching, relatedness, stories


def test_levels_are_for_the_model_the_product_embeds_with():
    assert cosines.CALIBRATED_FOR == embeddings.MODEL_NAME == embeddings.Embedder.model_name


def test_the_modules_read_their_levels_from_one_place():
    assert matching.MIN_SIMILARITY == cosines.SHOWN_MIN
    assert stories.REPRINT_SIMILARITY == cosines.REPRINT_MIN
    assert relatedness.SAME_STORY.meaning == relatedness.SHOWN.meaning == cosines.SAME_STORY_MEANING
    for name in ("RELATED_MIN", "SAME_MIN", "DISPUTE_MIN", "DETAIL_CONFLICT_MIN", "BARE_NUMBER_MIN"):
        assert getattr(judge, name) is getattr(cosines, name)


def test_levels_are_ordered_as_the_judge_reads_them():
    # Shown < related < same proposition < near copy < reprint: each band is stricter than the last.
    assert 0 < cosines.SHOWN_MIN < cosines.RELATED_MIN < cosines.SAME_MIN < cosines.BARE_NUMBER_MIN < cosines.REPRINT_MIN < 1
    assert cosines.SAME_WITH_OVERLAP_MIN < cosines.SAME_MIN <= cosines.DETAIL_CONFLICT_MIN < cosines.NEAR_COPY_DETAIL_MIN
