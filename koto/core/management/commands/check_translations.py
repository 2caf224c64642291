"""Fail when a user-facing string lacks a Finnish or Swedish translation, when the .po files
are out of date with the code, or when a compiled .mo file is stale."""

import filecmp
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

LANGUAGES = ("fi", "sv", "en")
MUST_TRANSLATE = ("fi", "sv")  # English is the source language of the msgids
STATS = re.compile(
    r"(\d+) translated messages?(?:, (\d+) fuzzy translations?)?(?:, (\d+) untranslated messages?)?"
)


class Command(BaseCommand):
    help = (
        "Check that every user-facing string is translated (fi, sv) and the catalogues are current."
    )

    def handle(self, *args, **options):
        if shutil.which("msgfmt") is None:
            raise CommandError("GNU gettext (msgfmt) is required: apt-get install gettext")
        locale_dir = Path(settings.LOCALE_PATHS[0])
        problems: list[str] = []
        with tempfile.TemporaryDirectory() as tmp:
            backup = Path(tmp) / "locale"
            shutil.copytree(locale_dir, backup)
            try:
                call_command(
                    "makemessages",
                    locale=list(LANGUAGES),
                    no_obsolete=True,
                    no_location=True,
                    ignore_patterns=[".venv/*", "benchmarks/*", "var/*"],
                    verbosity=0,
                )
                for lang in LANGUAGES:
                    po = locale_dir / lang / "LC_MESSAGES" / "django.po"
                    mo = locale_dir / lang / "LC_MESSAGES" / "django.mo"
                    result = subprocess.run(
                        [
                            "msgfmt",
                            "--check",
                            "--statistics",
                            "-o",
                            str(Path(tmp) / f"{lang}.mo"),
                            str(po),
                        ],
                        capture_output=True,
                        text=True,
                    )
                    if result.returncode != 0:
                        problems.append(f"{lang}: msgfmt failed: {result.stderr.strip()}")
                        continue
                    m = STATS.search(result.stderr)
                    fuzzy = int(m.group(2) or 0) if m else 0
                    untranslated = int(m.group(3) or 0) if m else 0
                    if lang in MUST_TRANSLATE and (fuzzy or untranslated):
                        problems.append(
                            f"{lang}: {untranslated} untranslated and {fuzzy} fuzzy messages"
                        )
                    old_po = backup / lang / "LC_MESSAGES" / "django.po"
                    if _msgids(po) != _msgids(old_po):
                        problems.append(
                            f"{lang}: django.po is out of date with the code (run `make messages`)"
                        )
                    if not mo.exists() or not filecmp.cmp(
                        mo, Path(tmp) / f"{lang}.mo", shallow=False
                    ):
                        problems.append(f"{lang}: django.mo is stale (run `make messages`)")
            finally:
                shutil.rmtree(locale_dir)
                shutil.copytree(backup, locale_dir)
        if problems:
            raise CommandError("Translations incomplete:\n  " + "\n  ".join(problems))
        self.stdout.write("Translations complete: fi, sv and en catalogues are current.")


def _msgids(po: Path) -> set[str]:
    if not po.exists():
        return set()
    text = po.read_text(encoding="utf-8")
    ids = set()
    for block in text.split("\n\n"):
        m = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if m and not block.lstrip().startswith("#~"):
            ids.add(m.group(1))
    return ids
