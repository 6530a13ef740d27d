"""The quality floors of `bench all --quick` sit above what a constant guess scores on the same items."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# `bench` is a folder of the repository, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import __main__ as bench_cli  # noqa: E402
from bench import common, nli, stance  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (common.data_root().is_dir() and common.scorer_path().is_file()),
    reason="shared benchmark data or scorer not present",
)


@pytest.mark.parametrize("row, task, folder, limit, module, label", [
    ("stance", "stance", "stance", bench_cli.QUICK.stance, stance, "discuss"),
    ("stance-emergent", "stance", "stance-emergent", bench_cli.QUICK.emergent, stance, "discuss"),
    ("nli", "nli", "nli", bench_cli.QUICK.nli, nli, "neutral"),
])
def test_floor_is_above_the_constant_guess(tmp_path, row, task, folder, limit, module, label):
    data = common.make_subset(task, common.data_root() / folder, tmp_path / "data", limit)
    pred = tmp_path / ("pred.csv" if task == "stance" else "pred.jsonl")
    module.constant(data, pred, label=label)
    status, result, message = common.score(task, data, pred)
    assert status == 0, message
    _, guess = common.primary_figure(result)
    floor = json.loads(bench_cli.FLOORS.read_text())[row]
    assert floor > guess, f"{row}: floor {floor} does not beat always {label!r} ({guess:.4f})"
