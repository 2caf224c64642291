"""The plans app's answers to the registry's signals (`koto.clients.signals`): a client's
deadline tasks follow a new client and a change of what the law reads, at once (a new
client owed an assessment had no task until some casework began)."""

from django.dispatch import receiver

from koto.assessments.signals import assessment_completed
from koto.clients.models import LawFact
from koto.clients.signals import client_changed, client_created
from koto.plans.deadlines_sweep import sweep_client_tasks

# The client's fields the deadlines follow (the law's decision, the task's owner).
DEADLINES_FOLLOW = frozenset(
    {"birth_date", "residence_basis", "first_permit_on", "home_municipality",
     "home_municipality_on", *LawFact.values}
)  # fmt: skip


@receiver(client_created, dispatch_uid="plans.sweep_new_client")
def _sweep_new_client(sender, *, client, **kwargs):
    sweep_client_tasks(client)


@receiver(client_changed, dispatch_uid="plans.sweep_changed_client")
def _sweep_changed_client(sender, *, client, changed, **kwargs):
    if DEADLINES_FOLLOW & changed:
        sweep_client_tasks(client)


@receiver(assessment_completed, dispatch_uid="plans.sweep_assessed_client")
def _sweep_assessed_client(sender, *, assessment, **kwargs):
    # a plan found needed is to be started without delay: its task comes now, not at night
    sweep_client_tasks(assessment.client)
