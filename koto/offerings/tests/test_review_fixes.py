"""Defects found in the review of programme services: ends dated before recorded attendance,
starts and attendance after the service's last day, a month's figure bounded by the day
typed instead of its month, asylum seekers enrolled in the integration programme, a target
level of "no skill", a capacity of `true`, language results stored twice."""

import datetime as dt

import pytest

from koto.audit.models import AuditEvent
from koto.core.errors import ValidationFailed
from koto.offerings import services
from koto.offerings.models import Enrolment, EnrolmentStatus, LanguageTestResult
from tests.factories import make_client

TODAY = dt.date(2026, 11, 2)
BIRTH = dt.date(1990, 5, 17)  # pinned: the identity code's century sign follows the year


def course(manager, **extra):
    data = {"kind": "integration_training", "name_fi": "Kotoutumiskoulutus R", "capacity": 5,
            "starts_on": dt.date(2026, 9, 1)}  # fmt: skip
    return services.service_create(actor=manager, data={**data, **extra})


def client_of(counsellor, **overrides):
    c = make_client(counsellor, birth_date=BIRTH, **overrides)
    c.access = "full"
    return c


def started(manager, counsellor, on=dt.date(2026, 10, 5), **extra):
    e = services.enrolment_create(
        actor=counsellor, client=client_of(counsellor), service=course(manager, **extra)
    )
    return services.enrolment_transition(actor=counsellor, enrolment=e, operation="start", on=on)


@pytest.mark.parametrize("operation", ["complete", "interrupt"])
def test_enrolment_end__before_recorded_attendance__refused_naming_on(
    manager, counsellor, operation
):
    # hours recorded on 20.10 stayed after an end dated 10.10 and were counted
    e = started(manager, counsellor)
    services.attendance_record(actor=counsellor, enrolment=e, on=dt.date(2026, 10, 20), hours=4)
    with pytest.raises(ValidationFailed) as err:
        services.enrolment_transition(
            actor=counsellor, enrolment=e, operation=operation, on=dt.date(2026, 10, 10),
            reason="Muutti pois",
        )  # fmt: skip
    assert list(err.value.fields) == ["on"]
    assert Enrolment.objects.get(pk=e.pk).status == EnrolmentStatus.STARTED
    done = services.enrolment_transition(
        actor=counsellor, enrolment=e, operation=operation, on=dt.date(2026, 10, 20),
        reason="Muutti pois",
    )  # fmt: skip
    assert done.ended_on == dt.date(2026, 10, 20)


def test_enrolment_end__within_a_month_recorded_as_one_figure__allowed(manager, counsellor):
    e = started(manager, counsellor)
    services.attendance_record(
        actor=counsellor, enrolment=e, on=dt.date(2026, 10, 5), hours=40, monthly=True
    )
    done = services.enrolment_transition(
        actor=counsellor, enrolment=e, operation="complete", on=dt.date(2026, 10, 15)
    )
    assert done.status == EnrolmentStatus.COMPLETED


def test_enrolment_start__after_the_service_ended__refused_naming_on(manager, counsellor):
    service = course(manager, starts_on=dt.date(2026, 1, 5), ends_on=dt.date(2026, 6, 30))
    e = services.enrolment_create(actor=counsellor, client=client_of(counsellor), service=service)
    with pytest.raises(ValidationFailed) as err:
        services.enrolment_transition(
            actor=counsellor, enrolment=e, operation="start", on=dt.date(2026, 7, 1)
        )
    assert list(err.value.fields) == ["on"]
    e = services.enrolment_transition(
        actor=counsellor, enrolment=e, operation="start", on=dt.date(2026, 6, 30)
    )
    assert e.started_on == dt.date(2026, 6, 30)


def test_attendance__after_the_service_ended__refused_naming_on(manager, counsellor):
    e = started(manager, counsellor, ends_on=dt.date(2026, 10, 16))
    with pytest.raises(ValidationFailed) as err:
        services.attendance_record(actor=counsellor, enrolment=e, on=dt.date(2026, 10, 19), hours=4)
    assert list(err.value.fields) == ["on"]
    assert e.attendance.count() == 0
    services.attendance_record(actor=counsellor, enrolment=e, on=dt.date(2026, 10, 16), hours=4)
    # the month the service ended in is recorded as one figure, dated any day of it
    e2 = started(manager, counsellor, ends_on=dt.date(2026, 10, 16))
    services.attendance_record(
        actor=counsellor, enrolment=e2, on=dt.date(2026, 10, 31), hours=40, monthly=True
    )
    assert e2.attendance.get().on == dt.date(2026, 10, 1)


def test_attendance_monthly__any_day_of_the_month__bounds_are_the_months(manager, counsellor):
    # "Date (or any day of the month)": the current month typed as its last day was "in the
    # future", and the month of the end typed after the end's day was "after the end"
    e = started(manager, counsellor)
    row = services.attendance_record(
        actor=counsellor, enrolment=e, on=dt.date(2026, 11, 30), hours=6, monthly=True
    )
    assert row.on == dt.date(2026, 11, 1)
    e = started(manager, counsellor)
    e = services.enrolment_transition(
        actor=counsellor, enrolment=e, operation="complete", on=dt.date(2026, 10, 10)
    )
    row = services.attendance_record(
        actor=counsellor, enrolment=e, on=dt.date(2026, 10, 31), hours=20, monthly=True
    )
    assert row.on == dt.date(2026, 10, 1)
    with pytest.raises(ValidationFailed) as err:  # the next month is after the end
        services.attendance_record(
            actor=counsellor, enrolment=e, on=dt.date(2026, 11, 1), hours=2, monthly=True
        )
    assert list(err.value.fields) == ["on"]


@pytest.mark.parametrize(
    "kind, extra",
    [("integration_training", {}), ("civic_orientation", {"hours": 70}),
     ("literacy_training", {}), ("language_test", {})],
)  # fmt: skip
def test_enrolment__asylum_seeker_in_the_programme__refused_naming_client(
    manager, counsellor, kind, extra
):
    # the Act (2 §) does not cover an asylum seeker before a permit: enrolled all the same
    seeker = client_of(counsellor, residence_basis="asylum_seeker", first_permit_on=None)
    service = course(manager, kind=kind, **extra)
    with pytest.raises(ValidationFailed) as err:
        services.enrolment_create(actor=counsellor, client=seeker, service=service)
    assert list(err.value.fields) == ["client"]
    assert not Enrolment.objects.filter(client=seeker).exists()
    assert not AuditEvent.objects.filter(object_type="enrolment", client_id=seeker.id).exists()


def test_enrolment__asylum_seeker_in_another_service__allowed(manager, counsellor):
    seeker = client_of(counsellor, residence_basis="asylum_seeker", first_permit_on=None)
    club = course(manager, kind="other", theme="employment", name_fi="Työnhakuklubi")
    e = services.enrolment_create(actor=counsellor, client=seeker, service=club)
    assert e.status == EnrolmentStatus.OFFERED


def test_api_enrolment__asylum_seeker__422_naming_client_id(web, manager, counsellor):
    seeker = client_of(counsellor, residence_basis="asylum_seeker", first_permit_on=None)
    service = course(manager)
    r = web(counsellor).post(
        f"/api/v1/services/{service.id}/enrolments", {"client_id": seeker.id},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["client_id"]


def test_service_create__target_level_no_skill__refused_naming_it(manager):
    with pytest.raises(ValidationFailed) as err:
        course(manager, target_level="0")
    assert list(err.value.fields) == ["target_level"]
    assert course(manager, target_level="B1.1").target_level == "B1.1"


@pytest.mark.parametrize("field", ["capacity", "hours"])
def test_api_service_create__boolean_for_a_number__422_naming_it(web, manager, field):
    # `"capacity": true` was stored as a course of one place
    body = {"kind": "integration_training", "name_fi": "Kurssi", "capacity": 10, field: True}
    r = web(manager).post("/api/v1/services/", body, content_type="application/json")
    assert r.status_code == 422
    assert list(r.json()["fields"]) == [field]


def test_language_results__given_again_for_the_day__corrected_not_doubled(counsellor):
    c = client_of(counsellor)
    day = dt.date(2026, 10, 20)
    results = [{"language": "fi", "skill": "reading", "level": "A2.1"},
               {"language": "fi", "skill": "writing", "level": "A2.2"}]  # fmt: skip
    services.language_result_record(actor=counsellor, client=c, taken_on=day, results=results)
    services.language_result_record(actor=counsellor, client=c, taken_on=day, results=results)
    assert LanguageTestResult.objects.filter(client=c).count() == 2
    services.language_result_record(
        actor=counsellor, client=c, taken_on=day,
        results=[{"language": "fi", "skill": "reading", "level": "B1.1"}],
    )  # fmt: skip
    levels = dict(LanguageTestResult.objects.filter(client=c).values_list("skill", "level"))
    assert levels == {"reading": "B1.1", "writing": "A2.2"}
    last = AuditEvent.objects.filter(object_type="language_result", client_id=c.id).latest("id")
    assert last.changes["corrected"] == {"fi reading": {"from": "A2.1", "to": "B1.1"}}


def test_language_results__before_birth__refused_naming_taken_on(counsellor):
    c = client_of(counsellor)
    with pytest.raises(ValidationFailed) as err:
        services.language_result_record(
            actor=counsellor, client=c, taken_on=BIRTH - dt.timedelta(days=1),
            results=[{"language": "fi", "skill": "reading", "level": "A1.1"}],
        )  # fmt: skip
    assert list(err.value.fields) == ["taken_on"]


def test_language_results__of_another_clients_enrolment__refused(manager, counsellor):
    e = started(manager, counsellor, kind="language_test")
    other = client_of(counsellor)
    with pytest.raises(ValidationFailed) as err:
        services.language_result_record(
            actor=counsellor, client=other, taken_on=TODAY, enrolment=e,
            results=[{"language": "fi", "skill": "reading", "level": "B1.1"}],
        )  # fmt: skip
    assert list(err.value.fields) == ["enrolment"]
    with pytest.raises(ValidationFailed) as err:  # a level is reached in the test, not before
        services.language_result_record(
            actor=counsellor, client=e.client, taken_on=dt.date(2026, 10, 1), enrolment=e,
            results=[{"language": "fi", "skill": "reading", "level": "B1.1"}],
        )  # fmt: skip
    assert list(err.value.fields) == ["taken_on"]
    assert not LanguageTestResult.objects.exists()


def test_client_page__no_skill_result__shown_as_its_label(web, counsellor):
    c = client_of(counsellor)
    http = web(counsellor)
    assert "No skill yet" not in http.get(f"/clients/{c.id}/").content.decode()
    services.language_result_record(
        actor=counsellor, client=c, taken_on=TODAY,
        results=[{"language": "fi", "skill": "speaking", "level": "0"}],
    )  # fmt: skip
    assert "No skill yet" in http.get(f"/clients/{c.id}/").content.decode()


def _edit(manager, service, **changes):
    data = {f: getattr(service, f) for f in ("kind", "name_fi", "capacity", "starts_on",
                                             "ends_on", "hours")}  # fmt: skip
    return services.service_update(actor=manager, service=service, data={**data, **changes})


def test_service_update__dates_past_what_participants_did__refused_naming_the_date(
    manager, counsellor
):
    # a course shortened to end before days of attendance kept them, and a start moved
    # after a participant's start left the start before the course
    e = started(manager, counsellor, on=dt.date(2026, 9, 7), ends_on=dt.date(2026, 12, 18))
    services.attendance_record(actor=counsellor, enrolment=e, on=dt.date(2026, 10, 20), hours=4)
    service = e.service
    with pytest.raises(ValidationFailed) as err:
        _edit(manager, service, ends_on=dt.date(2026, 10, 19))
    assert list(err.value.fields) == ["ends_on"]
    with pytest.raises(ValidationFailed) as err:
        _edit(manager, service, starts_on=dt.date(2026, 9, 8))
    assert list(err.value.fields) == ["starts_on"]
    service.refresh_from_db()
    assert (service.starts_on, service.ends_on) == (dt.date(2026, 9, 1), dt.date(2026, 12, 18))
    assert _edit(manager, service, ends_on=dt.date(2026, 10, 20)).ends_on == dt.date(2026, 10, 20)
