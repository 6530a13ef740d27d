"""The benchmark command on tiny datasets written here in the benchmark formats, with the hash embedder (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import __main__ as bench_cli
from bench import common

# A scorer with the command line of the real one (task --data --pred --json; exit 2 on a malformed
# prediction), so `bench score` is tested without files from outside the repository.
SCORER = """
import json, sys
task, data, pred = sys.argv[1], sys.argv[3], sys.argv[5]
gold = dict(line.split("\\t") for line in open(data + "/qrels.tsv").read().split("\\n") if line)
try:
    rows = [json.loads(line) for line in open(pred) if line.strip()]
except json.JSONDecodeError as error:
    print(f"malformed prediction: {error}", file=sys.stderr)
    sys.exit(2)
hits = [row["ranked"][:1] == [gold[row["id"]]] for row in rows]
print(json.dumps({"primary": "p@1", "metrics": {"p@1": sum(hits) / len(gold)}}))
"""

CLAIMS = [
    ("c-vaccine", "A new vaccine causes infertility in young women, a viral post claims."),
    ("c-bridge", "The Golden Gate Bridge was closed for a week after an earthquake."),
    ("c-moon", "Astronauts found water ice in a crater on the far side of the Moon."),
    ("c-tax", "The government doubled the fuel tax on diesel trucks in March."),
    ("c-zoo", "A tiger escaped from the city zoo and was seen near a school."),
]
QUERIES = [
    ("q-1", "Viral post: the new vaccine causes infertility in women!!", "c-vaccine"),
    ("q-2", "Earthquake closed the Golden Gate Bridge for a whole week", "c-bridge"),
    ("q-3", "Tiger escaped from the zoo, seen near a school this morning", "c-zoo"),
]

STORY_TEXTS = {
    "flood": ("River floods the old town after three days of rain",
              "The river burst its banks in the old town on Monday after three days of heavy rain. "
              "Emergency crews evacuated two hundred residents from houses near the water. "
              "The mayor said the damage to the market square would cost millions to repair. "
              "Forecasters expect the rain to stop by Wednesday, when the water should fall. "
              "Schools in the district stay closed until the roads are safe again."),
    "election": ("Opposition wins the regional election by a narrow margin",
                 "The opposition party won the regional election on Sunday by fewer than two thousand votes. "
                 "Turnout rose to sixty percent, the highest in twenty years. "
                 "The governor conceded defeat in a short speech to supporters late at night. "
                 "The new assembly will meet for the first time next month to choose a cabinet. "
                 "Observers reported no serious irregularities at the polling stations."),
}


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(autouse=True)
def hash_model(monkeypatch):
    monkeypatch.setenv(common.MODEL_ENV, "hash")


@pytest.fixture
def claims_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "claims"
    folder.mkdir()
    write_jsonl(folder / "claims.jsonl", [{"id": i, "text": t, "title": None} for i, t in CLAIMS])
    write_jsonl(folder / "queries.jsonl", [{"id": q, "text": t} for q, t, _ in QUERIES])
    (folder / "qrels.tsv").write_text("".join(f"{q}\t{c}\n" for q, _, c in QUERIES), encoding="utf-8")
    return folder


@pytest.fixture
def stories_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "stories"
    folder.mkdir()
    rows = []
    for n, (story, (title, text)) in enumerate(sorted(STORY_TEXTS.items()) * 2):
        # Two outlets per story: the second one reorders the sentences, so it is no duplicate.
        sentences = text.split(". ")
        body = ". ".join(sentences if n < 2 else sentences[::-1])
        rows.append({"id": f"a{n}", "title": title if n < 2 else title + " - update", "text": body,
                     "story": story, "lang": "en"})
    write_jsonl(folder / "articles.jsonl", rows)
    return folder


def test_claims_predict_ranks_the_matching_claim_first(claims_dir: Path, tmp_path: Path):
    out = tmp_path / "pred.jsonl"
    assert bench_cli.main(["predict", "claims", "--data", str(claims_dir), "--out", str(out)]) == 0
    rows = common.read_jsonl(out)
    known = {i for i, _ in CLAIMS}
    assert [r["id"] for r in rows] == [q for q, _, _ in QUERIES]
    for row, (_, _, gold) in zip(rows, QUERIES):
        assert set(row["ranked"]) <= known and len(row["ranked"]) == len(set(row["ranked"]))
        assert row["ranked"][0] == gold


@pytest.mark.parametrize("limit, expected", [(None, 3), (1, 1)])
def test_claims_predict_honours_limit(claims_dir: Path, tmp_path: Path, limit, expected):
    out = tmp_path / "pred.jsonl"
    argv = ["predict", "claims", "--data", str(claims_dir), "--out", str(out)] + (["--limit", str(limit)] if limit else [])
    assert bench_cli.main(argv) == 0
    assert len(common.read_jsonl(out)) == expected


def test_stories_predict_links_articles_of_one_story(stories_dir: Path, tmp_path: Path):
    out = tmp_path / "pred.jsonl"
    assert bench_cli.main(["predict", "stories", "--data", str(stories_dir), "--out", str(out)]) == 0
    rows = {r["id"]: r for r in common.read_jsonl(out)}
    gold = {r["id"]: r["story"] for r in common.read_jsonl(stories_dir / "articles.jsonl")}
    assert set(rows) == set(gold)
    for ident, row in rows.items():
        assert ident not in row["related"] and set(row["related"]) <= set(gold)
        assert isinstance(row["story"], str)
        # The other outlet's copy of the same event is the first related article.
        assert row["related"] and gold[row["related"][0]] == gold[ident]


@pytest.mark.parametrize("title, text, refused", [
    ("A short note", "Too short.", True),
    (STORY_TEXTS["flood"][0], STORY_TEXTS["flood"][1], False),
])
def test_stories_refused_articles_get_an_empty_ranking(tmp_path: Path, title, text, refused):
    folder = tmp_path / "stories"
    folder.mkdir()
    write_jsonl(folder / "articles.jsonl", [{"id": "x", "title": title, "text": text, "story": "s", "lang": "en"}])
    out = tmp_path / "pred.jsonl"
    assert bench_cli.main(["predict", "stories", "--data", str(folder), "--out", str(out)]) == 0
    [row] = common.read_jsonl(out)
    assert row["related"] == []
    assert ("story" not in row) is refused


@pytest.mark.parametrize("prediction, status", [
    ('{"id": "q-1", "ranked": ["c-vaccine"]}\n', 0),
    ("this is not json\n", 2),
])
def test_score_exit_status_is_the_scorers(claims_dir: Path, tmp_path: Path, monkeypatch, prediction, status):
    (tmp_path / "benchmark-home" / "bench").mkdir(parents=True)
    (tmp_path / "benchmark-home" / "bench" / "score.py").write_text(SCORER, encoding="utf-8")
    monkeypatch.setenv("CROSSCURRENT_SHARED", str(tmp_path / "benchmark-home"))
    pred = tmp_path / "pred.jsonl"
    pred.write_text(prediction, encoding="utf-8")
    assert bench_cli.main(["score", "claims", "--data", str(claims_dir), "--pred", str(pred)]) == status


def test_score_without_a_scorer_fails(claims_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CROSSCURRENT_SHARED", str(tmp_path / "nowhere"))
    pred = tmp_path / "pred.jsonl"
    pred.write_text('{"id": "q-1", "ranked": []}\n', encoding="utf-8")
    assert bench_cli.main(["score", "claims", "--data", str(claims_dir), "--pred", str(pred)]) == 2


@pytest.mark.parametrize("limit, pool, queries, claims", [(1, None, 1, 5), (2, 1, 2, 3), (5, 0, 3, 3)])
def test_claims_subset_keeps_gold_and_cuts_the_rest(claims_dir: Path, tmp_path: Path, limit, pool, queries, claims):
    subset = common.make_subset("claims", claims_dir, tmp_path / "subset", limit, claims_limit=pool)
    assert len(common.read_jsonl(subset / "queries.jsonl")) == queries
    assert len(common.read_jsonl(subset / "claims.jsonl")) == claims
    assert len((subset / "qrels.tsv").read_text().split()) == 2 * queries


@pytest.mark.parametrize("limit, first_rows, kept", [
    (10, 2, ["h1", "h2", "h4", "h6"]),     # rows of the first two rows' bodies (7 and 9), wherever they are
    (2, 2, ["h1", "h2"]),
    (10, 1, ["h1", "h4"]),
])
def test_stance_subset_keeps_rows_of_held_out_bodies(tmp_path: Path, limit, first_rows, kept):
    source = tmp_path / "stance"
    source.mkdir()
    bodies = [7, 9, 8, 7, 8, 9, 8]
    (source / "stances.csv").write_text("Headline,Body ID,Stance\n" + "".join(
        f"h{n},{body},discuss\n" for n, body in enumerate(bodies, start=1)), encoding="utf-8")
    (source / "bodies.csv").write_text("Body ID,articleBody\n7,a\n8,b\n9,c\n", encoding="utf-8")
    subset = common.make_subset("stance", source, tmp_path / "subset", limit, held_out_bodies=first_rows)
    lines = (subset / "stances.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Headline,Body ID,Stance" and [l.split(",")[0] for l in lines[1:]] == kept


@pytest.mark.parametrize("flags, status", [
    ([], 2),                               # asked for benchmarks that cannot run: an error
    (["--skip-without-data"], 0),          # `make test` on a checkout without the data: a clear skip
])
def test_all_without_data(tmp_path: Path, capsys, flags, status):
    assert bench_cli.main(["all", "--quick", "--data-root", str(tmp_path / "missing"), *flags]) == status
    out = capsys.readouterr()
    assert "no benchmark data" in out.out + out.err
    if status == 0:  # one line that says it skipped and why
        assert out.out.count("\n") == 1 and out.out.startswith("benchmarks skipped: no benchmark data at ")


def test_speed_without_its_test_pages_says_so_in_one_line(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("CROSSCURRENT_SHARED", str(tmp_path / "nowhere"))
    assert bench_cli.main(["speed", "--sizes", "1000", "--out", str(tmp_path / "out")]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and out.err.startswith(f"no test pages at {tmp_path}")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value, error, failures", [
    (0.95, "", []),
    (0.5, "", ["stories: map 0.5000 below the floor"]),
    (None, "ValueError: broken", ["stories: no figure (ValueError: broken)"]),
])
def test_floors(value, error, failures):
    row = bench_cli.Row("stories", "stories", primary="map", value=value, error=error)
    found = bench_cli.check_floors([row, bench_cli.Row("not floored", "nli", value=0.0)])
    assert [f[:len(expected)] for f, expected in zip(found, failures)] == failures and len(found) == len(failures)


@pytest.mark.parametrize("value, error, state, verdict", [
    (0.95, "", "ok", "all floors hold (1 checked"),
    (0.5, "", "BELOW", "1 of 1 floors broken"),
    (None, "ValueError: broken", "BELOW", "1 of 1 floors broken"),
])
def test_floor_report_prints_each_figure_beside_its_floor(value, error, state, verdict):
    rows = [bench_cli.Row("stories", "stories", primary="map", value=value, error=error),
            bench_cli.Row("not floored", "nli", value=0.0)]
    lines, failures = bench_cli.floor_report(rows)
    assert len(lines) == 2 and len(failures) == (state == "BELOW")
    assert lines[0].split()[:3] == ["floor", "stories", "map"] and lines[0].endswith(state)
    assert "floor 0.7" in lines[0] and (f"{value:.4f}" if value else "no figure") in lines[0]
    assert lines[1].startswith(verdict)


@pytest.mark.parametrize("baselines, broken", [
    ([("nli baseline (always neutral)", 0.33)], []),                       # floor 0.335 above the guess
    ([("nli baseline (always neutral)", 0.34)], ["nli baseline (always neutral)"]),
    ([("nli baseline (always neutral)", 0.30), ("stance baseline (always discuss)", 0.9)], []),  # another task's
    ([("nli baseline (always neutral)", None)], []),                        # a baseline that failed says nothing
])
def test_a_floor_must_sit_above_the_trivial_baselines_of_the_run(baselines, broken, monkeypatch, tmp_path):
    floors = tmp_path / "floors.json"
    floors.write_text('{"nli": 0.335}')
    monkeypatch.setattr(bench_cli, "FLOORS", floors)
    rows = [bench_cli.Row("nli", "nli", primary="accuracy", value=0.36)]
    rows += [bench_cli.Row(name, "nli", primary="accuracy", value=value, error="" if value is not None else "x")
             for name, value in baselines]
    failures = bench_cli.check_floors(rows)
    assert [f.split("above ")[1].split(" (0")[0] for f in failures] == broken
    lines, _ = bench_cli.floor_report(rows)
    assert lines[-1].startswith("all floors hold" if not broken else "1 of")


@pytest.mark.parametrize("rate, holds", [(0.02, True), (0.3, False), (None, False)])
def test_a_ceiling_keeps_a_rate_low(rate, holds, monkeypatch, tmp_path):
    floors = tmp_path / "floors.json"
    floors.write_text('{"coverage-web": [{"figure": "false_alarm_rate", "max": 0.1}]}')
    monkeypatch.setattr(bench_cli, "FLOORS", floors)
    figures = {} if rate is None else {"false_alarm_rate": rate}
    row = bench_cli.Row("coverage-web", "coverage", primary="f1", value=0.0, figures=figures)
    lines, failures = bench_cli.floor_report([row])
    assert (failures == []) == holds
    assert lines[0].endswith("ok" if holds else ("ABOVE" if rate is not None else "BELOW"))
    if rate is not None:
        assert "ceiling 0.1" in lines[0] and f"{rate:.4f}" in lines[0]


def test_table_prints_the_confusion_matrix():
    row = bench_cli.Row("stance", "stance", primary="fnc_relative_%", value=80.0, confusion={
        "rows_gold": ["agree", "disagree"], "cols_pred": ["agree", "disagree", "(none)"], "matrix": [[5, 1, 0], [2, 3, 0]]})
    lines = bench_cli.table([row]).splitlines()
    assert lines[-2].split() == ["agree", "5", "1", "0"] and lines[-1].split() == ["disagree", "2", "3", "0"]


@pytest.mark.parametrize("text, sizes", [
    ("1000", (1000,)),
    ("1000,10000,", (1000, 10000)),
    ("abc", None),
    ("0,1000", None),
    ("", None),
])
def test_history_sizes_are_positive_article_counts(text, sizes):
    if sizes is None:
        with pytest.raises(common.argparse.ArgumentTypeError):
            common.history_sizes(text)
    else:
        assert common.history_sizes(text) == sizes


@pytest.mark.parametrize("argv, refused", [
    (["imports", "--outlets", "0"], "--outlets: expected 1 to 250, got 0"),
    (["imports", "--outlets", "251"], "--outlets: expected 1 to 250, got 251"),
    (["imports", "--articles", "many"], "--articles: expected a whole number, got 'many'"),
    (["imports", "--floor-sample", "-1"], "--floor-sample: expected 1 to 10000, got -1"),
])
def test_the_import_benchmark_refuses_counts_it_cannot_run(argv, refused, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_cli.main(argv)
    assert exit_.value.code == 2 and refused in capsys.readouterr().err


def test_a_kept_speed_history_forgets_what_earlier_runs_captured_into_it(tmp_path: Path):
    """Only the articles after the history's own go, through the engine, and the history stays whole."""
    import numpy as np

    from bench import speed
    from server.app import create_app
    from server.embeddings import HashEmbedder
    from tests.helpers import STORY_PAGES, page_html

    embedder = HashEmbedder()
    app = create_app({"data_dir": tmp_path, "model": "hash"}, embedder=embedder)
    engine = app.extensions["crosscurrent"].engine
    texts = [f"Sentence number {i} of the pool about topic {i % 7}." for i in range(50)]
    speed.build_history(engine.store, embedder.model_name, 4, texts, np.asarray(embedder.embed(texts)))
    captured = [engine.capture(url, page_html(name)).article_id for name, url in STORY_PAGES[:3]]
    assert len(engine.store.article_ids()) == 7
    assert speed.forget_earlier_captures(engine) == 3
    kept = engine.store.article_ids()
    assert len(kept) == 4 and not set(captured) & set(kept)
    assert {engine.store.article_row(a)["domain"] for a in kept} == {speed.HISTORY_DOMAIN}
    assert speed.forget_earlier_captures(engine) == 0
