"""The demo data (`manage.py load_demo`): every role has something to open."""

import pytest
from django.core.management import call_command

from koto.audit.verification import verify_chain
from koto.clients.models import Client
from koto.funding.models import Claim
from koto.placement.models import MinorCare, Placement
from koto.referrals.models import Referral


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    from koto.demo.data import load_demo

    with django_capture_on_commit_callbacks(execute=True):  # the queued PDF renders
        return load_demo(clients=60)


def test_load_demo__referrals_in_every_state_both_ways(demo):
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert statuses == {"sent", "accepted", "declined", "completed"}
    assert Referral.objects.filter(to_organisation__code="398").exists() is True
    assert Referral.objects.filter(from_organisation__code="398").exists() is True
    assert demo["referrals"] == Referral.objects.count()


def test_load_demo__unaccompanied_minor_arrived_with_care_record(demo):
    placement = Placement.objects.get(category="unaccompanied_minor")
    assert placement.status == "arrived"
    care = MinorCare.objects.get()
    assert care.client.responsible_organisation.code == "398"
    assert Client.objects.filter(minor_care=care).count() == 1


def test_load_demo__claims_submitted_and_draft(demo):
    assert sorted(Claim.objects.values_list("status", flat=True)) == ["draft", "submitted"]


def test_load_demo__written_through_the_services_with_an_intact_audit_chain(demo):
    assert verify_chain().ok is True


def test_load_demo_command__second_run_leaves_data(demo, capsys):
    call_command("load_demo", "--demo-server")
    assert "Demo data already loaded." in capsys.readouterr().out
    assert Referral.objects.count() == demo["referrals"]


def test_load_demo_command__debug_off__refused_without_demo_server(db, settings):
    """Demo users with a published password in real organisations: not on a production
    server by a slip."""
    from django.core.management.base import CommandError

    from koto.accounts.models import User

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo")
    assert not User.objects.filter(username="lahti.neuvoja").exists()


def test_load_demo__a_plan_document_rendered_by_the_task(demo):
    from koto.plans.models import PlanPdf

    pdf = PlanPdf.objects.get()
    assert pdf.status == PlanPdf.Status.READY
    assert bytes(pdf.content[:5]) == b"%PDF-"


def test_load_demo__managers_at_three_levels_open_their_dashboards(demo, client):
    """The issue's three managers: Lahti, the Päijät-Häme welfare region and KEHA."""
    from koto.accounts.models import User
    from koto.insights import rollups
    from koto.organisations.models import Organisation

    rollups.refresh(full=True)
    region = Organisation.objects.get(code="hva-09")
    for username, scope, level in (
        ("lahti.esihenkilo", "", "organisation"),
        ("phhva.esihenkilo", f"region:{region.id}", "region"),
        ("keha.esihenkilo", "national", "national"),
    ):
        client.force_login(User.objects.get(username=username))
        response = client.get(f"/insights/?scope={scope}")
        assert response.status_code == 200, username
        d = response.context["d"]
        assert d.scope.level == level
        new_clients = [cells[0] for _key, _label, cells in d.table("flows").rows]
        assert sum(c.value or 0 for c in new_clients) > 0, username
