"""Reads of plans and of "my work" (deadline tasks), through the client's visibility."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext

from koto.assessments.models import Assessment
from koto.audit.services import audit_record
from koto.clients.models import Task
from koto.clients.selectors import client_get_for, client_list_for, reach_of, read_reason
from koto.core import clock
from koto.core.errors import NotFound, ValidationFailed
from koto.core.pagination import DEFAULT_LIMIT, keyset_page
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
        reason=read_reason(plan.client, purpose),
    )
    return plan


def action_of_client(*, client, action_id) -> Action:
    """The plan action `action_id` of one of `client`'s plans (the client as
    `client_get_for` answered it), with its goal and plan; any other id is NotFound."""
    if getattr(client, "access", None) not in ("full", "read"):
        raise NotFound("action")
    action = (
        Action.objects.filter(pk=action_id, goal__plan__client=client)
        .select_related("goal__plan")
        .first()
    )
    if action is None:
        raise NotFound("action")
    return action


def _with_contents(qs: QuerySet[IntegrationPlan]) -> QuerySet[IntegrationPlan]:
    goals = Goal.objects.prefetch_related(
        Prefetch("actions", queryset=Action.objects.select_related("responsible_organisation"))
    )
    return qs.select_related("organisation", "counsellor").prefetch_related(
        Prefetch("goals", queryset=goals), "extensions", "reviews"
    )


def plan_with_contents(plan: IntegrationPlan) -> IntegrationPlan:
    """The plan's goals, actions, extensions and reviews in a constant number of queries."""
    return _with_contents(IntegrationPlan.objects.filter(pk=plan.pk)).get()


def plans_of_client_with_contents(*, client) -> list[IntegrationPlan]:
    """Every plan of the client, newest first, with their contents: a constant number of
    queries however many plans the client has. `client` as `client_get_for` answered it
    (visibility checked, the read audited)."""
    if getattr(client, "access", None) not in ("full", "read"):
        raise NotFound("client")
    return list(_with_contents(plans_of_client(client=client)))


def plans_of_client(*, client) -> QuerySet[IntegrationPlan]:
    return (
        IntegrationPlan.objects.filter(client=client)
        .select_related("counsellor")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class WorkList:
    overdue: list[Task]
    this_week: list[Task]
    later: list[Task]
    overdue_total: int
    later_total: int
    today: dt.date
    this_week_total: int = 0

    @property
    def total(self) -> int:
        return self.overdue_total + self.this_week_total + self.later_total


TASK_FIELDS = (
    "id", "client_id", "organisation_id", "assignee_id", "kind", "source_type", "source_id", "due_on",
    "status", "rule_code", "rule_section", "reason_fi", "reason_sv", "reason_en", "period_id", "assumed",
)  # fmt: skip


# The three groups of "my work": overdue, due by the end of this week (Sunday), later.
TASK_GROUPS = ("overdue", "week", "later")
TASK_ORDER = ("due_on", "id")


def _group_filter(group: str, today: dt.date) -> Q:
    week_end = today + dt.timedelta(days=6 - today.weekday())
    return {
        "overdue": Q(due_on__lt=today),
        "week": Q(due_on__gte=today, due_on__lte=week_end),
        "later": Q(due_on__gt=week_end),
    }[group]


def _tasks_of(user, team: bool, reach) -> tuple[QuerySet[Task], QuerySet[Task]]:
    """The open tasks counted (the user's or the organisation's, from the task index alone)
    and the rows listed (only on clients the user may see), oldest due first."""
    qs = Task.objects.filter(status=Task.Status.OPEN)
    own = qs.filter(organisation_id=reach.organisation_id) if team else qs.filter(assignee=user)
    rows = (
        own.filter(client_id__in=client_list_for(user=user).values("id"))
        .select_related("client", "assignee")
        .only(
            *TASK_FIELDS,
            "client__first_name",
            "client__last_name",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
        )
        .order_by(*TASK_ORDER)
    )
    return own, rows


def my_work_for(
    *, user, team: bool = False, group_limit: int = 20, week_limit: int = 50
) -> WorkList:
    """Open deadline tasks of the user (or, with `team`, of the user's organisation) on
    clients the user may see: the oldest `group_limit` overdue, the first `week_limit` due
    this week (`group_limit` in the team view) and the next `group_limit` after that, with
    the totals of the three groups. The rest of a group is read a page at a time with
    `task_group_page_for`.

    The totals count the user's (team view: the organisation's) open tasks from the index
    `(assignee, status, due_on)` (`(organisation, status, due_on)`) alone: a number about
    one's own work, shown to its owner. Probing each task for the client's visibility was a
    join over all of them: 450 ms of the team page and 30 ms of every "my work" page at
    national scale (docs/performance.md). The rows listed are still only those on clients
    the viewer may see."""
    today = clock.today()
    reach = reach_of(user)
    if reach is None:
        return WorkList([], [], [], 0, 0, today)
    own, rows = _tasks_of(user, team, reach)
    # COUNT(due_on), not COUNT(id): due_on is in the index (organisation, status, due_on) and
    # the id is not, so the count reads the index only (23 ms for 45 705 tasks, 208 ms heap).
    totals = own.aggregate(
        **{g: Count("due_on", filter=_group_filter(g, today)) for g in TASK_GROUPS}
    )
    week_limit = group_limit if team else week_limit
    overdue = list(rows.filter(_group_filter("overdue", today))[:group_limit])
    this_week = list(rows.filter(_group_filter("week", today))[:week_limit])
    later = list(rows.filter(_group_filter("later", today))[:group_limit])
    _audit_list(user, team, None, [*overdue, *this_week, *later])
    return WorkList(
        overdue, this_week, later, totals["overdue"], totals["later"], today, totals["week"]
    )


def _audit_list(user, team: bool, group: str | None, tasks: list[Task]) -> None:
    """A work list shows clients' names: one read event for the list (as a search's),
    naming the clients shown."""
    changes = {"view": "team" if team else "own", "results": len(tasks)}
    if group:
        changes["group"] = group
    audit_record(
        actor=user, action="read", object_type="task_list", changes=changes,
        listed=[t.client_id for t in tasks],
    )  # fmt: skip


@dataclass(frozen=True)
class TaskGroupPage:
    group: str
    items: list[Task]
    next_cursor: str | None
    total: int
    today: dt.date


def task_group_page_for(
    *,
    user,
    group: str,
    team: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> TaskGroupPage:
    """One page of a group of "my work" (`TASK_GROUPS`), oldest due first, keyset by
    (due_on, id): every open task of the group can be reached, however many there are.
    `total` counts the group as `my_work_for` does. An unknown group or an unreadable cursor
    raises `ValidationFailed` naming the field."""
    if group not in TASK_GROUPS:
        raise ValidationFailed(
            {"group": gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(TASK_GROUPS)}}
        )
    today = clock.today()
    reach = reach_of(user)
    if reach is None:
        return TaskGroupPage(group, [], None, 0, today)
    own, rows = _tasks_of(user, team, reach)
    where = _group_filter(group, today)
    page = keyset_page(rows.filter(where), order=TASK_ORDER, cursor=cursor, limit=limit)
    total = own.filter(where).aggregate(n=Count("due_on"))["n"]
    _audit_list(user, team, group, page.items)
    return TaskGroupPage(group, page.items, page.next_cursor, total, today)


def plan_basis(client) -> Assessment | None:
    """The assessment a new plan of the client (already read through `client_get_for`) is
    based on: the latest completed one (by the
    day it was completed, then the later made), whatever its conclusion (`plan_create`
    refuses one that found no plan needed, rather than reaching past it to an older one)."""
    return (
        client.assessments.filter(status=Assessment.Status.COMPLETED)
        .order_by("-completed_on", "-id")
        .first()
    )
