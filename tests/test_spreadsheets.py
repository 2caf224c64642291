"""Text bound for a spreadsheet is kept as text: no cell of an export runs as a formula."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from koto.core.spreadsheets import csv_writer, formula_safe, xlsx_row


@pytest.mark.parametrize(
    ("value", "written"),
    [('=HYPERLINK("x")', "'=HYPERLINK(\"x\")"), ("+SUM(A1)", "'+SUM(A1)"), ("-A1", "'-A1"),
     ("@cmd", "'@cmd"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     # numbers, negative ones and shares included, and ordinary text stay as they are
     ("-5", "-5"), ("-1 234,5 %", "-1 234,5 %"), ("12", "12"), ("<5", "<5"), ("–", "–"),
     ("Etuudet", "Etuudet"), (7, 7), (None, None)],
)  # fmt: skip
def test_formula_safe(value, written):
    assert formula_safe(value) == written


def test_csv_writer__every_cell():
    out = io.StringIO()
    csv_writer(out, lineterminator="\n").writerows([["=1+1", "a"], ["-2", "@x"]])
    assert out.getvalue() == "'=1+1,a\n-2,'@x\n"


@pytest.mark.parametrize("write_only", [False, True])
def test_xlsx_row__text_stays_text(write_only):
    wb = Workbook(write_only=write_only)
    sheet = wb.create_sheet("s") if write_only else wb.active
    sheet.append(xlsx_row(sheet, ['=HYPERLINK("x")', 5, "Etuudet"]))
    buf = io.BytesIO()
    wb.save(buf)
    cells = load_workbook(io.BytesIO(buf.getvalue())).worksheets[-1][1]
    assert [(c.value, c.data_type) for c in cells] == [
        ('=HYPERLINK("x")', "s"), (5, "n"), ("Etuudet", "s"),
    ]  # fmt: skip
