"""Bar charts as plain geometry, drawn as inline SVG by a template.

No JavaScript and nothing fetched: the server works out every rectangle and
label here, and `templates/_chart.html` writes them out (autoescaped, so a
label can never become markup). Colours come from CSS classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_LEFT = 44  # room for the y-axis labels
_BOTTOM = 34  # room for the x-axis labels
_TOP = 10
_RIGHT = 8


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    css: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    x_labels: tuple[Label, ...]
    sub_labels: tuple[Label, ...]
    y_ticks: tuple[Label, ...]
    grid: tuple[float, ...]
    legend: tuple[Series, ...]
    plot_left: float
    plot_right: float
    baseline: float
    title: str
    empty: bool


def nice_ceiling(value: int, ticks: int = 4) -> int:
    """The smallest 'round' top of the axis at or above `value` that splits into `ticks`."""
    if value <= ticks:
        return ticks
    step = value / ticks
    magnitude = 10 ** (len(str(int(step))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if magnitude * factor >= step:
            return int(magnitude * factor * ticks)
    return int(10 * magnitude * ticks)  # pragma: no cover


def grouped_stacked(
    *,
    title: str,
    groups: Sequence[str],
    members: Sequence[str],
    series: Sequence[Series],
    values: Mapping[tuple[int, int, str], int],
    width: int = 760,
    height: int = 240,
    member_labels: bool = False,
) -> Chart:
    """One cluster of bars per group, one bar per member, each stacked by series.

    `values[(group index, member index, series key)]` is a count; missing keys
    are zero. With one member this is a plain stacked bar chart.
    """
    totals = [
        sum(values.get((g, m, s.key), 0) for s in series)
        for g in range(len(groups))
        for m in range(len(members))
    ]
    top = nice_ceiling(max(totals, default=0))
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM
    baseline = _TOP + plot_h
    slot = plot_w / max(len(groups), 1)
    gap = slot * (0.25 if len(members) == 1 else 0.18)
    bar_w = (slot - gap) / max(len(members), 1)
    bars: list[Bar] = []
    x_labels: list[Label] = []
    sub_labels: list[Label] = []
    for g, group in enumerate(groups):
        left = _LEFT + g * slot + gap / 2
        label_y = baseline + (28 if member_labels else 15)
        x_labels.append(Label(_LEFT + g * slot + slot / 2, label_y, group))
        for m, member in enumerate(members):
            x = left + m * bar_w
            if member_labels:
                sub_labels.append(Label(x + bar_w / 2, baseline + 13, member[:1].upper()))
            y = float(baseline)
            for s in series:
                count = values.get((g, m, s.key), 0)
                if count <= 0:
                    continue
                h = plot_h * count / top
                y -= h
                who = f"{group} {member}".strip() if len(members) > 1 else group
                bars.append(
                    Bar(
                        x=round(x + 1, 2),
                        y=round(y, 2),
                        width=round(max(bar_w - 2, 1), 2),
                        height=round(h, 2),
                        css=s.css,
                        title=f"{who}: {count} {s.label}",
                    )
                )
    ticks = 4
    y_ticks = tuple(
        Label(_LEFT - 6, baseline - plot_h * i / ticks + 4, f"{top * i // ticks}")
        for i in range(ticks + 1)
    )
    grid = tuple(round(baseline - plot_h * i / ticks, 2) for i in range(1, ticks + 1))
    return Chart(
        width=width,
        height=height,
        bars=tuple(bars),
        x_labels=tuple(x_labels),
        sub_labels=tuple(sub_labels),
        y_ticks=y_ticks,
        grid=grid,
        legend=tuple(series),
        plot_left=_LEFT,
        plot_right=width - _RIGHT,
        baseline=baseline,
        title=title,
        empty=not any(totals),
    )
