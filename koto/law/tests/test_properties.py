"""Properties that hold for every valid set of facts (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koto.law import Decision, Facts, evaluate, parse_facts
from koto.law.engine import evaluate_json
from koto.law.models import ResidenceBasis

FLAGS = (
    "unemployed_jobseeker",
    "social_assistance_long_term",
    "child_home_care_allowance",
    "arrived_as_unaccompanied_minor",
    "trafficking_victim",
    "other_need_identified",
    "welfare_service_needs",
)


@st.composite
def valid_facts(draw: st.DrawFn) -> Facts:
    birth = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2030, 12, 31)))
    on = draw(st.dates(min_value=birth, max_value=date(2035, 12, 31)))
    basis = draw(st.sampled_from(list(ResidenceBasis)))
    permit = None
    if basis is not ResidenceBasis.ASYLUM_SEEKER:
        permit = draw(st.dates(min_value=birth, max_value=date(2036, 12, 31)))
    home = draw(st.none() | st.dates(min_value=birth, max_value=date(2036, 12, 31)))
    flags = {flag: draw(st.booleans()) for flag in FLAGS}
    return Facts(
        on=on,
        birth_date=birth,
        residence_basis=basis,
        first_permit_on=permit,
        home_municipality_on=home,
        **flags,
    )


common = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(valid_facts())
def test_evaluate__never_crashes_on_valid_facts(facts: Facts) -> None:
    decision = evaluate(facts)
    assert isinstance(decision, Decision)
    assert decision.on == facts.on
    assert decision.reasons


@common
@given(valid_facts())
def test_evaluate__never_entitled_when_not_covered(facts: Facts) -> None:
    decision = evaluate(facts)
    if not decision.covered:
        assert decision.assessment.entitled is False
        assert decision.target_groups == []
        assert decision.assessment.window_ends_on is None


@common
@given(valid_facts())
def test_evaluate__no_authority_without_target_group(facts: Facts) -> None:
    decision = evaluate(facts)
    assert (decision.responsible_authority is None) == (decision.target_groups == [])
    if decision.assessment.entitled:
        assert decision.target_groups


@common
@given(valid_facts())
def test_evaluate__compensation_ends_after_it_starts(facts: Facts) -> None:
    c = evaluate(facts).compensation
    if c.eligible:
        assert c.starts_on is not None and c.ends_on is not None
        assert c.ends_on > c.starts_on
        year = c.starts_on.year + c.period_years
        try:
            limit = c.starts_on.replace(year=year)
        except ValueError:  # from 29 February to a year without one: 1 March at the latest
            limit = date(year, 3, 1)
        assert c.ends_on < limit + timedelta(days=1)
        assert c.age_band in ("under_7", "7_or_over")
    else:
        assert c.starts_on is None and c.ends_on is None and c.period_years is None


@common
@given(valid_facts())
def test_evaluate__json_round_trip(facts: Facts) -> None:
    decision = evaluate(facts)
    text = decision.model_dump_json()
    assert Decision.model_validate_json(text) == decision
    # the facts survive JSON too
    assert parse_facts(facts.model_dump_json()) == facts


@common
@given(valid_facts())
def test_evaluate_json__fast_path_equals_model_dump(facts: Facts) -> None:
    assert evaluate_json(facts) == evaluate(facts).model_dump_json().encode()


@common
@given(valid_facts())
def test_evaluate__assumptions_are_assumed_parameters(facts: Facts) -> None:
    from koto.law.params import registry

    decision = evaluate(facts)
    reg = registry()
    for key in decision.assumptions:
        assert any(
            key in p.params and p.params[key].confidence == "assumed" for p in reg.periods
        ), key
    for period_id in decision.parameters_used.values():
        assert period_id in reg.by_id
