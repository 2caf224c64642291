"""Assessments, integration plans (goals, actions, transitions, PDFs) and deadline tasks."""

import datetime as dt

from django.http import Http404, HttpResponse
from django.utils.translation import gettext
from ninja import Field, Path, Query, Router, Schema, Status

from koto.api.types import Day, In, fields_named
from koto.assessments import selectors as assessment_selectors
from koto.assessments import services as assessment_services
from koto.assessments.models import Assessment
from koto.clients.selectors import client_get_for
from koto.core.errors import ValidationFailed
from koto.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from koto.organisations.selectors import organisation_by_code
from koto.plans import pdfs, selectors, services
from koto.plans.models import (
    AckMethod,
    Action,
    ExtensionReason,
    Goal,
    GoalArea,
    IntegrationPlan,
    Outcome,
    Responsible,
)

router = Router(tags=["casework"])


class SkillIO(Schema):
    language: str
    skill: str
    level: str


class SkillIn(SkillIO, In):
    """A skill given: an unknown field in it is refused, as in the body around it."""


class AssessmentIn(In):
    trigger: Assessment.Trigger
    started_on: Day | None = None
    kind: Assessment.Kind | None = None
    trigger_note: str = ""


class InterviewIn(In):
    version: int | None = None
    kind: str | None = None
    interview_on: Day | None = None
    interview_language: str | None = None
    interpreter_used: bool | None = None
    literacy: str | None = None
    education_level: str | None = None
    education_field: str | None = None
    education_years: int | None = None
    education_country: str | None = None
    recognition_needed: bool | None = None
    occupation: str | None = None
    work_years: int | None = None
    goals: str | None = None
    family_situation: str | None = None
    childcare_needed: bool | None = None
    housing: str | None = None
    welfare_needs_flag: bool | None = None
    welfare_needs_details: str | None = None
    skills: list[SkillIn] | None = Field(None, max_length=50)


class CompleteIn(In):
    plan_needed: bool
    completed_on: Day | None = None
    conclusion: str = ""
    version: int | None = None


class MeasureOut(Schema):
    id: int
    kind: str
    description: str
    planned_on: dt.date | None
    done_on: dt.date | None
    result: str


class MeasureIn(In):
    kind: str
    description: str
    planned_on: Day | None = None


class MeasureResultIn(In):
    done_on: Day
    result: str


class AssessmentOut(Schema):
    id: int
    client_id: int
    version: int
    kind: str
    law_proposed_multisectoral: bool
    trigger: str
    trigger_note: str
    status: str
    started_on: dt.date
    interview_on: dt.date | None
    interview_language: str
    interpreter_used: bool
    literacy: str
    education_level: str
    education_field: str
    education_years: int | None
    education_country: str
    recognition_needed: bool
    occupation: str
    work_years: int | None
    goals: str
    family_situation: str
    childcare_needed: bool
    housing: str
    welfare_needs_flag: bool
    welfare_needs_details: str
    plan_needed: bool | None
    completed_on: dt.date | None
    conclusion: str
    skills: list[SkillIO]
    measures: list[MeasureOut]

    @staticmethod
    def resolve_skills(obj: Assessment) -> list[dict]:
        return [
            {"language": s.language, "skill": s.skill, "level": s.level} for s in obj.skills.all()
        ]


class ActionFields(Schema):
    what: str
    responsible: str
    responsible_organisation_code: str | None = None
    planned_on: dt.date | None = None
    service_name: str = ""


class ActionIO(ActionFields):
    id: int | None = None
    done_on: dt.date | None = None


class ActionIn(ActionFields, In):
    """An action to add: what the answer holds besides (its id, the day it was done) is not
    given here, so sending it is a 422, not silently dropped."""

    responsible: Responsible
    planned_on: Day | None = None  # bounded as input; ActionIO answers with what is stored


class GoalIn(In):
    area: GoalArea
    description: str


class GoalOut(Schema):
    id: int
    area: str
    theme: str
    description: str
    actions: list[ActionIO]

    @staticmethod
    def resolve_actions(obj: Goal) -> list[dict]:
        return [
            {
                "id": a.id,
                "what": a.what,
                "responsible": a.responsible,
                "planned_on": a.planned_on,
                "done_on": a.done_on,
                "service_name": a.service_name,
                "responsible_organisation_code": a.responsible_organisation.code
                if a.responsible_organisation
                else None,
            }  # fmt: skip
            for a in obj.actions.all()
        ]


class PlanIn(In):
    kind: IntegrationPlan.Kind = IntegrationPlan.Kind.BASIC
    starts_on: Day | None = None
    ends_on: Day | None = None
    assessment_id: int | None = None


class PlanPatch(In):
    version: int | None = None
    kind: IntegrationPlan.Kind | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    handover_summary: str | None = None


class ExtensionOut(Schema):
    months: int
    reason: ExtensionReason
    reason_note: str
    previous_ends_on: dt.date
    new_ends_on: dt.date
    decided_on: dt.date


class ReviewOut(Schema):
    reviewed_on: dt.date
    notes: str
    welfare_region_took_part: bool


class PlanOut(Schema):
    id: int
    client_id: int
    assessment_id: int | None
    version: int
    kind: str
    status: str
    is_first: bool
    months_used_before: int
    starts_on: dt.date | None
    ends_on: dt.date | None
    end_limit_on: dt.date | None
    agreed_on: dt.date | None
    acknowledged_on: dt.date | None
    acknowledgement_method: str
    ended_on: dt.date | None
    outcome: str
    outcome_note: str
    handover_summary: str
    goals: list[GoalOut]
    extensions: list[ExtensionOut]
    reviews: list[ReviewOut]


class ActivateIn(In):
    agreed_on: Day | None = None
    version: int | None = None


class AcknowledgeIn(In):
    acknowledged_on: Day
    method: AckMethod
    interpreter_language: str = ""
    version: int | None = None


class ExtendIn(In):
    months: int
    reason: str
    reason_note: str
    decided_on: Day | None = None
    version: int | None = None


class ReviewIn(In):
    reviewed_on: Day
    notes: str
    welfare_region_took_part: bool = False


class EndIn(In):
    ended_on: Day
    outcome: Outcome
    outcome_note: str = ""
    handover_summary: str = ""
    version: int | None = None


class DoneIn(In):
    done_on: Day


class PdfOut(Schema):
    id: int
    status: str
    languages: str


class TaskOut(Schema):
    id: int
    client_id: int
    kind: str
    due_on: dt.date
    source_type: str
    source_id: int
    rule_code: str
    rule_section: str
    reason_fi: str
    reason_sv: str
    reason_en: str
    period_id: str
    assumed: bool
    assignee_id: int | None


class WorkOut(Schema):
    today: dt.date
    overdue: list[TaskOut]
    this_week: list[TaskOut]
    later: list[TaskOut]
    later_total: int
    overdue_total: int
    this_week_total: int


def _plan(request, plan_id: int, purpose: str = "api") -> IntegrationPlan:
    return selectors.plan_get_for(user=request.auth, plan_id=plan_id, purpose=purpose)


def _plan_out(plan: IntegrationPlan) -> IntegrationPlan:
    return selectors.plan_with_contents(plan)


@router.post(
    "/clients/{client_id}/assessments", response={201: AssessmentOut}, summary="Start an assessment"
)
def assessment_start(request, client_id: int, payload: AssessmentIn):
    client = client_get_for(user=request.auth, client_id=client_id, purpose="api:assessment")
    a = assessment_services.assessment_start(
        actor=request.auth, client=client, **payload.model_dump()
    )
    return Status(201, a)


@router.get(
    "/clients/{client_id}/assessments",
    response=list[AssessmentOut],
    summary="A client's assessments",
)
def assessment_list(request, client_id: int):
    client = client_get_for(user=request.auth, client_id=client_id, purpose="api:assessments")
    items = list(
        assessment_selectors.assessments_of_client(client=client).prefetch_related(
            "skills", "measures"
        )
    )
    if not request.auth.has_perm_in_org("client.view_welfare"):
        for a in items:
            a.welfare_needs_details = ""
    return items


@router.get("/assessments/{assessment_id}", response=AssessmentOut, summary="Read an assessment")
def assessment_read(request, assessment_id: int):
    return assessment_selectors.assessment_get_for(
        user=request.auth, assessment_id=assessment_id, purpose="api"
    )


@router.patch(
    "/assessments/{assessment_id}", response=AssessmentOut, summary="Record the initial interview"
)
def assessment_interview(request, assessment_id: int, payload: InterviewIn):
    a = assessment_selectors.assessment_get_for(
        user=request.auth, assessment_id=assessment_id, purpose="api:edit"
    )
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    if "skills" in data and data["skills"] is not None:
        data["skills"] = [dict(s) for s in data["skills"]]
    return assessment_services.assessment_record_interview(
        actor=request.auth, assessment=a, data=data, expected_version=payload.version
    )


@router.post(
    "/assessments/{assessment_id}/measures",
    response={201: MeasureOut},
    summary="Add a further measure (a test, a work try-out)",
)
def measure_add(request, assessment_id: int, payload: MeasureIn):
    a = assessment_selectors.assessment_get_for(
        user=request.auth, assessment_id=assessment_id, purpose="api:edit"
    )
    return Status(
        201,
        assessment_services.measure_add(actor=request.auth, assessment=a, **payload.model_dump()),
    )


@router.post(
    "/assessments/{assessment_id}/measures/{measure_id}/result",
    response=MeasureOut,
    summary="Record a further measure's result",
)
def measure_result(request, assessment_id: int, measure_id: int, payload: MeasureResultIn):
    a = assessment_selectors.assessment_get_for(
        user=request.auth, assessment_id=assessment_id, purpose="api:edit"
    )
    measure = a.measures.filter(pk=measure_id).first()
    if measure is None:
        raise Http404
    return assessment_services.measure_record_result(
        actor=request.auth, assessment=a, measure=measure, **payload.model_dump()
    )


@router.delete(
    "/assessments/{assessment_id}/measures/{measure_id}",
    response={204: None},
    summary="Remove a further measure added by mistake",
)
def measure_remove(request, assessment_id: int, measure_id: int):
    """Only while the assessment is open and before the measure has a result (422 otherwise:
    a measure carried out is corrected, not removed). Audited."""
    a = assessment_selectors.assessment_get_for(
        user=request.auth, assessment_id=assessment_id, purpose="api:edit"
    )
    measure = a.measures.filter(pk=measure_id).first()
    if measure is None:
        raise Http404
    assessment_services.measure_remove(actor=request.auth, assessment=a, measure=measure)
    return Status(204, None)


@router.post(
    "/assessments/{assessment_id}/complete",
    response=AssessmentOut,
    summary="Complete an assessment",
)
def assessment_complete(request, assessment_id: int, payload: CompleteIn):
    a = assessment_selectors.assessment_get_for(
        user=request.auth, assessment_id=assessment_id, purpose="api:edit"
    )
    data = payload.model_dump(exclude={"version"})
    return assessment_services.assessment_complete(
        actor=request.auth, assessment=a, expected_version=payload.version, **data
    )


@router.post(
    "/clients/{client_id}/plans", response={201: PlanOut}, summary="Draft an integration plan"
)
def plan_create(request, client_id: int, payload: PlanIn):
    client = client_get_for(user=request.auth, client_id=client_id, purpose="api:plan")
    assessment = None
    if payload.assessment_id:
        assessment = client.assessments.filter(pk=payload.assessment_id).first()
        if assessment is None:
            raise Http404
    with fields_named(assessment="assessment_id"):
        plan = services.plan_create(
            actor=request.auth, client=client, kind=payload.kind, assessment=assessment,
            starts_on=payload.starts_on, ends_on=payload.ends_on,
        )  # fmt: skip
    return Status(201, _plan_out(plan))


@router.get("/clients/{client_id}/plans", response=list[PlanOut], summary="A client's plans")
def plan_list(request, client_id: int):
    """Every plan of the client, newest first (a client has a few; none is cut off)."""
    client = client_get_for(user=request.auth, client_id=client_id, purpose="api:plans")
    return selectors.plans_of_client_with_contents(client=client)


@router.get("/plans/{plan_id}", response=PlanOut, summary="Read a plan")
def plan_read(request, plan_id: int):
    return _plan_out(_plan(request, plan_id))


@router.patch(
    "/plans/{plan_id}", response=PlanOut, summary="Change a plan's kind, dates or summary"
)
def plan_update(request, plan_id: int, payload: PlanPatch):
    plan = _plan(request, plan_id, "api:edit")
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    return _plan_out(
        services.plan_update(
            actor=request.auth, plan=plan, data=data, expected_version=payload.version
        )
    )


@router.post("/plans/{plan_id}/goals", response={201: GoalOut}, summary="Add a goal")
def goal_add(request, plan_id: int, payload: GoalIn):
    plan = _plan(request, plan_id, "api:edit")
    return Status(201, services.goal_add(actor=request.auth, plan=plan, **payload.model_dump()))


@router.post(
    "/plans/{plan_id}/goals/{goal_id}/actions",
    response={201: ActionIO},
    summary="Add an action to a goal",
)
def action_add(request, plan_id: int, goal_id: int, payload: ActionIn):
    plan = _plan(request, plan_id, "api:edit")
    goal = Goal.objects.filter(plan=plan, pk=goal_id).first()
    if goal is None:
        raise Http404
    goal.plan = plan
    org = None
    if payload.responsible_organisation_code:
        org = organisation_by_code(payload.responsible_organisation_code)
        if org is None:
            raise ValidationFailed(
                {"responsible_organisation_code": gettext("Unknown organisation code.")}
            )
    with fields_named(responsible_organisation="responsible_organisation_code"):
        action = services.action_add(
            actor=request.auth, goal=goal, what=payload.what, responsible=payload.responsible,
            planned_on=payload.planned_on, responsible_organisation=org,
            service_name=payload.service_name,
        )  # fmt: skip
    return Status(
        201,
        {
            "id": action.id, "what": action.what, "responsible": action.responsible,
            "responsible_organisation_code": org.code if org else None,
            "planned_on": action.planned_on, "done_on": action.done_on,
            "service_name": action.service_name,
        },
    )  # fmt: skip


@router.post(
    "/plans/{plan_id}/actions/{action_id}/done", response=PlanOut, summary="Mark an action done"
)
def action_done(request, plan_id: int, action_id: int, payload: DoneIn):
    plan = _plan(request, plan_id, "api:edit")
    action = Action.objects.filter(goal__plan=plan, pk=action_id).select_related("goal").first()
    if action is None:
        raise Http404
    action.goal.plan = plan
    services.action_mark_done(actor=request.auth, action=action, done_on=payload.done_on)
    return _plan_out(plan)


@router.post("/plans/{plan_id}/activate", response=PlanOut, summary="Put the plan in force")
def plan_activate(request, plan_id: int, payload: ActivateIn):
    plan = _plan(request, plan_id, "api:edit")
    return _plan_out(
        services.plan_activate(
            actor=request.auth,
            plan=plan,
            agreed_on=payload.agreed_on,
            expected_version=payload.version,
        )
    )


@router.post(
    "/plans/{plan_id}/acknowledge", response=PlanOut, summary="Record the client's acknowledgement"
)
def plan_acknowledge(request, plan_id: int, payload: AcknowledgeIn):
    plan = _plan(request, plan_id, "api:edit")
    return _plan_out(
        services.plan_acknowledge(
            actor=request.auth,
            plan=plan,
            expected_version=payload.version,
            **payload.model_dump(exclude={"version"}),
        )  # fmt: skip
    )


@router.post(
    "/plans/{plan_id}/extend", response=PlanOut, summary="Extend the plan for a stated reason"
)
def plan_extend(request, plan_id: int, payload: ExtendIn):
    plan = _plan(request, plan_id, "api:edit")
    d = payload.model_dump(exclude={"version"})
    return _plan_out(
        services.plan_extend(actor=request.auth, plan=plan, expected_version=payload.version, **d)
    )


@router.post("/plans/{plan_id}/reviews", response=PlanOut, summary="Record a review")
def plan_review(request, plan_id: int, payload: ReviewIn):
    plan = _plan(request, plan_id, "api:edit")
    services.plan_review(actor=request.auth, plan=plan, **payload.model_dump())
    return _plan_out(plan)


@router.post("/plans/{plan_id}/end", response=PlanOut, summary="End the plan with its outcome")
def plan_end(request, plan_id: int, payload: EndIn):
    plan = _plan(request, plan_id, "api:edit")
    d = payload.model_dump(exclude={"version"})
    return _plan_out(
        services.plan_end(actor=request.auth, plan=plan, expected_version=payload.version, **d)
    )


class CancelIn(In):
    version: int | None = None


@router.post("/plans/{plan_id}/cancel", response=PlanOut, summary="Cancel a draft plan")
def plan_cancel(request, plan_id: int, payload: CancelIn | None = None):
    """With the `version` the draft was read at, a draft changed meanwhile is a conflict."""
    plan = _plan(request, plan_id, "api:edit")
    version = payload.version if payload else None
    return _plan_out(services.plan_cancel(actor=request.auth, plan=plan, expected_version=version))


@router.post(
    "/plans/{plan_id}/pdfs",
    response={202: PdfOut},
    summary="Generate the client's PDF (background)",
)
def plan_pdf_request(request, plan_id: int):
    plan = _plan(request, plan_id, "api:pdf")
    pdf = pdfs.pdf_request(actor=request.auth, plan=plan)
    pdf.refresh_from_db(fields=["status"])
    return Status(202, pdf)


@router.get("/plans/{plan_id}/pdfs/{pdf_id}", summary="Download a generated PDF")
def plan_pdf_download(request, plan_id: int, pdf_id: int):
    plan = _plan(request, plan_id, "api:pdf")
    pdf = pdfs.pdf_get_for_download(user=request.auth, plan=plan, pdf_id=pdf_id)
    if pdf is None:
        raise Http404
    return HttpResponse(bytes(pdf.content), content_type="application/pdf")


@router.get("/tasks", response=WorkOut, summary="My work: open deadline tasks")
def my_work(request, team: bool = False):
    work = selectors.my_work_for(user=request.auth, team=team)
    return {
        "today": work.today,
        "overdue": work.overdue,
        "this_week": work.this_week,
        "later": work.later,
        "later_total": work.later_total,
        "overdue_total": work.overdue_total,
        "this_week_total": work.this_week_total,
    }


class TaskGroupOut(Schema):
    group: str
    today: dt.date
    total: int
    items: list[TaskOut]
    next_cursor: str | None


@router.get(
    "/tasks/{group}",
    response=TaskGroupOut,
    summary="My work: one group (overdue, week, later), a page at a time",
)
def my_work_group(
    request,
    group: str = Path(..., description="overdue, week (today to Sunday) or later"),
    team: bool = False,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    return selectors.task_group_page_for(
        user=request.auth, group=group, team=team, cursor=cursor, limit=limit
    )
