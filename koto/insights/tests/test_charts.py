"""The SVG charts: legends inside the chart, lines told apart without colour, no line drawn
across a hidden point."""

import re

from koto.insights import charts

NAMES = ["Uudet asiakkaat", "Alkaneet alkukartoitukset", "Valmistuneet alkukartoitukset",
         "Alkaneet suunnitelmat", "Päättyneet suunnitelmat", "Kansainvälistä suojelua saavat",
         "Tilapäistä suojelua saavat"]  # fmt: skip


def _legend_texts(svg: str) -> list[tuple[float, float, str]]:
    return [(float(x), float(y), t) for x, y, t in
            re.findall(r'<text x="([\d.]+)" y="([\d.]+)" font-size="12">([^<]+)</text>', svg)]  # fmt: skip


def test_legend__wraps_inside_the_width_and_the_height_grows():
    # one row ran past the 640-wide view box: "Päättyneet suunnitelmat" started at x = 709
    svg = charts.column_chart("c", "Virrat", ["01/2026"], [(n, [1]) for n in NAMES[:5]])
    height = float(re.search(r'viewBox="0 0 640 ([\d.]+)"', svg).group(1))
    texts = _legend_texts(svg)
    assert [t for _x, _y, t in texts] == NAMES[:5]
    for x, y, text in texts:
        assert x + 7 * len(text) <= 640 and y <= height, text
    assert len({y for _x, y, _t in texts}) > 1


def test_line_chart__seven_lines__each_its_own_colour_and_dashes():
    svg = charts.line_chart("k", "Käyrä", ["0", "3", "6"], [(n, [1.0, 0.9, 0.8]) for n in NAMES])
    lines = re.findall(
        r'<polyline points="[^"]+" fill="none" stroke="([^"]+)" stroke-width="2.5"(?: stroke-dasharray="([^"]+)")?',
        svg,
    )
    assert len(lines) == 7 and len(set(lines)) == 7


def test_line_chart__hidden_point__a_gap_not_a_line_across_it():
    svg = charts.line_chart(
        "s", "Osuus", ["1", "2", "3", "4", "5"], [("A", [0.5, 0.6, None, 0.7, 0.8])]
    )
    assert len(re.findall("<polyline", svg)) == 2
    assert len(re.findall("<circle", svg)) == 4


def _axis_labels(svg: str, anchor: str) -> list[str]:
    return re.findall(rf'font-size="1[01]" text-anchor="{anchor}">([^<]+)</text>', svg)


def test_count_axis__whole_numbers_only():
    # a month with one client who moved: the axis read 0, 0, 1; a peak of 2.5 read "2"
    svg = charts.column_chart("m", "Muuttaneet", ["01/2026", "02/2026"], [("In", [0, 1])])
    assert _axis_labels(svg, "end") == ["0", "1"]
    svg = charts.column_chart("m", "Muuttaneet", ["01/2026"], [("In", [3])])
    assert _axis_labels(svg, "end") == ["0", "5"]  # 2.5 is no count
    svg = charts.column_chart("m", "Uudet", ["01/2026"], [("In", [240])])
    assert _axis_labels(svg, "end") == ["0", "125", "250"]


def test_month_labels__at_most_twelve_and_the_first():
    months = [f"{m:02d}/{y}" for y in range(2022, 2027) for m in range(1, 13)]
    for n in (13, 24, 36, 60):
        for svg in (
            charts.column_chart("c", "Virrat", months[:n], [("Uudet", [1] * n)]),
            charts.line_chart("k", "Osuus", months[:n], [("Ajallaan", [0.5] * n)]),
        ):
            shown = _axis_labels(svg, "middle")
            assert shown[0] == "01/2022" and len(shown) <= 13, (n, shown)
            assert len(shown) >= min(n, 10)
