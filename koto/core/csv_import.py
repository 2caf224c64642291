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


def read_csv(path: str) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The header and a generator of rows (UTF-8, an Excel byte-order mark accepted)."""
    f = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the generator
    reader = csv.DictReader(f)

    def rows() -> Iterator[dict[str, str]]:
        try:
            yield from reader
        finally:
            f.close()

    return [h.strip() for h in reader.fieldnames or []], rows()


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
