"""Charts as SVG drawn on the server: no JavaScript, printable, readable by a screen reader
through the title and description (the data table beside each chart carries the numbers).
Hidden figures ("<5") are drawn as no bar and named in the description."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Colours with at least 3:1 contrast against white (WCAG 2.1, 1.4.11 non-text contrast).
PALETTE = ("#003d7a", "#b35900", "#1d5e20", "#6a1b9a", "#a00000", "#005f73", "#4a4a4a", "#8b0057")
# Lines differ by their dashes too, not by colour alone (WCAG 2.1, 1.4.1 use of colour).
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "12 2", "1 2", "6 2 2 2")
WIDTH = 640
LEGEND_ROW = 18


def _fmt_legend(names: list[str], top: int, *, lines: bool) -> tuple[list[str], int]:
    """The legend from `top` down, wrapped into as many rows as the names need (one row ran
    past the chart's width, and the browser cut the names off): its elements and height.
    `lines`: each entry shows its line's colour and dashes."""
    out, x, y = [], 60, top + 12
    for i, name in enumerate(names):
        w = 24 + 7 * len(name)
        if x > 60 and x + w > WIDTH - 10:
            x, y = 60, y + LEGEND_ROW
        colour = PALETTE[i % len(PALETTE)]
        if lines:
            dash = DASHES[i % len(DASHES)]
            out.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 14}" y2="{y - 4}" stroke="{colour}" '
                f'stroke-width="2.5"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"
            )
        else:
            out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 18}" y="{y}" font-size="12">{escape(name)}</text>')
        x += w
    return out, (y - top) + 8 if names else 0


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every text below is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _nice_max(v: float) -> float:
    """The top of a count axis: 1, 2, 5 or 10 times a power of ten (2.5 too from 25 on; a
    count axis topped at 2.5 was labelled "2")."""
    if v <= 0:
        return 1
    scale = 10 ** (len(str(int(v))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step == 2.5 and scale == 1:
            continue
        if v <= step * scale:
            return step * scale
    return v


def _ticks(peak: float) -> list[float]:
    """The count axis's labelled fractions: none between whole numbers (a peak of 1 was
    labelled 0, 0 and 1)."""
    return [f for f in (0, 0.5, 1) if float(peak * f).is_integer()]


# At most this many labels under the horizontal axis (a 60-month period's every third
# month ran the labels into each other); each label's room is the plot's width over them.
MAX_X_LABELS = 12


def _labelled(i: int, n: int) -> bool:
    """Whether the `i`th of `n` categories is labelled under the axis: every one up to 13,
    otherwise evenly spaced, at most `MAX_X_LABELS`, the first always."""
    return n <= MAX_X_LABELS + 1 or i % -(-n // MAX_X_LABELS) == 0


def _fmt(v: float) -> str:
    return f"{v:,.0f}".replace(",", "\u00a0")


def column_chart(
    chart_id: str, title: str, categories: list[str], series: list[tuple[str, list[int | None]]]
) -> SafeString:
    """Grouped columns, one group per category (month), one column per series."""
    top, bottom, left = 20, 200, 60
    legend, legend_h = _fmt_legend([n for n, _v in series], bottom + 30, lines=False)
    height = bottom + 30 + legend_h + 4
    values = [v for _n, vs in series for v in vs if v is not None]
    peak = _nice_max(max(values, default=0))
    plot_w = WIDTH - left - 10
    group_w = plot_w / max(len(categories), 1)
    bar_w = max(1.0, (group_w - 4) / max(len(series), 1))
    body = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#4a4a4a"/>']
    for frac in _ticks(peak):
        y = bottom - (bottom - top) * frac
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_fmt(peak * frac)}</text>"
        )
    hidden = 0
    for gi, category in enumerate(categories):
        x0 = left + gi * group_w + 2
        for si, (_name, vs) in enumerate(series):
            v = vs[gi]
            if v is None:
                hidden += 1
                continue
            h = (bottom - top) * (v / peak)
            body.append(
                f'<rect x="{x0 + si * bar_w:.1f}" y="{bottom - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}"/>'
            )
        if _labelled(gi, len(categories)):
            body.append(
                f'<text x="{x0 + group_w / 2:.1f}" y="{bottom + 16}" font-size="10" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    body += legend
    desc = _("%(n)s categories; the numbers are in the table beside the chart.") % {
        "n": len(categories)
    }
    if hidden:
        desc += " " + _("Hidden figures are not drawn.")
    return _svg(chart_id, title, desc, height, body)


def bar_chart(chart_id: str, title: str, rows: list[tuple], *, percent: bool = False) -> SafeString:
    """Horizontal bars, one per row (label, value[, what a hidden value shows as, "<5" if
    not given]); percent: values are shares 0…1."""
    row_h, left = 24, 230
    height = 20 + row_h * max(len(rows), 1) + 10
    values = [row[1] for row in rows if row[1] is not None]
    peak = 1.0 if percent else _nice_max(max(values, default=0))
    plot_w = WIDTH - left - 70
    body, hidden = [], 0
    for i, (label, v, *as_hidden) in enumerate(rows):
        y = 20 + i * row_h
        text = label if len(label) <= 34 else label[:33] + "…"
        body.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{escape(text)}</text>"
        )
        if v is None:
            hidden += 1
            shown_as = as_hidden[0] if as_hidden else "<5"
            body.append(
                f'<text x="{left + 4}" y="{y + 15}" font-size="12">{escape(shown_as)}</text>'
            )
            continue
        w = plot_w * (v / peak) if peak else 0
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}"/>'
        )
        shown = f"{100 * v:.0f} %" if percent else _fmt(v)
        body.append(
            f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{escape(shown)}</text>'
        )
    desc = _("%(n)s rows; the numbers are in the table beside the chart.") % {"n": len(rows)}
    if hidden:
        desc += " " + _("Hidden figures are not drawn.")
    return _svg(chart_id, title, desc, height, body)


def line_chart(
    chart_id: str,
    title: str,
    xs: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    bands: list[tuple[float | None, float | None]] | None = None,
) -> SafeString:
    """Lines of shares (0…1) over the categories `xs`; `bands`: a shaded 95 % interval
    around the first series."""
    top, bottom, left = 20, 200, 60
    legend, legend_h = _fmt_legend([n for n, _v in series], bottom + 30, lines=True)
    height = bottom + 30 + legend_h + 4
    plot_w = WIDTH - left - 20
    step = plot_w / max(len(xs) - 1, 1)
    body = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 20}" y2="{bottom}" stroke="#4a4a4a"/>']

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * v

    for frac in (0, 0.25, 0.5, 0.75, 1):
        body.append(
            f'<text x="{left - 6}" y="{y_of(frac) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{100 * frac:.0f} %</text>'
        )
    for i, x in enumerate(xs):
        if _labelled(i, len(xs)):
            # 16 below the axis: at 14 the first month's label touched the "0 %" beside it
            body.append(
                f'<text x="{left + i * step:.1f}" y="{bottom + 16}" font-size="10" '
                f'text-anchor="middle">{escape(x)}</text>'
            )
    if bands:
        upper = [(left + i * step, y_of(hi)) for i, (lo, hi) in enumerate(bands) if hi is not None]
        lower = [(left + i * step, y_of(lo)) for i, (lo, hi) in enumerate(bands) if lo is not None]
        if upper and lower:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
            body.append(f'<polygon points="{pts}" fill="#003d7a" fill-opacity="0.15"/>')
    for si, (_name, vs) in enumerate(series):
        colour, dash = PALETTE[si % len(PALETTE)], DASHES[si % len(DASHES)]
        # one line per run of shown points: a hidden point is a gap, not a line drawn
        # through it (which showed a trend across the hidden months)
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((left + i * step, y_of(v)))
        for run in runs:
            if len(run) >= 2:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                body.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"'
                    + (f' stroke-dasharray="{dash}"' if dash else "")
                    + "/>"
                )
            for x, y in run:
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    body += legend
    desc = _("%(n)s points per line; the numbers are in the table beside the chart.") % {
        "n": len(xs)
    }
    return _svg(chart_id, title, desc, height, body)
