"""The Koto-AJ export: which records, in which shape, logged how."""

import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from koto.assessments import services as assessment_services
from koto.assessments.models import Assessment
from koto.audit.models import AuditEvent
from koto.clients.synthetic import hetu_for
from koto.core import clock
from koto.plans import kotoaj
from koto.plans import services as plan_services
from koto.plans.management.commands.export_kotoaj import Command
from koto.plans.models import IntegrationPlan
from tests.factories import make_client

TODAY = dt.date(2026, 11, 2)
EARLIER = dt.date(2026, 5, 4)
WELFARE_DETAIL = "Traumaterapia jonossa, diabetes"


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def new_client(actor, **overrides):
    c = make_client(actor, first_permit_on=dt.date(2026, 1, 10), **overrides)
    c.access = "full"
    return c


def casework(actor, client, *, on, kind=None, welfare_actor=None):
    """An assessment and an integration plan in force, built through the services."""
    a = assessment_services.assessment_start(
        actor=actor, client=client, trigger="client_request", started_on=on, kind=kind
    )
    a = assessment_services.assessment_record_interview(
        actor=welfare_actor or actor,
        assessment=a,
        data={
            "interview_on": on,
            "interview_language": "ar",
            "interpreter_used": True,
            "literacy": "other_script",
            "education_level": "3",
            "education_field": "Sähköala",
            "education_years": 12,
            "education_country": "SY",
            "recognition_needed": True,
            "occupation": "Sähköasentaja",
            "work_years": 6,
            "welfare_needs_flag": welfare_actor is not None,
            "welfare_needs_details": WELFARE_DETAIL if welfare_actor else "",
            "skills": [
                {"language": "fi", "skill": "speaking", "level": "A1.2"},
                {"language": "fi", "skill": "reading", "level": "A1.3"},
            ],
        },
    )
    a = assessment_services.assessment_complete(
        actor=actor, assessment=a, plan_needed=True, completed_on=on
    )
    plan = plan_services.plan_create(
        actor=actor,
        client=client,
        assessment=a,
        starts_on=on,
        ends_on=dt.date(on.year + 1, on.month, on.day) - dt.timedelta(days=1),
    )
    goal = plan_services.goal_add(
        actor=actor, plan=plan, area="language", description="Suomen kieli B1.1"
    )
    action = plan_services.action_add(
        actor=actor,
        goal=goal,
        what="Kotoutumiskoulutus",
        responsible="client",
        service_name="Integration training",
    )
    plan = plan_services.plan_activate(actor=actor, plan=plan, agreed_on=on)
    return a, plan, action


@pytest.fixture
def world(counsellor, social_worker, outsider):
    """In May: an old case, and a case whose plan action is marked done in November.
    In November: a resident's multi-sectoral case with welfare details, a jobseeker's case,
    and a case of another organisation's client."""
    with clock.frozen(EARLIER):
        old = new_client(counsellor)
        casework(counsellor, old, on=EARLIER)
        touched = new_client(counsellor)
        _, touched_plan, touched_action = casework(counsellor, touched, on=EARLIER)
    plan_services.action_mark_done(actor=counsellor, action=touched_action, done_on=TODAY)
    resident = new_client(counsellor)
    resident_a, resident_p, _ = casework(
        counsellor, resident, on=TODAY, kind="multisectoral", welfare_actor=social_worker
    )
    jobseeker = new_client(counsellor, unemployed_jobseeker=True)
    casework(counsellor, jobseeker, on=TODAY)
    elsewhere = new_client(outsider)
    casework(outsider, elsewhere, on=TODAY)
    return {
        "old": old,
        "touched": touched,
        "touched_plan": touched_plan,
        "resident": resident,
        "resident_assessment": resident_a,
        "resident_plan": resident_p,
        "jobseeker": jobseeker,
        "elsewhere": elsewhere,
    }


def export(out, *, organisation="398", since="2026-11-01"):
    call_command(
        "export_kotoaj",
        "--organisation",
        organisation,
        "--since",
        since,
        "--out",
        str(out),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return out


def records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def manifest_of(out):
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def coded_values(node):
    if isinstance(node, dict):
        if "codeset" in node:
            yield node
        for value in node.values():
            yield from coded_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from coded_values(value)


def test_export_kotoaj__writes_two_jsonl_files_and_a_manifest(world, tmp_path):
    out = export(tmp_path / "out")

    assert sorted(p.name for p in out.iterdir()) == [
        "assessments.jsonl",
        "manifest.json",
        "plans.jsonl",
    ]
    assert len((out / "assessments.jsonl").read_text(encoding="utf-8").splitlines()) == 1
    assert len((out / "plans.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert (out / "plans.jsonl").stat().st_mode & 0o777 == 0o600
    manifest = manifest_of(out)
    assert manifest["format"] == {"name": "koto-kotoaj-export", "version": 2}
    assert manifest["organisation"] == {
        "code": "398",
        "name_fi": "Lahti",
        "municipality_code": "398",
    }
    assert manifest["since"] == "2026-11-01"
    assert manifest["generated_at"] == "2026-11-02T12:00:00+02:00"
    assert manifest["files"]["assessments.jsonl"]["records"] == 1
    assert manifest["files"]["plans.jsonl"]["records"] == 2
    assert manifest["skipped_jobseekers"]["assessments"] == 1
    assert manifest["skipped_jobseekers"]["plans"] == 1
    assert manifest["skipped_jobseekers"]["clients"] == 1


def test_export_kotoaj__jobseeker_and_other_organisation_absent(world, tmp_path):
    out = export(tmp_path / "out")

    assessments = records(out / "assessments.jsonl")
    plans = records(out / "plans.jsonl")
    assert [r["client"]["id"] for r in assessments] == [world["resident"].id]
    assert sorted(r["client"]["id"] for r in plans) == sorted(
        [world["resident"].id, world["touched"].id]
    )
    text = (out / "assessments.jsonl").read_text(encoding="utf-8") + (
        out / "plans.jsonl"
    ).read_text(encoding="utf-8")
    for absent in ("jobseeker", "elsewhere"):
        assert world[absent].hetu not in text
        assert world[absent].last_name not in text


def test_export_kotoaj__client_identified_with_hetu_name_and_birth_date(world, tmp_path):
    out = export(tmp_path / "out")

    client = records(out / "assessments.jsonl")[0]["client"]
    resident = world["resident"]
    assert client["id"] == resident.id
    assert client["hetu"] == resident.hetu
    assert client["first_name"] == resident.first_name
    assert client["last_name"] == resident.last_name
    assert client["birth_date"] == resident.birth_date.isoformat()


def test_export_kotoaj__welfare_details_never_exported(world, tmp_path):
    stored = Assessment.objects.get(pk=world["resident_assessment"].pk)
    assert stored.welfare_needs_details == WELFARE_DETAIL

    out = export(tmp_path / "out")

    for path in out.iterdir():
        assert WELFARE_DETAIL not in path.read_text(encoding="utf-8")
    assessment = records(out / "assessments.jsonl")[0]
    assert "welfare_needs_details" not in assessment
    assert assessment["welfare_needs_flag"] is True


def test_export_kotoaj__coded_values_have_codeset_code_and_finnish_label(world, tmp_path):
    out = export(tmp_path / "out")

    assessment = records(out / "assessments.jsonl")[0]
    plan = next(r for r in records(out / "plans.jsonl") if r["id"] == world["resident_plan"].id)
    assert assessment["kind"] == {
        "codeset": "koto.assessment_kind",
        "code": "multisectoral",
        "label_fi": "Monialainen",
    }
    assert assessment["interview_language"] == {
        "codeset": "iso639-1",
        "code": "ar",
        "label_fi": "arabia",
    }
    assert assessment["education_country"] == {
        "codeset": "iso3166-1",
        "code": "SY",
        "label_fi": "Syyrian arabitasavalta",
    }
    assert assessment["education_level"]["codeset"] == "stat.education_level_2016"
    assert assessment["education_level"]["code"] == "3"
    speaking = next(s for s in assessment["language_skills"] if s["skill"]["code"] == "speaking")
    assert speaking["level"] == {
        "codeset": "oph.language_proficiency",
        "code": "A1.2",
        "label_fi": "A1.2",
    }
    assert speaking["cefr"] == {"codeset": "cefr", "code": "A1", "label_fi": "A1"}
    assert plan["plan_type"] == {
        "codeset": "ura.plan_type",
        "code": "04",
        "label_fi": "Kotoutumissuunnitelma",
    }
    goal = plan["goals"][0]
    assert goal["theme"] == {
        "codeset": "koto.monitoring_theme",
        "code": "education",
        "label_fi": "Koulutus",
    }
    action = goal["actions"][0]
    assert action["ura_task"]["code"] == "036"
    assert action["ura_task_rule"] == "integration_training"
    listed = {c["codeset"] for c in manifest_of(out)["code_lists"]}
    for value in coded_values([assessment, plan]):
        assert set(value) == {"codeset", "code", "label_fi"}
        assert value["codeset"] in listed


def test_export_kotoaj__manifest_sha256_matches_the_files(world, tmp_path):
    out = export(tmp_path / "out")

    manifest = manifest_of(out)
    for name in ("assessments.jsonl", "plans.jsonl"):
        data = (out / name).read_bytes()
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["files"][name]["bytes"] == len(data)


def test_export_kotoaj__since_filters_by_creation_or_update(world, tmp_path):
    since_may = export(tmp_path / "may", since="2026-05-01")
    since_november = export(tmp_path / "november", since="2026-11-01")

    may_clients = {r["client"]["id"] for r in records(since_may / "assessments.jsonl")}
    assert may_clients == {world["old"].id, world["touched"].id, world["resident"].id}
    assert len(records(since_may / "plans.jsonl")) == 3
    november_clients = {r["client"]["id"] for r in records(since_november / "assessments.jsonl")}
    assert november_clients == {world["resident"].id}


def test_export_kotoaj__plan_whose_action_changed_after_since__exported(world, tmp_path):
    out = export(tmp_path / "out", since="2026-11-01")

    plan = next(r for r in records(out / "plans.jsonl") if r["client"]["id"] == world["touched"].id)
    assert plan["id"] == world["touched_plan"].id
    assert plan["goals"][0]["actions"][0]["done_on"] == "2026-11-02"


def test_export_kotoaj__every_record_and_the_export_audited(world, tmp_path):
    out = export(tmp_path / "out")

    manifest = manifest_of(out)
    events = AuditEvent.objects.filter(action="export", object_type="kotoaj_export")
    per_record = events.exclude(object_id=manifest["export_id"])
    assert sorted(per_record.values_list("object_id", flat=True)) == sorted(
        [
            f"assessment:{world['resident_assessment'].id}",
            f"integration_plan:{world['resident_plan'].id}",
            f"integration_plan:{world['touched_plan'].id}",
        ]
    )
    assert set(per_record.values_list("client_id", flat=True)) == {
        world["resident"].id,
        world["touched"].id,
    }
    assert set(per_record.values_list("channel", flat=True)) == {"cli"}
    summary = events.get(object_id=manifest["export_id"])
    assert summary.client_id is None
    assert summary.changes["status"] == "done"
    assert summary.changes["files"] == manifest["files"]
    assert summary.changes["skipped_jobseekers"] == manifest["skipped_jobseekers"]


def test_export_kotoaj__queries_do_not_grow_with_records(world, counsellor, tmp_path):
    with CaptureQueriesContext(connection) as few:
        export(tmp_path / "few")
    for _ in range(3):
        casework(counsellor, new_client(counsellor), on=TODAY)

    with CaptureQueriesContext(connection) as more:
        out = export(tmp_path / "more")

    assert manifest_of(out)["files"]["plans.jsonl"]["records"] == 5
    assert len(more.captured_queries) == len(few.captured_queries)


def test_export_kotoaj__nothing_to_export__empty_files_and_a_summary(org, tmp_path):
    out = export(tmp_path / "out")

    assert (out / "assessments.jsonl").read_bytes() == b""
    assert manifest_of(out)["files"]["plans.jsonl"]["records"] == 0
    assert AuditEvent.objects.filter(action="export", object_type="kotoaj_export").count() == 1


def test_export_kotoaj__default_out_dir_under_var_exports(org, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    call_command(
        "export_kotoaj",
        "--organisation",
        "398",
        "--since",
        "2026-11-01",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert (tmp_path / "var" / "exports" / "kotoaj-398-20261102T120000" / "manifest.json").exists()


@pytest.mark.parametrize(
    ("organisation", "since", "option"),
    [
        ("999999", "2026-11-01", "--organisation"),
        ("398", "1.11.2026", "--since"),
        ("398", "2026-02-30", "--since"),
        ("398", "2026-11-03", "--since"),
    ],
)
def test_export_kotoaj__bad_option__command_error_naming_it(
    org, tmp_path, organisation, since, option
):
    with pytest.raises(CommandError) as e:
        export(tmp_path / "out", organisation=organisation, since=since)

    assert str(e.value).startswith(f"{option}:")
    assert not (tmp_path / "out").exists()
    assert AuditEvent.objects.filter(action="export").count() == 0


def test_export_kotoaj__out_dir_holds_an_export__refused_naming_out(org, tmp_path):
    export(tmp_path / "out")

    with pytest.raises(CommandError) as e:
        export(tmp_path / "out")
    assert str(e.value).startswith("--out:")


def test_export_kotoaj__from_the_shell__exit_status_1_without_traceback(org, capsys, monkeypatch):
    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test's connection

    with pytest.raises(SystemExit) as e:
        Command().run_from_argv(
            ["manage.py", "export_kotoaj", "--organisation", "nope", "--since", "2026-11-01"]
        )

    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("CommandError: --organisation: no organisation with code 'nope'")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("what", "service_name", "responsible", "kind", "expected"),
    [
        ("Kotoutumiskoulutus", "", "client", None, ("integration_training", "036")),
        ("Omaehtoinen opiskelu", "Kotoutumiskoulutus", "client", None,
         ("integration_equivalent_training", "025")),
        ("Kotoutumiskoulutusta vastaava koulutus", "", "client", None,
         ("integration_equivalent_training", "025")),
        ("Hakeutuu kotoutumiskoulutusta vastaavaan koulutukseen", "", "client", None,
         ("integration_equivalent_training", "025")),
        ("Hakeutuu kotoutumiskoulutukseen (omaehtoinen opiskelu)", "", "client", None,
         ("applies_to_integration_training", "036")),
        ("Omaehtoinen työnhaku", "", "client", None, ("own_activity", "076")),
        ("Terveystarkastus", "", "other_organisation", "welfare_region", ("health_check", "034")),
        ("Osallistuu palvelutarpeen arviointiin", "", "client", None, ("assessment", "035")),
        ("Sosiaalityön palvelut", "", "other_organisation", "welfare_region",
         ("other_authority", "030")),
        ("Kerhotoiminta", "", "other_organisation", "ngo", None),  # an NGO is no authority
        ("Kirjaston kerho", "", "client", None, ("own_activity", "076")),
        ("Varaa tulkin", "", "counsellor", None, None),
    ],
)  # fmt: skip
def test_ura_task_for__our_reading_table(what, service_name, responsible, kind, expected):
    assert (
        kotoaj.ura_task_for(
            what=what, service_name=service_name, responsible=responsible, responsible_kind=kind
        )
        == expected
    )


def test_export_kotoaj__placed_by_the_jobseeker_status_when_the_record_began(counsellor, tmp_path):
    """A plan begun in May as a non-jobseeker, the client a jobseeker since October: the
    plan's end in November goes to Koto-AJ. A plan begun in May as a jobseeker, the flag
    cleared in October: still the employment authority's record."""
    from koto.clients import services as client_services

    with clock.frozen(EARLIER):
        became = new_client(counsellor)
        _a, became_plan, _x = casework(counsellor, became, on=EARLIER)
        stopped = new_client(counsellor, unemployed_jobseeker=True)
        casework(counsellor, stopped, on=EARLIER)
    october = dt.date(2026, 10, 1)
    with clock.frozen(october):
        client_services.client_update(actor=counsellor, client=became,
                                      data={"unemployed_jobseeker": True}, facts_valid_from=october)  # fmt: skip
        client_services.client_update(actor=counsellor, client=stopped,
                                      data={"unemployed_jobseeker": False}, facts_valid_from=october)  # fmt: skip
    became_plan = IntegrationPlan.objects.get(id=became_plan.id)
    became_plan.client = became  # as read by the counsellor: with their access
    plan_services.plan_end(
        actor=counsellor, plan=became_plan,
        ended_on=TODAY, outcome="employment_plan", handover_summary="Työnhakijaksi lokakuussa",
    )  # fmt: skip
    out = export(tmp_path / "x", since="2026-09-30")  # both clients changed since
    plans = {r["client"]["id"]: r for r in records(out / "plans.jsonl")}
    assert plans[became.id]["outcome"]["code"] == "employment_plan"
    assert stopped.id not in plans
    assert manifest_of(out)["skipped_jobseekers"]["plans"] == 1


def test_export_kotoaj__a_client_given_an_identity_code_later__records_written_again(
    counsellor, tmp_path
):
    from koto.clients import services as client_services

    with clock.frozen(EARLIER):
        c = new_client(counsellor, hetu=None)
        casework(counsellor, c, on=EARLIER)
    hetu = hetu_for(c.birth_date, 123)
    client_services.client_update(actor=counsellor, client=c, data={"hetu": hetu})
    out = export(tmp_path / "x")
    [plan] = records(out / "plans.jsonl")
    [assessment] = records(out / "assessments.jsonl")
    assert plan["client"]["hetu"] == assessment["client"]["hetu"] == hetu


def test_export_kotoaj__not_a_municipality__refused_naming_the_organisation(db, tmp_path, capsys):
    from tests.factories import OrganisationFactory

    OrganisationFactory(code="te-lahti", kind="employment_authority", name_fi="TE Lahti")
    with pytest.raises(CommandError) as e:
        export(tmp_path / "x", organisation="te-lahti")
    assert str(e.value).startswith("--organisation: te-lahti is not a municipality")
    assert not (tmp_path / "x").exists()


def test_export_kotoaj__line_separators_in_text__one_record_per_line(counsellor, tmp_path):
    c = new_client(counsellor)
    _a, plan, _x = casework(counsellor, c, on=TODAY)
    plan = IntegrationPlan.objects.get(id=plan.id)
    plan.client = c
    plan_services.goal_add(
        actor=counsellor, plan=plan,
        area="work", description="Rivi 1\u2028Rivi 2\u2029Rivi 3\u0085Rivi 4",
    )  # fmt: skip
    out = export(tmp_path / "x")
    text = (out / "plans.jsonl").read_text(encoding="utf-8")
    assert len(text.splitlines()) == 1
    [record] = [json.loads(line) for line in text.splitlines()]
    assert any(
        g["description"] == "Rivi 1\u2028Rivi 2\u2029Rivi 3\u0085Rivi 4" for g in record["goals"]
    )


def test_export_kotoaj__below_the_scale__no_level_code_but_a_flag(counsellor, tmp_path):
    c = new_client(counsellor)
    a, _plan, _x = casework(counsellor, c, on=TODAY)
    a.skills.filter(skill="reading").update(level="0")
    out = export(tmp_path / "x")
    [record] = [r for r in records(out / "assessments.jsonl") if r["id"] == a.id]
    reading = next(s for s in record["language_skills"] if s["skill"]["code"] == "reading")
    assert (reading["level"], reading["below_scale"], reading["cefr"]) == (None, True, None)
    speaking = next(s for s in record["language_skills"] if s["skill"]["code"] == "speaking")
    assert speaking["level"]["code"] == "A1.2" and speaking["below_scale"] is False


def test_export_kotoaj__out_dir_not_writable__refused_naming_out(org, tmp_path, monkeypatch):
    monkeypatch.setattr(kotoaj.os, "access", lambda path, mode: False)
    with pytest.raises(CommandError) as e:
        export(tmp_path / "locked")
    assert str(e.value).startswith("--out: cannot write in")


def test_export_kotoaj__plan_begun_before_the_client_was_entered_as_a_jobseeker__skipped(
    counsellor, tmp_path
):
    """Entered on 2 November as an unemployed jobseeker (facts dated that day), the plan
    begun on 30 October: no history covers its day, so the first recorded value decides
    (a jobseeker's record must not leave by default)."""
    c = new_client(counsellor, unemployed_jobseeker=True)
    casework(counsellor, c, on=dt.date(2026, 10, 30))
    out = export(tmp_path / "x")
    assert not [r for r in records(out / "plans.jsonl") if r["client"]["id"] == c.id]
    assert manifest_of(out)["skipped_jobseekers"]["plans"] >= 1


def test_export_kotoaj__municipality_list_version_is_the_exports_year(org, tmp_path):
    out = export(tmp_path / "x")
    [entry] = [c for c in manifest_of(out)["code_lists"] if c["codeset"] == "stat.municipality"]
    assert entry["version"] == str(TODAY.year)
