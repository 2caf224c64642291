"""A counsellor enrols a client in civic orientation from the plan; the start, attendance
and the language test results show on the plan (English UI)."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from koto.clients.models import Client
from koto.core import clock
from koto.core.roles import Role
from koto.offerings.services import service_create
from koto.organisations.models import Organisation
from koto.plans import services as plan_services
from tests.factories import member

pytestmark = pytest.mark.e2e


def test_enrol_from_plan__start__attendance__results_on_plan(
    page, live_server, lahti_counsellor, a11y
):
    lahti = Organisation.objects.get(code="398")
    manager = member(lahti, Role.MANAGER)
    service_create(
        actor=manager,
        data={"kind": "civic_orientation", "name_fi": "Yhteiskuntaorientaatio arabiaksi", "name_en": "Civic orientation in Arabic",
              "capacity": 10, "hours": 70, "language": "ar", "topics": ["values_law", "work"]},
    )  # fmt: skip
    client = Client.objects.get(last_name="Haddad")
    client.access = "full"
    today = clock.today()
    plan = plan_services.plan_create(
        actor=lahti_counsellor,
        client=client,
        starts_on=today,
        ends_on=today + dt.timedelta(days=300),
    )
    goal = plan_services.goal_add(
        actor=lahti_counsellor,
        plan=plan,
        area="participation",
        description="Tuntea suomalainen yhteiskunta",
    )
    plan_services.action_add(
        actor=lahti_counsellor, goal=goal, what="Yhteiskuntaorientaatio", responsible="client"
    )
    plan_services.plan_activate(actor=lahti_counsellor, plan=plan, agreed_on=today)

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("laura")
    page.get_by_label("Password").fill("Test-password-2026")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/plans/{plan.id}/")
    page.get_by_role("link", name=re.compile(r"^Enrol\W+Yhteiskuntaorientaatio")).click()
    a11y(page)
    page.get_by_label("Service").select_option(label="Civic orientation in Arabic")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="Place offered")).to_be_visible()

    page.get_by_role("link", name="Services", exact=True).click()
    a11y(page)
    page.get_by_role("link", name="Civic orientation in Arabic").click()
    a11y(page)
    page.get_by_role("link", name="Started").click()
    a11y(page)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Attendance").click()
    a11y(page)
    page.locator("#id_hours").fill("3")
    page.get_by_role("button", name="Save").click()

    page.goto(f"/clients/{client.id}/")
    page.get_by_role("link", name="Record language test results").click()
    a11y(page)
    page.get_by_label("Speaking").select_option("A2.2")
    page.get_by_role("button", name="Save").click()

    page.goto(f"/plans/{plan.id}/")
    expect(page.get_by_role("cell", name="Attending")).to_be_visible()
    expect(page.get_by_role("cell", name="A2.2")).to_be_visible()
    expect(page.get_by_role("cell", name="3.00")).to_be_visible()
    a11y(page)
