"""Bad facts are refused with the offending field named."""

from __future__ import annotations

from datetime import date

import pytest

from koto.law import Facts, FactsError, evaluate, parse_facts

VALID = {
    "on": "2025-06-01",
    "birth_date": "1990-01-01",
    "residence_basis": "asylum",
    "first_permit_on": "2024-01-15",
}


def with_(**changes: object) -> dict[str, object]:
    data = dict(VALID)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(with_(residence_basis="refugee"), "residence_basis", id="unknown_basis"),
        pytest.param(with_(on=...), "on", id="missing_on"),
        pytest.param(with_(birth_date=...), "birth_date", id="missing_birth_date"),
        pytest.param(with_(residence_basis=...), "residence_basis", id="missing_basis"),
        pytest.param(with_(first_permit_on=...), "first_permit_on", id="missing_permit_date"),
        pytest.param(with_(birth_date="1990-02-30"), "birth_date", id="impossible_date"),
        pytest.param(with_(on="1.6.2025"), "on", id="finnish_date_format"),
        pytest.param(with_(on=20250601), "on", id="number_as_date"),
        pytest.param(with_(first_permit_on="1989-12-31"), "first_permit_on", id="permit_pre_birth"),
        pytest.param(
            with_(home_municipality_on="1989-12-31"), "home_municipality_on", id="home_pre_birth"
        ),
        pytest.param(
            with_(on="1989-12-31", residence_basis="asylum_seeker", first_permit_on=...),
            "on",
            id="on_before_birth",
        ),
        pytest.param(
            with_(residence_basis="asylum_seeker"), "first_permit_on", id="asylum_seeker_permit"
        ),
        pytest.param(
            with_(home_municipality_on="9999-12-31"),
            "home_municipality_on",
            id="home_past_the_calendar",
        ),  # fmt: skip
        pytest.param(with_(on="2201-01-01"), "on", id="on_after_2200"),
        pytest.param(
            with_(first_permit_on="2201-01-01"), "first_permit_on", id="permit_after_2200"
        ),
        pytest.param(with_(unemployed_jobseeker="yes"), "unemployed_jobseeker", id="bool_str"),
        pytest.param(with_(trafficking_victim=1), "trafficking_victim", id="bool_int"),
        pytest.param(with_(unemployed_jobseker=True), "unemployed_jobseker", id="typo_field"),
    ],
)
def test_parse_facts__bad_field_named(data: dict[str, object], field: str) -> None:
    with pytest.raises(FactsError) as info:
        parse_facts(data)
    assert info.value.field == field
    assert field in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n", id="blank"),
        pytest.param("{not json", id="invalid_json"),
        pytest.param("[1, 2]", id="array"),
        pytest.param('"text"', id="string"),
        pytest.param(b"\xff\xfe", id="not_utf8"),
    ],
)
def test_parse_facts__bad_document(raw: str | bytes) -> None:
    with pytest.raises(FactsError) as info:
        parse_facts(raw)
    assert info.value.field is None
    assert info.value.message


def test_parse_facts__accepts_json_text_and_date_objects() -> None:
    from_text = parse_facts(
        '{"on": "2025-06-01", "birth_date": "1990-01-01", "residence_basis": "asylum", '
        '"first_permit_on": "2024-01-15"}'
    )
    from_dict = parse_facts(with_(on=date(2025, 6, 1)))
    assert from_text == from_dict
    assert from_text.unemployed_jobseeker is False


def test_evaluate__checks_date_order_of_facts_built_in_python() -> None:
    facts = Facts(
        on=date(2025, 1, 1),
        birth_date=date(2000, 1, 1),
        residence_basis="work",
        first_permit_on=date(1999, 1, 1),
    )
    with pytest.raises(FactsError) as info:
        evaluate(facts)
    assert info.value.field == "first_permit_on"


def test_evaluate__refuses_a_dict() -> None:
    with pytest.raises(TypeError):
        evaluate(VALID)  # type: ignore[arg-type]


def test_parse_facts__all_problems_listed() -> None:
    with pytest.raises(FactsError) as info:
        parse_facts({"residence_basis": "x"})
    fields = {e["field"] for e in info.value.errors}
    assert {"on", "birth_date", "residence_basis"} <= fields


def test_evaluate__the_last_fact_date_still_evaluates() -> None:
    assert evaluate(parse_facts(with_(on="2200-12-31", home_municipality_on="2200-12-31")))
