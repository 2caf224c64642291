"""The assessment reviewed end to end: what completing it requires (the interview's
language, the Finnish or Swedish skills, dates in order, the version the page was opened
at), the API's answers to odd input, the interview page keeping what is stored, and the
warnings the counsellor sees (interpreting, welfare needs, before the first permit)."""

import datetime as dt
import json

import pytest
from django.utils import formats
from django.utils.html import escape

from koto.assessments import services
from koto.assessments.models import Assessment, Measure
from koto.audit.models import AuditEvent
from koto.core import clock
from koto.core.errors import ValidationFailed
from koto.core.roles import Role
from tests.factories import make_client, member

TODAY = dt.date(2026, 11, 2)
STARTED = dt.date(2026, 10, 20)
SKILLS = [{"language": "fi", "skill": "speaking", "level": "A1.2"}]


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def started(actor, client_, on=STARTED) -> Assessment:
    return services.assessment_start(actor=actor, client=client_, trigger="intake", started_on=on)


def interviewed(actor, client_, **data) -> Assessment:
    """An open assessment whose interview is recorded as the Act asks (language, literacy,
    skills)."""
    a = started(actor, client_)
    return services.assessment_record_interview(
        actor=actor, assessment=a,
        data={"interview_on": STARTED, "interview_language": "ar", "interpreter_used": True, "literacy": "latin",
              "skills": SKILLS, **data},
    )  # fmt: skip


def api(http, method, url, body):
    return getattr(http, method)(url, json.dumps(body), content_type="application/json")


# --- completing: what the Act asks the assessment to cover --------------------------------


def test_complete__interview_without_language_literacy_or_skills__refused_naming_each(
    counsellor, client_
):
    # the interview dated, nothing else: completed before, with no record of the language
    # it was held in (the client's or interpreted) nor of any Finnish or Swedish skill
    a = started(counsellor, client_)
    a = services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"interview_on": STARTED}
    )
    with pytest.raises(ValidationFailed) as e:
        services.assessment_complete(actor=counsellor, assessment=a, plan_needed=True)
    assert set(e.value.fields) == {"interview_language", "literacy", "skills"}
    assert Assessment.objects.get(pk=a.pk).status == "started"
    # "no skill yet" is an assessed level: with it and the language, it completes
    a = services.assessment_record_interview(
        actor=counsellor, assessment=a,
        data={"interview_language": "fi", "literacy": "none", "skills": [{"language": "fi", "skill": "reading", "level": "0"}]},
    )  # fmt: skip
    a = services.assessment_complete(actor=counsellor, assessment=a, plan_needed=True)
    assert a.status == "completed"


def test_complete_page__skills_missing__says_so_at_the_top(web, counsellor, client_):
    a = started(counsellor, client_)
    services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"interview_on": STARTED, "interview_language": "ar"}
    )
    r = web(counsellor).post(
        f"/assessments/{a.id}/complete/",
        {"plan_needed": "true", "completed_on": "2026-11-02", "version": 2},
    )
    assert r.status_code == 200
    assert "Record the client&#x27;s Finnish or Swedish skills" in r.content.decode()
    assert Assessment.objects.get(pk=a.pk).status == "started"


def test_complete__before_a_further_measure_was_done__refused_naming_completed_on(
    counsellor, client_
):
    a = interviewed(counsellor, client_)
    m = services.measure_add(
        actor=counsellor, assessment=a, kind="language_test", description="YKI"
    )
    services.measure_record_result(
        actor=counsellor, assessment=a, measure=m, done_on=dt.date(2026, 10, 30), result="A2.1"
    )
    with pytest.raises(ValidationFailed) as e:
        services.assessment_complete(
            actor=counsellor, assessment=a, plan_needed=True, completed_on=dt.date(2026, 10, 29)
        )
    assert list(e.value.fields) == ["completed_on"]
    assert formats.date_format(dt.date(2026, 10, 30), "SHORT_DATE_FORMAT") in str(e.value.fields)
    a = services.assessment_complete(
        actor=counsellor, assessment=a, plan_needed=True, completed_on=dt.date(2026, 10, 30)
    )
    assert a.completed_on == dt.date(2026, 10, 30)


def test_complete_api__stale_version__409_and_not_completed(web, counsellor, client_):
    # a colleague changed the interview after the page (or API client) read version 2
    a = interviewed(counsellor, client_)
    assert a.version == 2
    services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"goals": "Työ sähköalalla"}
    )
    http = web(counsellor)
    r = api(http, "post", f"/api/v1/assessments/{a.id}/complete",
            {"plan_needed": False, "version": 2})  # fmt: skip
    assert r.status_code == 409
    assert list(r.json()["fields"]) == ["version"]
    assert Assessment.objects.get(pk=a.pk).status == "started"
    r = api(http, "post", f"/api/v1/assessments/{a.id}/complete",
            {"plan_needed": True, "version": 3})  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "completed"


def test_complete_page__opened_before_the_interview_changed__conflict_not_completed(
    web, counsellor, client_
):
    a = interviewed(counsellor, client_)
    http = web(counsellor)
    page = http.get(f"/assessments/{a.id}/complete/").content.decode()
    assert 'name="version" value="2"' in page
    services.assessment_record_interview(actor=counsellor, assessment=a, data={"goals": "Opinnot"})
    r = http.post(
        f"/assessments/{a.id}/complete/",
        {"plan_needed": "false", "completed_on": "2026-11-02", "version": 2},
    )
    assert r.status_code == 200
    assert "Someone else changed this assessment" in r.content.decode()
    assert Assessment.objects.get(pk=a.pk).status == "started"


def test_complete_api__conclusion_too_long__422_naming_conclusion(web, counsellor, client_):
    a = interviewed(counsellor, client_)
    r = api(web(counsellor), "post", f"/api/v1/assessments/{a.id}/complete",
            {"plan_needed": True, "conclusion": "x" * 5001})  # fmt: skip
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["conclusion"]
    assert Assessment.objects.get(pk=a.pk).status == "started"


def test_read_api__completed__answers_the_conclusion(web, counsellor, client_):
    # the conclusion (the service needs found) was written through the API but never read
    a = interviewed(counsellor, client_)
    http = web(counsellor)
    done = api(http, "post", f"/api/v1/assessments/{a.id}/complete",
               {"plan_needed": True, "conclusion": "  Kotoutumiskoulutus, lukutaito.  "})  # fmt: skip
    assert done.status_code == 200
    assert done.json()["conclusion"] == "Kotoutumiskoulutus, lukutaito."
    read = http.get(f"/api/v1/assessments/{a.id}").json()
    assert read["conclusion"] == "Kotoutumiskoulutus, lukutaito."
    listed = http.get(f"/api/v1/clients/{client_.id}/assessments").json()
    assert [x["conclusion"] for x in listed] == ["Kotoutumiskoulutus, lukutaito."]


# --- further measures -----------------------------------------------------------------


def test_measure_add_api__description_too_long__422_naming_description(web, counsellor, client_):
    # reached the 300-character column: a 500 on PostgreSQL
    a = started(counsellor, client_)
    r = api(web(counsellor), "post", f"/api/v1/assessments/{a.id}/measures",
            {"kind": "work_tryout", "description": "x" * 301})  # fmt: skip
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["description"]
    assert not Measure.objects.exists()


def test_measure_add__planned_before_the_start__refused_naming_planned_on(counsellor, client_):
    a = started(counsellor, client_)
    with pytest.raises(ValidationFailed) as e:
        services.measure_add(actor=counsellor, assessment=a, kind="skills_test",
                             description="Näyttö", planned_on=dt.date(2026, 10, 19))  # fmt: skip
    assert list(e.value.fields) == ["planned_on"]
    assert not Measure.objects.exists()
    m = services.measure_add(actor=counsellor, assessment=a, kind="skills_test",
                             description="  Näyttö ", planned_on=STARTED)  # fmt: skip
    assert (m.description, m.planned_on) == ("Näyttö", STARTED)
    assert AuditEvent.objects.filter(object_type="assessment_measure", object_id=m.id).exists()


# --- the interview ----------------------------------------------------------------------


def test_interview_page__language_without_a_two_letter_code__kept_on_save(web, counsellor, client_):
    # Tigre ("tig") recorded through the API was missing from the page's list: the browser
    # sent the blank first choice and saving the page cleared the interview language
    a = started(counsellor, client_)
    a = services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"interview_on": STARTED, "interview_language": "tig"}
    )
    http = web(counsellor)
    page = http.get(f"/assessments/{a.id}/interview/").content.decode()
    assert '<option value="tig" selected>' in page
    form = {"kind": "basic", "interview_on": "2026-10-20", "interview_language": "tig",
            "literacy": "other_script", "education_level": "9", "version": a.version}  # fmt: skip
    r = http.post(f"/assessments/{a.id}/interview/", form)
    assert r.status_code == 302, r.context["form"].errors
    assert Assessment.objects.get(pk=a.pk).interview_language == "tig"


def test_interview_page__not_yet_recorded__offers_the_clients_language(web, counsellor):
    c = make_client(counsellor, first_permit_on=dt.date(2026, 1, 10), mother_tongue="so")
    c.access = "full"
    a = started(counsellor, c)
    page = web(counsellor).get(f"/assessments/{a.id}/interview/").content.decode()
    assert '<option value="so" selected>' in page


def test_record_interview__same_skills_again__no_new_version(counsellor, client_):
    # the page sends every skill with each save: the same set moved the version, and a
    # colleague's save of the page opened before it was refused as a conflict
    a = interviewed(counsellor, client_)
    again = services.assessment_record_interview(
        actor=counsellor, assessment=a, data={"skills": list(reversed(SKILLS))},
        expected_version=a.version,
    )  # fmt: skip
    assert again.version == a.version
    changed = services.assessment_record_interview(
        actor=counsellor, assessment=a,
        data={"skills": [{"language": "fi", "skill": "speaking", "level": "A1.3"}]},
        expected_version=a.version,
    )  # fmt: skip
    assert changed.version == a.version + 1
    assert list(changed.skills.values_list("level", flat=True)) == ["A1.3"]


# --- what the counsellor sees ----------------------------------------------------------


def test_detail_page__no_skill_yet__shown_in_words(web, counsellor, client_):
    a = interviewed(
        counsellor, client_, skills=[{"language": "sv", "skill": "writing", "level": "0"}]
    )
    page = web(counsellor).get(f"/assessments/{a.id}/").content.decode()
    assert "<td>No skill yet</td>" in page
    assert "<td>0</td>" not in page


def test_detail_page__welfare_needs_found_in_a_basic_assessment__warned(web, counsellor, client_):
    a = interviewed(counsellor, client_, welfare_needs_flag=True)
    assert (a.kind, a.law_proposed_multisectoral) == ("basic", False)
    page = web(counsellor).get(f"/assessments/{a.id}/").content.decode()
    assert "the welfare region should take part" in page


@pytest.mark.parametrize(
    ("record", "interview", "warned"),
    [
        ({"interpreter_needed": True, "interpreter_language": "ar"}, ("fi", False), "need an interpreter"),
        ({"interpreter_needed": True, "interpreter_language": "ar"}, ("ar", True), ""),
        ({"mother_tongue": "ar"}, ("ar", False), ""),
        ({"mother_tongue": "ar"}, ("en", False), "does not give them"),
        ({"mother_tongue": "ar", "other_languages": ["en"]}, ("en", False), ""),
    ],
)  # fmt: skip
def test_interpreting_warning__interview_language_and_the_clients(
    web, counsellor, record, interview, warned
):
    # section 2: the interview is held in the client's language or through an interpreter
    c = make_client(counsellor, first_permit_on=dt.date(2026, 1, 10), **record)
    c.access = "full"
    language, interpreter = interview
    a = interviewed(counsellor, c, interview_language=language, interpreter_used=interpreter)
    warning = services.interpreting_warning(a)
    if warned:
        assert warned in warning
        page = web(counsellor).get(f"/assessments/{a.id}/").content.decode()
        assert escape(warning) in page
    else:
        assert warning == ""


def test_law_entitlement_warning__before_the_first_permit__names_the_permit_day(counsellor):
    # 2 §: not covered before the permit; it read "in none of its target groups"
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    warning = services.law_entitlement_warning(c, dt.date(2026, 1, 9))
    assert formats.date_format(dt.date(2026, 1, 10), "SHORT_DATE_FORMAT") in warning
    assert "target groups" not in warning
    assert services.law_entitlement_warning(c, dt.date(2026, 1, 10)) == ""


# --- access ---------------------------------------------------------------------------


def test_writes__auditor_read_only__api_403_page_404_nothing_changed(web, org, counsellor, client_):
    a = interviewed(counsellor, client_)
    auditor = member(org, Role.AUDITOR, username="auditor")
    http = web(auditor)
    assert http.get(f"/api/v1/assessments/{a.id}").status_code == 200
    for method, url, body in [
        ("patch", f"/api/v1/assessments/{a.id}", {"goals": "x"}),
        ("post", f"/api/v1/assessments/{a.id}/measures", {"kind": "other", "description": "x"}),
        ("post", f"/api/v1/assessments/{a.id}/complete", {"plan_needed": True}),
        ("post", f"/api/v1/clients/{client_.id}/assessments", {"trigger": "intake"}),
    ]:
        assert api(http, method, url, body).status_code == 403, url
    for path in ("interview/", "complete/", "measures/new/"):
        assert http.get(f"/assessments/{a.id}/{path}").status_code == 404
    fresh = Assessment.objects.get(pk=a.pk)
    assert (fresh.version, fresh.status, fresh.goals) == (a.version, "started", "")
    assert not Measure.objects.exists()
