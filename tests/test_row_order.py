"""The order a ranking table's rows are written in: near codes side by side, whether ordered in memory or
split through temporary files first; every row once, the same order each time."""

from __future__ import annotations

import numpy as np
import pytest

from server import row_order, vector_index

DIMS = 384
ROWS_PER_PAGE = 4096 // DIMS


def copies(rng, groups: int, size: int, noise: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes of `size` noisy copies of each of `groups` random codes, shuffled; and each row's group."""
    centres = rng.normal(scale=40.0, size=(groups, DIMS))
    group = rng.permutation(np.repeat(np.arange(groups), size))
    codes = np.clip(np.rint(centres[group] + rng.normal(scale=noise, size=(len(group), DIMS))), -127, 127)
    return codes.astype(np.int8), group


def pages_per_group(order: np.ndarray, group: np.ndarray) -> float:
    """The mean number of 4 KiB pages a group's rows fall on, written in `order`."""
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    return float(np.mean([len(np.unique(place[group == g] // ROWS_PER_PAGE)) for g in np.unique(group)]))


@pytest.mark.parametrize("rows, case", [
    (0, "empty"),
    (1, "one row"),
    (row_order.LEAF_ROWS, "one leaf: kept as it is"),
    (1000, "every row the same code"),
    (3000, "groups of near copies"),
])
def test_every_row_is_written_once_and_the_order_is_the_same_each_time(rows, case):
    rng = np.random.default_rng(rows)
    if case.startswith("every"):
        codes = np.full((rows, DIMS), 7, dtype=np.int8)
    else:
        codes = copies(rng, -(-rows // 50) or 1, 50)[0][:rows]
    order = row_order.near_order(codes)
    assert sorted(order.tolist()) == list(range(rows))
    assert np.array_equal(order, row_order.near_order(codes))
    if rows <= row_order.LEAF_ROWS:
        assert order.tolist() == list(range(rows))


@pytest.mark.parametrize("groups, size", [(60, 50), (20, 150), (300, 10)])
def test_near_codes_are_written_side_by_side(groups, size):
    """Copies of a code (a claim reprinted or reworded) fall on the pages they fill, not one page each."""
    codes, group = copies(np.random.default_rng(groups), groups, size)
    as_they_came = pages_per_group(np.arange(len(codes)), group)
    grouped = pages_per_group(row_order.near_order(codes), group)
    filled = np.ceil(size / ROWS_PER_PAGE)
    assert grouped <= filled + 2 and grouped < as_they_came / 2, (grouped, as_they_came, filled)


@pytest.mark.parametrize("in_memory", [100_000, 700, 250])
def test_rows_too_many_for_memory_are_split_through_files_first(tmp_path, monkeypatch, in_memory):
    """The same rows come back, each once with its own code, near ones still side by side, and the
    temporary files are gone."""
    monkeypatch.setattr(row_order, "IN_MEMORY_ROWS", in_memory)
    codes, group = copies(np.random.default_rng(5), 40, 60)
    path = tmp_path / "spool"
    path.write_bytes(codes.tobytes())
    spooled = np.memmap(path, dtype=np.int8, mode="r", shape=codes.shape)
    picks = np.random.default_rng(6).permutation(len(codes))[:2000]       # some rows, in no order
    (tmp_path / "parts").mkdir()
    written, parts = [], 0
    for at, part in row_order.grouped(spooled, picks, tmp_path / "parts"):
        assert np.array_equal(part, codes[picks[at]])
        written.append(at)
        parts += 1
    order = np.concatenate(written)
    assert sorted(order.tolist()) == list(range(len(picks)))
    assert (parts == 1) == (in_memory >= len(picks))
    assert pages_per_group(order, group[picks]) < pages_per_group(np.arange(len(picks)), group[picks]) / 2
    assert list((tmp_path / "parts").iterdir()) == []


@pytest.mark.parametrize("keys, probes, held", [
    ([5, 1, 3], [1, 3, 5, 0, 2, 6, -1], [True, True, True, False, False, False, False]),     # ids in turn
    ([10**12, 7, 4 * 10**9], [7, 10**12, 4 * 10**9, 8, 10**13], [True, True, True, False, False]),  # sparse
    ([], [1], [False]),
])
def test_a_ranking_table_finds_the_row_of_each_claim_id(tmp_path, monkeypatch, keys, probes, held):
    monkeypatch.setattr(vector_index, "LOOKUP_SLICE", 2)        # the ids read a slice at a time
    count, dims = len(keys), 8
    (tmp_path / "t.keys").write_bytes(np.array(keys, dtype="<i8").tobytes())
    (tmp_path / "t.codes").write_bytes(np.repeat(np.arange(count, dtype=np.int8), dims).tobytes())
    table = vector_index.RankCodes(tmp_path / "t.keys", tmp_path / "t.codes", count, dims)
    found, rows = table.rows_of(np.array(probes, dtype=np.int64))
    assert found.tolist() == held
    assert [keys[row] for row in rows] == [p for p, h in zip(probes, held) if h]
    assert all(table.codes[row][0] == row for row in rows)


def test_a_ranking_table_listing_a_negative_claim_id_does_not_load(tmp_path):
    (tmp_path / "t.keys").write_bytes(np.array([3, -2], dtype="<i8").tobytes())
    (tmp_path / "t.codes").write_bytes(bytes(2 * 8))
    with pytest.raises(ValueError, match="negative"):
        vector_index.RankCodes(tmp_path / "t.keys", tmp_path / "t.codes", 2, 8)
