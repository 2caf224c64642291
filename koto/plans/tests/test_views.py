"""Plan pages that the journeys do not walk: cancelling a draft started by mistake."""

import datetime as dt

import pytest
from django.urls import reverse

from koto.core import clock
from koto.plans import services
from koto.plans.models import PlanStatus
from tests.factories import make_client

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def test_cancel_draft__from_its_page__cancelled_and_a_new_one_can_be_drafted(web, counsellor):
    # only the API could cancel: a draft started by mistake blocked the right one
    c = make_client(counsellor)
    c.access = "full"
    plan = services.plan_create(actor=counsellor, client=c, starts_on=TODAY,
                                ends_on=TODAY + dt.timedelta(days=300))  # fmt: skip
    http = web(counsellor)
    detail = http.get(reverse("plans:detail", args=[plan.id])).content.decode()
    assert reverse("plans:cancel", args=[plan.id]) in detail
    page = http.get(reverse("plans:cancel", args=[plan.id]))
    assert page.status_code == 200
    stale = http.post(reverse("plans:cancel", args=[plan.id]), {"version": plan.version - 1})
    assert stale.status_code == 200  # the page again, with the conflict named
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    done = http.post(reverse("plans:cancel", args=[plan.id]), {"version": plan.version})
    assert done.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED
    detail = http.get(reverse("plans:detail", args=[plan.id])).content.decode()
    assert reverse("plans:cancel", args=[plan.id]) not in detail
    assert services.plan_create(actor=counsellor, client=c, starts_on=TODAY).is_first is True


def test_cancel_draft__api_with_a_stale_version__409_then_cancelled(web, counsellor):
    c = make_client(counsellor)
    c.access = "full"
    plan = services.plan_create(actor=counsellor, client=c, starts_on=TODAY)
    http = web(counsellor)
    url = f"/api/v1/plans/{plan.id}/cancel"
    stale = http.post(url, {"version": plan.version + 5}, content_type="application/json")
    assert stale.status_code == 409
    assert http.post(url, content_type="application/json").json()["status"] == "cancelled"
