"""A plan agreed before 681/2023: the old Act's parameter periods have no review interval, so
the sweep opens no review task and the plan document promises no review; they do have the
old Act's one-month guidance-to-service deadline (1386/2010 14 §), so the sweep opens that
task, due a month after the plan was agreed."""

import datetime as dt

from koto.clients.models import Task
from koto.core import clock
from koto.plans.deadlines_sweep import deadlines_for, sweep_client_tasks
from koto.plans.document_build import plan_document
from koto.plans.models import IntegrationPlan, PlanStatus
from tests.factories import make_client


def _old_plan(counsellor):
    c = make_client(counsellor)
    return IntegrationPlan.objects.create(
        client=c, organisation=counsellor.active_membership.organisation, counsellor=counsellor,
        status=PlanStatus.ACTIVE, starts_on=dt.date(2024, 9, 1), agreed_on=dt.date(2024, 9, 1),
        ends_on=dt.date(2025, 8, 31),
    )  # fmt: skip


def test_deadlines_for__old_act_plan__one_month_service_deadline_no_review(counsellor):
    plan = _old_plan(counsellor)
    with clock.frozen(dt.date(2025, 3, 1)):
        dues = {d.kind: d for d in deadlines_for(plan.client, today=clock.today())}
    assert Task.Kind.PLAN_REVIEW not in dues
    assert Task.Kind.PLAN_END in dues
    service = dues[Task.Kind.GUIDANCE_TO_SERVICE].deadline
    assert service.due_on == dt.date(2024, 10, 1)
    assert service.period_id == "2024-07-01"
    assert service.reason.section == "1386/2010 14 §"
    assert service.assumed is False


def test_sweep__old_act_plan__opens_the_guidance_task(counsellor):
    plan = _old_plan(counsellor)
    with clock.frozen(dt.date(2025, 3, 1)):
        sweep_client_tasks(plan.client, today=clock.today())
    task = plan.client.tasks.get(kind=Task.Kind.GUIDANCE_TO_SERVICE)
    assert task.status == Task.Status.OPEN
    assert task.due_on == dt.date(2024, 10, 1)
    assert not plan.client.tasks.filter(kind=Task.Kind.PLAN_REVIEW).exists()


def test_plan_document__old_act_plan__no_next_review(counsellor):
    plan = _old_plan(counsellor)
    assert plan_document(plan).next_review_on is None
