"""`manage.py changepassword USERNAME`, replacing Django's: the password goes through the
audited service (`password_set`: the operating-system user who ran it named, the password
not), and the user changes it at the next sign-in. Django's own wrote it unaudited."""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.core.management.base import CommandError

from koto.accounts.models import User
from koto.accounts.services import password_set
from koto.core.context import run_by_hand
from koto.core.errors import ValidationFailed

TRIES = 3


class Command(changepassword.Command):
    help = (
        "Set a user's password (audited, naming who ran the command); the user chooses "
        "their own at the next sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "username", nargs="?", help="The user's username; by default, your own."
        )

    @run_by_hand
    def handle(self, *args, **options):
        username = options["username"] or getpass.getuser()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"user '{username}' does not exist")
        self.stdout.write(f"Changing password for user '{user}'")
        for _try in range(TRIES):
            p1 = self._get_pass()
            p2 = self._get_pass("Password (again): ")
            if p1 != p2:
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                password_set(actor=None, user=user, new_password=p1)
            except ValidationFailed as e:
                self.stderr.write("\n".join(m for msgs in e.fields.values() for m in msgs))
                continue
            return f"Password changed successfully for user '{user}'"
        raise CommandError(f"Aborting password change for user '{user}' after {TRIES} attempts")
