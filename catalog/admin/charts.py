"""Charts drawn on the server as SVG: geometry here, markup in
templates/admin/catalog/column_chart.html, colours in catalog/admin.css (Django's theme
variables, so that light and dark both read). No script and nothing from another site.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 800
HEIGHT = 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 8, 10, 22
# X labels closer than this (in the chart's own units) would run into each other.
_LABEL_SPACING = 44


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    title: str


@dataclass(frozen=True)
class Text:
    x: str
    y: str
    text: str


@dataclass(frozen=True)
class ColumnChart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    grid: list[Text]  # a value on the y axis: its line across the chart and its label
    labels: list[Text]  # under the bars
    plot_left: str
    plot_right: str


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (0 stays 0)."""
    if value <= 0:
        return 0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    raise AssertionError("unreachable")


def column_chart(
    series: Sequence[tuple[str, int]],
    *,
    title: str,
    describe: Callable[[str, int], str],
    label: Callable[[int, str], str | None],
) -> ColumnChart:
    """One column per (key, count), in order. `describe` gives a column's hover text;
    `label(index, key)` the text under it, or None for none (labels too close are dropped)."""
    plot_width = WIDTH - _LEFT - _RIGHT
    plot_height = HEIGHT - _TOP - _BOTTOM
    top = nice_ceiling(max((count for _, count in series), default=0)) or 1
    slot = plot_width / max(len(series), 1)
    gap = min(slot * 0.2, 4)
    bars, labels = [], []
    last_label_x = -math.inf
    for index, (key, count) in enumerate(series):
        height = plot_height * count / top
        x = _LEFT + index * slot
        bars.append(
            Bar(
                x=_number(x + gap / 2),
                y=_number(_TOP + plot_height - height),
                width=_number(max(slot - gap, 0.5)),
                height=_number(height),
                title=describe(key, count),
            )
        )
        text = label(index, key)
        middle = x + slot / 2
        if text is not None and middle - last_label_x >= _LABEL_SPACING:
            labels.append(Text(x=_number(middle), y=_number(HEIGHT - 6), text=text))
            last_label_x = middle
    grid = [
        Text(
            x=_number(_LEFT - 6),
            y=_number(_TOP + plot_height * (1 - share)),
            text=f"{top * share:,.1f}".removesuffix(".0"),
        )
        for share in (0, 0.5, 1)
    ]
    return ColumnChart(
        title=title,
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        grid=grid,
        labels=labels,
        plot_left=str(_LEFT),
        plot_right=str(WIDTH - _RIGHT),
    )
