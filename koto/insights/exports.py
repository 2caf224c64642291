"""The dashboard as CSV or XLSX: every table, as shown (hidden figures stay "<5")."""

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
from koto.insights.selectors import Dashboard


def _header(d: Dashboard) -> list[list[str]]:
    """What the file is, labelled in the viewer's language, as the page says it: the area,
    the period and filters, when the figures were computed, and the notes that qualify
    them (small counts hidden outside the viewer's organisation; a late nightly recount):
    a file travels without the page."""
    f = d.filters

    def at(moment) -> str:
        return timezone.localtime(moment, clock.HELSINKI).strftime("%Y-%m-%d %H:%M")

    rows = [
        ["Koto", pgettext("dashboard", "Area"), d.scope.label],
        ["", _("From month"), f.month_from.strftime("%Y-%m")],
        ["", _("To month"), f.month_to.strftime("%Y-%m")],
        ["", _("Target group"), str(TARGET_GROUP_LABELS.get(f.target_group, _("All")))],
        ["", _("Language"), f.language or _("All")],
        ["", _("Age band"), str(AGE_BAND_LABELS.get(f.age_band, _("All")))],
    ]
    if d.refreshed_at is None:
        rows.append(["", _("The figures have not been computed yet.")])
    else:
        rows.append(["", _("Figures as of %(at)s") % {"at": at(d.refreshed_at)}])
    if d.full_overdue:
        late = (
            _("The nightly recount of all figures last ran on %(at)s.")
            % {"at": at(d.full_refreshed_at)}
            if d.full_refreshed_at
            else _("The nightly recount of all figures has not run yet.")
        )
        rows.append(["", late])
    if not d.scope.own:
        rows.append(["", _("Outside your own organisation, counts below five are shown as “<5” to protect the people behind them.")])  # fmt: skip
        rows.append(["", _("A figure is shown as “..” and a share as “–” when a hidden count could be worked out from it.")])  # fmt: skip
    return rows


def dashboard_csv(d: Dashboard) -> str:
    """The page's tables as CSV, with a UTF-8 byte-order mark: Excel, where most managers
    open it with a double click, reads the file as UTF-8 only with one ("Työ", "<5").
    Counts are plain digits ("79085", not the page's "79 085", which a spreadsheet or a
    script reads as text); hidden figures and shares are as on the page."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv_writer(out)
    w.writerows(_header(d))
    for table in d.tables:
        w.writerow([])
        w.writerows([[str(_cell(v)) for v in row] for row in table.csv_rows()])
    return out.getvalue()


def dashboard_xlsx(d: Dashboard) -> bytes:
    wb = Workbook()
    first = wb.active
    first.title = "Koto"
    for row in _header(d):
        first.append(xlsx_row(first, row))
    used: set[str] = {first.title}
    for table in d.tables:
        ws = wb.create_sheet(_sheet_title(table.title, used))
        for row in table.csv_rows():
            ws.append(xlsx_row(ws, [_cell(v) for v in row]))
        for i in range(1, len(table.columns) + 2):
            ws.column_dimensions[get_column_letter(i)].width = 28 if i == 1 else 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet named as its table in the viewer's language (until 2026-12-08 by the table's
    code, "flows"): Excel's limits, 31 characters and none of []:*?/\\, and unique."""
    name = re.sub(r"[\[\]:*?/\\]", " ", title)
    name = re.sub(r"\s+", " ", name).strip()[:31].strip() or "Koto"
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
