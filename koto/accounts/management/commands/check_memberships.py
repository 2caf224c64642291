"""The active memberships whose role their organisation's kind may not give
(`koto.core.roles.KIND_ROLES`): made before the rule, or by hand. The rule holds for every
membership added since; these are for an administrator to end or to move."""

from django.core.management.base import BaseCommand, CommandError

from koto.accounts.models import Membership
from koto.core.roles import KIND_ROLES


class Command(BaseCommand):
    help = "List active memberships whose role their organisation's kind may not give."

    def handle(self, *args, **options):
        wrong = [
            m
            for m in Membership.objects.filter(is_active=True, user__is_system=False)
            .select_related("user", "organisation")
            .order_by("organisation__code", "user__username")
            if m.role not in KIND_ROLES.get(m.organisation.kind, ())
        ]
        for m in wrong:
            self.stdout.write(
                f"{m.organisation.code} ({m.organisation.kind}): {m.user.username} {m.role}"
            )
        if wrong:
            raise CommandError(f"{len(wrong)} memberships break the roles of their kind.")
        self.stdout.write("OK: every active membership's role is one its organisation may give.")
