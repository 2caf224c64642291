"""What every CSV import shares: reading the file as a stream, checking the header, and the
per-row error report ("row N: field: message", the header being row 1)."""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    skipped_existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = True

    @property
    def failed_rows(self) -> int:
        return len({e.row for e in self.errors})


class ImportAborted(Exception):
    """An --atomic import found errors: nothing was stored."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("import aborted")
        self.result = result


class CsvFileError(Exception):
    """The file cannot be read as CSV from row `row` on: not UTF-8 text (a file saved by
    Excel as "CSV" in Windows-1252), or a field past the csv module's limit."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(f"row {row}: {message}")
        self.row = row


def _unreadable(row: int, e: Exception) -> CsvFileError:
    if isinstance(e, UnicodeDecodeError):
        return CsvFileError(row, _("The file is not UTF-8 text: save it as “CSV UTF-8”."))
    return CsvFileError(row, _("This row cannot be read as CSV: %(error)s") % {"error": e})


class CsvRow(dict):
    """A row of `read_csv` (column → cell) with the line of the file it ends on. A row with
    more cells than the header holds them under the key None, one with fewer holds None
    for the missing cells (`csv.DictReader`): `shape_error` says so."""

    def __init__(self, cells: dict, *, line: int) -> None:
        super().__init__(cells)
        self.line = line


def shape_error(row: dict) -> str | None:
    """Why a row does not fit the header, or None: a cell too many (a comma in an address
    not in quotes shifts every cell after it) or too few (a cut line)."""
    extra = row.get(None)
    if extra:
        return _(
            "The row has %(cells)s cells, the header %(header)s: put a cell that holds a "
            "comma in double quotes."
        ) % {"cells": len(row) - 1 + len(extra), "header": len(row) - 1}
    missing = [k for k, v in row.items() if k is not None and v is None]
    if missing:
        return _("The row has %(cells)s cells, the header %(header)s.") % {
            "cells": len(row) - len(missing),
            "header": len(row),
        }
    return None


def read_csv(path: str) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The header and a generator of rows (UTF-8, an Excel byte-order mark accepted). The
    rows' keys are the header's names stripped, as the header is checked (" last_name"
    passed the check, then every row lacked last_name). A file that cannot be read raises
    `CsvFileError` naming the line, for the header or as the rows are read: each line is
    decoded as it comes, so a Windows-1252 line is named, not the start of its 8 kB block."""
    f = open(path, "rb")  # noqa: SIM115 - closed by the generator

    def lines() -> Iterator[str]:
        for n, raw in enumerate(f, start=1):
            try:
                yield raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise _unreadable(n, e) from e

    reader = csv.DictReader(lines())
    try:
        reader.fieldnames = [h.strip() for h in reader.fieldnames or []]
    except (CsvFileError, csv.Error) as e:
        f.close()
        raise e if isinstance(e, CsvFileError) else _unreadable(1, e) from e

    def rows() -> Iterator[dict[str, str]]:
        try:
            for row in reader:
                # the line the record ends on, as an editor numbers it (blank lines and a
                # quoted cell over several lines counted): what an error names
                yield CsvRow(row, line=reader.line_num)
        except csv.Error as e:
            raise _unreadable(reader.line_num, e) from e
        finally:
            f.close()

    return list(reader.fieldnames), rows()


def stopped_at(e: CsvFileError, *, nothing_kept: bool) -> str:
    """What an import command says when the file cannot be read on from a row."""
    kept = (
        "nothing was stored"
        if nothing_kept
        else "the rows of the batches before it were stored (import again: they are skipped)"
    )
    return f"{e} Stopped there: {kept}."


def check_readable(path: str) -> int:
    """The number of data rows, once every line has been decoded as UTF-8, before anything
    is imported: a line that is not raises `CsvFileError` naming it, and nothing is
    written (found while importing, the rows of the batch before it were lost too)."""
    with open(path, "rb") as f:
        n = 0
        for n, raw in enumerate(f, start=1):
            try:
                raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise _unreadable(n, e) from e
    return max(n - 1, 0)


def check_header(
    header: list[str], *, columns: Iterable[str], required: Iterable[str]
) -> list[RowError]:
    known = set(columns)
    errors = [RowError(1, c, _("Unknown column.")) for c in header if c not in known]
    errors += [
        RowError(1, c, _("Required column is missing.")) for c in required if c not in header
    ]
    return errors


def run_import(
    run: Callable[[], None], result: ImportResult, *, atomic: bool, dry_run: bool
) -> None:
    """Run an import's row loop: with --dry-run everything is rolled back; with --atomic nothing
    is kept when any row failed (ImportAborted); otherwise every valid batch is kept."""
    if not (atomic or dry_run):
        run()
        return
    with transaction.atomic():
        run()
        if dry_run or result.errors:
            transaction.set_rollback(True)
    if atomic and result.errors:
        result.written = False
        result.created = 0
        raise ImportAborted(result)
