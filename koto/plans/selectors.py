"""Reads of plans and of "my work" (deadline tasks), through the client's visibility."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from koto.audit.services import audit_record
from koto.clients.models import Task
from koto.clients.selectors import client_get_for, client_list_for, reach_of
from koto.core import clock
from koto.core.errors import NotFound
from koto.plans.models import Action, Goal, IntegrationPlan


def plan_get_for(*, user, plan_id: int, purpose: str = "view") -> IntegrationPlan:
    plan = (
        IntegrationPlan.objects.select_related("organisation", "counsellor", "assessment")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise NotFound("plan")
    plan.client = client_get_for(user=user, client_id=plan.client_id, audit=False)
    audit_record(
        actor=user,
        action="read",
        object_type="plan",
        object_id=plan.id,
        client_id=plan.client_id,
        reason=purpose,
    )
    return plan


def plan_with_contents(plan: IntegrationPlan) -> IntegrationPlan:
    """The plan's goals, actions, extensions and reviews in a constant number of queries."""
    goals = Goal.objects.prefetch_related(
        Prefetch("actions", queryset=Action.objects.select_related("responsible_organisation"))
    )
    return (
        IntegrationPlan.objects.filter(pk=plan.pk)
        .select_related("organisation", "counsellor")
        .prefetch_related(Prefetch("goals", queryset=goals), "extensions", "reviews")
        .get()
    )


def plans_of_client(*, client) -> QuerySet[IntegrationPlan]:
    return (
        IntegrationPlan.objects.filter(client=client)
        .select_related("counsellor")
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class WorkList:
    overdue: list[Task]
    this_week: list[Task]
    later: list[Task]
    today: dt.date

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.this_week) + len(self.later)


def my_work_for(*, user, team: bool = False, limit: int = 500) -> WorkList:
    """Open deadline tasks of the user (or, with `team`, of the user's organisation), grouped
    overdue / this week / later, limited to clients the user may see."""
    today = clock.today()
    reach = reach_of(user)
    if reach is None:
        return WorkList([], [], [], today)
    qs = Task.objects.filter(status=Task.Status.OPEN)
    qs = qs.filter(organisation_id=reach.organisation_id) if team else qs.filter(assignee=user)
    visible = client_list_for(user=user).values("id")
    tasks = list(
        qs.filter(client_id__in=visible)
        .select_related("client", "assignee")
        .order_by("due_on", "id")[:limit]
    )
    week_end = today + dt.timedelta(days=6 - today.weekday())
    return WorkList(
        overdue=[t for t in tasks if t.due_on < today],
        this_week=[t for t in tasks if today <= t.due_on <= week_end],
        later=[t for t in tasks if t.due_on > week_end],
        today=today,
    )
