"""A plan rests on an assessment that found a plan needed (681/2023), and drawing it up
begins "without delay" after that assessment: the "start drawing up the plan" task."""

import datetime as dt

import pytest

from koto.assessments import services as assessment_services
from koto.assessments.models import Assessment
from koto.clients.models import Client, Task
from koto.core import clock
from koto.core.errors import ValidationFailed
from koto.law import plan_preparation_start_due
from koto.plans import services
from koto.plans.deadlines_sweep import clients_with_casework, sweep_all, sweep_client_tasks
from koto.plans.models import IntegrationPlan
from tests.factories import make_client

TODAY = dt.date(2026, 11, 2)
BIRTH = dt.date(1990, 5, 5)  # pinned: plan dates are checked against the birth date


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def client_(counsellor):
    c = make_client(
        counsellor,
        birth_date=BIRTH,
        residence_basis="asylum",
        first_permit_on=dt.date(2026, 1, 10),
    )
    c.access = "full"
    return c


def assessed(counsellor, client_, *, plan_needed: bool, on=TODAY) -> Assessment:
    a = assessment_services.assessment_start(
        actor=counsellor, client=client_, trigger="client_request", started_on=on
    )
    a = assessment_services.assessment_record_interview(
        actor=counsellor, assessment=a,
        data={"interview_on": on, "interview_language": "ar", "interpreter_used": True, "literacy": "latin",
              "skills": [{"language": "fi", "skill": "speaking", "level": "A1.1"}]},
    )  # fmt: skip
    return assessment_services.assessment_complete(
        actor=counsellor, assessment=a, plan_needed=plan_needed, completed_on=on
    )


def plan_tasks(client_) -> list[Task]:
    return list(Task.objects.filter(client=client_, kind=Task.Kind.PLAN_DRAFT))


# ------------------------------------------------------------------ the plan's assessment


def test_plan_create__assessment_found_no_plan_needed__refused_naming_assessment(
    counsellor, client_
):
    a = assessed(counsellor, client_, plan_needed=False)
    with pytest.raises(ValidationFailed) as e:
        services.plan_create(actor=counsellor, client=client_, assessment=a, starts_on=TODAY)
    assert list(e.value.fields) == ["assessment"]
    assert "concluded that no integration plan is needed" in e.value.fields["assessment"][0]
    assert "2.11.2026" in e.value.fields["assessment"][0]
    assert not IntegrationPlan.objects.filter(client=client_).exists()


def test_plan_create__assessment_found_a_plan_needed__based_on_it(counsellor, client_):
    a = assessed(counsellor, client_, plan_needed=True)
    plan = services.plan_create(actor=counsellor, client=client_, assessment=a, starts_on=TODAY)
    assert plan.assessment_id == a.id


def test_plan_create_api__assessment_found_no_plan_needed__422_naming_assessment_id(
    web, counsellor, client_
):
    a = assessed(counsellor, client_, plan_needed=False)
    response = web(counsellor).post(
        f"/api/v1/clients/{client_.id}/plans",
        {"assessment_id": a.id, "starts_on": "2026-11-02"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "assessment_id" in str(response.json())
    assert not IntegrationPlan.objects.filter(client=client_).exists()


def test_plan_create_page__latest_assessment_found_no_plan_needed__refused(
    web, counsellor, client_
):
    """Two assessments completed on the same day: the later made is the client's latest
    conclusion, and the page does not reach past it to the older one."""
    assessed(counsellor, client_, plan_needed=True)
    assessed(counsellor, client_, plan_needed=False)
    http = web(counsellor)
    page = http.get(f"/plans/clients/{client_.id}/new/")
    assert "concluded that no integration plan is needed" in page.content.decode()
    response = http.post(
        f"/plans/clients/{client_.id}/new/",
        {"kind": "basic", "starts_on": "2026-11-02", "ends_on": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The assessment completed on 2.11.2026 concluded that no integration plan is needed. "
        "A plan is drawn up when an assessment finds one needed."
    ]
    assert response.context["form"].errors.keys() == {"__all__"}
    assert not IntegrationPlan.objects.filter(client=client_).exists()


def test_plan_create_page__same_day_tie__the_later_assessment_is_the_basis(
    web, counsellor, client_
):
    assessed(counsellor, client_, plan_needed=False)
    later = assessed(counsellor, client_, plan_needed=True)
    response = web(counsellor).post(
        f"/plans/clients/{client_.id}/new/",
        {"kind": "basic", "starts_on": "2026-11-02", "ends_on": ""},
    )
    assert response.status_code == 302
    assert IntegrationPlan.objects.get(client=client_).assessment_id == later.id


# ------------------------------------------------------------------ start drawing up the plan


def test_plan_preparation_start_due__two_weeks_from_the_assessment():
    deadline = plan_preparation_start_due(dt.date(2026, 11, 2))
    assert deadline.due_on == dt.date(2026, 11, 16)
    assert deadline.period_id == "2025-01-01"
    assert deadline.assumed is True  # "without delay" has no day count in 681/2023
    assert deadline.reason.code == "DEADLINE_PLAN_PREPARATION_START"
    old = plan_preparation_start_due(dt.date(2020, 2, 20))
    assert (old.due_on, old.period_id, old.assumed) == (dt.date(2020, 3, 5), "2011-09-01", False)


def test_sweep__assessment_found_a_plan_needed__task_for_the_counsellor(counsellor, client_):
    a = assessed(counsellor, client_, plan_needed=True, on=dt.date(2026, 10, 1))
    sweep_all()
    (task,) = plan_tasks(client_)
    assert task.status == Task.Status.OPEN
    assert (task.source_type, task.source_id) == ("assessment", a.id)
    assert task.due_on == dt.date(2026, 10, 15)  # from koto.law, 14 days
    assert task.assignee == counsellor
    assert task.rule_code == "DEADLINE_PLAN_PREPARATION_START"
    assert task.period_id == "2025-01-01"
    assert task.assumed is True


def test_assessment_complete__plan_needed__task_comes_at_once(counsellor, client_):
    # not at the next nightly run: the assessment app signals, the plans app sweeps
    assessed(counsellor, client_, plan_needed=True)
    (task,) = plan_tasks(client_)
    assert (task.status, task.due_on) == (Task.Status.OPEN, dt.date(2026, 11, 16))


def test_sweep__assessment_found_no_plan_needed__no_task(counsellor, client_):
    assessed(counsellor, client_, plan_needed=False)
    sweep_all()
    assert plan_tasks(client_) == []


def test_plan_create__closes_the_task_at_once__a_cancelled_draft_reopens_it(counsellor, client_):
    a = assessed(counsellor, client_, plan_needed=True)
    sweep_client_tasks(client_)
    plan = services.plan_create(actor=counsellor, client=client_, assessment=a, starts_on=TODAY)
    (task,) = plan_tasks(client_)
    assert task.status == Task.Status.DONE
    services.plan_cancel(actor=counsellor, plan=plan)
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_sweep__later_assessment_found_no_plan_needed__task_lapses(counsellor, client_):
    assessed(counsellor, client_, plan_needed=True, on=dt.date(2026, 10, 1))
    sweep_client_tasks(client_)
    assessed(counsellor, client_, plan_needed=False)
    sweep_client_tasks(client_)
    (task,) = plan_tasks(client_)
    assert task.status == Task.Status.LAPSED


def test_sweep__window_for_a_first_plan_ended__no_task(counsellor):
    c = make_client(
        counsellor, birth_date=BIRTH, residence_basis="asylum", first_permit_on=dt.date(2023, 6, 1)
    )
    c.access = "full"
    assessed(counsellor, c, plan_needed=True, on=dt.date(2026, 5, 4))  # inside the window
    sweep_client_tasks(c)
    assert plan_tasks(c) == []  # the window ended on 1.6.2026


def test_clients_with_casework__assessment_completed_since_the_last_run__swept(counsellor, client_):
    assessed(counsellor, client_, plan_needed=True)
    Task.objects.filter(client=client_).delete()
    Client.objects.filter(pk=client_.pk).update(updated_at=clock.now() - dt.timedelta(days=30))
    last_run = clock.now() - dt.timedelta(hours=1)
    assert client_.id in clients_with_casework(changed_since=last_run)


def test_my_work__task_listed_with_a_link_to_draft_the_plan(web, counsellor, client_):
    assessed(counsellor, client_, plan_needed=True)
    sweep_client_tasks(client_)
    page = web(counsellor).get("/plans/my-work/").content.decode()
    assert "Start drawing up the integration plan" in page
    assert f"/plans/clients/{client_.id}/new/" in page


def test_sweep__plan_open_before_the_assessment__no_task_to_draw_one_up(counsellor, client_):
    # given a plan in preparation (or in force) from before the assessment: a new plan
    # cannot be drafted while it is open (`plan_create` refuses), so a task to start one
    # would stay overdue until the plan ends
    with clock.frozen(dt.date(2026, 10, 1)):
        services.plan_create(actor=counsellor, client=client_, starts_on=dt.date(2026, 10, 1))
    # when an assessment made since finds a plan needed
    assessed(counsellor, client_, plan_needed=True)
    sweep_client_tasks(client_)
    # then no task asks for a plan the client already has
    assert plan_tasks(client_) == []
