"""Server-side SVG charts for the stats page.

Pure functions that return SVG markup as strings. Every label passes through
``xml.sax.saxutils`` escaping, and only presentation attributes (fill=,
stroke=, ...) are used: the UI's Content-Security-Policy forbids inline style.
No JavaScript, no fonts or images fetched from anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

log = logging.getLogger(__name__)

# A calm palette that matches static/app.css.
BAR_COLOUR = "#3b6ea8"
AXIS_COLOUR = "#9aa5b1"
GRID_COLOUR = "#e4e8ec"
TEXT_COLOUR = "#33404d"
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"
# Charts are drawn narrow with large type, so that a phone-width window (which scales them down to
# about 350 px) still shows every label at 10 px or more; wide windows scale them up a little.
CHART_WIDTH = 440
LABEL_SIZE = 13
CHAR_WIDTH = 0.6 * LABEL_SIZE  # average advance of a character, for fitting labels


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = LABEL_SIZE,
          colour: str = TEXT_COLOUR, weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'font-family={quoteattr(FONT)} font-weight="{weight}" fill="{colour}">{escape(content)}</text>'
    )


def _svg_open(width: int, height: int, title: str, description: str) -> str:
    # role="img" + <title>/<desc> make the chart readable by screen readers.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
    )


def _nice_max(value: int) -> int:
    """Round the axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _ticks(maximum: int) -> list[int]:
    if maximum <= 5:
        return list(range(0, maximum + 1))
    step = maximum // 5 if maximum % 5 == 0 else maximum // 4
    return list(range(0, maximum + 1, max(step, 1)))


def _empty(width: int, height: int, title: str, message: str) -> str:
    return (
        _svg_open(width, height, title, message)
        + _text(width / 2, 24, title, anchor="middle", size=15, weight="600")
        + _text(width / 2, height / 2 + 6, message, anchor="middle", colour=AXIS_COLOUR)
        + "</svg>"
    )


def bar_chart(points: Sequence[tuple[str, int]], *, title: str, unit: str = "articles",
              width: int = CHART_WIDTH, height: int = 240, empty_message: str = "Nothing to show yet") -> str:
    """Vertical bars, one per (label, value) in order — days or weeks on the x axis."""
    points = [(str(label), max(int(value), 0)) for label, value in points]
    if not points:
        return _empty(width, height, title, empty_message)

    left, right, top, bottom = 44, 12, 36, 44
    plot_w = width - left - right
    plot_h = height - top - bottom
    maximum = _nice_max(max(v for _, v in points))
    slot = plot_w / len(points)
    bar_w = max(min(slot * 0.7, 48), 1)
    total = sum(v for _, v in points)
    parts = [_svg_open(width, height, title, f"{total} {unit} over {len(points)} periods")]
    parts.append(_text(left, 20, title, size=15, weight="600"))

    for tick in _ticks(maximum):
        y = top + plot_h - plot_h * tick / maximum
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
        parts.append(_text(left - 6, y + 4, str(tick), anchor="end", colour=AXIS_COLOUR))

    # Label only as many bars as there is room for, so that dates never overlap.
    label_room = max(len(label) for label, _ in points) * CHAR_WIDTH + 10
    label_every = max(1, -(-len(points) // max(int(plot_w // label_room), 1)))
    for index, (label, value) in enumerate(points):
        x = left + slot * index + (slot - bar_w) / 2
        bar_h = plot_h * value / maximum
        y = top + plot_h - bar_h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" rx="2" '
            f'fill="{BAR_COLOUR}"><title>{escape(f"{label}: {value} {unit}")}</title></rect>'
        )
        if index % label_every == 0:
            parts.append(_text(x + bar_w / 2, top + plot_h + 18, label, anchor="middle"))

    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
                 f'stroke="{AXIS_COLOUR}" stroke-width="1"/>')
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(rows: Iterable[tuple[str, int]], *, title: str, unit: str = "articles",
                    width: int = CHART_WIDTH, row_height: int = 40, limit: int = 12,
                    empty_message: str = "Nothing to show yet") -> str:
    """One horizontal bar per (label, value), largest first — outlets, stories.

    Each label sits on its own line above its bar, across the whole width: story titles stay readable
    in a narrow window instead of being cut to a few words beside the bar.
    """
    rows = sorted(((str(label), max(int(value), 0)) for label, value in rows),
                  key=lambda row: (-row[1], row[0]))[:limit]
    if not rows:
        return _empty(width, 120, title, empty_message)

    top, right, bar_h = 34, 40, 12
    height = top + row_height * len(rows) + 8
    plot_w = width - right
    maximum = max(v for _, v in rows) or 1
    room = int(width // CHAR_WIDTH)
    parts = [_svg_open(width, height, title, f"{len(rows)} rows, largest {rows[0][0]} ({rows[0][1]} {unit})")]
    parts.append(_text(0, 20, title, size=15, weight="600"))
    for index, (label, value) in enumerate(rows):
        y = top + index * row_height
        shown = label if len(label) <= room else label[:room - 1].rstrip() + "…"
        bar_w = max(plot_w * value / maximum, 2)
        parts.append(_text(0, y + 15, shown))
        parts.append(
            f'<rect x="0" y="{y + 21}" width="{bar_w:.1f}" height="{bar_h}" rx="2" '
            f'fill="{BAR_COLOUR}"><title>{escape(f"{label}: {value} {unit}")}</title></rect>'
        )
        parts.append(_text(bar_w + 6, y + 21 + bar_h - 1, str(value), colour=AXIS_COLOUR))
    parts.append("</svg>")
    return "".join(parts)


def big_number(value: int, label: str, *, width: int = 150, height: int = 84) -> str:
    """A single figure with its caption (totals on the stats page)."""
    return (
        _svg_open(width, height, f"{value} {label}", f"{value} {label}")
        + _text(width / 2, 46, f"{value:,}", anchor="middle", size=30, weight="600", colour=BAR_COLOUR)
        + _text(width / 2, 70, label, anchor="middle")
        + "</svg>"
    )
