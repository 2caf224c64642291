"""The national-scale generator's runs: the same seed gives the same data, the command's
options, and the parallel COPY writers on PostgreSQL."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F, Sum

from koto.assessments.models import Assessment
from koto.clients.models import AccessGrant, Client, Meeting, Task
from koto.core import clock
from koto.demo.scale import generate
from koto.guidance.models import Contact, ContactReason
from koto.offerings.models import Attendance, Enrolment, LanguageTestResult
from koto.placement.models import Placement
from koto.plans.models import IntegrationPlan
from koto.referrals.models import Referral

TODAY = dt.date(2026, 12, 1)


def run(*, seed: int, clients: int, contacts: int, writers: int = 2, at=TODAY) -> dict:
    with clock.frozen(at):
        return generate(clients=clients, contacts=contacts, seed=seed, writers=writers)


def rows(qs, *fields) -> list[str]:
    return sorted(repr(r) for r in qs.values_list(*fields))


def aggregates() -> dict:
    """What the same seed must reproduce (no ids: PostgreSQL sequences move on)."""
    return {
        "clients": rows(Client.objects, "birth_date", "residence_basis", "first_name", "last_name", "hetu", "first_permit_on", "home_municipality_on", "responsible_organisation__code", "created_at"),
        "assessments": rows(Assessment.objects, "started_on", "completed_on", "kind", "literacy", "client__hetu"),
        "plans": rows(IntegrationPlan.objects, "status", "outcome", "starts_on", "ends_on", "ended_on", "kind"),
        "tasks": rows(Task.objects, "kind", "status", "due_on", "rule_code"),
        "enrolments": rows(Enrolment.objects, "service__kind", "status", "started_on", "ended_on"),
        "hours": Attendance.objects.aggregate(h=Sum("hours"))["h"],
        "results": rows(LanguageTestResult.objects, "taken_on", "skill", "level"),
        "meetings": rows(Meeting.objects, "held_on", "purpose", "interpreter_mode", "interpreter_minutes", "interpreter_cost", "client_no_show", "client__hetu", "client__temporary_id"),
        "contacts": rows(Contact.objects, "contacted_at", "contacted_on", "kind", "partner_type", "channel", "language", "interpreter_used", "minutes", "outcome", "organisation__code", "client__hetu", "client__temporary_id"),
        "reasons": rows(ContactReason.objects.values("reason__code").annotate(n=Count("id")).order_by(), "reason__code", "n"),
        "placements": rows(Placement.objects, "municipality__code", "year", "category", "status", "proposed_on"),
        "grants": rows(AccessGrant.objects, "client__hetu", "client__temporary_id", "organisation__code", "scope", "source", "valid_from", "valid_to"),
        "transfers": rows(Referral.objects, "client__hetu", "client__temporary_id", "from_organisation__code", "to_organisation__code", "sender__username", "sent_at", "accepted_at"),
    }  # fmt: skip


@pytest.mark.django_db
def test_generate__same_seed_same_data():
    def fresh(seed: int, hour: int = 12) -> dict:
        at = dt.datetime.combine(TODAY, dt.time(hour), tzinfo=clock.HELSINKI)
        with transaction.atomic():
            run(seed=seed, clients=80, contacts=400, at=at)
            out = aggregates()
            transaction.set_rollback(True)
        return out

    # the same seed and day, an early and a late run: the hour of the run changes nothing
    first, again, other = fresh(5, hour=6), fresh(5, hour=17), fresh(6)

    assert first == again
    assert len(first["clients"]) == 80 and len(first["contacts"]) == 400
    assert first["clients"] != other["clients"]
    assert first["contacts"] != other["contacts"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel COPY writers")
@pytest.mark.django_db(transaction=True)
def test_generate__parallel_writers_on_postgresql():
    result = run(seed=3, clients=150, contacts=1000, writers=2)

    assert result["parallel_writers"] == 2
    assert Client.objects.count() == 150
    assert Contact.objects.count() == 1000
    assert IntegrationPlan.objects.exclude(assessment__client=F("client")).count() == 0
    assert Contact.objects.exclude(client=None).exclude(client__responsible_organisation=F("organisation")).count() == 0  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--clients", "0"], "--clients"),
        (["--clients", "5", "--contacts", "-1"], "--contacts"),
        (["--clients", "5", "--writers", "0"], "--writers"),
        (["--clients", "5", "--seed", "-2"], "--seed"),
        (["--clients", "5", "--as-of", "2026-13-01"], "--as-of"),
        (["--clients", "5", "--as-of", "2022-12-31"], "--as-of"),
        (["--clients", "5", "--as-of", "2099-01-01"], "--as-of"),
    ],
)
def test_command__invalid_options(args, option):
    with pytest.raises(CommandError) as error:
        call_command("generate_scale_data", *args, "--no-progress")

    assert str(error.value).startswith(option)


@pytest.mark.django_db
def test_command__reports_rows():
    out = StringIO()

    with clock.frozen(TODAY):
        call_command("generate_scale_data", "--clients", "30", "--contacts", "100", "--no-progress", stdout=out)  # fmt: skip

    assert "Generated 30 clients and 100 guidance contacts" in out.getvalue()
    assert "guidance_contact: 100" in out.getvalue()


@pytest.mark.django_db
def test_command__as_of_a_past_day__nothing_stamped_from_its_start():
    with clock.frozen(TODAY):
        call_command("generate_scale_data", "--clients", "30", "--contacts", "200",
                     "--as-of", "2026-06-10", "--no-progress", stdout=StringIO())  # fmt: skip
    start = dt.datetime(2026, 6, 10, tzinfo=clock.HELSINKI)
    latest = Contact.objects.order_by("-contacted_at").first().contacted_at
    assert start - dt.timedelta(days=14) < latest < start
    assert not Client.objects.filter(created_at__gte=start).exists()
    assert not IntegrationPlan.objects.filter(created_at__gte=start).exists()
    assert not Assessment.objects.filter(started_on__gte=start.date()).exists()
