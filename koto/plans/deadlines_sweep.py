"""Statutory and agreed deadlines as tasks.

For one client, `sweep_client_tasks` works out every deadline that applies now from the
casework records and `koto.law`, and brings the client's tasks in line: new deadlines become
open tasks, changed dates move, deadlines met or no longer applying are closed. Services
call it after each write; the nightly job (`tasks.sweep_deadlines`) runs it for every
client with open casework, so dates that depend on the calendar stay right."""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from koto.assessments.models import Assessment
from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import Client, ClientFactChange, Task
from koto.clients.selectors import organisation_keeps_record
from koto.core import clock
from koto.core.models import JobRun
from koto.law import (
    Deadline,
    add_months,
    assessment_start_due,
    guidance_to_service_due,
    plan_preparation_start_due,
    plan_review_due,
)
from koto.law.models import Authority
from koto.law.params import NoPeriodInForce, ParameterMissing
from koto.organisations.models import OrganisationKind
from koto.plans.models import IntegrationPlan, PlanStatus

logger = logging.getLogger(__name__)

# The task kinds this sweep computes; other apps' tasks (e.g. minors' care) are theirs.
SWEPT_KINDS = (
    Task.Kind.ASSESSMENT_START,
    Task.Kind.PLAN_DRAFT,
    Task.Kind.GUIDANCE_TO_SERVICE,
    Task.Kind.PLAN_REVIEW,
    Task.Kind.PLAN_END,
    Task.Kind.EXTENSION_DECISION,
)


@dataclass(frozen=True)
class Due:
    kind: str
    source_type: str
    source_id: int
    deadline: Deadline
    assignee_id: int | None
    organisation_id: int


def _agreed(due_on: dt.date, code: str, fi: str, sv: str, en: str) -> Deadline:
    """A deadline agreed in practice rather than set by law (marked assumed)."""
    from koto.law.models import Reason

    return Deadline(
        due_on=due_on,
        reason=Reason(code=code, section="agreed practice", text_fi=fi, text_sv=sv, text_en=en),
        period_id="",
        assumed=True,
    )


def _if_in_force(rule, on: dt.date) -> Deadline | None:
    """The deadline `rule` gives from `on`, or None when the parameter period in force on
    that date has no such rule (a plan agreed under the old Act has no review deadline)."""
    try:
        return rule(on)
    except (ParameterMissing, NoPeriodInForce):
        return None


def _owes_assessment(decision) -> bool:
    return decision.assessment.entitled and decision.responsible_authority == Authority.MUNICIPALITY


def owed_assessment_since(client: Client, *, today: dt.date) -> dt.date:
    """The day the client became the municipality's to assess, for a client who is today:
    the day they became a client, or their first permit when it came later (an asylum
    seeker granted protection), or the latest day a recorded change of their situation
    made them so (a jobseeker no longer: the employment authority's client until then). The
    deadline ran from the day the record was made, and a client who became the
    municipality's later was given a task overdue on its first day."""
    since = client.created_at.astimezone(clock.HELSINKI).date()
    if client.first_permit_on and client.first_permit_on > since:
        since = client.first_permit_on
    days = (
        ClientFactChange.objects.filter(client=client, valid_from__gt=since, valid_from__lte=today)
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .distinct()
    )
    for day in days:
        try:
            before = decision_for(client, day - dt.timedelta(days=1))
        except (MissingFacts, FactsError):
            return day
        if not _owes_assessment(before):
            return day
    return since


def plan_drawn_up_for(assessment: Assessment, plans: Iterable[IntegrationPlan]) -> bool:
    """Whether drawing up a plan began after `assessment` found one needed: a plan (not a
    cancelled draft) based on it, or drafted since it started (a plan drawn up in the
    initial interview itself, or one drafted without naming the assessment)."""
    return any(
        p.status != PlanStatus.CANCELLED
        and (
            p.assessment_id == assessment.id
            or p.created_at.astimezone(clock.HELSINKI).date() >= assessment.started_on
        )
        for p in plans
    )


def _plan_preparation(
    client: Client, assessments: list[Assessment], plans: list[IntegrationPlan], today: dt.date
) -> Due | None:
    """Start drawing up the plan: the client's latest completed assessment found a plan needed
    and none has been begun since (681/2023: "without delay" after the assessment, e.g. by
    booking the meeting; the days are `plan_preparation_start_within_days`). Met when a plan
    is drafted: the Act's duty is to begin the plan, and agreeing it is the client's meeting
    (its own tasks follow the plan in force). A first plan is owed only inside the window
    from the first permit (14 §): past it the task no longer applies."""
    completed = [
        a for a in assessments if a.status == Assessment.Status.COMPLETED and a.completed_on
    ]
    if not completed:
        return None
    latest = max(completed, key=lambda a: (a.completed_on, a.id))
    if latest.plan_needed is not True or plan_drawn_up_for(latest, plans):
        return None
    if any(p.status in (PlanStatus.DRAFT, PlanStatus.ACTIVE) for p in plans):
        # a plan in preparation or in force from before the assessment: it is reviewed,
        # not drawn up anew (`plan_create` refuses a second open plan), so a task to start
        # one could not be met and would stay overdue until that plan ends
        return None
    deadline = _if_in_force(plan_preparation_start_due, latest.completed_on)
    if deadline is None:
        return None
    if not plans:  # a first plan: only inside the window from the first permit
        try:
            window = decision_for(client, today).assessment
        except (MissingFacts, FactsError):
            window = None  # the facts cannot tell: the plan is still owed
        if window and window.window_ends_on and today > window.window_ends_on:
            if not window.exempt_from_window:
                return None
    owner, organisation = latest.counsellor_id, latest.organisation_id
    if organisation != client.responsible_organisation_id and not organisation_keeps_record(
        organisation_id=organisation, client=client
    ):
        # the assessing organisation no longer keeps the record (the client was transferred
        # since): the plan is drawn up by the organisation now responsible, its counsellor or,
        # with none, the organisation's team; an organisation still keeping it (a producer,
        # one holding a full grant) keeps the task
        owner, organisation = client.counsellor_id, client.responsible_organisation_id
    return Due(Task.Kind.PLAN_DRAFT, "assessment", latest.id, deadline, owner, organisation)


def deadlines_for(client: Client, *, today: dt.date) -> list[Due]:
    out: list[Due] = []
    assessments = list(client.assessments.all())
    # a cancelled draft is no plan: it neither meets the assessment deadline nor has tasks
    plans = list(
        client.plans.exclude(status=PlanStatus.CANCELLED)
        .select_related("organisation")
        .prefetch_related("reviews", "goals__actions")
    )
    # Assessment start: an entitled client of the municipality with no assessment yet.
    if not assessments and not plans:
        try:
            decision = decision_for(client, today)
        except (MissingFacts, FactsError):
            decision = None
        if decision and _owes_assessment(decision):
            out.append(
                Due(
                    Task.Kind.ASSESSMENT_START,
                    "client",
                    client.id,
                    assessment_start_due(owed_assessment_since(client, today=today)),
                    client.counsellor_id,
                    client.responsible_organisation_id,
                )  # fmt: skip
            )
    if (preparation := _plan_preparation(client, assessments, plans, today)) is not None:
        out.append(preparation)
    for plan in plans:
        if plan.status != PlanStatus.ACTIVE or not plan.agreed_on:
            continue
        # a start recorded ahead counts once its day has come (the nightly sweep sees it)
        started_service = any(
            a.service_name and a.done_on and a.done_on <= today
            for g in plan.goals.all()
            for a in g.actions.all()
        )
        to_service = _if_in_force(guidance_to_service_due, plan.agreed_on)
        if not started_service and to_service is not None:
            out.append(
                Due(
                    Task.Kind.GUIDANCE_TO_SERVICE,
                    "plan",
                    plan.id,
                    to_service,
                    plan.counsellor_id,
                    plan.organisation_id,
                )
            )
        # the 6-month review is the municipality's duty; the employment authority reviews the
        # plan at its meetings with the jobseeker (integration-act.md, section 3)
        reviews = [r.reviewed_on for r in plan.reviews.all()]
        review = (
            _if_in_force(plan_review_due, max([plan.agreed_on, *reviews]))
            if plan.organisation.kind == OrganisationKind.MUNICIPALITY
            else None
        )
        if review is not None:
            out.append(
                Due(
                    Task.Kind.PLAN_REVIEW,
                    "plan",
                    plan.id,
                    review,
                    plan.counsellor_id,
                    plan.organisation_id,
                )
            )
        out.append(
            Due(
                Task.Kind.PLAN_END,
                "plan",
                plan.id,
                _agreed(
                    plan.ends_on,
                    "PLAN_ENDS",
                    "Suunnitelma päättyy: sovi jatkosta asiakkaan kanssa.",
                    "Planen upphör: kom överens med kunden om fortsättningen.",
                    "The plan ends: agree with the client what follows.",
                ),
                plan.counsellor_id,
                plan.organisation_id,
            )  # fmt: skip
        )
        out.append(
            Due(
                Task.Kind.EXTENSION_DECISION,
                "plan",
                plan.id,
                _agreed(
                    add_months(plan.ends_on, -1),
                    "EXTENSION_DECISION",
                    "Päätä kuukautta ennen suunnitelman päättymistä, jatketaanko sitä perustellusta syystä.",
                    "Besluta en månad innan planen upphör om den ska förlängas av ett särskilt skäl.",
                    "Decide a month before the plan ends whether to extend it for a stated reason.",
                ),
                plan.counsellor_id,
                plan.organisation_id,
            )  # fmt: skip
        )
    return out


@transaction.atomic
def sweep_client_tasks(client: Client, *, today: dt.date | None = None) -> int:
    """Bring the client's tasks in line with the deadlines; returns the number of open tasks."""
    today = today or clock.today()
    # the client's row locked first: the nightly run and a counsellor's write on the same
    # client go one after the other, so the night does not reopen what the write just closed
    Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").get()
    wanted = {(d.source_type, d.source_id, d.kind): d for d in deadlines_for(client, today=today)}
    existing = {
        (t.source_type, t.source_id, t.kind): t for t in client.tasks.filter(kind__in=SWEPT_KINDS)
    }
    now = clock.now()
    assessed = None
    for key, task in existing.items():
        if key not in wanted and task.status == Task.Status.OPEN:
            task.status = Task.Status.DONE
            if task.kind == Task.Kind.ASSESSMENT_START:
                # no longer wanted: met (an assessment started, or a plan was made without
                # one), or closed unmet (the entitlement ended, the employment authority took
                # over): that stays on record as lapsed; missed when it lapsed after its day
                # (insights), and done after all if an assessment starts later
                if assessed is None:
                    assessed = (
                        client.assessments.exists()
                        or client.plans.exclude(status=PlanStatus.CANCELLED).exists()
                    )
                if not assessed:
                    task.status = Task.Status.LAPSED
            elif task.kind == Task.Kind.PLAN_DRAFT:
                # met when a plan was begun; else it stopped applying unmet (a later
                # assessment found no plan needed, the window for a first plan ended)
                source = client.assessments.filter(pk=task.source_id).first()
                plans = client.plans.exclude(status=PlanStatus.CANCELLED)
                if source is None or not plan_drawn_up_for(source, plans):
                    task.status = Task.Status.LAPSED
            task.computed_at = now
            task.save(update_fields=["status", "computed_at"])
    for key, due in wanted.items():
        d = due.deadline
        fields = {
            "due_on": d.due_on, "status": Task.Status.OPEN, "assignee_id": due.assignee_id,
            "organisation_id": due.organisation_id, "rule_code": d.reason.code, "rule_section": d.reason.section,
            "reason_fi": d.reason.text_fi, "reason_sv": d.reason.text_sv, "reason_en": d.reason.text_en,
            "period_id": d.period_id, "assumed": d.assumed, "computed_at": now,
        }  # fmt: skip
        task = existing.get(key)
        if task is None:
            Task.objects.create(
                client=client,
                kind=due.kind,
                source_type=due.source_type,
                source_id=due.source_id,
                **fields,
            )
        elif any(getattr(task, k) != v for k, v in fields.items() if k != "computed_at"):
            for k, v in fields.items():
                setattr(task, k, v)
            task.save()
    return len(wanted)


SWEEP_JOB = "deadline_sweep"
# A change committed a little before the last run began may not have been seen by it.
CATCH_UP_MARGIN = dt.timedelta(days=1)


def clients_with_casework(*, changed_since: dt.datetime | None = None) -> Iterable[int]:
    """Clients whose tasks may change: an open assessment or plan, or open tasks; an
    assessment completed since `changed_since` that found a plan needed; and those
    created or changed since `changed_since` (the last run's start, less a margin): a new
    client owed an assessment had none of these, and was never given its task (a client
    created by a page is swept at once; an import writes in bulk). None: every client (no
    run has finished yet)."""
    ids = set(
        Assessment.objects.filter(status=Assessment.Status.STARTED).values_list(
            "client_id", flat=True
        )
    )
    ids |= set(
        IntegrationPlan.objects.filter(
            status__in=[PlanStatus.DRAFT, PlanStatus.ACTIVE]
        ).values_list("client_id", flat=True)
    )
    ids |= set(
        Task.objects.filter(status=Task.Status.OPEN, kind__in=SWEPT_KINDS).values_list(
            "client_id", flat=True
        )
    )
    changed = Client.objects.all()
    if changed_since is not None:
        since = changed_since - CATCH_UP_MARGIN
        # an assessment completed since, finding a plan needed: its "start drawing up the
        # plan" task (the assessment service, a layer below, cannot sweep; this is the
        # first run to see it unless a write on the client swept it before)
        ids |= set(
            Assessment.objects.filter(
                status=Assessment.Status.COMPLETED, plan_needed=True, updated_at__gte=since
            ).values_list("client_id", flat=True)
        )
        day = since.astimezone(clock.HELSINKI).date()
        today = clock.today()
        # and those whose permit or kotikunta day has come since: a date recorded ahead
        # (a permit from the 20th) makes the client owed on that day, with no write then
        changed = changed.filter(
            Q(updated_at__gte=since)
            | Q(first_permit_on__gte=day, first_permit_on__lte=today)
            | Q(home_municipality_on__gte=day, home_municipality_on__lte=today)
        )
    ids |= set(changed.values_list("id", flat=True))
    return sorted(ids)


def sweep_all(*, today: dt.date | None = None, batch: int = 500) -> dict:
    """Every client with casework, each in a transaction of its own: one client whose records
    cannot be swept (logged, counted in `failed`) does not stop the night for the others."""
    last = JobRun.objects.filter(job=SWEEP_JOB).values_list("started_at", flat=True).first()
    ids = list(clients_with_casework(changed_since=last))
    open_tasks = failed = 0
    for start in range(0, len(ids), batch):
        for client in Client.objects.filter(id__in=ids[start : start + batch]):
            try:
                open_tasks += sweep_client_tasks(client, today=today)
            except Exception:
                failed += 1
                logger.exception("deadline sweep failed for client %s", client.pk)
    return {"clients": len(ids), "open_tasks": open_tasks, "failed": failed}
