"""My work: deadline tasks grouped, scoped, with a constant number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.clients.models import Task
from koto.core import clock
from koto.core.roles import Role
from koto.plans import services
from koto.plans.deadlines_sweep import sweep_all
from tests.factories import make_client, member

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def active_plan(counsellor, agreed_on=TODAY):
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    c.access = "full"
    plan = services.plan_create(
        actor=counsellor, client=c, starts_on=agreed_on, ends_on=agreed_on + dt.timedelta(days=300)
    )
    goal = services.goal_add(actor=counsellor, plan=plan, area="work", description="Työ")
    services.action_add(
        actor=counsellor,
        goal=goal,
        what="Työkokeilu",
        responsible="client",
        service_name="Työkokeilu",
    )
    return services.plan_activate(actor=counsellor, plan=plan, agreed_on=agreed_on)


def _queries(http, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/plans/my-work/",
        "/plans/my-work/?view=team",
        "/plans/my-work/?group=later&view=team",
        "/api/v1/tasks",
        "/api/v1/tasks?team=true",
        "/api/v1/tasks/later?team=true",
    ],
)
def test_my_work__query_count_constant(web, counsellor, url):
    active_plan(counsellor)
    http = web(counsellor)
    few = _queries(http, url)
    for _ in range(6):
        active_plan(counsellor)
    assert _queries(http, url) == few


def test_my_work__grouped_overdue_week_later(web, counsellor):
    active_plan(counsellor, agreed_on=dt.date(2026, 3, 1))  # guidance due 1.9.2026: overdue
    response = web(counsellor).get("/api/v1/tasks").json()
    overdue = {t["kind"] for t in response["overdue"]}
    assert "guidance_to_service" in overdue
    assert all(t["due_on"] > "2026-11-08" for t in response["later"])
    task = response["overdue"][0]
    assert task["rule_section"]
    assert task["reason_en"]


def test_my_work__other_counsellors_tasks_only_in_team_view(web, org, counsellor):
    colleague = member(org, Role.INTEGRATION_COUNSELLOR)
    active_plan(colleague)
    http = web(counsellor)
    assert http.get("/api/v1/tasks").json()["later"] == []
    assert len(http.get("/api/v1/tasks?team=true").json()["later"]) > 0


def test_my_work__other_organisation_sees_nothing(web, counsellor, outsider):
    active_plan(counsellor)
    assert web(outsider).get("/api/v1/tasks?team=true").json()["later"] == []


def test_sweep__action_in_service_done__guidance_task_closed(counsellor):
    plan = active_plan(counsellor)
    action = plan.goals.get().actions.get()
    action.goal.plan = plan
    services.action_mark_done(actor=counsellor, action=action, done_on=TODAY)
    assert Task.objects.get(kind="guidance_to_service").status == "done"


def test_sweep_all__nightly_job_recomputes(counsellor):
    active_plan(counsellor)
    # (the assessment task the new client was given is closed: done by the plan)
    Task.objects.filter(status="open").update(due_on=dt.date(2000, 1, 1))
    result = sweep_all()
    assert result["clients"] == 1
    assert not Task.objects.filter(due_on=dt.date(2000, 1, 1)).exists()


def test_sweep_deadlines_command__in_process(counsellor, capsys):
    from django.core.management import call_command

    active_plan(counsellor)
    call_command("sweep_deadlines")
    assert "open deadline tasks" in capsys.readouterr().out


def test_sweep_deadlines_command__enqueue__queued_for_the_worker(counsellor, capsys, settings):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # as in production

    call_command("sweep_deadlines", "--enqueue")
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "koto.plans.tasks.sweep_deadlines"
    assert str(queued.id) in capsys.readouterr().out


def test_sweep_all__one_client_fails__others_swept_failure_counted(counsellor, monkeypatch):
    from koto.plans import deadlines_sweep

    first, second = active_plan(counsellor), active_plan(counsellor)
    Task.objects.filter(status="open").update(due_on=dt.date(2000, 1, 1))
    real = deadlines_sweep.deadlines_for

    def broken_for_first(client, *, today):
        if client.id == first.client_id:
            raise RuntimeError("bad record")
        return real(client, today=today)

    monkeypatch.setattr(deadlines_sweep, "deadlines_for", broken_for_first)
    result = sweep_all()
    assert (result["clients"], result["failed"]) == (2, 1)
    assert not Task.objects.filter(client_id=second.client_id, due_on=dt.date(2000, 1, 1)).exists()
    assert Task.objects.filter(client_id=first.client_id, due_on=dt.date(2000, 1, 1)).exists()


def test_my_work__groups_capped__totals_count_all(counsellor):
    from koto.plans.selectors import my_work_for

    # given five tasks due this week, three overdue and four later, all the counsellor's (on
    # a client who is owed no assessment: a work permit)
    c = make_client(counsellor, residence_basis="work")
    org_id = counsellor.active_membership.organisation_id
    due = [TODAY] * 5 + [TODAY - dt.timedelta(days=3)] * 3 + [TODAY + dt.timedelta(days=30)] * 4
    for i, on in enumerate(due):
        Task.objects.create(
            client=c, organisation_id=org_id, assignee=counsellor, kind="plan_review",
            source_type="test", source_id=i, due_on=on, rule_code="test",
        )  # fmt: skip
    # then every group shows at most its cap, and the totals count them all
    for team in (False, True):
        work = my_work_for(user=counsellor, team=team, group_limit=2, week_limit=4)
        shown = (len(work.overdue), len(work.this_week), len(work.later))
        assert shown == ((2, 2, 2) if team else (2, 4, 2))
        assert (work.overdue_total, work.this_week_total, work.later_total) == (3, 5, 4)
        assert work.total == 12


def test_my_work__task_on_a_client_no_longer_visible__counted_not_listed(counsellor, outsider):
    from koto.plans.selectors import my_work_for

    # given an open task of the counsellor on a client now another organisation's
    gone = make_client(outsider)
    Task.objects.create(
        client=gone, organisation_id=counsellor.active_membership.organisation_id,
        assignee=counsellor, kind="plan_review", source_type="test", source_id=1,
        due_on=TODAY, rule_code="test",
    )  # fmt: skip
    # then the total (from the task index alone) counts it, the list does not show it
    work = my_work_for(user=counsellor)
    assert work.this_week == []
    assert work.this_week_total == 1


def _tasks(counsellor, dues, assignee=None) -> None:
    c = make_client(counsellor, residence_basis="work")  # owed no assessment: no task of its own
    org_id = counsellor.active_membership.organisation_id
    for i, on in enumerate(dues):
        Task.objects.create(
            client=c, organisation_id=org_id, assignee=assignee or counsellor, kind="plan_review",
            source_type="test", source_id=i, due_on=on, rule_code="test",
        )  # fmt: skip


def test_my_work_group__pages_reach_every_task_oldest_first(web, counsellor):
    # given seven overdue tasks, two of them on the same day, and one due later
    days = [40, 3, 3, 10, 20, 5, 1]
    _tasks(counsellor, [TODAY - dt.timedelta(days=d) for d in days] + [TODAY + dt.timedelta(30)])
    http = web(counsellor)
    # when the overdue group is read three at a time
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = http.get("/api/v1/tasks/overdue", query).json()
        assert body["total"] == 7
        seen += [(t["due_on"], t["id"]) for t in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # then every overdue task comes once, oldest due first (ties by id), in three pages
    assert pages == 3
    assert seen == sorted(seen)
    assert len(set(seen)) == 7
    assert all(due < TODAY.isoformat() for due, _ in seen)


def test_my_work_group__unknown_group_or_bad_cursor__422_naming_the_field(web, counsellor):
    http = web(counsellor)
    r = http.get("/api/v1/tasks/someday")
    assert (r.status_code, list(r.json()["fields"])) == (422, ["group"])
    r = http.get("/api/v1/tasks/week", {"cursor": "nonsense"})
    assert (r.status_code, list(r.json()["fields"])) == (422, ["cursor"])
    assert http.get("/api/v1/tasks/week", {"limit": 0}).status_code == 422


def test_my_work_group__team_and_other_organisation(web, org, counsellor, outsider):
    colleague = member(org, Role.INTEGRATION_COUNSELLOR)
    _tasks(counsellor, [TODAY + dt.timedelta(days=30)] * 2, assignee=colleague)
    http = web(counsellor)
    assert http.get("/api/v1/tasks/later").json()["items"] == []
    assert len(http.get("/api/v1/tasks/later", {"team": "true"}).json()["items"]) == 2
    body = web(outsider).get("/api/v1/tasks/later", {"team": "true"}).json()
    assert (body["items"], body["total"]) == ([], 0)


def test_my_work_page__link_to_the_whole_group_and_its_pages(web, counsellor):
    # given more overdue tasks than the page shows
    _tasks(counsellor, [TODAY - dt.timedelta(days=d) for d in range(1, 61)])
    http = web(counsellor)
    page = http.get("/plans/my-work/").content.decode()
    assert "?group=overdue" in page
    # when the whole group is opened: its first page, then the next by the link
    first = http.get("/plans/my-work/", {"group": "overdue"})
    assert first.status_code == 200
    html = first.content.decode()
    assert html.count("<tr><td>") == 50
    cursor = first.context["page"].next_cursor
    assert f"cursor={cursor}" in html.replace("&amp;", "&")
    second = http.get("/plans/my-work/", {"group": "overdue", "cursor": cursor})
    assert second.content.decode().count("<tr><td>") == 10
    assert second.context["page"].next_cursor is None
    # and a cursor edited by hand shows the first page, not an error
    assert http.get("/plans/my-work/", {"group": "overdue", "cursor": "x"}).status_code == 200


def test_my_work_group__anonymous__login_or_401(client):
    assert client.get("/plans/my-work/?group=later").status_code == 302
    assert client.get("/api/v1/tasks/later").status_code == 401


@pytest.mark.parametrize(
    ("query", "named"), [("group=bogus", "group"), ("view=mine", "view"), ("group=week&view=all", "view")]
)  # fmt: skip
def test_my_work__unknown_group_or_view__400_naming_it(web, counsellor, query, named):
    # before, the page showed every group under an address asking for one
    response = web(counsellor).get(f"/plans/my-work/?{query}")
    assert response.status_code == 400
    assert set(response.context["error"].fields) == {named}


@pytest.mark.parametrize("query", ["", "group=week", "view=team", "group=overdue&view=team"])
def test_my_work__known_group_and_view__shown(web, counsellor, query):
    assert web(counsellor).get(f"/plans/my-work/?{query}").status_code == 200


def test_my_work_lists__each_audited_as_one_read(web, counsellor):
    # before, the own work lists were the one read of clients' names left unrecorded
    from koto.audit.models import AuditEvent

    active_plan(counsellor)
    http = web(counsellor)
    for url in ("/plans/my-work/", "/plans/my-work/?view=team", "/plans/my-work/?group=later",
                "/api/v1/tasks", "/api/v1/tasks/later", "/clients/"):  # fmt: skip
        before = AuditEvent.objects.count()
        assert http.get(url).status_code == 200, url
        event = AuditEvent.objects.order_by("-id").first()
        assert AuditEvent.objects.count() == before + 1, url
        assert event.action == "read" and event.actor_id == counsellor.id, url
    events = list(AuditEvent.objects.order_by("-id")[:6])[::-1]
    assert [e.object_type for e in events] == ["task_list"] * 5 + ["client_list"]
    assert [e.changes.get("view") for e in events[:5]] == ["own", "team", "own", "own", "own"]
    assert events[2].changes["group"] == "later" and events[2].changes["results"] >= 1
    client_id = active_plan_client_id = events[5].changes["listed_clients"][0]
    assert events[5].changes == {"query": "", "results": 1, "mine": True,
                                 "listed_clients": [active_plan_client_id]}  # fmt: skip
    # each names the clients it showed (the plan's client has a task in every list shown)
    assert all(e.changes["listed_clients"] == [client_id] for e in events if e.changes["results"])


def test_assessment_start__entitlement_ended_unmet__task_lapsed_not_done(counsellor):
    from koto.assessments.services import assessment_start
    from koto.plans.deadlines_sweep import sweep_client_tasks

    # the three years from the first permit end on 1.12.2026; the assessment is due by 2.1.2027
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2023, 12, 1))
    c.access = "full"
    sweep_client_tasks(c)
    task = Task.objects.get(client=c, kind="assessment_start")
    assert task.status == "open"
    with clock.frozen(dt.date(2026, 12, 2)):  # the night after the window ended, none started
        sweep_client_tasks(c)
    task.refresh_from_db()
    assert task.status == "lapsed"  # not "done": nothing was done
    assessment_start(actor=counsellor, client=c, trigger="client_request")
    task.refresh_from_db()
    assert task.status == "done"  # started after all (outside the entitlement, warned)


def test_assessment_start__met_late__task_done(counsellor):
    from koto.assessments.services import assessment_start
    from koto.plans.deadlines_sweep import sweep_client_tasks

    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    c.access = "full"
    sweep_client_tasks(c)
    task = Task.objects.get(client=c, kind="assessment_start")
    with clock.frozen(task.due_on + dt.timedelta(days=10)):
        assessment_start(actor=counsellor, client=c, trigger="client_request")
    task.refresh_from_db()
    assert task.status == "done"


def test_assessment_start__cancelled_draft_plan__task_stays_open(counsellor):
    from koto.plans.deadlines_sweep import sweep_client_tasks

    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    c.access = "full"
    sweep_client_tasks(c)
    plan = services.plan_create(actor=counsellor, client=c)
    services.plan_cancel(actor=counsellor, plan=plan)  # sweeps: a cancelled draft is no plan
    assert Task.objects.get(client=c, kind="assessment_start").status == "open"


def test_assessment_start__lapsed__employment_authoritys_assessment_leaves_it_missed(
    counsellor,
):
    from koto.assessments.services import assessment_start
    from koto.plans.deadlines_sweep import sweep_client_tasks
    from tests.factories import OrganisationFactory

    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2023, 12, 1))
    sweep_client_tasks(c)
    with clock.frozen(dt.date(2027, 1, 5)):  # after its day, the entitlement ended: lapsed
        sweep_client_tasks(c)
    ea = OrganisationFactory(code="ta-x", kind="employment_authority")
    adviser = member(ea, Role.INTEGRATION_COUNSELLOR, username="ea_adviser")
    c.access = "full"  # as a full grant would give the employment authority
    assessment_start(actor=adviser, client=c, trigger="client_request")
    assert Task.objects.get(client=c, kind="assessment_start").status == "lapsed"
