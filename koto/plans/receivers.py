"""The plans app's answers to the registry's signals (`koto.clients.signals`): a client's
deadline tasks follow a new client and a change of what the law reads, at once (a new
client owed an assessment had no task until some casework began)."""

from django.dispatch import receiver

from koto.assessments.signals import assessment_completed
from koto.audit.services import audit_record
from koto.clients.models import HandedOverRecord, LawFact, ResponsibilityChange
from koto.clients.signals import client_changed, client_created, client_transferred
from koto.core import clock
from koto.plans.deadlines_sweep import sweep_client_tasks
from koto.plans.models import IntegrationPlan, PlanStatus

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


@receiver(client_transferred, dispatch_uid="plans.move_open_plans")
def _move_open_plans(
    sender, *, client, from_organisations, to_organisation, counsellor, referral_id, **kwargs
):
    """The client moved and the new organisation took them over: the plans still open (a
    draft, one in force) continue there, with the counsellor who accepted; ended and
    cancelled plans stay the record of the organisation that made them."""
    plans = IntegrationPlan.objects.filter(
        client=client,
        status__in=(PlanStatus.DRAFT, PlanStatus.ACTIVE),
        organisation_id__in=from_organisations,
    )
    # the registry's change of responsibility the hand-over wrote: the plans it passed over
    change = ResponsibilityChange.objects.get(source_type="referral", source_id=referral_id)
    for plan in plans.select_for_update():
        HandedOverRecord.objects.create(change=change, record_type="plan", record_id=plan.id)
        before = plan.organisation_id
        plan.organisation, plan.counsellor = to_organisation, counsellor
        plan.version += 1
        plan.updated_at = clock.now()
        plan.save(update_fields=["organisation", "counsellor", "version", "updated_at"])
        audit_record(
            actor=counsellor, action="update", object_type="plan", object_id=plan.id,
            client_id=client.id, reason=f"transfer:{referral_id}",
            changes={"organisation": {"from": before, "to": to_organisation.id}},
        )  # fmt: skip
    sweep_client_tasks(client)
