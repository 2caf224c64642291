"""Writes of integration plans. Every status change goes through the state machine in
`states.py`; durations come from `koto.law` (first plan, all plans, extensions); a second
counsellor editing the same plan at the same time gets a conflict, not a silent overwrite."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Min, Sum
from django.utils.translation import gettext as _

from koto.assessments.models import Assessment
from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import Client, ClientEvent
from koto.clients.permissions import can_edit_client
from koto.clients.services import casework_owner, record_event
from koto.core import clock
from koto.core.errors import DomainError, PermissionDenied, ValidationFailed
from koto.core.services import job_finished
from koto.law import Deadline, extended_end, extension_limit, plan_end_limit
from koto.law.params import period_on, periods
from koto.organisations.models import ASSESSING_KINDS, Organisation
from koto.plans.deadlines_sweep import SWEEP_JOB, sweep_all, sweep_client_tasks
from koto.plans.models import (
    AREA_THEME,
    AckMethod,
    Action,
    Extension,
    ExtensionReason,
    Goal,
    GoalArea,
    IntegrationPlan,
    Outcome,
    PlanStatus,
    Responsible,
    Review,
)
from koto.plans.states import EDITABLE, next_status


class PlanError(DomainError):
    pass


class PlanConflict(DomainError):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "edit_conflict",
            _(
                "Someone else changed this plan while you were editing. Reload to see their changes."
            ),
            fields={"version": _("The record has changed since you opened it.")},
        )


def _require_edit(actor, plan_or_client) -> None:
    client = getattr(plan_or_client, "client", plan_or_client)
    if not can_edit_client(actor, client):
        raise PermissionDenied()


def _require_plan_authority(actor) -> None:
    """Drawing a plan up, putting it in force, extending, ending or cancelling it are the
    municipality's or the employment authority's decisions (integration-act.md, sections 2
    and 4); a welfare region with access takes part in a multi-sectoral plan (goals,
    actions, reviews), it does not decide it."""
    if actor.active_membership.organisation.kind not in ASSESSING_KINDS:
        raise PermissionDenied(
            _("An integration plan is drawn up by a municipality or an employment authority.")
        )


def _require_person(actor) -> None:
    """Agreeing a plan with the client, extending, ending or cancelling it are an official's
    decisions under their own name: not an API token's (an integration drafts and fills
    plans and records facts such as the client's acknowledgement; a counsellor decides)."""
    if actor.is_system:
        raise PermissionDenied(_("A counsellor makes this decision, not an API integration."))


def _lock(plan: IntegrationPlan, expected_version: int | None) -> IntegrationPlan:
    locked = IntegrationPlan.objects.select_for_update().get(pk=plan.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PlanConflict()
    locked.client = plan.client
    return locked


ACKNOWLEDGEMENT_FIELDS = [
    "acknowledged_on",
    "acknowledgement_method",
    "acknowledgement_interpreter_language",
]


def _void_acknowledgement(plan: IntegrationPlan) -> list[str]:
    """A change to what the plan says (its kind, dates, goals or actions) voids the client's
    acknowledgement: the document must not show a signature under content the client never
    saw. Returns the fields cleared (none when there was no acknowledgement); the counsellor
    records a new acknowledgement of the plan as it now stands."""
    if plan.acknowledged_on is None:
        return []
    plan.acknowledged_on = None
    plan.acknowledgement_method = plan.acknowledgement_interpreter_language = ""
    return ACKNOWLEDGEMENT_FIELDS


def _bump(plan: IntegrationPlan, fields: list[str]) -> None:
    plan.version += 1
    plan.updated_at = clock.now()
    plan.save(update_fields=[*fields, "version", "updated_at"])


def _content_changed(plan: IntegrationPlan, changes: dict) -> None:
    """What the plan says changed (a goal, an action, a linked service): the version moves,
    so a form opened before is a conflict, and the client's acknowledgement is void."""
    voided = _void_acknowledgement(plan)
    _bump(plan, voided)
    if voided:
        changes["acknowledgement_voided"] = True


def _transition(plan: IntegrationPlan, operation: str) -> str:
    new = next_status(operation, plan.status)
    if new is None:
        raise PlanError(
            "invalid_transition",
            _("This cannot be done to a plan whose status is %(status)s.")
            % {"status": plan.get_status_display()},
        )
    return new


def _months_between(start: dt.date, end: dt.date) -> int:
    """Whole months a plan used, rounded up (a started month counts)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return months + (1 if end.day >= start.day else 0)


def earlier_plans_summary(
    client, exclude_id: int | None = None
) -> tuple[bool, int, dt.date | None]:
    """(is first plan, months used by earlier plans, first plan's start). The months are
    those of the plans as agreed, without their extensions: an extension for a stated reason
    comes on top of the plans' months (and has a limit of its own across the client's plans,
    `client_extension_months`), it does not use them up."""
    earlier = (
        client.plans.filter(status__in=[PlanStatus.ACTIVE, PlanStatus.ENDED])
        .exclude(id=exclude_id)
        .prefetch_related("extensions")
    )
    used = 0
    for p in earlier:
        # the plan's own end before any extension moved it
        agreed_end = min((e.previous_ends_on for e in p.extensions.all()), default=p.ends_on)
        # a plan ended after its last day (recorded late) was not in force past that day
        end = min(filter(None, (p.ended_on, agreed_end)), default=None)
        if p.starts_on and end:
            used += _months_between(p.starts_on, end)
    first_start = earlier.aggregate(first=Min("starts_on"))["first"]
    return (not earlier.exists(), used, first_start)


@dataclass(frozen=True)
class NewPlanRules:
    """What the law gives a client's next plan, for the page that drafts it: the durations
    of the rules the client's plans began under (as `plan_create` checks them) and, for a
    first plan, the day its window ended if it has (None: open, exempt or unknown)."""

    first_max_months: int
    total_max_months: int
    window_ended_on: dt.date | None


def new_plan_rules(client, on: dt.date) -> NewPlanRules:
    is_first, _used, first_start = earlier_plans_summary(client)
    period = period_on(first_start or on)
    ended = None
    if is_first:
        try:
            window = decision_for(client, on).assessment  # the first plan's window is the same
        except (MissingFacts, FactsError):
            window = None
        if window and window.window_ends_on and on > window.window_ends_on:
            ended = None if window.exempt_from_window else window.window_ends_on
    return NewPlanRules(
        period.value("plan_first_max_months"), period.value("plan_total_max_months"), ended
    )


def client_extension_months(client) -> int:
    """The months of extension the client's plans have had (in force, ended or this one):
    the extension's limit counts them across plans, not per plan."""
    return (
        Extension.objects.filter(plan__client=client)
        .exclude(plan__status=PlanStatus.CANCELLED)
        .aggregate(n=Sum("months"))["n"]
        or 0
    )


def end_limit(plan: IntegrationPlan, starts_on: dt.date) -> Deadline:
    return plan_end_limit(
        plan.first_plan_started_on or starts_on,
        plan.is_first,
        plan.months_used_before,
        plan_started_on=starts_on,
    )


# The last date a plan may carry: its rules compute months on from it.
LAST_DAY = dt.date(2100, 12, 31)


def first_day() -> dt.date:
    """The first date a plan may carry: the first day of the law's parameters Koto holds
    (1.9.2011, the act before the reform). Its limits cannot be computed before it."""
    return periods()[0].valid_from


def _date_range_error() -> str:
    return _("Give a date from %(first)s to %(last)s.") % {
        "first": _fi_date(first_day()), "last": _fi_date(LAST_DAY)}  # fmt: skip


def _check_dates(
    plan: IntegrationPlan,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    *,
    within_limit: bool = True,
) -> dict:
    """The dates' range and order, and with `within_limit` the end within the law's limit
    for the plan (without extensions)."""
    errors: dict[str, str] = {}
    for name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if day and not first_day() <= day <= LAST_DAY:
            errors[name] = _date_range_error()
    if errors:  # the checks below compute with the dates
        return errors
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The plan cannot end before it starts.")
    if starts_on and starts_on < plan.client.birth_date:
        errors["starts_on"] = _("This date cannot be before the birth date.")
    elif (
        starts_on
        and plan.status == PlanStatus.DRAFT
        and (last := _overlapped_plan_end(plan, starts_on))
    ):
        # a plan dated inside an earlier one counted the shared months twice towards the 24
        # (a handover on the day the earlier one ended, and older plans entered afterwards,
        # are fine)
        errors["starts_on"] = _("The client's earlier plan ran until %(date)s.") % {
            "date": _fi_date(last)
        }
    if starts_on and ends_on and within_limit and not errors:
        limit = end_limit(plan, starts_on)
        if ends_on > limit.due_on:
            errors["ends_on"] = _(
                "The plan may last until %(date)s at the latest (%(section)s). A longer plan needs an extension with a stated reason."
            ) % {"date": _fi_date(limit.due_on), "section": _section(limit)}
    return errors


def _overlapped_plan_end(plan: IntegrationPlan, starts_on: dt.date) -> dt.date | None:
    """The end of the client's plan in force or ended that a plan starting on `starts_on`
    would start inside (it began earlier and ends after that day), else None. An earlier
    plan ends on its end date or on the day it was ended, whichever came first, as
    `earlier_plans_summary` counts it."""
    others = plan.client.plans.filter(
        status__in=[PlanStatus.ACTIVE, PlanStatus.ENDED], starts_on__lte=starts_on
    )
    if plan.pk:
        others = others.exclude(pk=plan.pk)
    for ended_on, ends_on in others.values_list("ended_on", "ends_on"):
        ends = min(d for d in (ended_on, ends_on) if d) if (ended_on or ends_on) else None
        if ends and starts_on < ends:
            return ends
    return None


def _section(limit: Deadline) -> str:
    """The rule behind a limit, saying so when the limit is Koto's reading of the law, not a
    figure found in it (`Deadline.assumed`: the old Act's durations, the extension's 12)."""
    return f"{limit.reason.section}, {_('assumed')}" if limit.assumed else limit.reason.section


def _fi_date(d: dt.date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


def _parse_date(name: str, value, errors: dict) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def _check_assessment(assessment: Assessment, client) -> dict[str, str]:
    """The assessment a plan is based on (681/2023: a plan is drawn up when the assessment
    finds the client needs one): the client's own, completed, and concluding that a plan is
    needed. Read afresh: the caller's copy may predate its completion."""
    row = (
        Assessment.objects.filter(pk=assessment.pk)
        .values("client_id", "status", "plan_needed", "completed_on")
        .first()
    )
    if row is None or row["client_id"] != client.id:
        return {"assessment": _("The assessment belongs to another client.")}
    if row["status"] != Assessment.Status.COMPLETED:
        # the plan rests on the assessment's conclusions: one still in progress has none
        return {"assessment": _("A plan is based on a completed assessment.")}
    if row["plan_needed"] is not True:
        return {
            "assessment": _(
                "The assessment completed on %(date)s concluded that no integration plan is "
                "needed. A plan is drawn up when an assessment finds one needed."
            )
            % {"date": _fi_date(row["completed_on"]) if row["completed_on"] else "?"}
        }
    return {}


@transaction.atomic
def plan_create(
    *,
    actor,
    client,
    kind: str = IntegrationPlan.Kind.BASIC,
    assessment: Assessment | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> IntegrationPlan:
    """Draft a plan (it may be drawn up in the initial interview itself): by a municipality
    or an employment authority, the plan's organisation (a welfare region takes part in a
    multi-sectoral plan, it does not draw one up)."""
    _require_edit(actor, client)
    _require_plan_authority(actor)
    errors: dict[str, str] = {}
    if kind not in IntegrationPlan.Kind.values:
        errors["kind"] = _("Choose basic or multi-sectoral.")
    if assessment is not None:
        errors.update(_check_assessment(assessment, client))
    # The client's row locked: two drafts at the same moment would both see no open plan.
    Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").get()
    if client.plans.filter(status__in=[PlanStatus.DRAFT, PlanStatus.ACTIVE]).exists():
        raise PlanError(
            "plan_open",
            _("The client already has a plan in preparation or in force."),
            fields={"kind": _("End or cancel the current plan first.")},
        )
    is_first, used, first_start = earlier_plans_summary(client)
    plan = IntegrationPlan(
        client=client,
        assessment=assessment,
        organisation=actor.active_membership.organisation,
        counsellor=casework_owner(actor, client),
        kind=kind,
        is_first=is_first,
        months_used_before=used,
        first_plan_started_on=first_start or starts_on,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    errors.update(_check_dates(plan, starts_on, ends_on))
    if errors:
        raise ValidationFailed(errors)
    if starts_on:
        plan.end_limit_on = end_limit(plan, starts_on).due_on
    plan.save()
    record_event(client, actor, ClientEvent.Kind.PLAN_CREATED, {"plan_id": plan.id})
    audit_record(
        actor=actor, action="create", object_type="plan", object_id=plan.id, client_id=client.id,
        changes={"kind": kind, "starts_on": str(starts_on or ""), "ends_on": str(ends_on or ""),
                 "assessment_id": assessment.id if assessment is not None else None},
    )  # fmt: skip
    # the plan begun: "start drawing up the plan" (and "start the assessment", for a plan
    # made without one) are met now, not at the nightly sweep
    sweep_client_tasks(client)
    return plan


@transaction.atomic
def plan_update(
    *, actor, plan: IntegrationPlan, data: dict, expected_version: int | None = None
) -> IntegrationPlan:
    """Change kind, start and end (within the law's limit), or the handover summary."""
    _require_edit(actor, plan)
    locked = _lock(plan, expected_version)
    if locked.status not in EDITABLE:
        raise PlanError("plan_closed", _("An ended or cancelled plan cannot be changed."))
    errors: dict[str, str] = {
        k: _("Unknown field.")
        for k in set(data) - {"kind", "starts_on", "ends_on", "handover_summary"}
    }
    starts_on = _parse_date("starts_on", data.get("starts_on", locked.starts_on), errors)
    ends_on = _parse_date("ends_on", data.get("ends_on", locked.ends_on), errors)
    kind = data.get("kind", locked.kind)
    if kind not in IntegrationPlan.Kind.values:
        errors["kind"] = _("Choose basic or multi-sectoral.")
    if locked.status == PlanStatus.ACTIVE and "starts_on" in data and starts_on != locked.starts_on:
        errors["starts_on"] = _("The start of a plan in force cannot be changed.")
    extended = locked.status == PlanStatus.ACTIVE and locked.extensions.exists()
    if extended and "ends_on" in data and ends_on != locked.ends_on:
        errors["ends_on"] = _("An extended plan's end changes only by a new extension.")
    if locked.status == PlanStatus.ACTIVE and ends_on is None and "ends_on" not in errors:
        errors["ends_on"] = _("A plan in force needs its end date.")
    if locked.first_plan_started_on is None or locked.is_first:
        locked.first_plan_started_on = starts_on
    if not errors:
        # an extended plan's end is past the limit by its extensions (checked by
        # `extension_limit` when each was decided), and it does not change here
        errors.update(_check_dates(locked, starts_on, ends_on, within_limit=not extended))
    if errors:
        raise ValidationFailed(errors)
    changes = {}
    for name, value in (("kind", kind), ("starts_on", starts_on), ("ends_on", ends_on),
                        ("handover_summary", (data.get("handover_summary", locked.handover_summary) or "").strip())):  # fmt: skip
        if getattr(locked, name) != value:
            changes[name] = str(value)
            setattr(locked, name, value)
    if changes:
        locked.end_limit_on = (
            end_limit(locked, locked.starts_on).due_on if locked.starts_on else None
        )
        voided = _void_acknowledgement(locked) if set(changes) - {"handover_summary"} else []
        if voided:
            changes["acknowledgement_voided"] = True
        _bump(locked, [*changes.keys() - {"acknowledgement_voided"}, *voided, "end_limit_on",
                       "first_plan_started_on"])  # fmt: skip
        audit_record(
            actor=actor,
            action="update",
            object_type="plan",
            object_id=locked.id,
            client_id=locked.client_id,
            changes=changes,
        )
        sweep_client_tasks(locked.client)
    return locked


@transaction.atomic
def goal_add(*, actor, plan: IntegrationPlan, area: str, description: str) -> Goal:
    _require_edit(actor, plan)
    plan = _lock(plan, None)  # the status checked as it is now, not as the page read it
    if plan.status not in EDITABLE:
        raise PlanError("plan_closed", _("An ended or cancelled plan cannot be changed."))
    errors = {}
    if area not in GoalArea.values:
        errors["area"] = _("Choose an area.")
    if not description.strip():
        errors["description"] = _("This field is required.")
    if errors:
        raise ValidationFailed(errors)
    goal = Goal.objects.create(
        plan=plan, area=area, theme=AREA_THEME[GoalArea(area)], description=description.strip(),
        position=plan.goals.count(),
    )  # fmt: skip
    changes = {"area": area}
    # the version moves with the content: a form opened before this goal was added (to put
    # the plan in force, to record the signature) is a conflict, not a silent agreement
    _content_changed(plan, changes)
    audit_record(
        actor=actor,
        action="create",
        object_type="plan_goal",
        object_id=goal.id,
        client_id=plan.client_id,
        changes=changes,
    )
    return goal


@transaction.atomic
def action_add(
    *,
    actor,
    goal: Goal,
    what: str,
    responsible: str,
    planned_on: dt.date | None = None,
    responsible_organisation: Organisation | None = None,
    service_name: str = "",
) -> Action:
    plan = goal.plan
    _require_edit(actor, plan)
    plan = _lock(plan, None)
    if plan.status not in EDITABLE:
        raise PlanError("plan_closed", _("An ended or cancelled plan cannot be changed."))
    errors = {}
    if not what.strip():
        errors["what"] = _("This field is required.")
    for name, value in (("what", what), ("service_name", service_name)):
        limit = Action._meta.get_field(name).max_length
        if len(value.strip()) > limit:
            errors[name] = _("At most %(n)s characters.") % {"n": limit}
    if responsible not in Responsible.values:
        errors["responsible"] = _("Choose who is responsible.")
    if responsible == Responsible.OTHER_ORGANISATION and responsible_organisation is None:
        errors["responsible_organisation"] = _("Name the responsible organisation.")
    if planned_on and plan.ends_on and planned_on > plan.ends_on:
        errors["planned_on"] = _("The action is planned after the plan ends.")
    if errors:
        raise ValidationFailed(errors)
    if responsible != Responsible.OTHER_ORGANISATION:
        # an organisation chosen before the choice became "client" is not printed beside it
        responsible_organisation = None
    action = Action.objects.create(
        goal=goal, what=what.strip(), responsible=responsible, planned_on=planned_on,
        responsible_organisation=responsible_organisation, service_name=service_name.strip(),
    )  # fmt: skip
    changes = {"responsible": responsible}
    _content_changed(plan, changes)
    audit_record(
        actor=actor,
        action="create",
        object_type="plan_action",
        object_id=action.id,
        client_id=plan.client_id,
        changes=changes,
    )
    return action


def _work_began(plan: IntegrationPlan) -> dt.date:
    """The earliest day the plan's work can have begun: its start, its assessment's start or
    the day it was drafted, whichever came first."""
    days = [plan.created_at.astimezone(clock.HELSINKI).date()]
    if plan.starts_on:
        days.append(plan.starts_on)
    if plan.assessment_id:
        days.append(plan.assessment.started_on)
    return min(days)


@transaction.atomic
def action_mark_done(*, actor, action: Action, done_on: dt.date, check: bool = True) -> Action:
    """Mark an agreed action done. `check=False` only for the start of a linked enrolment,
    whose service has already checked who may record it."""
    plan = action.goal.plan
    if check:
        _require_edit(actor, plan)
    plan_status = IntegrationPlan.objects.select_for_update().values_list("status", flat=True)
    if plan_status.get(pk=plan.pk) not in EDITABLE:
        if not check:
            return action  # an enrolment started after its plan ended: the plan stays as ended
        raise PlanError("plan_closed", _("An ended or cancelled plan cannot be changed."))
    if done_on > clock.today():
        raise ValidationFailed({"done_on": _("The date cannot be in the future.")})
    if check and done_on < (began := _work_began(plan)):
        # a typo (2016 for 2026) closed the statutory "guided to a service" task; an action
        # under way before the plan was agreed (a course begun during the assessment) is fine
        raise ValidationFailed(
            {"done_on": _("The date cannot be before the client's plan work began (%(date)s).")
             % {"date": _fi_date(began)}}
        )  # fmt: skip
    action.done_on = done_on
    action.save(update_fields=["done_on"])
    audit_record(
        actor=actor,
        action="update",
        object_type="plan_action",
        object_id=action.id,
        client_id=plan.client_id,
        changes={"done_on": done_on.isoformat()},
    )
    sweep_client_tasks(plan.client)
    return action


@transaction.atomic
def action_link_service(*, actor, action: Action, service_name: str, enrolment_id: int) -> Action:
    """Name the service a client was enrolled in on the plan's action (an enrolment from the
    plan). A change of what the plan says: only while the plan may be changed, voiding the
    client's acknowledgement and moving the version like any other change. The enrolment
    service has already checked who may enrol."""
    plan = IntegrationPlan.objects.select_for_update().get(pk=action.goal.plan_id)
    if plan.status not in EDITABLE:
        raise ValidationFailed(
            {"plan_action": _("The plan has ended or was cancelled: enrol without linking it.")}
        )
    if action.service_name:
        return action
    action.service_name = service_name[: Action._meta.get_field("service_name").max_length]
    action.save(update_fields=["service_name"])
    changes = {"service_name": action.service_name, "enrolment": enrolment_id}
    _content_changed(plan, changes)
    audit_record(
        actor=actor, action="update", object_type="plan_action", object_id=action.id,
        client_id=plan.client_id, changes=changes,
    )  # fmt: skip
    return action


@transaction.atomic
def action_start_undone(*, actor, action: Action, started_on: dt.date) -> Action:
    """A linked enrolment's start did not happen (the client dropped out before the course
    began): the action it marked done is open again, and so is the deadline it closed."""
    plan = IntegrationPlan.objects.select_for_update().get(pk=action.goal.plan_id)
    action.refresh_from_db(fields=["done_on"])
    if plan.status not in EDITABLE or action.done_on != started_on:
        return action
    action.done_on = None
    action.save(update_fields=["done_on"])
    audit_record(
        actor=actor, action="update", object_type="plan_action", object_id=action.id,
        client_id=plan.client_id, changes={"done_on": [started_on.isoformat(), None]},
    )  # fmt: skip
    sweep_client_tasks(plan.client)
    return action


@transaction.atomic
def plan_activate(
    *,
    actor,
    plan: IntegrationPlan,
    agreed_on: dt.date | None = None,
    expected_version: int | None = None,
) -> IntegrationPlan:
    """The plan is agreed with the client and comes into force."""
    _require_edit(actor, plan)
    _require_person(actor)
    _require_plan_authority(actor)
    locked = _lock(plan, expected_version)
    new = _transition(locked, "activate")
    agreed_on = agreed_on or clock.today()
    errors = {}
    if not locked.goals.exists():
        errors["goals"] = _("Add at least one goal before the plan comes into force.")
    if not locked.starts_on:
        errors["starts_on"] = _("This field is required.")
    if not locked.ends_on:
        errors["ends_on"] = _("This field is required.")
    if agreed_on > clock.today():
        errors["agreed_on"] = _("The date cannot be in the future.")
    elif agreed_on < first_day():
        errors["agreed_on"] = _date_range_error()
    if not errors:
        errors.update(_check_dates(locked, locked.starts_on, locked.ends_on))
    if errors:
        raise ValidationFailed(errors)
    locked.status, locked.agreed_on = new, agreed_on
    _bump(locked, ["status", "agreed_on"])
    record_event(locked.client, actor, ClientEvent.Kind.PLAN_ACTIVATED, {"plan_id": locked.id})
    audit_record(
        actor=actor,
        action="update",
        object_type="plan",
        object_id=locked.id,
        client_id=locked.client_id,
        changes={"status": new, "agreed_on": agreed_on.isoformat()},
    )
    sweep_client_tasks(locked.client)
    return locked


@transaction.atomic
def plan_acknowledge(
    *,
    actor,
    plan: IntegrationPlan,
    acknowledged_on: dt.date,
    method: str,
    interpreter_language: str = "",
    expected_version: int | None = None,
) -> IntegrationPlan:
    """The client acknowledged the plan as the counsellor showed it: with the version the
    page was opened on, so content added meanwhile is a conflict, not a signature under it."""
    _require_edit(actor, plan)
    locked = _lock(plan, expected_version)
    errors = {}
    if locked.status not in (PlanStatus.ACTIVE, PlanStatus.DRAFT):
        errors["status"] = _("Only a plan in preparation or in force can be acknowledged.")
    if method not in AckMethod.values:
        errors["method"] = _("Choose how the client acknowledged the plan.")
    if acknowledged_on > clock.today():
        errors["acknowledged_on"] = _("The date cannot be in the future.")
    interpreter_language = (interpreter_language or "").strip()
    if interpreter_language and not codes.is_language(interpreter_language):
        errors["interpreter_language"] = _("Unknown language code (ISO 639).")
    if errors:
        raise ValidationFailed(errors)
    locked.acknowledged_on, locked.acknowledgement_method = acknowledged_on, method
    locked.acknowledgement_interpreter_language = (
        codes.normalise_language(interpreter_language) if interpreter_language else ""
    )
    _bump(
        locked,
        ["acknowledged_on", "acknowledgement_method", "acknowledgement_interpreter_language"],
    )
    record_event(
        locked.client,
        actor,
        ClientEvent.Kind.PLAN_ACKNOWLEDGED,
        {"plan_id": locked.id, "method": method},
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="plan",
        object_id=locked.id,
        client_id=locked.client_id,
        changes={"acknowledged_on": acknowledged_on.isoformat(), "method": method},
    )
    return locked


# Above any extension the law allows (`extension_limit` decides the real limit); keeps the
# date arithmetic before that check within the calendar.
MAX_EXTENSION_MONTHS = 120


@transaction.atomic
def plan_extend(
    *,
    actor,
    plan: IntegrationPlan,
    months: int,
    reason: str,
    reason_note: str,
    decided_on: dt.date | None = None,
    expected_version: int | None = None,
) -> IntegrationPlan:
    """Extend a plan in force for a stated reason, up to the law's extension limit."""
    _require_edit(actor, plan)
    _require_person(actor)
    _require_plan_authority(actor)
    locked = _lock(plan, expected_version)
    if locked.status != PlanStatus.ACTIVE:
        raise PlanError("invalid_transition", _("Only a plan in force can be extended."))
    decided_on = decided_on or clock.today()
    errors = {}
    if decided_on > clock.today():
        errors["decided_on"] = _("The date cannot be in the future.")
    elif locked.starts_on and decided_on < locked.starts_on:
        errors["decided_on"] = _("The extension cannot be decided before the plan starts.")
    if reason not in ExtensionReason.values:
        errors["reason"] = _("Choose the reason for the extension.")
    if not reason_note.strip():
        errors["reason_note"] = _("Explain the reason for the extension.")
    if not isinstance(months, int) or not 1 <= months <= MAX_EXTENSION_MONTHS:
        errors["months"] = _("Enter a number of months from 1 to %(n)s.") % {
            "n": MAX_EXTENSION_MONTHS
        }
    if not errors:
        used = client_extension_months(locked.client)
        limit = extension_limit(locked.ends_on, used)
        new_end = extended_end(locked.ends_on, months)
        if new_end > limit.due_on:
            errors["months"] = _(
                "The plan may be extended until %(date)s at the latest (%(section)s)."
            ) % {
                "date": _fi_date(limit.due_on),
                "section": _section(limit),
            }
    if errors:
        raise ValidationFailed(errors)
    Extension.objects.create(
        plan=locked, months=months, reason=reason, reason_note=reason_note.strip(), previous_ends_on=locked.ends_on,
        new_ends_on=new_end, decided_on=decided_on, decided_by=actor,
    )  # fmt: skip
    locked.ends_on = new_end
    voided = _void_acknowledgement(locked)
    _bump(locked, ["ends_on", *voided])
    record_event(
        locked.client,
        actor,
        ClientEvent.Kind.PLAN_EXTENDED,
        {"plan_id": locked.id, "months": months, "reason": reason},
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="plan",
        object_id=locked.id,
        client_id=locked.client_id,
        changes={"extended_months": months, "reason": reason, "ends_on": new_end.isoformat(),
                 **({"acknowledgement_voided": True} if voided else {})},
    )  # fmt: skip
    sweep_client_tasks(locked.client)
    return locked


@transaction.atomic
def plan_review(
    *,
    actor,
    plan: IntegrationPlan,
    reviewed_on: dt.date,
    notes: str,
    welfare_region_took_part: bool = False,
) -> Review:
    _require_edit(actor, plan)
    plan = _lock(plan, None)
    errors = {}
    if plan.status != PlanStatus.ACTIVE:
        errors["status"] = _("Only a plan in force is reviewed.")
    if not notes.strip():
        errors["notes"] = _("This field is required.")
    if reviewed_on > clock.today():
        errors["reviewed_on"] = _("The date cannot be in the future.")
    if errors:
        raise ValidationFailed(errors)
    review = Review.objects.create(
        plan=plan,
        reviewed_on=reviewed_on,
        notes=notes.strip(),
        welfare_region_took_part=welfare_region_took_part,
        reviewed_by=actor,
    )
    record_event(plan.client, actor, ClientEvent.Kind.PLAN_REVIEWED, {"plan_id": plan.id})
    audit_record(
        actor=actor,
        action="create",
        object_type="plan_review",
        object_id=review.id,
        client_id=plan.client_id,
        changes={"reviewed_on": reviewed_on.isoformat()},
    )
    sweep_client_tasks(plan.client)
    return review


@transaction.atomic
def plan_end(
    *,
    actor,
    plan: IntegrationPlan,
    ended_on: dt.date,
    outcome: str,
    outcome_note: str = "",
    handover_summary: str = "",
    expected_version: int | None = None,
) -> IntegrationPlan:
    """End a plan in force with its outcome. A jobseeker's plan continuing as an employment
    plan needs a summary for the employment authority."""
    _require_edit(actor, plan)
    _require_person(actor)
    _require_plan_authority(actor)
    locked = _lock(plan, expected_version)
    new = _transition(locked, "end")
    errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose the outcome.")
    if ended_on > clock.today():
        errors["ended_on"] = _("The date cannot be in the future.")
    if locked.starts_on and ended_on < locked.starts_on:
        errors["ended_on"] = _("The plan cannot end before it starts.")
    summary = (handover_summary or locked.handover_summary).strip()
    if outcome == Outcome.EMPLOYMENT_PLAN and not summary:
        errors["handover_summary"] = _("Write a summary for the employment plan.")
    if locked.client.unemployed_jobseeker and outcome == Outcome.OTHER:
        errors["outcome"] = _(
            "A jobseeker's plan continues as an employment plan unless the client is employed, studying or moved away."
        )
    if errors:
        raise ValidationFailed(errors)
    locked.status, locked.ended_on, locked.outcome = new, ended_on, outcome
    locked.outcome_note, locked.handover_summary = outcome_note.strip(), summary
    _bump(locked, ["status", "ended_on", "outcome", "outcome_note", "handover_summary"])
    record_event(
        locked.client,
        actor,
        ClientEvent.Kind.PLAN_ENDED,
        {"plan_id": locked.id, "outcome": outcome},
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="plan",
        object_id=locked.id,
        client_id=locked.client_id,
        changes={"status": new, "outcome": outcome, "ended_on": ended_on.isoformat()},
    )
    sweep_client_tasks(locked.client)
    return locked


@transaction.atomic
def plan_cancel(
    *, actor, plan: IntegrationPlan, expected_version: int | None = None
) -> IntegrationPlan:
    _require_edit(actor, plan)
    _require_person(actor)
    _require_plan_authority(actor)
    locked = _lock(plan, expected_version)
    locked.status = _transition(locked, "cancel")
    _bump(locked, ["status"])
    record_event(locked.client, actor, ClientEvent.Kind.PLAN_CANCELLED, {"plan_id": locked.id})
    audit_record(
        actor=actor,
        action="update",
        object_type="plan",
        object_id=locked.id,
        client_id=locked.client_id,
        changes={"status": locked.status},
    )
    sweep_client_tasks(locked.client)
    return locked


# The name of the nightly sweep's row in `JobRun` (the status endpoint checks it).


def deadlines_sweep(*, actor=None) -> dict:
    """The nightly job: recompute every client's deadline tasks (`sweep_all`), then record
    the run (`JobRun`, for the status endpoint) and audit it."""
    started = clock.now()
    result = sweep_all()
    job_finished(job=SWEEP_JOB, started_at=started, result=result)
    audit_record(actor=actor, action="update", object_type=SWEEP_JOB, changes=result)
    return result
