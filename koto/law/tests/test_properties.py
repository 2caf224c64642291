"""Properties that hold for every valid set of facts (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koto.law import Decision, Facts, FactsError, evaluate, parse_facts
from koto.law.engine import evaluate_json
from koto.law.models import ResidenceBasis

FIRST_PERIOD = date(2011, 9, 1)

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
    # the date asked for lies in a parameter period (from 1.9.2011); facts may be earlier
    on = draw(st.dates(min_value=max(birth, FIRST_PERIOD), max_value=date(2035, 12, 31)))
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


@common
@given(
    st.dates(min_value=date(1920, 1, 1), max_value=FIRST_PERIOD - timedelta(days=1)),
    st.sampled_from(list(ResidenceBasis)),
)
def test_evaluate__on_before_the_first_period_is_a_facts_error(on: date, basis) -> None:
    permit = None if basis is ResidenceBasis.ASYLUM_SEEKER else on
    facts = Facts(on=on, birth_date=date(1900, 1, 1), residence_basis=basis, first_permit_on=permit)
    for decide in (evaluate, evaluate_json):
        try:
            decide(facts)
        except FactsError as exc:
            assert exc.field == "on"
            assert "2011-09-01" in exc.message
        else:  # pragma: no cover
            raise AssertionError("no error")


@common
@given(valid_facts())
def test_evaluate__adulthood_support_never_ends_before_the_age_rule_in_force(
    facts: Facts,
) -> None:
    """The support ends the day before the person reaches the end age of the rules in force
    that day, or the day before a lower age took effect; it never depends on `on`."""
    from koto.law.engine import age_on
    from koto.law.params import registry

    minor = facts.model_copy(update={"arrived_as_unaccompanied_minor": True})
    ends_on = evaluate(minor).unaccompanied_minor_support_ends_on
    assert ends_on is not None
    reg = registry()
    first_day_without = ends_on + timedelta(days=1)
    period, _clamped = reg.period_on_or_earliest(first_day_without)
    end_age = period.values["adulthood_support_end_age"]
    assert age_on(facts.birth_date, first_day_without) >= end_age
    # the last day of support: under the end age of the rules in force on it
    last, _ = reg.period_on_or_earliest(ends_on)
    assert age_on(facts.birth_date, ends_on) < last.values["adulthood_support_end_age"]
    other_day = minor.model_copy(update={"on": max(FIRST_PERIOD, facts.birth_date)})
    assert evaluate(other_day).unaccompanied_minor_support_ends_on == ends_on
