"""A bar-and-line chart drawn on the server, as SVG markup in the page: no script, so it keeps
to the Content-Security-Policy. This module only computes the geometry; the template
``stats/_chart.html`` writes the elements (autoescaped, like everything else)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wikibridge.tickets.stats import Bucket

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28
MAX_X_LABELS = 9


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "created" or "closed"
    label: str  # the tooltip


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    bottom: int  # y of the plot's base line
    bars: list[Bar]
    backlog: str  # polyline points "x,y x,y ..."
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    title: str


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _r(value: float) -> float:
    return round(value, 1)


def build(buckets: Sequence[Bucket], title: str, names: Mapping[str, str] | None = None) -> Chart:
    """`names`: how the tooltips call "created" and "closed" (the page's language)."""
    names = names or {}
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    top = nice_ceiling(max([max(b.created, b.closed, b.open) for b in buckets] or [0]))
    slot = plot_w / max(len(buckets), 1)
    bar_w = max(slot * 0.4, 0.5)

    def y(value: int) -> float:
        return _r(base - plot_h * value / top)

    bars, points = [], []
    for i, b in enumerate(buckets):
        x0 = LEFT + i * slot
        when = b.start.isoformat() if b.start == b.end else f"{b.start} – {b.end}"
        for offset, kind, value in ((0.1, "created", b.created), (0.5, "closed", b.closed)):
            bars.append(
                Bar(
                    _r(x0 + slot * offset),
                    y(value),
                    _r(bar_w),
                    _r(base - y(value)),
                    kind,
                    f"{when}: {value} {names.get(kind, kind)}",
                )
            )
        points.append(f"{_r(x0 + slot / 2)},{y(b.open)}")
    y_ticks = [Tick(LEFT - 6, y(v), str(v)) for v in sorted({0, top // 2, top})]
    every = max(1, -(-len(buckets) // MAX_X_LABELS))
    x_ticks = [
        Tick(_r(LEFT + (i + 0.5) * slot), HEIGHT - 8, f"{b.start.day} {b.start:%b}")
        for i, b in enumerate(buckets)
        if i % every == 0
    ]
    return Chart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, base, bars, " ".join(points), y_ticks, x_ticks, title
    )
