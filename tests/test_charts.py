"""Chart axes: whole-number ticks from 0 that reach the largest bar, for small and large
counts, on the dashboard's and the PDFs' bar charts (both orientations)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from app import charts

SVG = "{http://www.w3.org/2000/svg}"


def _value_axis(svg: str, horizontal: bool) -> tuple[list[str], list[float], list[float]]:
    """The value axis's tick labels and positions, and where each bar ends on that axis
    (in the plot's coordinates: y grows downwards, x to the right)."""
    root = ET.fromstring(svg.encode("utf-8"))  # noqa: S314 (our own chart, not untrusted input)
    # pygal draws a horizontal chart's values on its x axis, a vertical one's on its y axis
    wanted = "x" if horizontal else "y"
    axis = next(g for g in root.iter(f"{SVG}g") if g.get("class", "").split()[:2] == ["axis", wanted])
    labels, positions = [], []
    for guide in axis.iter(f"{SVG}g"):
        if guide.get("class") != "guides":
            continue
        path, text = guide.find(f"{SVG}path"), guide.find(f"{SVG}text")
        numbers = [float(n) for n in re.findall(r"-?[\d.]+", path.get("d", ""))]
        labels.append(text.text or "")
        positions.append(numbers[0] if horizontal else numbers[1])
    ends = []
    for rect in root.iter(f"{SVG}rect"):
        if "reactive" not in rect.get("class", ""):
            continue
        x, y, width = (float(rect.get(k, "0")) for k in ("x", "y", "width"))
        ends.append(x + width if horizontal else y)
    return labels, positions, ends


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 0, 0], ["0", "1"]),
        ([1, 0, 1], ["0", "1"]),
        ([2, 1, 0], ["0", "1", "2"]),
        ([0, 0, 3, 3, 1], ["0", "1", "2", "3"]),
        ([7, 3, 0], ["0", "2", "4", "6", "8"]),
        ([12, 5], ["0", "2", "4", "6", "8", "10", "12"]),
        ([57, 20, 3], ["0", "10", "20", "30", "40", "50", "60"]),
        ([1234, 800, 7], ["0", "500", "1,000", "1,500"]),
    ],
)
@pytest.mark.parametrize("horizontal", [True, False])
def test_ticks_are_whole_numbers_that_cover_the_largest_bar(
    values: list[int], expected: list[str], horizontal: bool
) -> None:
    svg = charts.bar_chart(
        [f"label {i}" for i in range(len(values))], values, series="Open", horizontal=horizontal
    )
    labels, positions, ends = _value_axis(svg, horizontal)
    assert labels == expected
    top = max(positions) if horizontal else min(positions)  # the highest tick's line
    for end in ends:
        # no bar runs past the highest tick (half a pixel for rounding)
        assert (end <= top + 0.5) if horizontal else (end >= top - 0.5)


@pytest.mark.parametrize(
    ("maximum", "expected"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (3, [0, 1, 2, 3]),
        (6, [0, 1, 2, 3, 4, 5, 6]),
        (7, [0, 2, 4, 6, 8]),
        (13, [0, 5, 10, 15]),
        (100, [0, 20, 40, 60, 80, 100]),
        (101, [0, 20, 40, 60, 80, 100, 120]),
        (99_999, [0, 20_000, 40_000, 60_000, 80_000, 100_000]),
    ],
)
def test_integer_ticks(maximum: int, expected: list[int]) -> None:
    assert charts.integer_ticks(maximum) == expected
