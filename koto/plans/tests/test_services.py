"""Plan services: every transition and every limit."""

import datetime as dt

import pytest

from koto.assessments import services as assessment_services
from koto.audit.models import AuditEvent
from koto.clients.models import Task
from koto.core import clock
from koto.core.errors import ValidationFailed
from koto.plans import services
from koto.plans.models import PlanStatus
from tests.factories import make_client

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def draft(counsellor, client_, starts=dt.date(2026, 11, 1), ends=dt.date(2027, 10, 31)):
    plan = services.plan_create(actor=counsellor, client=client_, starts_on=starts, ends_on=ends)
    goal = services.goal_add(
        actor=counsellor, plan=plan, area="language", description="Suomen kieli B1.1"
    )
    services.action_add(
        actor=counsellor,
        goal=goal,
        what="Kotoutumiskoulutus",
        responsible="client",
        service_name="Integration training",
    )
    plan.refresh_from_db(fields=["version"])  # each goal and action moved the version
    return plan


def test_plan_create__first_plan_longer_than_12_months__refused_naming_ends_on(counsellor, client_):
    with pytest.raises(ValidationFailed) as e:
        services.plan_create(
            actor=counsellor,
            client=client_,
            starts_on=dt.date(2026, 11, 1),
            ends_on=dt.date(2027, 11, 1),
        )
    assert list(e.value.fields) == ["ends_on"]
    assert "31.10.2027" in e.value.fields["ends_on"][0]


def test_plan_create__exactly_12_months__accepted(counsellor, client_):
    plan = services.plan_create(
        actor=counsellor,
        client=client_,
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2027, 10, 31),
    )
    assert plan.end_limit_on == dt.date(2027, 10, 31)
    assert plan.status == PlanStatus.DRAFT


def test_plan_create__second_open_plan__refused(counsellor, client_):
    draft(counsellor, client_)
    with pytest.raises(services.PlanError):
        services.plan_create(actor=counsellor, client=client_)


def test_plan_activate__without_goals__refused(counsellor, client_):
    plan = services.plan_create(
        actor=counsellor,
        client=client_,
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2027, 6, 30),
    )
    with pytest.raises(ValidationFailed) as e:
        services.plan_activate(actor=counsellor, plan=plan)
    assert "goals" in e.value.fields


def test_plan_lifecycle__draft_active_extended_reviewed_ended(counsellor, client_):
    plan = draft(counsellor, client_)
    plan = services.plan_activate(actor=counsellor, plan=plan, agreed_on=TODAY)
    assert plan.status == PlanStatus.ACTIVE
    kinds = set(Task.objects.filter(client=client_, status="open").values_list("kind", flat=True))
    assert kinds == {"guidance_to_service", "plan_review", "plan_end", "extension_decision"}
    review = Task.objects.get(client=client_, kind="plan_review")
    assert review.due_on == dt.date(2027, 5, 2)
    assert review.reason_en
    plan = services.plan_extend(
        actor=counsellor,
        plan=plan,
        months=6,
        reason="illiteracy",
        reason_note="Lukutaidon koulutus kesken",
    )
    assert plan.ends_on == dt.date(2028, 4, 30)
    services.plan_review(actor=counsellor, plan=plan, reviewed_on=TODAY, notes="Edistyy")
    plan = services.plan_end(actor=counsellor, plan=plan, ended_on=TODAY, outcome="studying")
    assert plan.status == PlanStatus.ENDED
    assert Task.objects.filter(client=client_, status="open").count() == 0
    assert (
        AuditEvent.objects.filter(
            object_type="plan", object_id=str(plan.id), action="update"
        ).count()
        == 3
    )


def test_plan_extend__past_the_extension_limit__refused_with_reason(counsellor, client_):
    plan = services.plan_activate(
        actor=counsellor, plan=draft(counsellor, client_), agreed_on=TODAY
    )
    with pytest.raises(ValidationFailed) as e:
        services.plan_extend(
            actor=counsellor,
            plan=plan,
            months=13,
            reason="illness",
            reason_note="Pitkä sairausloma",
        )
    assert "months" in e.value.fields


def test_plan_extend__without_reason__refused(counsellor, client_):
    plan = services.plan_activate(
        actor=counsellor, plan=draft(counsellor, client_), agreed_on=TODAY
    )
    with pytest.raises(ValidationFailed) as e:
        services.plan_extend(
            actor=counsellor, plan=plan, months=3, reason="illness", reason_note=" "
        )
    assert list(e.value.fields) == ["reason_note"]


@pytest.mark.parametrize(
    ("operation", "status"),
    [("end", PlanStatus.DRAFT), ("activate", PlanStatus.ACTIVE), ("cancel", PlanStatus.ACTIVE)],
)
def test_plan_transition__not_allowed__refused(counsellor, client_, operation, status):
    plan = draft(counsellor, client_)
    if status == PlanStatus.ACTIVE:
        plan = services.plan_activate(actor=counsellor, plan=plan, agreed_on=TODAY)
    call = {
        "end": lambda: services.plan_end(
            actor=counsellor, plan=plan, ended_on=TODAY, outcome="employed"
        ),
        "activate": lambda: services.plan_activate(actor=counsellor, plan=plan),
        "cancel": lambda: services.plan_cancel(actor=counsellor, plan=plan),
    }[operation]
    with pytest.raises(services.PlanError) as e:
        call()
    assert e.value.code == "invalid_transition"


def test_plan_cancel__draft__cancelled(counsellor, client_):
    plan = services.plan_cancel(actor=counsellor, plan=draft(counsellor, client_))
    assert plan.status == PlanStatus.CANCELLED
    # the client's timeline shows the draft ended, not a plan drafted and left open
    event = client_.events.latest("id")
    assert (event.kind, event.data["plan_id"]) == ("plan_cancelled", plan.id)


def test_plan_end__employment_plan_without_summary__refused(counsellor, client_):
    plan = services.plan_activate(
        actor=counsellor, plan=draft(counsellor, client_), agreed_on=TODAY
    )
    with pytest.raises(ValidationFailed) as e:
        services.plan_end(actor=counsellor, plan=plan, ended_on=TODAY, outcome="employment_plan")
    assert list(e.value.fields) == ["handover_summary"]
    plan = services.plan_end(
        actor=counsellor,
        plan=plan,
        ended_on=TODAY,
        outcome="employment_plan",
        handover_summary="Kielitaito A2.2, tavoite logistiikka",
    )
    assert plan.handover_summary.startswith("Kielitaito")


def test_plan_update__stale_version__conflict(counsellor, client_):
    plan = draft(counsellor, client_)
    services.plan_update(
        actor=counsellor,
        plan=plan,
        data={"ends_on": dt.date(2027, 6, 30)},
        expected_version=plan.version,
    )
    with pytest.raises(services.PlanConflict):
        services.plan_update(
            actor=counsellor,
            plan=plan,
            data={"ends_on": dt.date(2027, 5, 31)},
            expected_version=plan.version,
        )


def test_second_plan__total_24_months__limit_counts_earlier_plan(counsellor, client_):
    first = services.plan_create(
        actor=counsellor,
        client=client_,
        starts_on=dt.date(2025, 11, 1),
        ends_on=dt.date(2026, 10, 31),
    )
    goal = services.goal_add(actor=counsellor, plan=first, area="work", description="Työ")
    services.action_add(actor=counsellor, goal=goal, what="Työkokeilu", responsible="client")
    services.plan_activate(actor=counsellor, plan=first, agreed_on=dt.date(2025, 11, 1))
    services.plan_end(actor=counsellor, plan=first, ended_on=dt.date(2026, 10, 31), outcome="other")
    second = services.plan_create(actor=counsellor, client=client_, starts_on=dt.date(2026, 11, 1))
    assert second.is_first is False
    assert second.months_used_before == 12
    with pytest.raises(ValidationFailed):
        services.plan_update(actor=counsellor, plan=second, data={"ends_on": dt.date(2027, 11, 30)})
    services.plan_update(actor=counsellor, plan=second, data={"ends_on": dt.date(2027, 10, 31)})


def test_assessment__start_interview_complete(counsellor, client_):
    a = assessment_services.assessment_start(
        actor=counsellor, client=client_, trigger="client_request", started_on=TODAY
    )
    assert a.kind == "basic"
    with pytest.raises(ValidationFailed) as e:
        assessment_services.assessment_complete(actor=counsellor, assessment=a, plan_needed=True)
    assert "interview_on" in e.value.fields
    a = assessment_services.assessment_record_interview(
        actor=counsellor, assessment=a,
        data={"interview_on": TODAY, "interview_language": "ar", "interpreter_used": True, "literacy": "other_script",
              "skills": [{"language": "fi", "skill": "speaking", "level": "A1.2"}]},
    )  # fmt: skip
    assert a.skills.get().level == "A1.2"
    a = assessment_services.assessment_complete(
        actor=counsellor, assessment=a, plan_needed=True, completed_on=TODAY
    )
    assert a.status == "completed"


def test_assessment__welfare_client__law_proposes_multisectoral(counsellor):
    c = make_client(
        counsellor,
        residence_basis="quota_refugee",
        first_permit_on=dt.date(2026, 1, 10),
        welfare_service_needs=True,
    )
    c.access = "full"
    a = assessment_services.assessment_start(
        actor=counsellor, client=c, trigger="intake", started_on=TODAY
    )
    assert a.law_proposed_multisectoral is True
    assert a.kind == "multisectoral"


def test_assessment__welfare_details_by_counsellor__refused(counsellor, client_):
    a = assessment_services.assessment_start(
        actor=counsellor, client=client_, trigger="intake", started_on=TODAY
    )
    with pytest.raises(ValidationFailed) as e:
        assessment_services.assessment_record_interview(
            actor=counsellor, assessment=a, data={"welfare_needs_details": "x"}
        )
    assert list(e.value.fields) == ["welfare_needs_details"]


@pytest.mark.parametrize("months", [121, 100_000, 2**31 - 1, 10**20])
def test_plan_extend__months_past_any_limit__refused_naming_months(counsellor, client_, months):
    # the date arithmetic ran before the law's check: year 10002 was a 500
    plan = services.plan_activate(
        actor=counsellor, plan=draft(counsellor, client_), agreed_on=TODAY
    )
    with pytest.raises(ValidationFailed) as e:
        services.plan_extend(actor=counsellor, plan=plan, months=months, reason="illness",
                             reason_note="Pitkä sairausloma")  # fmt: skip
    assert list(e.value.fields) == ["months"]
    assert "from 1 to 120" in e.value.fields["months"][0]


@pytest.mark.parametrize(
    ("starts", "ends", "field"),
    [(dt.date(9999, 12, 31), None, "starts_on"), (dt.date(1999, 12, 31), None, "starts_on"),
     (dt.date(2026, 11, 1), dt.date(9999, 12, 31), "ends_on")],
)  # fmt: skip
def test_plan_create__dates_outside_the_first_rules_to_2100__refused_naming_them(
    counsellor, client_, starts, ends, field
):
    with pytest.raises(ValidationFailed) as e:
        services.plan_create(actor=counsellor, client=client_, starts_on=starts, ends_on=ends)
    assert list(e.value.fields) == [field]
    assert e.value.fields[field] == ["Give a date from 1.9.2011 to 31.12.2100."]


def test_plan_activate__agreed_before_2000__refused_naming_it(counsellor, client_):
    with pytest.raises(ValidationFailed) as e:
        services.plan_activate(actor=counsellor, plan=draft(counsellor, client_),
                               agreed_on=dt.date(1, 1, 1))  # fmt: skip
    assert list(e.value.fields) == ["agreed_on"]


def test_plan_update__active_plan_without_an_end__refused_naming_ends_on(counsellor, client_):
    # was a 500: the deadline sweep then computed the plan's end deadline from nothing
    plan = services.plan_activate(
        actor=counsellor, plan=draft(counsellor, client_), agreed_on=TODAY
    )
    with pytest.raises(ValidationFailed) as e:
        services.plan_update(
            actor=counsellor, plan=plan, data={"ends_on": ""}, expected_version=plan.version
        )
    assert e.value.fields == {"ends_on": ["A plan in force needs its end date."]}
    plan.refresh_from_db()
    assert plan.ends_on == dt.date(2027, 10, 31)


def test_complete_page__interview_missing__says_so_at_the_top(web, counsellor, client_):
    # the rule names a field the form does not have: before, the page said only "Check the
    # highlighted fields", with nothing highlighted
    a = assessment_services.assessment_start(
        actor=counsellor, client=client_, trigger="client_request", started_on=TODAY
    )
    response = web(counsellor).post(
        f"/assessments/{a.id}/complete/", {"plan_needed": "true", "completed_on": "2026-11-02"}
    )
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors == ["Record the initial interview before completing the assessment."]
    assert "Check the highlighted fields" not in response.content.decode()


@pytest.mark.parametrize("language", ["-1", "1.5", "abcd", "xx"])
def test_plan_acknowledge__unknown_interpreting_language__refused(counsellor, client_, language):
    # "abcd" did not fit the column: a 500 on PostgreSQL
    plan = draft(counsellor, client_)
    with pytest.raises(ValidationFailed) as e:
        services.plan_acknowledge(
            actor=counsellor, plan=plan, acknowledged_on=TODAY, method="signature",
            interpreter_language=language,
        )  # fmt: skip
    assert set(e.value.fields) == {"interpreter_language"}


def test_plan_acknowledge__language_code_normalised(counsellor, client_):
    plan = services.plan_acknowledge(
        actor=counsellor, plan=draft(counsellor, client_), acknowledged_on=TODAY, method="signature",
        interpreter_language=" AR ",
    )  # fmt: skip
    assert plan.acknowledgement_interpreter_language == "ar"


def test_document_page__its_style_carries_the_policys_nonce(web, counsellor, client_):
    # rendered outside Django's request context: the style had no nonce and was refused
    import re

    plan = draft(counsellor, client_)
    response = web(counsellor).get(f"/plans/{plan.id}/document/")
    assert response.status_code == 200
    nonce = re.search(r"style-src 'self' 'nonce-([^']+)'", response["Content-Security-Policy"])
    assert nonce and f'<style nonce="{nonce.group(1)}">' in response.content.decode()


def test_api_action_add__date_outside_1900_to_2100__422_naming_it(web, counsellor, client_):
    plan = draft(counsellor, client_)
    goal = plan.goals.first()
    url = f"/api/v1/plans/{plan.id}/goals/{goal.id}/actions"
    http = web(counsellor)
    bad = http.post(url, {"what": "Kurssi", "responsible": "client", "planned_on": "0001-01-01"},
                    content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and list(bad.json()["fields"]) == ["planned_on"]
    good = http.post(url, {"what": "Kurssi", "responsible": "client", "planned_on": "2027-01-15"},
                     content_type="application/json")  # fmt: skip
    assert good.status_code == 201 and good.json()["planned_on"] == "2027-01-15"


# ------------------------------------------------ dates, limits and closed plans (review)


def active(counsellor, client_):
    return services.plan_activate(
        actor=counsellor, plan=draft(counsellor, client_), agreed_on=TODAY
    )


def extended(counsellor, client_):
    return services.plan_extend(
        actor=counsellor, plan=active(counsellor, client_), months=6, reason="illiteracy",
        reason_note="Lukutaidon koulutus kesken",
    )  # fmt: skip


@pytest.mark.parametrize("starts_on", [dt.date(2010, 1, 4), dt.date(2011, 8, 31)])
def test_plan_create__before_the_first_rules__refused_naming_starts_on(
    counsellor, client_, starts_on
):
    # the law's parameters begin on 1.9.2011: its limits raised NoPeriodInForce (a 500)
    with pytest.raises(ValidationFailed) as e:
        services.plan_create(actor=counsellor, client=client_, starts_on=starts_on)
    assert list(e.value.fields) == ["starts_on"]
    assert "1.9.2011" in e.value.fields["starts_on"][0]


def test_plan_activate__agreed_before_the_first_rules__refused_naming_agreed_on(
    counsellor, client_
):
    with pytest.raises(ValidationFailed) as e:
        services.plan_activate(
            actor=counsellor, plan=draft(counsellor, client_), agreed_on=dt.date(2005, 6, 1)
        )
    assert list(e.value.fields) == ["agreed_on"]


def test_plan_update__extended_plan__other_fields_still_change(counsellor, client_):
    # the end, past the plan's own limit by its extension, refused every later edit
    plan = extended(counsellor, client_)
    plan = services.plan_update(
        actor=counsellor, plan=plan, data={"handover_summary": "Jatkuu TE-palveluissa"}
    )
    assert plan.handover_summary == "Jatkuu TE-palveluissa"
    assert plan.ends_on == dt.date(2028, 4, 30)
    plan = services.plan_update(actor=counsellor, plan=plan, data={"kind": "multisectoral"})
    assert plan.kind == "multisectoral"


def test_plan_extend__decided_in_the_future_or_before_the_start__refused(counsellor, client_):
    plan = active(counsellor, client_)
    for decided_on in (TODAY + dt.timedelta(days=1), dt.date(2026, 10, 31)):
        with pytest.raises(ValidationFailed) as e:
            services.plan_extend(
                actor=counsellor, plan=plan, months=3, reason="illness",
                reason_note="Sairausloma", decided_on=decided_on,
            )  # fmt: skip
        assert list(e.value.fields) == ["decided_on"]


@pytest.mark.parametrize("field, limit", [("what", 300), ("service_name", 200)])
def test_action_add__too_long__refused_naming_it(counsellor, client_, field, limit):
    # the column's length: PostgreSQL refused the next character with a 500
    plan = draft(counsellor, client_)
    args = {"what": "Työkokeilu", "service_name": "", field: "x" * (limit + 1)}
    with pytest.raises(ValidationFailed) as e:
        services.action_add(actor=counsellor, goal=plan.goals.get(), responsible="client", **args)
    assert list(e.value.fields) == [field]


def test_action_mark_done__ended_plan__refused(counsellor, client_):
    plan = active(counsellor, client_)
    action = plan.goals.get().actions.get()
    plan = services.plan_end(actor=counsellor, plan=plan, ended_on=TODAY, outcome="studying")
    action.goal.plan = plan  # as the views give it: the client as the selector answered it
    with pytest.raises(services.PlanError) as e:
        services.action_mark_done(actor=counsellor, action=action, done_on=TODAY)
    assert e.value.code == "plan_closed"
    action.refresh_from_db()
    assert action.done_on is None


def test_earlier_plans_summary__ended_after_its_last_day__counts_to_the_last_day(
    counsellor, client_
):
    # a plan of 12 months recorded as ended six months late used 12 months, not 18
    with clock.frozen(dt.date(2028, 4, 30)):
        plan = active(counsellor, client_)
        services.plan_end(
            actor=counsellor, plan=plan, ended_on=dt.date(2028, 4, 30), outcome="employed"
        )
    assert services.earlier_plans_summary(client_) == (False, 12, dt.date(2026, 11, 1))


def test_api_action_add__answers_what_was_stored(web, counsellor, client_):
    # the answer echoed the body: names unstripped; a done_on, which adding never stores,
    # was taken and dropped, and is now refused naming it
    plan = draft(counsellor, client_)
    goal = plan.goals.get()
    url = f"/api/v1/plans/{plan.id}/goals/{goal.id}/actions"
    body = {"what": "  Työkokeilu  ", "responsible": "client"}
    http = web(counsellor)
    r = http.post(url, {**body, "done_on": "2026-11-01"}, content_type="application/json")
    assert (r.status_code, list(r.json()["fields"])) == (422, ["done_on"])
    r = http.post(url, body, content_type="application/json")
    assert r.status_code == 201, r.content
    stored = goal.actions.get(pk=r.json()["id"])
    assert r.json()["what"] == stored.what == "Työkokeilu"
    assert r.json()["done_on"] is None and stored.done_on is None


def test_plan_extend__from_the_end_of_february__to_the_end_of_march(counsellor, client_):
    plan = draft(counsellor, client_, ends=dt.date(2027, 2, 28))
    plan = services.plan_activate(actor=counsellor, plan=plan, agreed_on=TODAY)
    plan = services.plan_extend(
        actor=counsellor, plan=plan, months=1, reason="illness", reason_note="Sairausloma"
    )
    assert plan.ends_on == dt.date(2027, 3, 31)


def test_plan_acknowledged__content_changed_after__acknowledgement_voided(counsellor, client_):
    plan = services.plan_acknowledge(
        actor=counsellor, plan=draft(counsellor, client_), acknowledged_on=TODAY,
        method="signature",
    )  # fmt: skip
    plan = services.plan_update(actor=counsellor, plan=plan, data={"handover_summary": "x"})
    assert plan.acknowledged_on == TODAY  # a note for the next counsellor is not the plan
    services.goal_add(actor=counsellor, plan=plan, area="work", description="Työ")
    plan.refresh_from_db()
    assert (plan.acknowledged_on, plan.acknowledgement_method) == (None, "")
    event = AuditEvent.objects.filter(object_type="plan_goal").latest("id")
    assert event.changes["acknowledgement_voided"] is True


def test_plan_of_employment_authority__no_six_month_review_task(db):
    from koto.core.roles import Role
    from tests.factories import OrganisationFactory, member

    ea = OrganisationFactory(code="ta-test", kind="employment_authority")
    adviser = member(ea, Role.INTEGRATION_COUNSELLOR, username="ea_counsellor")
    c = make_client(adviser, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    c.access = "full"
    plan = draft(adviser, c)
    services.plan_activate(actor=adviser, plan=plan, agreed_on=TODAY)
    kinds = set(Task.objects.filter(client=c, status="open").values_list("kind", flat=True))
    assert "plan_review" not in kinds and "plan_end" in kinds


def test_new_plan_page__durations_from_the_law_and_the_window_warned(web, counsellor):
    from django.urls import reverse

    inside = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    late = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2022, 1, 10))
    http = web(counsellor)
    http.cookies["django_language"] = "en"
    intro = http.get(reverse("plans:create", args=[inside.id])).context["intro"]
    assert "at most 12 months and all plans together at most 24 months" in intro
    assert "window" not in intro
    intro = http.get(reverse("plans:create", args=[late.id])).context["intro"]
    assert "window for a first plan ended on 01/10/2025" in intro  # English short date


def _extended_first_plan(counsellor, client_):
    """A first plan 1.1.–31.12.2025, extended by six months to 30.6.2026 and ended then."""
    plan = draft(counsellor, client_, starts=dt.date(2025, 1, 1), ends=dt.date(2025, 12, 31))
    plan = services.plan_activate(actor=counsellor, plan=plan, agreed_on=dt.date(2025, 1, 1))
    plan = services.plan_extend(
        actor=counsellor, plan=plan, months=6, reason="illness", reason_note="Sairausloma",
        decided_on=dt.date(2025, 12, 1),
    )  # fmt: skip
    assert plan.ends_on == dt.date(2026, 6, 30)
    return services.plan_end(
        actor=counsellor, plan=plan, ended_on=dt.date(2026, 6, 30), outcome="studying"
    )


def test_next_plan__an_extension_does_not_use_up_the_plans_months(counsellor, client_):
    # 12 months of plan + 6 of extension: the next plan has the other 12 of the 24
    _extended_first_plan(counsellor, client_)
    plan = services.plan_create(actor=counsellor, client=client_, starts_on=dt.date(2026, 7, 1))
    assert plan.end_limit_on == dt.date(2027, 6, 30)  # was 31.12.2026: the extension counted


def test_extension_limit__counted_across_the_clients_plans(counsellor, client_):
    _extended_first_plan(counsellor, client_)
    plan = draft(counsellor, client_, starts=dt.date(2026, 7, 1), ends=dt.date(2027, 6, 30))
    plan = services.plan_activate(actor=counsellor, plan=plan, agreed_on=dt.date(2026, 7, 1))
    with pytest.raises(ValidationFailed) as e:  # 6 of the 12 months were used by the first
        services.plan_extend(
            actor=counsellor, plan=plan, months=7, reason="illness", reason_note="Sairausloma"
        )
    assert list(e.value.fields) == ["months"]
    plan = services.plan_extend(
        actor=counsellor, plan=plan, months=6, reason="illness", reason_note="Sairausloma"
    )
    assert plan.ends_on == dt.date(2027, 12, 31)


# --------------------------------------------------------------------------- review round


def test_goal_and_action_added__version_moves__a_form_opened_before_is_a_conflict(
    counsellor, client_
):
    # only a voided acknowledgement moved it: "put in force" agreed to content never seen
    plan = services.plan_create(actor=counsellor, client=client_, starts_on=dt.date(2026, 11, 1),
                                ends_on=dt.date(2027, 10, 31))  # fmt: skip
    opened = plan.version
    services.goal_add(actor=counsellor, plan=plan, area="work", description="Työ")
    with pytest.raises(services.PlanConflict):
        services.plan_activate(actor=counsellor, plan=plan, agreed_on=TODAY,
                               expected_version=opened)  # fmt: skip


def test_action__organisation_kept_only_when_another_organisation_is_responsible(
    counsellor, client_, other_org
):
    plan = draft(counsellor, client_)
    goal = plan.goals.get()
    client_side = services.action_add(actor=counsellor, goal=goal, what="Hae työtä",
                                      responsible="client", responsible_organisation=other_org)  # fmt: skip
    assert client_side.responsible_organisation is None
    other = services.action_add(actor=counsellor, goal=goal, what="Kurssi",
                                responsible="other_organisation", responsible_organisation=other_org)  # fmt: skip
    assert other.responsible_organisation == other_org


def test_action_done__before_the_plan_starts__refused_naming_done_on(counsellor, client_):
    # a typo (2016) closed the statutory "guided to a service" deadline
    plan = draft(counsellor, client_)
    action = plan.goals.get().actions.get()
    with pytest.raises(ValidationFailed) as e:
        services.action_mark_done(actor=counsellor, action=action, done_on=dt.date(2016, 11, 1))
    assert list(e.value.fields) == ["done_on"]


def test_next_plan__starting_before_the_earlier_one_ended__refused_naming_starts_on(
    counsellor, client_
):
    plan = draft(counsellor, client_)
    plan = services.plan_activate(actor=counsellor, plan=plan, agreed_on=TODAY)
    with clock.frozen(dt.date(2027, 3, 1)):
        services.plan_end(actor=counsellor, plan=plan, ended_on=dt.date(2027, 2, 28),
                          outcome="studying")  # fmt: skip
        with pytest.raises(ValidationFailed) as e:
            services.plan_create(actor=counsellor, client=client_, starts_on=dt.date(2026, 12, 1),
                                 ends_on=dt.date(2027, 5, 31))  # fmt: skip
        assert list(e.value.fields) == ["starts_on"]
        # an older plan entered afterwards starts inside none: fine
        from koto.plans.models import IntegrationPlan

        assert (
            services._overlapped_plan_end(IntegrationPlan(client=client_), dt.date(2020, 1, 1))
            is None
        )
        # handed over on the day the earlier one ended (the pages' default dates): fine
        later = services.plan_create(actor=counsellor, client=client_,
                                     starts_on=dt.date(2027, 2, 28), ends_on=dt.date(2027, 8, 31))  # fmt: skip
        assert later.is_first is False


def test_welfare_region_with_full_access__takes_part_does_not_decide(counsellor, client_):
    # a social worker with a full grant put the municipality's plan in force and ended it
    from koto.clients.selectors import client_get_for
    from koto.clients.services import access_grant_open
    from koto.core.errors import PermissionDenied
    from koto.core.roles import Role
    from koto.plans.selectors import plan_get_for
    from tests.factories import OrganisationFactory, member

    region = OrganisationFactory(code="hva-x", name_fi="Hyvinvointialue", kind="welfare_region")
    worker = member(region, Role.SOCIAL_WORKER, username="region_worker")
    access_grant_open(actor=counsellor, client=client_, organisation=region, scope="full",
                      source="referral", source_id="1", valid_from=TODAY)  # fmt: skip
    plan = draft(counsellor, client_)
    theirs = plan_get_for(user=worker, plan_id=plan.id)
    assert client_get_for(user=worker, client_id=client_.id, audit=False).access == "full"
    services.goal_add(actor=worker, plan=theirs, area="everyday_life", description="Arki")
    for decide in (
        lambda p: services.plan_activate(actor=worker, plan=p, agreed_on=TODAY),
        lambda p: services.plan_cancel(actor=worker, plan=p),
    ):
        with pytest.raises(PermissionDenied):
            decide(plan_get_for(user=worker, plan_id=plan.id))
    assert services.plan_activate(actor=counsellor, plan=plan, agreed_on=TODAY).status == "active"


def test_plan_document__employment_authority_plan__no_next_review_promised(counsellor, client_):
    from koto.plans.document_build import plan_document

    plan = services.plan_activate(
        actor=counsellor, plan=draft(counsellor, client_), agreed_on=TODAY
    )
    assert plan_document(plan).next_review_on is not None
    plan.organisation.kind = "employment_authority"
    plan.organisation.save(update_fields=["kind"])
    assert plan_document(plan).next_review_on is None
