"""Writes of assessments: start, record the initial interview, add measures, complete."""

import datetime as dt

from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from koto.assessments.models import Assessment, LanguageSkill, Measure
from koto.assessments.scales import Level, Skill, TargetLanguage
from koto.assessments.signals import assessment_completed
from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import Client, ClientEvent, Task
from koto.clients.permissions import can_edit_client, can_read_welfare_details
from koto.clients.services import casework_owner, record_event
from koto.core import clock
from koto.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from koto.law.engine import age_on
from koto.organisations.models import ASSESSING_KINDS, OrganisationKind

INTERVIEW_TEXT = {
    "trigger_note": 200, "education_field": 200, "occupation": 200, "goals": 5000,
    "family_situation": 5000, "housing": 5000, "welfare_needs_details": 5000, "conclusion": 5000,
}  # fmt: skip
INTERVIEW_BOOL = (
    "interpreter_used",
    "recognition_needed",
    "childcare_needed",
    "welfare_needs_flag",
)
INTERVIEW_INT = {"education_years": 40, "work_years": 60}


class AssessmentError(DomainError):
    pass


class AssessmentConflict(DomainError):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "edit_conflict",
            _(
                "Someone else changed this assessment while you were editing. Reload to see their changes."
            ),
            fields={"version": _("The record has changed since you opened it.")},
        )


def _require_edit(actor, client) -> None:
    if not can_edit_client(actor, client):
        raise PermissionDenied()


def _as_seen_by(actor, locked: Assessment, assessment: Assessment) -> Assessment:
    """The row a service changed, answered as its reader sees it: the client as
    `client_get_for` gave it, and the welfare details blank for one who may not read them
    (as `assessment_get_for` answers)."""
    locked.client = assessment.client
    if not can_read_welfare_details(actor):
        locked.welfare_needs_details = ""
    return locked


def law_entitlement_warning(client, on: dt.date) -> str:
    """A warning when `koto.law` finds the client not entitled to an assessment on `on`
    (14 §: the target groups, within the window from the first residence permit); empty when
    entitled or when the facts are missing. The counsellor may still assess: the warning
    says the assessment is outside the entitlement, it does not refuse it."""
    try:
        law = decision_for(client, on).assessment
    except (MissingFacts, FactsError):
        return ""
    if law.entitled:
        return ""
    if client.first_permit_on and on < client.first_permit_on:
        # 2 §: not covered before the first residence permit (card, registration); "in none
        # of its target groups" sent the counsellor to check the wrong facts
        return _(
            "The Integration Act gives no assessment on %(on)s: the client's first residence "
            "permit or registration is from %(from)s, and the Act covers them only from then. "
            "An assessment is then outside the entitlement."
        ) % {
            "on": formats.date_format(on, "SHORT_DATE_FORMAT"),
            "from": formats.date_format(client.first_permit_on, "SHORT_DATE_FORMAT"),
        }
    if law.window_ends_on and on > law.window_ends_on:
        return _(
            "The Integration Act gives no assessment on %(on)s: the client's window ended on "
            "%(end)s. An assessment is then outside the entitlement."
        ) % {
            "on": formats.date_format(on, "SHORT_DATE_FORMAT"),
            "end": formats.date_format(law.window_ends_on, "SHORT_DATE_FORMAT"),
        }
    return _(
        "The Integration Act gives this client no assessment: the client is in none of its "
        "target groups. An assessment is then outside the entitlement."
    )


def responsible_authority_warning(client, on: dt.date, organisation) -> str:
    """A warning when `koto.law` gives the client's assessment and plan to the other kind of
    authority than `organisation` (integration-act.md, section 2: an unemployed jobseeker is
    the employment authority's, who cannot hand them to the municipality; others are the
    municipality's). Empty when it agrees or the facts are missing. Not a refusal: the
    jobseeker flag may be out of date, and the counsellor sees why the law says so."""
    if organisation is None or organisation.kind not in ASSESSING_KINDS:
        return ""
    try:
        authority = decision_for(client, on).responsible_authority
    except (MissingFacts, FactsError):
        return ""
    if authority is None or authority == organisation.kind:
        return ""
    if authority == OrganisationKind.EMPLOYMENT_AUTHORITY:
        return _(
            "The client is an unemployed jobseeker: the Integration Act gives their assessment "
            "and plan to the employment authority, not the municipality. Check the client's "
            "situation, or refer them to the employment authority."
        )
    return _(
        "The client is not an unemployed jobseeker: the Integration Act gives their assessment "
        "and plan to the municipality. Check the client's situation, or refer them to the "
        "municipality."
    )


def interpreting_warning(assessment: Assessment) -> str:
    """A warning when the recorded initial interview was held without an interpreter in a
    language the client's record does not give them (section 2: in the client's language or
    through an interpreter): the client needs an interpreter, or the language is neither
    their mother tongue nor one of their other languages. Empty when nothing is recorded
    yet or it agrees. Not a refusal: the record may lack a language the client knows."""
    if assessment.interpreter_used or not assessment.interview_language:
        return ""
    client = assessment.client
    language = codes.language_name(assessment.interview_language)
    if client.interpreter_needed:
        return _(
            "The client's record says they need an interpreter, but the initial interview "
            "(in %(language)s) was recorded without one. Check that the client understood it."
        ) % {"language": language}
    known = {client.mother_tongue, *client.languages.values_list("language", flat=True)}
    known = {codes.normalise_language(c) for c in known if c}
    if known and codes.normalise_language(assessment.interview_language) not in known:
        return _(
            "The initial interview was held in %(language)s without an interpreter, a "
            "language the client's record does not give them. Check that the client "
            "understood it, or record the language on the client's record."
        ) % {"language": language}
    return ""


def law_proposes_multisectoral(client, on: dt.date) -> bool:
    try:
        return decision_for(client, on).assessment.multisectoral
    except (MissingFacts, FactsError):
        return bool(client.welfare_service_needs or client.arrived_as_unaccompanied_minor)


def _require_assessing(actor) -> None:
    if actor.active_membership.organisation.kind not in ASSESSING_KINDS:
        raise PermissionDenied(
            _("The assessment is made by a municipality or an employment authority.")
        )


@transaction.atomic
def assessment_start(
    *,
    actor,
    client,
    trigger: str,
    started_on: dt.date | None = None,
    kind: str | None = None,
    trigger_note: str = "",
) -> Assessment:
    """Start an assessment (9 §: by the client's request, intake, or another authority's
    contact). `koto.law` proposes basic or multi-sectoral; the counsellor decides (`kind`).
    A municipality or an employment authority assesses; the welfare region takes part."""
    _require_edit(actor, client)
    _require_assessing(actor)
    started_on = started_on or clock.today()
    errors = {}
    if trigger not in Assessment.Trigger.values:
        errors["trigger"] = _("Choose how the assessment started.")
    if kind is not None and kind not in Assessment.Kind.values:
        errors["kind"] = _("Choose basic or multi-sectoral.")
    if started_on > clock.today():
        errors["started_on"] = _("The date cannot be in the future.")
    if started_on < client.birth_date:
        errors["started_on"] = _("This date cannot be before the birth date.")
    if len(trigger_note) > 200:
        errors["trigger_note"] = _("At most %(n)s characters.") % {"n": 200}
    if errors:
        raise ValidationFailed(errors)
    # The client's row locked: two starts at once would both see no open assessment.
    Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").get()
    if client.assessments.filter(status=Assessment.Status.STARTED).exists():
        raise AssessmentError(
            "assessment_open",
            _("The client already has an assessment in progress."),
            fields={"trigger": _("Complete the open assessment first.")},
        )
    proposed = law_proposes_multisectoral(client, started_on)
    assessment = Assessment.objects.create(
        client=client,
        organisation=actor.active_membership.organisation,
        counsellor=casework_owner(actor, client),
        kind=kind or (Assessment.Kind.MULTISECTORAL if proposed else Assessment.Kind.BASIC),
        law_proposed_multisectoral=proposed,
        trigger=trigger,
        trigger_note=trigger_note.strip(),
        started_on=started_on,
    )
    record_event(
        client, actor, ClientEvent.Kind.ASSESSMENT_STARTED, {"assessment_id": assessment.id}
    )
    # the "start the assessment" deadline is met now: closed at once, not at the nightly
    # sweep (koto.plans, a layer above, recomputes it the same way then)
    # a lapsed one is met now, late, by the municipality's assessment (the one the deadline
    # is about, and the one the dashboards count as late); another's leaves it missed
    closing = [Task.Status.OPEN]
    if actor.active_membership.organisation.kind == OrganisationKind.MUNICIPALITY:
        closing.append(Task.Status.LAPSED)
    Task.objects.filter(client=client, kind=Task.Kind.ASSESSMENT_START, status__in=closing).update(
        status=Task.Status.DONE, computed_at=clock.now()
    )
    audit_record(
        actor=actor, action="create", object_type="assessment", object_id=assessment.id, client_id=client.id,
        changes={"kind": assessment.kind, "trigger": trigger, "started_on": started_on.isoformat()},
    )  # fmt: skip
    return assessment


def _clean_interview(actor, data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    out: dict = {}
    allowed = {*INTERVIEW_TEXT, *INTERVIEW_BOOL, *INTERVIEW_INT, "interview_on", "interview_language",
               "literacy", "education_level", "education_country", "kind", "skills"}  # fmt: skip
    for name in sorted(set(data) - allowed):
        errors[name] = [_("Unknown field.")]
    for name, n in INTERVIEW_TEXT.items():
        if name in data:
            value = (data[name] or "").strip()
            if len(value) > n:
                errors[name] = [_("At most %(n)s characters.") % {"n": n}]
            out[name] = value
    for name in INTERVIEW_BOOL:
        if name in data:
            if not isinstance(data[name], bool):
                errors[name] = [_("Enter true or false.")]
            out[name] = data[name]
    for name, top in INTERVIEW_INT.items():
        if name in data and data[name] not in (None, ""):
            try:
                value = int(data[name])
            except (TypeError, ValueError):
                errors[name] = [_("Enter a whole number.")]
                continue
            if not 0 <= value <= top:
                errors[name] = [_("Enter a number from 0 to %(n)s.") % {"n": top}]
            out[name] = value
        elif name in data:
            out[name] = None
    if "interview_on" in data:
        d = data["interview_on"]
        if isinstance(d, str) and d:
            try:
                d = dt.date.fromisoformat(d)
            except ValueError:
                errors["interview_on"] = [_("Enter a date as YYYY-MM-DD.")]
        if d and isinstance(d, dt.date) and d > clock.today():
            errors["interview_on"] = [_("The date cannot be in the future.")]
        out["interview_on"] = d or None
    for name, choices in (("literacy", Assessment.Literacy), ("education_level", Assessment.EducationLevel),
                          ("kind", Assessment.Kind)):  # fmt: skip
        if name in data:
            if data[name] not in choices.values:
                errors[name] = [_("Unknown choice.")]
            out[name] = data[name]
    if data.get("interview_language"):
        if not codes.is_language(data["interview_language"]):
            errors["interview_language"] = [_("Unknown language code (ISO 639).")]
        else:
            out["interview_language"] = codes.normalise_language(data["interview_language"])
    elif "interview_language" in data:
        out["interview_language"] = ""
    if data.get("education_country"):
        if not codes.is_country(data["education_country"]):
            errors["education_country"] = [_("Unknown country code (ISO 3166).")]
        else:
            out["education_country"] = codes.normalise_country(data["education_country"])
    elif "education_country" in data:
        out["education_country"] = ""
    if (
        "welfare_needs_details" in out
        and out["welfare_needs_details"]
        and not can_read_welfare_details(actor)
    ):
        errors["welfare_needs_details"] = [
            _("Only the welfare region's professionals record these details.")
        ]
    skills = []
    seen = set()
    for i, s in enumerate(data.get("skills") or []):
        lang, skill, level = s.get("language"), s.get("skill"), s.get("level")
        if (
            lang not in TargetLanguage.values
            or skill not in Skill.values
            or level not in Level.values
        ):
            errors[f"skills.{i}"] = [_("Give a language (fi/sv), a skill and a level A1.1–C2.2.")]
        elif (lang, skill) in seen:
            errors[f"skills.{i}"] = [_("This language and skill already has a level above.")]
        else:
            seen.add((lang, skill))
            skills.append((lang, skill, level))
    if "skills" in data:
        out["skills"] = skills
    if errors:
        raise ValidationFailed(errors)
    return out


@transaction.atomic
def assessment_record_interview(
    *, actor, assessment: Assessment, data: dict, expected_version: int | None = None
) -> Assessment:
    """Record (or correct) the initial interview and the background. Welfare details only by
    welfare-region roles; a stale `expected_version` is a conflict, not an overwrite."""
    _require_edit(actor, assessment.client)
    clean = _clean_interview(actor, data)
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if expected_version is not None and locked.version != expected_version:
        raise AssessmentConflict()
    if locked.status == Assessment.Status.COMPLETED:
        raise AssessmentError(
            "assessment_completed", _("A completed assessment cannot be changed.")
        )
    if clean.get("interview_on") and clean["interview_on"] < locked.started_on:
        raise ValidationFailed(
            {"interview_on": [_("The interview cannot be before the assessment started.")]}
        )
    skills = clean.pop("skills", None)
    if not can_read_welfare_details(actor):
        clean.pop("welfare_needs_details", None)
    changed = {}
    for name, value in clean.items():
        if getattr(locked, name) != value:
            changed[name] = (
                "***"
                if name in Assessment.SENSITIVE_FIELDS
                else (value.isoformat() if isinstance(value, dt.date) else value)
            )
            setattr(locked, name, value)
    # the page sends every skill each time: only a different set is a change (the same set
    # moved the version, and a colleague's later save of the page was refused as a conflict)
    if skills is not None and sorted(skills) != sorted(
        locked.skills.values_list("language", "skill", "level")
    ):
        locked.skills.all().delete()
        LanguageSkill.objects.bulk_create(
            LanguageSkill(assessment=locked, language=lang, skill=skill, level=level)
            for lang, skill, level in skills
        )
        changed["skills"] = [f"{lang} {skill} {level}" for lang, skill, level in skills]
    if changed:
        locked.version += 1
        locked.updated_at = clock.now()
        locked.save()
        audit_record(
            actor=actor, action="update", object_type="assessment", object_id=locked.id,
            client_id=locked.client_id, changes=changed,
        )  # fmt: skip
    return _as_seen_by(actor, locked, assessment)


@transaction.atomic
def measure_add(
    *, actor, assessment: Assessment, kind: str, description: str, planned_on: dt.date | None = None
) -> Measure:
    _require_edit(actor, assessment.client)
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status == Assessment.Status.COMPLETED:
        raise AssessmentError(
            "assessment_completed", _("A completed assessment cannot be changed.")
        )
    errors = {}
    if kind not in Measure.Kind.values:
        errors["kind"] = _("Unknown choice.")
    description = (description or "").strip()
    limit = Measure._meta.get_field("description").max_length
    if not description:
        errors["description"] = _("This field is required.")
    elif len(description) > limit:
        # through the API a longer text reached the column (a 500 on PostgreSQL)
        errors["description"] = _("At most %(n)s characters.") % {"n": limit}
    if planned_on is not None and planned_on < locked.started_on:
        errors["planned_on"] = _("The date cannot be before the assessment started (%(date)s).") % {
            "date": formats.date_format(locked.started_on, "SHORT_DATE_FORMAT")
        }
    if errors:
        raise ValidationFailed(errors)
    measure = Measure.objects.create(
        assessment=locked, kind=kind, description=description, planned_on=planned_on
    )
    audit_record(
        actor=actor, action="create", object_type="assessment_measure", object_id=measure.id,
        client_id=assessment.client_id, changes={"kind": kind},
    )  # fmt: skip
    return measure


@transaction.atomic
def measure_record_result(
    *, actor, assessment: Assessment, measure: Measure, done_on: dt.date, result: str
) -> Measure:
    """The further measure was carried out (a language test, a work try-out): its day and
    result, part of the competence assessment (section 2). While the assessment is open; a
    correction is recorded again and audited from what to what."""
    _require_edit(actor, assessment.client)
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    # read again under the assessment's lock: removed meanwhile, it is a 404, not a 500
    measure = (
        Measure.objects.select_for_update().filter(pk=measure.pk, assessment_id=locked.id).first()
    )
    if measure is None:
        raise NotFound("measure")
    if locked.status == Assessment.Status.COMPLETED:
        raise AssessmentError(
            "assessment_completed", _("A completed assessment cannot be changed.")
        )
    errors = {}
    result = (result or "").strip()
    limit = Measure._meta.get_field("result").max_length
    if not result:
        errors["result"] = _("This field is required.")
    elif len(result) > limit:
        errors["result"] = _("At most %(n)s characters.") % {"n": limit}
    if done_on > clock.today():
        errors["done_on"] = _("The date cannot be in the future.")
    elif done_on < locked.started_on:
        errors["done_on"] = _("The date cannot be before the assessment started (%(date)s).") % {
            "date": formats.date_format(locked.started_on, "SHORT_DATE_FORMAT")
        }
    if errors:
        raise ValidationFailed(errors)
    before = (measure.done_on, measure.result)
    measure.done_on, measure.result = done_on, result
    measure.save(update_fields=["done_on", "result"])
    changes = {"done_on": done_on.isoformat(), "result_given": True}
    if before[0] is not None:
        changes["corrected_from"] = before[0].isoformat()
    audit_record(
        actor=actor, action="update", object_type="assessment_measure", object_id=measure.id,
        client_id=locked.client_id, changes=changes,
    )  # fmt: skip
    return measure


@transaction.atomic
def measure_remove(*, actor, assessment: Assessment, measure: Measure) -> None:
    """Remove a further measure added by mistake, while the assessment is open and before
    the measure has a result (one carried out is part of the assessment: its result is
    corrected instead). Audited with what was removed."""
    _require_edit(actor, assessment.client)
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    current = Measure.objects.filter(pk=measure.pk, assessment_id=locked.id).first()
    if current is None:
        raise NotFound("measure")
    if locked.status == Assessment.Status.COMPLETED:
        raise AssessmentError(
            "assessment_completed", _("A completed assessment cannot be changed.")
        )
    if current.done_on is not None:
        raise AssessmentError(
            "measure_done",
            _("A measure with a recorded result cannot be removed; correct its result instead."),
        )
    removed = {
        "kind": current.kind,
        "planned_on": current.planned_on.isoformat() if current.planned_on else None,
    }
    current.delete()
    audit_record(
        actor=actor, action="delete", object_type="assessment_measure", object_id=measure.pk,
        client_id=locked.client_id, changes=removed,
    )  # fmt: skip


CONCLUSION_MAX = INTERVIEW_TEXT["conclusion"]
#: Literacy is asked of a client of school age on the interview's day (compulsory education
#: begins in the year a child turns seven, 1214/2020 2 §; Koto reads it as the seventh
#: birthday): a younger child's "not assessed" is no gap.
LITERACY_FROM_AGE = 7


@transaction.atomic
def assessment_complete(
    *,
    actor,
    assessment: Assessment,
    plan_needed: bool,
    completed_on: dt.date | None = None,
    conclusion: str = "",
    expected_version: int | None = None,
) -> Assessment:
    """Complete with the conclusion: is an integration plan needed. Needs the interview, held
    in a recorded language (the client's or through an interpreter, section 2), the client's
    literacy and their Finnish or Swedish assessed (a level, "no skill yet" included). The conclusion
    is the assessing authority's (a welfare region takes part, section 2). A stale
    `expected_version` (the interview changed since the page was opened) is a conflict."""
    _require_edit(actor, assessment.client)
    _require_assessing(actor)
    if actor.is_system:  # the conclusion is an official's, under their own name
        raise PermissionDenied(_("A counsellor makes this decision, not an API integration."))
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if expected_version is not None and locked.version != expected_version:
        raise AssessmentConflict()
    completed_on = completed_on or clock.today()
    errors = {}
    if locked.status == Assessment.Status.COMPLETED:
        raise AssessmentError("assessment_completed", _("The assessment is already completed."))
    if locked.interview_on is None:
        errors["interview_on"] = _("Record the initial interview before completing the assessment.")
    elif completed_on < locked.interview_on:
        errors["completed_on"] = _("The assessment cannot be completed before the interview.")
    if completed_on > clock.today():
        errors["completed_on"] = _("The date cannot be in the future.")
    else:
        last_done = locked.measures.filter(done_on__isnull=False).order_by("-done_on").first()
        if last_done is not None and completed_on < last_done.done_on:
            errors["completed_on"] = _(
                "The assessment cannot be completed before its further measure was done (%(date)s)."
            ) % {"date": formats.date_format(last_done.done_on, "SHORT_DATE_FORMAT")}
    if locked.interview_on is not None and not locked.interview_language:
        errors["interview_language"] = _(
            "Record the language of the initial interview (the client's own language or one "
            "interpreted) before completing the assessment."
        )
    if locked.interview_on is not None and not locked.skills.exists():
        errors["skills"] = _(
            "Record the client's Finnish or Swedish skills (a level, or no skill yet) before "
            "completing the assessment."
        )
    if (
        locked.interview_on is not None
        and locked.literacy == Assessment.Literacy.UNKNOWN
        and age_on(locked.client.birth_date, locked.interview_on) >= LITERACY_FROM_AGE
    ):
        errors["literacy"] = _(
            "Record the client's literacy (the assessment covers it, and it decides literacy "
            "training) before completing the assessment."
        )
    if not isinstance(plan_needed, bool):
        errors["plan_needed"] = _("Enter true or false.")
    conclusion = (conclusion or "").strip()
    if len(conclusion) > CONCLUSION_MAX:
        errors["conclusion"] = _("At most %(n)s characters.") % {"n": CONCLUSION_MAX}
    if errors:
        raise ValidationFailed(errors)
    locked.status = Assessment.Status.COMPLETED
    locked.plan_needed = plan_needed
    locked.completed_on = completed_on
    if conclusion:
        locked.conclusion = conclusion
    locked.version += 1
    locked.updated_at = clock.now()
    locked.save()
    record_event(
        locked.client,
        actor,
        ClientEvent.Kind.ASSESSMENT_COMPLETED,
        {"assessment_id": locked.id, "plan_needed": plan_needed},
    )
    audit_record(
        actor=actor, action="update", object_type="assessment", object_id=locked.id, client_id=locked.client_id,
        changes={"status": "completed", "plan_needed": plan_needed, "completed_on": completed_on.isoformat()},
    )  # fmt: skip
    assessment_completed.send(sender=Assessment, assessment=locked, actor=actor)
    return _as_seen_by(actor, locked, assessment)
