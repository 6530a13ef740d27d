"""Server-side SVG charts: well-formed, escaped, accessible and free of inline style."""

import xml.etree.ElementTree as ET

import pytest

from server import charts

SVG = "{http://www.w3.org/2000/svg}"

HOSTILE = '<script>alert(1)</script> & "quotes" \'apostrophes\''

CASES = [
    ("days", lambda: charts.bar_chart([("2024-10-08", 1), ("2024-10-09", 3)], title="Articles per day")),
    ("weeks", lambda: charts.bar_chart([("2024-W41", 4)], title="Articles per week")),
    ("outlets", lambda: charts.horizontal_bars([("Daily News", 2), ("Capital Ledger", 1)], title="Outlets")),
    ("hostile bar label", lambda: charts.bar_chart([(HOSTILE, 2)], title=HOSTILE)),
    ("hostile outlet", lambda: charts.horizontal_bars([(HOSTILE, 5)], title=HOSTILE)),
    ("empty bars", lambda: charts.bar_chart([], title="Articles per day")),
    ("empty outlets", lambda: charts.horizontal_bars([], title="Outlets")),
    ("big number", lambda: charts.big_number(1234, "articles")),
]


@pytest.mark.parametrize("name, build", CASES, ids=[c[0] for c in CASES])
def test_chart_is_well_formed_accessible_svg(name, build):
    svg = build()
    root = ET.fromstring(svg)  # raises on broken escaping
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}title").text
    assert "style=" not in svg
    assert "<script" not in svg
    assert not any(el.tag == f"{SVG}script" or el.tag.endswith("foreignObject") for el in root.iter())


@pytest.mark.parametrize("build", [
    lambda: charts.bar_chart([(HOSTILE, 2)], title=HOSTILE),
    lambda: charts.horizontal_bars([(HOSTILE, 5)], title=HOSTILE),
])
def test_hostile_labels_come_back_as_text(build):
    root = ET.fromstring(build())
    texts = " ".join("".join(el.itertext()) for el in root.iter() if el.tag in (f"{SVG}text", f"{SVG}title"))
    assert "<script>alert(1)</script>" in texts


@pytest.mark.parametrize("points, bars", [
    ([("a", 1)], 1),
    ([("a", 0), ("b", 0)], 2),
    ([(f"d{i}", i) for i in range(40)], 40),
])
def test_one_bar_per_point(points, bars):
    root = ET.fromstring(charts.bar_chart(points, title="t"))
    assert len(root.findall(f"{SVG}rect")) == bars


@pytest.mark.parametrize("rows, first_label, shown", [
    ([("Small", 1), ("Big", 9)], "Big", 2),
    ([(f"Outlet {i:02d}", i) for i in range(30)], "Outlet 29", 12),
])
def test_horizontal_bars_largest_first_and_limited(rows, first_label, shown):
    root = ET.fromstring(charts.horizontal_bars(rows, title="Outlets"))
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == shown
    assert rects[0].find(f"{SVG}title").text.startswith(first_label)


@pytest.mark.parametrize("value, expected", [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (51, 100)])
def test_axis_maximum_is_round(value, expected):
    assert charts._nice_max(value) == expected


@pytest.mark.parametrize("build, message", [
    (lambda: charts.bar_chart([], title="Per day", empty_message="No articles yet"), "No articles yet"),
    (lambda: charts.horizontal_bars([], title="Outlets"), "Nothing to show yet"),
])
def test_empty_chart_says_so(build, message):
    assert message in build()


# --- legible when a phone-width window scales the chart down ----------------------------------------

PHONE_CHART_PX = 340  # a 390 px window less the page and card padding


@pytest.mark.parametrize("name, build", CASES, ids=[c[0] for c in CASES])
def test_labels_stay_legible_at_phone_width(name, build):
    root = ET.fromstring(build())
    scale = min(PHONE_CHART_PX / float(root.get("width")), 1.0)
    sizes = [float(el.get("font-size")) for el in root.iter(f"{SVG}text")]
    assert sizes and min(sizes) * scale >= 10


@pytest.mark.parametrize("labels", [
    [f"2024-10-{day:02d}"[5:] for day in range(1, 31)],
    [f"2024-W{week:02d}" for week in range(1, 27)],
])
def test_bar_labels_never_overlap(labels):
    root = ET.fromstring(charts.bar_chart([(label, 1) for label in labels], title="t"))
    shown = [el for el in root.iter(f"{SVG}text") if el.text in labels]
    xs = [float(el.get("x")) for el in shown]
    widest = max(len(label) for label in labels) * charts.CHAR_WIDTH
    assert len(shown) >= 2 and all(b - a >= widest for a, b in zip(xs, xs[1:]))


def test_long_story_titles_keep_most_of_their_words():
    title = "Kremlin denies that the two leaders have spoken by telephone since the end of the term"
    root = ET.fromstring(charts.horizontal_bars([(title, 3)], title="Stories followed"))
    [shown] = [el.text for el in root.iter(f"{SVG}text") if el.text and el.text.startswith("Kremlin")]
    assert len(shown) >= 50 and title.startswith(shown.rstrip("…"))
