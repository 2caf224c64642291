"""The dashboard as CSV or XLSX: every table, as shown (hidden figures stay "<5")."""

import csv
import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from koto.insights.selectors import Dashboard


def _header(d: Dashboard) -> list[list[str]]:
    f = d.filters
    return [
        ["Koto", d.scope.label],
        [f.month_from.strftime("%Y-%m"), f.month_to.strftime("%Y-%m")],
        [f.target_group, f.language, f.age_band],
    ]


def dashboard_csv(d: Dashboard) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerows(_header(d))
    for table in d.tables:
        w.writerow([])
        w.writerows(table.csv_rows())
    return out.getvalue()


def dashboard_xlsx(d: Dashboard) -> bytes:
    wb = Workbook()
    first = wb.active
    first.title = "Koto"
    for row in _header(d):
        first.append(row)
    for table in d.tables:
        ws = wb.create_sheet(table.id[:31])
        for row in table.csv_rows():
            ws.append([_cell(v) for v in row])
        for i in range(1, len(table.columns) + 2):
            ws.column_dimensions[get_column_letter(i)].width = 28 if i == 1 else 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(v: str):
    """Numbers as numbers (hidden ones and shares stay text)."""
    plain = v.replace("\u00a0", "")
    return int(plain) if plain.isdigit() else v
