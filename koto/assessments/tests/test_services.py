"""Assessment services: what a writer gets back, repeated skills, dates in order, no change
after completion, one open assessment per client."""

import datetime as dt
import json

import pytest
from django.utils import formats

from koto.assessments import services
from koto.assessments.models import Assessment, Measure
from koto.core import clock
from koto.core.errors import NotFound, ValidationFailed
from tests.factories import make_client

TODAY = dt.date(2026, 11, 2)
DETAILS = "Terveydentila: diabetes, hoitokontakti sovittu."
# what completing asks of the interview besides its day: its language, literacy and a skill level
RECORDED = {
    "interview_language": "ar",
    "literacy": "latin",
    "skills": [{"language": "fi", "skill": "speaking", "level": "A1.1"}],
}


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def started(counsellor, client_, on=dt.date(2026, 10, 20)) -> Assessment:
    return services.assessment_start(
        actor=counsellor, client=client_, trigger="intake", started_on=on
    )


@pytest.fixture
def with_details(counsellor, social_worker, client_) -> Assessment:
    """An open assessment whose welfare details the social worker recorded."""
    a = started(counsellor, client_)
    return services.assessment_record_interview(
        actor=social_worker, assessment=a,
        data={"interview_on": TODAY, "welfare_needs_flag": True, "welfare_needs_details": DETAILS,
              **RECORDED},
    )  # fmt: skip


def test_record_interview__counsellor__answer_without_welfare_details(
    counsellor, with_details, client_
):
    # the service read the row again for update: that copy held the details
    a = services.assessment_record_interview(
        actor=counsellor, assessment=with_details, data={"housing": "Vuokra-asunto"}
    )
    assert a.welfare_needs_details == ""
    assert Assessment.objects.get(pk=a.pk).welfare_needs_details == DETAILS


def test_complete__counsellor__answer_without_welfare_details(counsellor, with_details):
    a = services.assessment_complete(actor=counsellor, assessment=with_details, plan_needed=True)
    assert a.status == "completed"
    assert a.welfare_needs_details == ""


def test_record_interview__social_worker__answer_with_welfare_details(social_worker, with_details):
    a = services.assessment_record_interview(
        actor=social_worker, assessment=with_details, data={"housing": "Vuokra-asunto"}
    )
    assert a.welfare_needs_details == DETAILS


@pytest.mark.parametrize("path", ["", "/complete"])
def test_api_write__counsellor__no_welfare_details_in_answer(web, counsellor, with_details, path):
    http = web(counsellor)
    url = f"/api/v1/assessments/{with_details.id}{path}"
    if path:
        r = http.post(url, json.dumps({"plan_needed": True}), content_type="application/json")
    else:
        r = http.patch(url, json.dumps({}), content_type="application/json")
    assert r.status_code == 200, r.content
    assert DETAILS not in r.content.decode()
    assert r.json()["welfare_needs_details"] == ""


def test_record_interview__same_skill_twice__refused_naming_the_repeat(counsellor, client_):
    # was an IntegrityError (a 500) from the unique (assessment, language, skill)
    a = started(counsellor, client_)
    with pytest.raises(ValidationFailed) as e:
        services.assessment_record_interview(
            actor=counsellor, assessment=a,
            data={"skills": [{"language": "fi", "skill": "reading", "level": "A1.1"},
                             {"language": "sv", "skill": "reading", "level": "A1.1"},
                             {"language": "fi", "skill": "reading", "level": "A2.1"}]},
        )  # fmt: skip
    assert list(e.value.fields) == ["skills.2"]
    assert not a.skills.exists()


def test_record_interview__before_the_start__refused_naming_interview_on(counsellor, client_):
    a = started(counsellor, client_, on=dt.date(2026, 10, 20))
    with pytest.raises(ValidationFailed) as e:
        services.assessment_record_interview(
            actor=counsellor, assessment=a, data={"interview_on": dt.date(2026, 10, 19)}
        )
    assert list(e.value.fields) == ["interview_on"]
    services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"interview_on": dt.date(2026, 10, 20)}
    )


def test_measure_add__completed_assessment__refused(counsellor, client_):
    a = started(counsellor, client_)
    services.measure_add(actor=counsellor, assessment=a, kind="other", description="Ennen")
    a = services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"interview_on": TODAY, **RECORDED}
    )
    a = services.assessment_complete(actor=counsellor, assessment=a, plan_needed=False)
    with pytest.raises(services.AssessmentError) as e:
        services.measure_add(actor=counsellor, assessment=a, kind="other", description="Jälkeen")
    assert e.value.code == "assessment_completed"
    assert list(Measure.objects.values_list("description", flat=True)) == ["Ennen"]


def test_measure_add__completed_assessment__form_page_shows_the_error(web, counsellor, client_):
    a = started(counsellor, client_)
    a = services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"interview_on": TODAY, **RECORDED}
    )
    services.assessment_complete(actor=counsellor, assessment=a, plan_needed=False)
    r = web(counsellor).post(
        f"/assessments/{a.id}/measures/new/", {"kind": "other", "description": "Jälkeen"}
    )
    assert r.status_code in (200, 400)
    assert "A completed assessment cannot be changed." in r.content.decode()
    assert not Measure.objects.exists()


def test_assessment_start__second_while_one_is_open__refused(counsellor, client_):
    started(counsellor, client_)
    with pytest.raises(services.AssessmentError) as e:
        started(counsellor, client_)
    assert e.value.code == "assessment_open"
    assert Assessment.objects.count() == 1


def test_law_entitlement_warning__window_ended__names_its_end(counsellor):
    # 14 §: three years from the first residence permit (20.1.2023 → 20.1.2026)
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2023, 1, 20))
    assert services.law_entitlement_warning(c, dt.date(2026, 1, 20)) == ""
    warning = services.law_entitlement_warning(c, dt.date(2026, 1, 21))
    assert formats.date_format(dt.date(2026, 1, 20), "SHORT_DATE_FORMAT") in warning
    assert "outside the entitlement" in warning


def test_law_entitlement_warning__entitled_client__none(counsellor, client_):
    assert services.law_entitlement_warning(client_, TODAY) == ""


def test_start_and_detail_pages__window_ended__warn_but_allow(web, counsellor):
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2022, 5, 2))
    http = web(counsellor)
    page = http.get(f"/assessments/clients/{c.id}/new/")
    assert "outside the entitlement" in page.content.decode()
    r = http.post(
        f"/assessments/clients/{c.id}/new/",
        {"trigger": "client_request", "started_on": "2026-11-02", "kind": "basic"},
    )
    assert r.status_code == 302, r.content
    detail = http.get(r["Location"])
    assert "outside the entitlement" in detail.content.decode()


def test_measure_result__page_and_api__recorded_dated_and_audited(web, counsellor, client_):
    # a measure's result could not be recorded anywhere: "(done …)" never appeared
    from koto.audit.models import AuditEvent

    a = started(counsellor, client_)
    m = services.measure_add(actor=counsellor, assessment=a, kind="language_test",
                             description="YKI-testi")  # fmt: skip
    http = web(counsellor)
    detail = http.get(f"/assessments/{a.id}/").content.decode()
    assert f"/assessments/{a.id}/measures/{m.id}/result/" in detail
    bad = http.post(f"/assessments/{a.id}/measures/{m.id}/result/",
                    {"done_on": "2026-10-01", "result": "B1.1"})  # fmt: skip
    assert bad.status_code == 200 and "before the assessment started" in bad.content.decode()
    done = http.post(f"/assessments/{a.id}/measures/{m.id}/result/",
                     {"done_on": "2026-10-28", "result": "Puhuminen B1.1"})  # fmt: skip
    assert done.status_code == 302
    m.refresh_from_db()
    assert (m.done_on, m.result) == (dt.date(2026, 10, 28), "Puhuminen B1.1")
    assert "Puhuminen B1.1" in http.get(f"/assessments/{a.id}/").content.decode()
    # corrected through the API, audited from what to what
    response = http.post(f"/api/v1/assessments/{a.id}/measures/{m.id}/result",
                         {"done_on": "2026-10-29", "result": "Puhuminen B1.2"},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["result"] == "Puhuminen B1.2"
    event = AuditEvent.objects.filter(object_type="assessment_measure").latest("id")
    assert event.changes["corrected_from"] == "2026-10-28"
    assert http.get(f"/api/v1/assessments/{a.id}").json()["measures"][0]["done_on"] == "2026-10-29"
    future = http.post(f"/api/v1/assessments/{a.id}/measures/{m.id}/result",
                       {"done_on": "2026-12-01", "result": "x"}, content_type="application/json")  # fmt: skip
    assert future.status_code == 422 and list(future.json()["fields"]) == ["done_on"]
    assert http.get(f"/assessments/{a.id}/measures/999999/result/").status_code == 404


def test_responsible_authority_warning__jobseeker_at_the_municipality__warned_on_both_pages(
    web, counsellor
):
    # 2 §: the employment authority serves an unemployed jobseeker; Koto said nothing
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2025, 6, 1),
                    unemployed_jobseeker=True)  # fmt: skip
    org = counsellor.active_membership.organisation
    warning = services.responsible_authority_warning(c, TODAY, org)
    assert "employment authority" in warning
    from django.utils.html import escape

    http = web(counsellor)
    assert escape(warning) in http.get(f"/assessments/clients/{c.id}/new/").content.decode()
    assert escape(warning) in http.get(f"/plans/clients/{c.id}/new/").content.decode()
    other = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2025, 6, 1))
    assert services.responsible_authority_warning(other, TODAY, org) == ""
    org.kind = "employment_authority"
    assert "municipality" in services.responsible_authority_warning(other, TODAY, org)


def test_measure_remove__page__confirmed_removed_and_audited(web, counsellor, client_):
    # a measure added by mistake stayed on the assessment for good
    from koto.audit.models import AuditEvent

    a = started(counsellor, client_)
    m = services.measure_add(actor=counsellor, assessment=a, kind="other",
                             description="Väärä asiakas", planned_on=TODAY)  # fmt: skip
    http = web(counsellor)
    url = f"/assessments/{a.id}/measures/{m.id}/remove/"
    assert url in http.get(f"/assessments/{a.id}/").content.decode()
    confirm = http.get(url)
    assert confirm.status_code == 200
    assert "Väärä asiakas" in confirm.content.decode()
    assert Measure.objects.filter(pk=m.pk).exists() is True  # a GET removes nothing
    assert http.post(url).status_code == 302
    assert Measure.objects.filter(pk=m.pk).exists() is False
    event = AuditEvent.objects.get(action="delete", object_type="assessment_measure")
    assert event.changes == {"kind": "other", "planned_on": TODAY.isoformat()}
    assert event.client_id == client_.id


def test_measure_remove__with_a_result_or_completed__refused(web, counsellor, client_):
    a = started(counsellor, client_)
    done = services.measure_add(actor=counsellor, assessment=a, kind="language_test",
                                description="YKI-testi")  # fmt: skip
    services.measure_record_result(actor=counsellor, assessment=a, measure=done,
                                   done_on=TODAY, result="B1.1")  # fmt: skip
    with pytest.raises(services.AssessmentError) as e:
        services.measure_remove(actor=counsellor, assessment=a, measure=done)
    assert e.value.code == "measure_done"
    page = web(counsellor).post(f"/assessments/{a.id}/measures/{done.id}/remove/")
    assert page.status_code == 200
    assert "correct its result instead" in page.content.decode()
    open_one = services.measure_add(actor=counsellor, assessment=a, kind="other", description="x")
    a = services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"interview_on": TODAY, **RECORDED}
    )
    a = services.assessment_complete(actor=counsellor, assessment=a, plan_needed=False)
    with pytest.raises(services.AssessmentError) as e:
        services.measure_remove(actor=counsellor, assessment=a, measure=open_one)
    assert e.value.code == "assessment_completed"
    assert Measure.objects.count() == 2


def test_measure_remove_api__204_then_404_and_another_organisation_404(
    web, counsellor, client_, outsider
):
    a = started(counsellor, client_)
    m = services.measure_add(actor=counsellor, assessment=a, kind="other", description="x")
    url = f"/api/v1/assessments/{a.id}/measures/{m.id}"
    assert web(outsider).delete(url).status_code == 404
    assert Measure.objects.filter(pk=m.pk).exists() is True
    http = web(counsellor)
    assert http.delete(url).status_code == 204
    assert http.delete(url).status_code == 404


def test_complete__child_under_school_age__literacy_not_asked(counsellor):
    # a four-year-old's literacy "not assessed" is no gap; a seven-year-old's is
    child = make_client(counsellor, birth_date=dt.date(2022, 5, 1))
    child.access = "full"
    a = services.assessment_record_interview(
        actor=counsellor, assessment=started(counsellor, child),
        data={"interview_on": TODAY, "interview_language": "ar",
              "skills": [{"language": "fi", "skill": "speaking", "level": "0"}]},
    )  # fmt: skip
    assert services.assessment_complete(
        actor=counsellor, assessment=a, plan_needed=False
    ).status == ("completed")
    pupil = make_client(counsellor, birth_date=dt.date(2019, 11, 2))  # seven on TODAY
    pupil.access = "full"
    b = services.assessment_record_interview(
        actor=counsellor, assessment=started(counsellor, pupil),
        data={"interview_on": TODAY, "interview_language": "ar",
              "skills": [{"language": "fi", "skill": "speaking", "level": "0"}]},
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as e:
        services.assessment_complete(actor=counsellor, assessment=b, plan_needed=False)
    assert set(e.value.fields) == {"literacy"}


def test_measure_result__measure_removed_meanwhile__not_found(counsellor, client_):
    a = started(counsellor, client_)
    m = services.measure_add(actor=counsellor, assessment=a, kind="other", description="x")
    stale = Measure.objects.get(pk=m.pk)
    services.measure_remove(actor=counsellor, assessment=a, measure=m)
    with pytest.raises(NotFound):
        services.measure_record_result(
            actor=counsellor, assessment=a, measure=stale, done_on=TODAY, result="B1.1"
        )


def test_measure_remove_api__with_a_result__422_measure_done(web, counsellor, client_):
    a = started(counsellor, client_)
    m = services.measure_add(
        actor=counsellor, assessment=a, kind="language_test", description="YKI"
    )
    services.measure_record_result(
        actor=counsellor, assessment=a, measure=m, done_on=TODAY, result="B1.1"
    )
    r = web(counsellor).delete(f"/api/v1/assessments/{a.id}/measures/{m.id}")
    assert r.status_code == 422
    assert r.json()["code"] == "measure_done"
    assert Measure.objects.filter(pk=m.pk).exists() is True
