"""Charts drawn by pygal as SVG, for the PDFs and the dashboard. Every chart has a data
table beside it in the page or PDF; the picture never carries information alone."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence

import pygal
from pygal.style import Style

# USWDS primary blue on white: 7.6:1 contrast for bars, dark text for labels.
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1b1b1b",
    foreground_strong="#1b1b1b",
    foreground_subtle="#565c65",
    colors=("#005ea2", "#1a4480", "#00664f", "#8c4a00", "#b50909"),
    font_family="DejaVu Sans, Source Sans Pro, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    tooltip_font_size=13,
    guide_stroke_color="#dfe1e2",
    major_guide_stroke_color="#a9aeb1",
    guide_stroke_dasharray="1,0",
    major_guide_stroke_dasharray="1,0",
)


def integer_ticks(maximum: float, most: int = 6) -> list[int]:
    """Whole-number axis ticks from 0 that reach `maximum`, at most `most` steps of
    1, 2 or 5 times a power of ten (pygal's own ticks are fractions for small values,
    so "2.5" is drawn as "2" and bars of 3 run past the top)."""
    top = max(math.ceil(maximum), 1)
    scale = 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            if math.ceil(top / step) <= most:
                return list(range(0, math.ceil(top / step) * step + 1, step))
        scale *= 10


def bar_chart(
    labels: Sequence[str], values: Sequence[int | float], *, series: str, horizontal: bool = True
) -> str:
    """A single-series bar chart as an SVG document string."""
    chart_class = pygal.HorizontalBar if horizontal else pygal.Bar
    ticks = integer_ticks(max(values, default=0))
    height = max(160, 40 + 34 * len(labels)) if horizontal else 300
    chart = chart_class(
        style=STYLE,
        width=640,
        height=height,
        show_legend=False,
        print_values=True,
        disable_xml_declaration=False,
        js=[],
        margin=8,
        truncate_label=-1,
        show_y_guides=not horizontal,
        show_x_guides=horizontal,
        range=(0, ticks[-1]),
        y_labels=ticks,
        value_formatter=lambda v: f"{v:,.0f}",
    )
    chart.x_labels = list(labels)
    chart.add(series, list(values))
    return chart.render(is_unicode=True)


def data_uri(svg: str) -> str:
    """An SVG as a data: URL, for an <img> in a PDF."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
