"""Text bound for a spreadsheet (every CSV and XLSX export): a cell that starts like a
formula is kept as text.

A spreadsheet runs a cell starting with "=", "+", "-" or "@" (and, in some programs, tab or
carriage return) as a formula: a guidance reason or a claim line typed as
`=HYPERLINK("https://…?"&A1)` would run on the machine of whoever opens the export (OWASP,
"CSV Injection"). In a CSV such a cell gets a leading apostrophe, which the spreadsheet
hides and reads as "text"; in an XLSX the cell is written as a string, never a formula.
Numbers, negative ones included, stay as they are."""

import csv
import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?[0-9][0-9\s\u00a0.,]*%?")


def formula_safe(value):
    """`value` with a leading apostrophe when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose every cell passes `formula_safe`."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([formula_safe(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **kwargs) -> SafeWriter:
    return SafeWriter(out, **kwargs)


def xlsx_row(sheet, values) -> list:
    """The openpyxl cells of one row, text kept as text (a string starting with "=" is
    otherwise stored as a formula), for `sheet.append`."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell

    cells = []
    for v in values:
        cell = WriteOnlyCell(sheet, value=v) if _write_only(sheet) else Cell(sheet, value=v)
        if isinstance(v, str) and cell.data_type == "f":
            cell.data_type = "s"
        cells.append(cell)
    return cells


def _write_only(sheet) -> bool:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    return isinstance(sheet, WriteOnlyWorksheet)
