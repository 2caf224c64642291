"""koto.law through the API, the command line and the client page: one answer everywhere."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_client

ROOT = Path(__file__).resolve().parent.parent
FACTS = {
    "on": "2026-03-01",
    "birth_date": "2020-05-05",
    "residence_basis": "quota_refugee",
    "first_permit_on": "2025-02-01",
    "home_municipality_on": "2025-02-10",
    "welfare_service_needs": True,
}


def test_law_evaluate__api_and_cli_agree(web, counsellor):
    api = web(counsellor).post("/api/v1/law/evaluate", FACTS, content_type="application/json")
    cli = subprocess.run(
        [sys.executable, "-m", "koto.law", "evaluate"],
        input=json.dumps(FACTS),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert api.status_code == 200
    assert cli.returncode == 0
    assert api.json() == json.loads(cli.stdout)
    assert api.json()["compensation"]["period_years"] == 3
    assert api.json()["compensation"]["age_band"] == "under_7"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"residence_basis": "tourist"}, "residence_basis"),
        ({"on": None}, "on"),
        ({"first_permit_on": "2019-01-01"}, "first_permit_on"),
        ({"birth_date": "05.05.2020"}, "birth_date"),
        # 1386/2010 was not in force before 1.9.2011: a clear error, not a decision (nor a 500)
        ({"on": "2010-06-01", "birth_date": "2000-01-01"}, "on"),
    ],
)
def test_law_evaluate__bad_input__422_names_field(web, counsellor, change, field):
    facts = {**FACTS, **change}
    response = web(counsellor).post("/api/v1/law/evaluate", facts, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_facts"
    assert field in response.json()["fields"]


def test_law_evaluate__after_the_last_period__422_no_rules_after(web, counsellor):
    # loading refuses a valid_to on the last period; a registry built by code may have one
    import dataclasses

    from koto.law import params

    shipped = params.registry().periods
    closed = dataclasses.replace(shipped[-1], valid_to=dt.date(2026, 12, 31))
    key = os.environ.get(params.ENV_VAR) or None  # as params.registry() looks it up
    params._cache[key] = params.Registry([*shipped[:-1], closed])
    try:
        response = web(counsellor).post(
            "/api/v1/law/evaluate", {**FACTS, "on": "2027-01-01"}, content_type="application/json"
        )
    finally:
        params.clear_cache()
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_facts"
    assert "no rules after 2026-12-31" in response.json()["fields"]["on"][0]


def test_client_law__before_the_first_period__422_names_on(web, counsellor):
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2025, 2, 1))
    response = web(counsellor).get(f"/api/v1/clients/{c.id}/law?on=2010-06-01")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["on"]


def test_law_evaluate__anonymous__401(client):
    assert (
        client.post("/api/v1/law/evaluate", FACTS, content_type="application/json").status_code
        == 401
    )


def test_client_law__built_from_recorded_facts(web, counsellor):
    c = make_client(
        counsellor,
        residence_basis="quota_refugee",
        first_permit_on=dt.date(2025, 2, 1),
        home_municipality_on=dt.date(2025, 2, 10),
        unemployed_jobseeker=True,
    )
    response = web(counsellor).get(f"/api/v1/clients/{c.id}/law")
    assert response.status_code == 200
    decision = response.json()
    assert decision["responsible_authority"] == "employment_authority"
    assert "unemployed_jobseeker" in decision["target_groups"]
    assert decision["compensation"]["starts_on"] == "2025-02-10"
    assert decision["compensation"]["ends_on"] == "2028-02-09"


def test_client_law__no_residence_basis__422_names_field(web, counsellor):
    c = make_client(counsellor, residence_basis="")
    response = web(counsellor).get(f"/api/v1/clients/{c.id}/law")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["residence_basis"]


@pytest.mark.parametrize(
    ("lang", "heading", "reason_fragment"),
    [
        ("fi", "Mitä laki sanoo tänään", "kotoutumislain soveltamisalaan"),
        ("sv", "Vad lagen säger i dag", "omfattas av integrationslagen"),
        ("en", "What the law says today", "Integration Act"),
    ],
)
def test_client_page__law_panel_in_three_languages(web, counsellor, lang, heading, reason_fragment):
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2025, 3, 1))
    http = web(counsellor)
    http.cookies["django_language"] = lang
    html = http.get(f"/clients/{c.id}/").content.decode()
    assert heading in html
    assert reason_fragment in html
    assert "681/2023 2 §" in html


def test_client_law__past_date__uses_dated_fact_history(web, counsellor):
    c = make_client(
        counsellor,
        residence_basis="asylum",
        first_permit_on=dt.date(2025, 2, 1),
        unemployed_jobseeker=True,
    )
    before = web(counsellor).get(f"/api/v1/clients/{c.id}/law?on=2025-06-01").json()
    assert before["responsible_authority"] == "municipality"
    assert "unemployed_jobseeker" not in before["target_groups"]
