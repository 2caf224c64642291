import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from koto.audit.verification import check_seal as seal_problems
from koto.audit.verification import seal_now, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the hash chains (lanes) of the audit trail and report the first broken link. "
        "--seal prints the lanes' ends to keep outside the database; --check-seal FILE checks "
        "the trail still holds what a kept seal says (a lane cut short, or removed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal", action="store_true",
            help="after verifying, print a seal (JSON, one line) to keep outside the database",
        )  # fmt: skip
        parser.add_argument("--check-seal", metavar="FILE", help="a seal printed by --seal")
        parser.add_argument(
            "--seal-out", metavar="FILE",
            help="after verifying (and checking --check-seal), write a new seal to FILE; "
            "written only when every check passed, and whole (a temporary file renamed)",
        )  # fmt: skip

    def handle(self, *args, seal=False, check_seal=None, seal_out=None, **options):
        kept = None
        if check_seal:
            try:
                kept = json.loads(Path(check_seal).read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise CommandError(f"--check-seal: cannot read {check_seal}: {e}") from e
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"BROKEN at audit event {report.broken_at}: {report.problem} "
                f"({report.checked} events verified before it)."
            )
        self.stdout.write(f"OK: {report.checked} audit events, chain intact in every lane.")
        if kept is not None:
            if not isinstance(kept, dict):
                raise CommandError(f"--check-seal: {check_seal} is not a seal")
            problems = seal_problems(kept)
            if problems:
                raise CommandError(
                    f"NOT AS SEALED on {kept.get('at', '?')}: " + "; ".join(problems) + "."
                )
            self.stdout.write(f"OK: every lane still holds what the seal of {kept.get('at')} says.")
        if seal or seal_out:
            line = json.dumps(seal_now(), separators=(",", ":"))
            if seal:
                self.stdout.write(line)
            if seal_out:
                out = Path(seal_out)
                part = out.with_name(out.name + ".part")
                part.write_text(line + "\n", encoding="utf-8")
                part.replace(out)
                self.stdout.write(f"Sealed to {out}.")
