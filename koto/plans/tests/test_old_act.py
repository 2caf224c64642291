"""A plan agreed before 681/2023 (the old Act's parameter period has no review interval and
no guidance-to-service deadline): the sweep and the plan document do without them."""

import datetime as dt

from koto.clients.models import Task
from koto.core import clock
from koto.plans.deadlines_sweep import deadlines_for
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


def test_deadlines_for__old_act_plan__no_review_or_service_deadline(counsellor):
    plan = _old_plan(counsellor)
    with clock.frozen(dt.date(2025, 3, 1)):
        kinds = {d.kind for d in deadlines_for(plan.client, today=clock.today())}
    assert Task.Kind.PLAN_REVIEW not in kinds
    assert Task.Kind.GUIDANCE_TO_SERVICE not in kinds
    assert Task.Kind.PLAN_END in kinds


def test_plan_document__old_act_plan__no_next_review(counsellor):
    plan = _old_plan(counsellor)
    assert plan_document(plan).next_review_on is None
