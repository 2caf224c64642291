"""The dashboard and the impact evaluation as CSV or XLSX: every table, as shown (hidden
figures stay "<5")."""

import io
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from koto.core import clock
from koto.core.spreadsheets import csv_writer, xlsx_row
from koto.insights.dimensions import AGE_BAND_LABELS, TARGET_GROUP_LABELS
from koto.insights.selectors import GROUPINGS, Dashboard, Impact, Table


def _header(d: Dashboard) -> list[list[str]]:
    """What the file is, labelled in the viewer's language, as the page says it: the area,
    the period and filters, when the figures were computed, and the notes that qualify
    them (small counts hidden outside the viewer's organisation; a late nightly recount):
    a file travels without the page."""
    f = d.filters
    return _about(d, f.month_from, f.month_to, [
        ["", _("Target group"), str(TARGET_GROUP_LABELS.get(f.target_group, _("All")))],
        ["", _("Language"), f.language or _("All")],
        ["", _("Age band"), str(AGE_BAND_LABELS.get(f.age_band, _("All")))],
    ])  # fmt: skip


def _impact_header(i: Impact) -> list[list[str]]:
    """The impact evaluation's file says what the page says above its tables: that the
    figures are observational, not causal, and what a share counts."""
    return _about(i, i.month_from, i.month_to, [
        ["", _("Compare by"), str(GROUPINGS.get(i.grouping, i.grouping))],
        ["", _("Target group"), str(TARGET_GROUP_LABELS.get(i.target_group, _("All")))],
        ["", _("Observational, not causal.")],
        ["", _("These figures follow the people whose integration plan started in the period. They describe what happened, not what the services caused: the groups differ in many ways besides the plan or the services, and there is no comparison group.")],
        ["", _("Employed or studying: the plan ended with the outcome “employed” or “studying” within 6, 12 or 24 whole months of its start. A share counts only the plans followed that long, from the last day of the month they started; the interval is the 95 %% Wilson interval.") % {}],
    ])  # fmt: skip


def _about(figures, month_from, month_to, filters: list[list[str]]) -> list[list[str]]:
    def at(moment) -> str:
        return timezone.localtime(moment, clock.HELSINKI).strftime("%Y-%m-%d %H:%M")

    rows = [
        ["Koto", pgettext("dashboard", "Area"), figures.scope.label],
        ["", _("From month"), month_from.strftime("%Y-%m")],
        ["", _("To month"), month_to.strftime("%Y-%m")],
        *filters,
    ]
    if figures.refreshed_at is None:
        rows.append(["", _("The figures have not been computed yet.")])
    else:
        rows.append(["", _("Figures as of %(at)s") % {"at": at(figures.refreshed_at)}])
    if figures.full_overdue:
        late = (
            _("The nightly recount of all figures last ran on %(at)s.")
            % {"at": at(figures.full_refreshed_at)}
            if figures.full_refreshed_at
            else _("The nightly recount of all figures has not run yet.")
        )
        rows.append(["", late])
    if not figures.scope.own:
        rows.append(["", _("Outside your own organisation, counts below five are shown as “<5” to protect the people behind them.")])  # fmt: skip
        rows.append(["", _("A figure is shown as “..” and a share as “–” when a hidden count could be worked out from it.")])  # fmt: skip
    return rows


def impact_tables(i: Impact) -> list[Table]:
    """The impact page's tables as the page shows them: the cohorts and the groups with
    their shares at 6, 12 and 24 months, the curve, and each group's curve."""
    follow = [_("by %(t)s months") % {"t": t} for t in i.follow_up]

    def rows(found) -> list:
        return [(r.key, r.label, [r.plans, *r.shares.values()]) for r in found]

    months = [str(m) for m in range(0, 37, 3)]
    return [
        Table("cohorts", _("Cohorts by the quarter the plan started"), _("Quarter"),
              [_("Plans"), *follow], rows(i.cohorts)),
        Table("groups", _("By group"), _("Group"), [_("Plans"), *follow], rows(i.groups)),
        Table("km", _("Time to employment or studies (Kaplan–Meier)"), _("Months since start"),
              [_("Followed"), _("Employed or studying"), _("95 %% interval") % {}],  # the page's
              [(str(p.months), str(p.months), [p.at_risk, p.display, p.interval_display])
               for p in i.curve]),
        Table("km_groups", _("Share employed or studying by group (Kaplan–Meier)"), _("Group"),
              [_("by %(t)s months") % {"t": t} for t in months],
              [(label, label, [p.display for p in points] + ["–"] * (len(months) - len(points)))
               for label, points in i.group_curves.items()]),
    ]  # fmt: skip


def dashboard_csv(d: Dashboard) -> str:
    """The page's tables as CSV, with a UTF-8 byte-order mark: Excel, where most managers
    open it with a double click, reads the file as UTF-8 only with one ("Työ", "<5").
    Counts are plain digits ("79085", not the page's "79 085", which a spreadsheet or a
    script reads as text); hidden figures and shares are as on the page."""
    return _csv(_header(d), d.tables)


def dashboard_xlsx(d: Dashboard) -> bytes:
    return _xlsx(_header(d), d.tables)


def impact_csv(i: Impact) -> str:
    return _csv(_impact_header(i), impact_tables(i))


def impact_xlsx(i: Impact) -> bytes:
    return _xlsx(_impact_header(i), impact_tables(i))


def _csv(header: list[list[str]], tables: list[Table]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    w = csv_writer(out)
    w.writerows(header)
    for table in tables:
        w.writerow([])
        w.writerows([[str(_cell(v)) for v in row] for row in table.csv_rows()])
        if table.note:  # what qualifies the table on the page travels with it, apart
            # from its rows (in the second column, as the header's notes)
            w.writerow([])
            w.writerow(["", table.note])
    return out.getvalue()


def _xlsx(header: list[list[str]], tables: list[Table]) -> bytes:
    wb = Workbook()
    first = wb.active
    first.title = "Koto"
    for row in header:
        first.append(xlsx_row(first, row))
    used: set[str] = {first.title}
    for table in tables:
        ws = wb.create_sheet(_sheet_title(table.title, used))
        for row in table.csv_rows():
            ws.append(xlsx_row(ws, [_cell(v) for v in row]))
        if table.note:
            ws.append([])
            ws.append(xlsx_row(ws, ["", table.note]))
        for i in range(1, len(table.columns) + 2):
            ws.column_dimensions[get_column_letter(i)].width = 28 if i == 1 else 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet named as its table in the viewer's language (until 2026-12-08 by the table's
    code, "flows"): Excel's limits, 31 characters and none of []:*?/\\, and unique."""
    name = re.sub(r"[\[\]:*?/\\]", " ", title)
    name = re.sub(r"\s+", " ", name).strip()
    if len(name) > 31:  # cut at a word, without a dangling bracket
        cut = name[:32]
        name = (cut.rsplit(" ", 1)[0].rstrip(" (–-,") if " " in cut else "") or name[:31]
    name = name or "Koto"
    candidate, n = name, 2
    while candidate.lower() in {u.lower() for u in used}:
        suffix = f" ({n})"
        candidate, n = name[: 31 - len(suffix)].rstrip() + suffix, n + 1
    used.add(candidate)
    return candidate


def _cell(v: str):
    """Numbers as numbers, without the page's thousands separator (hidden ones and shares
    stay text)."""
    plain = v.replace("\u00a0", "")
    return int(plain) if plain.isascii() and plain.isdigit() else v
