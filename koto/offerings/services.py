"""Writes of the service catalogue, enrolments, attendance and language test results.

Capacity: a seat is held by an enrolment that is offered, accepted or attending. Enrolling
locks the service row, so two counsellors enrolling at the same moment are served one after
the other: the one who finds the course full lands on the waiting list, never over
capacity. A freed seat goes to the first on the waiting list."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _

from koto.assessments.scales import Level, Skill, TargetLanguage
from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import ClientEvent
from koto.clients.permissions import can_edit_client
from koto.clients.services import record_event
from koto.core import clock
from koto.core.errors import DomainError, PermissionDenied, ValidationFailed
from koto.core.roles import Perm
from koto.guidance.models import Theme
from koto.law.params import NoPeriodInForce, ParameterMissing, period_on
from koto.offerings.models import (
    KIND_THEME,
    MAX_CAPACITY,
    MAX_HOURS,
    SEAT_HOLDING,
    Attendance,
    CivicTopic,
    Enrolment,
    EnrolmentStatus,
    LanguageTestResult,
    Service,
    ServiceKind,
    Track,
)
from koto.offerings.selectors import can_handle_enrolment
from koto.plans.services import action_link_service, action_mark_done, action_start_undone
from koto.plans.states import EDITABLE as PLAN_EDITABLE

SERVICE_TEXT = {"name_fi": 200, "name_sv": 200, "name_en": 200, "description_fi": 5000, "description_sv": 5000,
                "description_en": 5000, "place": 200}  # fmt: skip

# A course's target level: a level of the national scale ("0", no skill yet, is only a result).
TARGET_LEVELS = [v for v in Level.values if v != Level.NONE]

# The integration programme's own services (13 §) are for those the Act covers (2 §): not
# for an asylum seeker before a permit. Another service (a parents' group, a job club) and
# guidance (10 §) serve every immigrant.
PROGRAMME_KINDS = (
    ServiceKind.CIVIC_ORIENTATION,
    ServiceKind.INTEGRATION_TRAINING,
    ServiceKind.LITERACY_TRAINING,
    ServiceKind.LANGUAGE_TEST,
)

# Which operation moves an enrolment from which status to which.
REASON_MAX = Enrolment._meta.get_field("interruption_reason").max_length
TRANSITIONS = {
    "accept": {EnrolmentStatus.OFFERED: EnrolmentStatus.ACCEPTED},
    "start": {
        EnrolmentStatus.OFFERED: EnrolmentStatus.STARTED,
        EnrolmentStatus.ACCEPTED: EnrolmentStatus.STARTED,
    },
    "interrupt": {EnrolmentStatus.STARTED: EnrolmentStatus.INTERRUPTED},
    "complete": {EnrolmentStatus.STARTED: EnrolmentStatus.COMPLETED},
    "decline": {EnrolmentStatus.OFFERED: EnrolmentStatus.DECLINED},
    "cancel": {
        EnrolmentStatus.WAITING: EnrolmentStatus.CANCELLED,
        EnrolmentStatus.OFFERED: EnrolmentStatus.CANCELLED,
        EnrolmentStatus.ACCEPTED: EnrolmentStatus.CANCELLED,
    },
}


class EnrolmentError(DomainError):
    pass


def _require_manage(actor, service: Service | None = None) -> None:
    m = actor.active_membership
    if m is None or not m.has_perm(Perm.OFFERINGS_MANAGE):
        raise PermissionDenied()
    if service is not None and service.producer_id != m.organisation_id:
        raise PermissionDenied()


def _clean_service(data: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    kind = data.get("kind")
    if kind not in ServiceKind.values:
        errors["kind"] = _("Choose the kind of service.")
    for name, n in SERVICE_TEXT.items():
        value = (data.get(name) or "").strip()
        if len(value) > n:
            errors[name] = _("At most %(n)s characters.") % {"n": n}
        out[name] = value
    if not out["name_fi"]:
        errors["name_fi"] = _("This field is required.")
    capacity = data.get("capacity")
    # (a JSON `true` is an int to Python: it was stored as a capacity of 1)
    if type(capacity) is not int or not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = _("Enter a capacity from 1 to %(n)s.") % {"n": MAX_CAPACITY}
    out["capacity"] = capacity
    hours = data.get("hours")
    if hours is not None and (type(hours) is not int or not 1 <= hours <= MAX_HOURS):
        errors["hours"] = _("Enter hours from 1 to %(n)s.") % {"n": MAX_HOURS}
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The service cannot end before it starts.")
    if kind == ServiceKind.CIVIC_ORIENTATION:
        minimum = None
        try:
            minimum = period_on(starts_on or clock.today()).value("civic_orientation_min_hours")
        except ParameterMissing:
            pass  # before decree 576/2024 (1.1.2025) no minimum length was set
        except NoPeriodInForce:
            errors["starts_on"] = _("Koto holds no rules of the Integration Act for this date.")
        if minimum is not None and (hours is None or hours < minimum):
            errors["hours"] = _(
                "Civic orientation lasts at least %(n)s hours (decree 576/2024)."
            ) % {"n": minimum}
    topics = data.get("topics") or []
    if any(t not in CivicTopic.values for t in topics):
        errors["topics"] = _("Unknown topic.")
    if data.get("track") and data["track"] not in Track.values:
        errors["track"] = _("Unknown choice.")
    if data.get("target_level") and data["target_level"] not in TARGET_LEVELS:
        # "0" (no skill yet) is a test's result, never a course's target
        errors["target_level"] = _("Unknown choice.")
    lang = (data.get("language") or "").strip()
    if lang and not codes.is_language(lang):
        errors["language"] = _("Unknown language code (ISO 639).")
    # a programme service's theme is its kind's; another service (a parents' group, housing
    # advice, a job club) serves whichever theme its producer names: not all employment
    theme = data.get("theme") or ""
    if kind == ServiceKind.OTHER and theme not in Theme.values:
        errors["theme"] = _("Choose the national monitoring theme the service serves.")
    if errors:
        raise ValidationFailed(errors)
    if kind != ServiceKind.OTHER:
        theme = KIND_THEME[ServiceKind(kind)]
    out.update(
        kind=kind, theme=theme, hours=hours, starts_on=starts_on, ends_on=ends_on,
        topics=list(topics), track=data.get("track") or "", target_level=data.get("target_level") or "",
        on_the_job_learning=bool(data.get("on_the_job_learning")), remote=bool(data.get("remote")),
        language=codes.normalise_language(lang) if lang else "", active=data.get("active", True),
    )  # fmt: skip
    return out


@transaction.atomic
def service_create(*, actor, data: dict, served_municipalities=()) -> Service:
    _require_manage(actor)
    service = Service.objects.create(
        producer=actor.active_membership.organisation, **_clean_service(data)
    )
    service.served_municipalities.set(served_municipalities)
    audit_record(
        actor=actor,
        action="create",
        object_type="service",
        object_id=service.id,
        changes={"name": service.name_fi},
    )
    return service


def _jsonable(value):
    """A value as the audit record's JSON keeps it (dates as ISO text, decimals as text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic
def service_update(
    *,
    actor,
    service: Service,
    data: dict,
    served_municipalities=None,
    expected_version: int | None = None,
) -> Service:
    _require_manage(actor, service)
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if expected_version is not None and locked.version != expected_version:
        raise EnrolmentError(
            "edit_conflict",
            _("Another user has changed the service since you opened it. Reload the page."),
            fields={"version": _("Reload.")},
        )
    clean = _clean_service(data)
    holding = locked.enrolments.filter(status__in=SEAT_HOLDING).count()
    if clean["capacity"] < holding:
        raise ValidationFailed({"capacity": _("%(n)s places are already taken.") % {"n": holding}})
    # (only dates moved: an edit of the name is not held back by records already there)
    _check_dates_against_participants(
        locked,
        clean["starts_on"] if clean["starts_on"] != locked.starts_on else None,
        clean["ends_on"] if clean["ends_on"] != locked.ends_on else None,
    )
    changes: dict = {}
    for k, v in clean.items():
        old = getattr(locked, k)
        if old != v:
            changes[k] = {"from": _jsonable(old), "to": _jsonable(v)}
        setattr(locked, k, v)
    locked.updated_at = clock.now()
    locked.version += 1
    locked.save()
    if served_municipalities is not None:
        before = sorted(locked.served_municipalities.values_list("id", flat=True))
        locked.served_municipalities.set(served_municipalities)
        after = sorted(locked.served_municipalities.values_list("id", flat=True))
        if before != after:
            changes["served_municipalities"] = {"from": before, "to": after}
    # what changed, from what to what (the record named only the service)
    audit_record(
        actor=actor,
        action="update",
        object_type="service",
        object_id=locked.id,
        changes={"name": locked.name_fi, **changes},
    )
    _promote_waiting(locked, actor)
    seats_recount(locked)
    return locked


def _check_dates_against_participants(service: Service, starts_on, ends_on) -> None:
    """A service's dates moved past what its participants already did (a start before the
    new first day, a start or attendance after the new last day) are refused: the records
    would contradict the service (a start is not before the first day nor after the last)."""
    known = service.enrolments.aggregate(
        first_start=Min("started_on"), last_start=Max("started_on"), last_day=Max("attendance__on")
    )
    errors = {}
    if starts_on and known["first_start"] and known["first_start"] < starts_on:
        errors["starts_on"] = _("A participant started on %(date)s.") % {
            "date": formats.date_format(known["first_start"], "SHORT_DATE_FORMAT")
        }
    last = max((d for d in (known["last_start"], known["last_day"]) if d), default=None)
    if ends_on and last and last > ends_on:
        errors["ends_on"] = _("Participants started or attended up to %(date)s.") % {
            "date": formats.date_format(last, "SHORT_DATE_FORMAT")
        }
    if errors:
        raise ValidationFailed(errors)


def seats_recount(service: Service) -> Service:
    """Store the service's seats taken and waiting list length (the row is locked)."""
    counts = service.enrolments.aggregate(
        taken=Count("id", filter=Q(status__in=SEAT_HOLDING)),
        waiting=Count("id", filter=Q(status=EnrolmentStatus.WAITING)),
    )
    service.taken, service.waiting = counts["taken"], counts["waiting"]
    Service.objects.filter(pk=service.pk).update(**counts)
    return service


def seats_recount_all() -> int:
    """Recount every service in one statement (after a bulk load); the number updated."""

    def count(statuses):
        rows = Enrolment.objects.filter(service_id=OuterRef("pk"), status__in=statuses)
        return Coalesce(
            Subquery(rows.order_by().values("service_id").annotate(n=Count("id")).values("n")),
            0,
        )

    return Service.objects.update(
        taken=count(SEAT_HOLDING), waiting=count([EnrolmentStatus.WAITING])
    )


def _promote_waiting(service: Service, actor) -> list[Enrolment]:
    """Offer freed seats to the waiting list in order (the service row is locked)."""
    free = service.capacity - service.enrolments.filter(status__in=SEAT_HOLDING).count()
    promoted = []
    if free <= 0:
        return promoted
    for enrolment in service.enrolments.filter(status=EnrolmentStatus.WAITING).order_by(
        "requested_at", "id"
    )[:free]:
        enrolment.status = EnrolmentStatus.OFFERED
        enrolment.offered_on = clock.today()
        enrolment.version += 1
        enrolment.save(update_fields=["status", "offered_on", "version"])
        audit_record(
            actor=actor, action="update", object_type="enrolment", object_id=enrolment.id, client_id=enrolment.client_id,
            changes={"status": "offered", "from_waiting_list": True},
        )  # fmt: skip
        promoted.append(enrolment)
    return promoted


def _covered_by_the_act(client, on: dt.date) -> bool:
    """Whether the recorded facts put the client within the Act's scope (2 §) on `on`; a
    record that cannot tell (no residence basis yet) is the counsellor's judgement."""
    try:
        return decision_for(client, on).covered
    except (MissingFacts, FactsError):
        return True


@transaction.atomic
def enrolment_create(*, actor, client, service: Service, plan_action=None) -> Enrolment:
    """Enrol a client: a place is offered when one is free, otherwise the client joins the
    waiting list in order. The service row is locked for the count."""
    if not can_edit_client(actor, client) or not actor.has_perm_in_org(Perm.ENROL):
        raise PermissionDenied()
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if not locked.active:
        raise EnrolmentError(
            "service_closed",
            _("The service is not open for enrolment."),
            fields={"service": _("Closed.")},
        )
    if plan_action is not None and plan_action.goal.plan.client_id != client.id:
        raise ValidationFailed({"plan_action": _("The action belongs to another client's plan.")})
    if plan_action is not None and plan_action.goal.plan.status not in PLAN_EDITABLE:
        # the enrolment names its service on the action: an ended plan stays as it ended
        raise ValidationFailed(
            {"plan_action": _("The plan has ended or was cancelled: enrol without linking it.")}
        )
    if locked.kind in PROGRAMME_KINDS and not _covered_by_the_act(client, clock.today()):
        raise ValidationFailed(
            {"client": _("The client is not covered by the Integration Act (2 §) today: the "
                         "integration programme's services are for those with a residence "
                         "permit or a registered right of residence.")}
        )  # fmt: skip
    taken = locked.enrolments.filter(status__in=SEAT_HOLDING).count()
    status = EnrolmentStatus.OFFERED if taken < locked.capacity else EnrolmentStatus.WAITING
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                service=locked, client=client, organisation=actor.active_membership.organisation,
                plan_action=plan_action, status=status, enrolled_by=actor,
                offered_on=clock.today() if status == EnrolmentStatus.OFFERED else None,
            )  # fmt: skip
    except IntegrityError as e:
        raise EnrolmentError(
            "already_enrolled",
            _("The client is already enrolled in this service."),
            fields={"service": _("Already enrolled.")},
        ) from e
    if plan_action is not None and not plan_action.service_name:
        action_link_service(
            actor=actor, action=plan_action, service_name=locked.name_fi, enrolment_id=enrolment.id
        )
    record_event(client, actor, ClientEvent.Kind.ENROLLED,
                 {"enrolment_id": enrolment.id, "service": locked.name_fi, "status": status})  # fmt: skip
    audit_record(
        actor=actor, action="create", object_type="enrolment", object_id=enrolment.id, client_id=client.id,
        changes={"service": locked.id, "status": status},
    )  # fmt: skip
    seats_recount(locked)
    return enrolment


@transaction.atomic
def enrolment_transition(*, actor, enrolment: Enrolment, operation: str, on: dt.date | None = None, reason: str = "",
                         expected_version: int | None = None) -> Enrolment:  # fmt: skip
    if not can_handle_enrolment(actor, enrolment):
        raise PermissionDenied()
    service = Service.objects.select_for_update().get(pk=enrolment.service_id)
    locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    locked.client = enrolment.client  # keeps the access level the selector worked out
    if expected_version is not None and locked.version != expected_version:
        raise EnrolmentError(
            "edit_conflict",
            _("The enrolment has changed since you opened it."),
            fields={"version": _("Reload.")},
        )
    new = TRANSITIONS.get(operation, {}).get(locked.status)
    if new is None:
        raise EnrolmentError(
            "invalid_transition",
            _("This cannot be done to an enrolment whose status is %(status)s.")
            % {"status": locked.get_status_display()},
        )
    on = on or clock.today()
    if on > clock.today() + dt.timedelta(days=366):
        raise ValidationFailed({"on": _("The date is too far in the future.")})
    if operation != "start" and on > clock.today():
        # only a start is recorded ahead (the course begins next month); an acceptance, an
        # end or a completion has happened, and an end frees the seat for the waiting list now
        raise ValidationFailed({"on": _("The date cannot be in the future.")})
    errors = {}
    # The dates given before: a start not before the acceptance, an end not before the start.
    # (`offered_on` is the day the offer was recorded, so a start recorded afterwards may
    # precede it.)
    # A start dated ahead that has not come yet does not hold an end back: a client who drops
    # out before the course begins is ended today, and the start that never happened goes.
    earlier = [d for d in (locked.accepted_on, locked.started_on) if d and d <= clock.today()]
    if operation == "interrupt" and locked.started_on in earlier and not locked.attendance.exists():
        # a no-show noticed after the day: with no attendance recorded the start may not have
        # happened, and the interruption is dated before it (the start then goes)
        earlier.remove(locked.started_on)
    if earlier and on < max(earlier):
        errors["on"] = _("The date cannot be before %(date)s, the enrolment's last step.") % {
            "date": formats.date_format(max(earlier), "SHORT_DATE_FORMAT")
        }
    if operation == "start" and service.starts_on and on < service.starts_on:
        # (an enrolment may be recorded after the client started: the request's day is no
        # floor, the service's first day is)
        errors["on"] = _("The service starts on %(date)s.") % {
            "date": formats.date_format(service.starts_on, "SHORT_DATE_FORMAT")
        }
    if operation == "start" and service.ends_on and on > service.ends_on:
        # a start after the course's last day: attendance and completion would follow it
        errors["on"] = _("The service ended on %(date)s.") % {
            "date": formats.date_format(service.ends_on, "SHORT_DATE_FORMAT")
        }
    if operation in ("interrupt", "complete"):
        # an end before a day of attendance already recorded left hours after the end,
        # counted in the statistics (a month's figure counts from the month's first day)
        last = locked.attendance.order_by("-on").values_list("on", flat=True).first()
        if last and on < last:
            errors["on"] = _(
                "Attendance is recorded up to %(date)s: the end cannot be before it."
            ) % {"date": formats.date_format(last, "SHORT_DATE_FORMAT")}
    if operation == "complete" and not (locked.started_on and locked.started_on <= on):
        # completed without having started counted as a completed course
        errors["on"] = _(
            "The client has not started yet: a place left before the start is interrupted."
        )
    if operation == "interrupt" and not reason.strip():
        errors["reason"] = _("Give the reason for the interruption.")
    elif len(reason.strip()) > REASON_MAX:
        errors["reason"] = _("At most %(n)s characters.") % {"n": REASON_MAX}
    if errors:
        raise ValidationFailed(errors)
    locked.status = new
    if operation == "accept":
        locked.accepted_on = on
    elif operation == "start":
        locked.started_on = on
    not_started = None
    if operation in ("interrupt", "complete", "decline", "cancel"):
        locked.ended_on = on
        locked.interruption_reason = reason.strip()
        if locked.started_on and locked.started_on > on:
            not_started, locked.started_on = locked.started_on, None
    locked.version += 1
    locked.updated_at = clock.now()
    locked.save()
    audit_record(
        actor=actor, action="update", object_type="enrolment", object_id=locked.id, client_id=locked.client_id,
        # the reason stays on the enrolment (it may tell of health): the trail says one was given
        changes={"status": new, "on": on.isoformat(), "reason_given": bool(reason.strip())},
    )  # fmt: skip
    kind = {"start": ClientEvent.Kind.SERVICE_STARTED, "interrupt": ClientEvent.Kind.SERVICE_ENDED,
            "complete": ClientEvent.Kind.SERVICE_ENDED, "decline": ClientEvent.Kind.SERVICE_PLACE_ENDED,
            "cancel": ClientEvent.Kind.SERVICE_PLACE_ENDED}.get(operation)  # fmt: skip
    if kind:
        record_event(locked.client, actor, kind, {"enrolment_id": locked.id, "service": service.name_fi,
                                                  "status": new, "on": on.isoformat()})  # fmt: skip
    if new not in SEAT_HOLDING:
        _promote_waiting(service, actor)
    seats_recount(service)
    if operation in ("start", "complete"):
        # the action is done on the start's day once that day has come; a start dated ahead
        # is confirmed by the first attendance or the completion (it marked the action done
        # today, closing the 6-month deadline for a course the client might never begin)
        _plan_action_started(actor, locked)
    if not_started and locked.plan_action_id:
        action_start_undone(actor=actor, action=locked.plan_action, started_on=not_started)
    return locked


def _plan_action_started(actor, enrolment: Enrolment) -> None:
    """Mark the plan's action of a started enrolment done on the start's day, when that day
    has come and the action is not done yet."""
    if not enrolment.plan_action_id or not enrolment.started_on:
        return
    if enrolment.started_on > clock.today():
        return
    action = enrolment.plan_action
    if action.done_on is None:
        action_mark_done(actor=actor, action=action, done_on=enrolment.started_on, check=False)


def _hours(value: Decimal) -> str:
    """Hours as the audit record keeps them: in hundredths, as stored ("4.00", not "4")."""
    return str(Decimal(value).quantize(Decimal("0.01")))


@transaction.atomic
def attendance_record(
    *, actor, enrolment: Enrolment, on: dt.date, hours, monthly: bool = False
) -> Attendance:
    if not can_handle_enrolment(actor, enrolment):
        raise PermissionDenied()
    # the enrolment's row locked and read again: two recordings of one month (by day and as a
    # monthly figure) go one after the other, and the second sees the first
    client, service = enrolment.client, enrolment.service
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    enrolment.client, enrolment.service = client, service
    errors = {}
    try:
        hours = Decimal(str(hours))
    except (InvalidOperation, ValueError):
        errors["hours"] = _("Enter a number of hours.")
    else:
        if (
            not hours.is_finite()
            or hours < 0
            or hours > (Decimal("250") if monthly else Decimal("12"))
        ):
            errors["hours"] = _("Enter hours from 0 to %(n)s.") % {"n": 250 if monthly else 12}
        elif hours != hours.quantize(Decimal("0.01")):
            errors["hours"] = _("Give the hours with at most two decimals.")
    if enrolment.status not in (
        EnrolmentStatus.STARTED,
        EnrolmentStatus.INTERRUPTED,
        EnrolmentStatus.COMPLETED,
    ):
        errors["enrolment"] = _("Attendance is recorded once the client has started.")
    elif enrolment.started_on is None:
        # ended before the start came: no day of attendance, and no lower bound for one
        errors["enrolment"] = _("Attendance is recorded once the client has started.")
    # a month's figure is for the month of `on` (any day of it): its bounds are the month's
    # (the rest of the current month, or of the month the enrolment ended in, is not refused)
    day = on.replace(day=1) if monthly else on
    if day > clock.today():
        errors["on"] = _("The date cannot be in the future.")
    if enrolment.started_on and day < (
        enrolment.started_on.replace(day=1) if monthly else enrolment.started_on
    ):
        errors["on"] = _("The date is before the client started.")
    if enrolment.ended_on and day > enrolment.ended_on:
        errors["on"] = _("The date is after the enrolment ended.")
    if service.ends_on and day > service.ends_on:
        errors["on"] = _("The service ended on %(date)s.") % {
            "date": formats.date_format(service.ends_on, "SHORT_DATE_FORMAT")
        }
    if not errors:
        # A month is recorded either day by day or as one monthly figure, never both: the
        # hours attended (and the services rollup) would count it twice.
        month = Attendance.objects.filter(
            enrolment=enrolment, on__year=day.year, on__month=day.month, monthly=not monthly
        )
        if month.exists():
            errors["monthly"] = (
                _("This month's hours are recorded as one monthly figure: correct that instead.")
                if not monthly
                else _("This month's hours are recorded day by day: correct those instead.")
            )
    if errors:
        raise ValidationFailed(errors)
    # (the enrolment's row is locked: the hours read are those the correction replaces)
    before = (
        Attendance.objects.filter(enrolment=enrolment, on=day, monthly=monthly)
        .values_list("hours", flat=True)
        .first()
    )
    row, created = Attendance.objects.update_or_create(
        enrolment=enrolment,
        on=day,
        monthly=monthly,
        defaults={"hours": hours, "recorded_by": actor},
    )
    audit_record(
        actor=actor, action="create" if created else "update", object_type="attendance",
        object_id=row.id, client_id=enrolment.client_id,
        # a correction keeps the hours it replaced
        changes={"on": day.isoformat(), "monthly": monthly,
                 "hours": _hours(hours) if created else {"from": _hours(before), "to": _hours(hours)}},
    )  # fmt: skip
    _plan_action_started(actor, enrolment)  # attendance confirms a start recorded ahead
    return row


@transaction.atomic
def language_result_record(
    *, actor, client, taken_on: dt.date, results: list[dict], enrolment: Enrolment | None = None
) -> list[LanguageTestResult]:
    """Results per skill (e.g. the final language test): [{"language", "skill", "level"}].
    A skill of a language given again for the same day corrects the level recorded for it
    (a form sent twice stored every result twice, and a wrong level could not be put right).
    `enrolment`: the client's enrolment in the language test taken (optional).

    One row per client, day, language and skill (a unique constraint): when another user's
    recording of the same result is stored between this one's read and its insert, the
    insert is refused, rolled back to its savepoint, and the results are read again and
    corrected as if the other had come first."""
    if not can_edit_client(actor, client):
        raise PermissionDenied()
    errors = {}
    if taken_on > clock.today():
        errors["taken_on"] = _("The date cannot be in the future.")
    elif client.birth_date and taken_on < client.birth_date:
        errors["taken_on"] = _("The date cannot be before the birth date.")
    if enrolment is not None:
        if enrolment.client_id != client.id:
            errors["enrolment"] = _("The enrolment is another client's.")
        elif enrolment.service.kind != ServiceKind.LANGUAGE_TEST:
            errors["enrolment"] = _("The enrolment is not in a language test.")
        elif not enrolment.started_on or taken_on < enrolment.started_on:
            # a level is reached in a test taken, not before the client took part
            errors["taken_on"] = _("The date is before the client started.")
    given = []
    seen = set()
    for i, r in enumerate(results):
        if (
            r.get("language") not in TargetLanguage.values
            or r.get("skill") not in Skill.values
            or r.get("level") not in Level.values
        ):
            errors[f"results.{i}"] = _("Give a language (fi/sv), a skill and a level A1.1–C2.2.")
        elif (r["language"], r["skill"]) in seen:
            # one test gives one level per skill: two would contradict each other
            errors[f"results.{i}"] = _("This skill of this language is already given above.")
        else:
            seen.add((r["language"], r["skill"]))
            given.append({k: r[k] for k in ("language", "skill", "level")})
    if not results:
        errors["results"] = _("Give at least one result.")
    if errors:
        raise ValidationFailed(errors)
    for attempt in range(RESULT_ATTEMPTS):
        try:
            with transaction.atomic():
                rows, corrected, relinked = _results_write(
                    actor, client, taken_on, given, enrolment
                )
            break
        except IntegrityError as e:
            # stored by another user since the read (the other transaction has committed:
            # the unique index waited for it); read again and correct what it stored
            if attempt + 1 == RESULT_ATTEMPTS:
                raise DomainError(
                    "edit_conflict",
                    _("Another user recorded results of this test at the same moment."),
                    fields={"results": _("Reload the client's page and check the results.")},
                ) from e
    summary = [f"{r.language} {r.skill} {r.level}" for r in rows]
    record_event(client, actor, ClientEvent.Kind.LANGUAGE_RESULT,
                 {"taken_on": taken_on.isoformat(), "results": summary})  # fmt: skip
    audit_record(
        actor=actor, action="update" if corrected or relinked else "create",
        object_type="language_result", client_id=client.id,
        changes={"taken_on": taken_on.isoformat(), "results": summary,
                 **({"enrolment_id": enrolment.id} if enrolment is not None else {}),
                 **({"corrected": corrected} if corrected else {}),
                 **({"enrolment_changed": relinked} if relinked else {})},
    )  # fmt: skip
    return rows


# Tries of one recording of language results: a conflict with a concurrent insert is read
# again with what that one stored; refused only when every try meets yet another recording.
RESULT_ATTEMPTS = 3


def _results_recorded(client, taken_on: dt.date) -> dict[tuple[str, str], LanguageTestResult]:
    """The results already recorded for the client's test day, by (language, skill), locked."""
    return {
        (r.language, r.skill): r
        for r in LanguageTestResult.objects.select_for_update().filter(
            client=client, taken_on=taken_on
        )
    }


def _results_write(actor, client, taken_on, given, enrolment):
    """Store the results given (the read locks those recorded); the levels corrected and the
    enrolment links changed, each from what to what, by "language skill"."""
    recorded = _results_recorded(client, taken_on)
    rows, corrected, relinked, changed = [], {}, {}, []
    for r in given:
        row = recorded.get((r["language"], r["skill"]))
        key = f"{r['language']} {r['skill']}"
        if row is None:
            row = LanguageTestResult(client=client, enrolment=enrolment, taken_on=taken_on,
                                     recorded_by=actor, **r)  # fmt: skip
        else:
            if row.level != r["level"]:
                corrected[key] = {"from": row.level, "to": r["level"]}
            if enrolment is not None and row.enrolment_id != enrolment.id:
                relinked[key] = {"from": row.enrolment_id, "to": enrolment.id}
            if key in corrected or key in relinked:
                row.level, row.recorded_by = r["level"], actor
                row.enrolment = enrolment or row.enrolment
                changed.append(row)
        rows.append(row)
    LanguageTestResult.objects.bulk_create([r for r in rows if r.pk is None])
    for row in changed:
        row.save(update_fields=["level", "recorded_by", "enrolment"])
    return rows, corrected, relinked
