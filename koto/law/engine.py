"""The rules of the Integration Act for one person on one date: ``evaluate(facts)``.

Pure: no clock, no database, no I/O (the parameter files are read once, on first use).
The contract is section 9 of shared/domain/integration-act.md; docs/law.md explains it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from koto.law.models import (
    PROTECTION_BASES,
    Assessment,
    Authority,
    Compensation,
    Decision,
    Facts,
    FactsError,
    Plan,
    ResidenceBasis,
    TargetGroup,
)
from koto.law.params import NoPeriodInForce, Period, Registry, registry
from koto.law.reasons import LABELS, CachedReason, age_band_label, build

ONE_DAY = timedelta(days=1)
HOME = "home_municipality_on"
TP = ResidenceBasis.TEMPORARY_PROTECTION
ASYLUM_SEEKER = ResidenceBasis.ASYLUM_SEEKER

# (facts flag, target group, reason code) for the groups that follow one boolean.
_FLAG_GROUPS: tuple[tuple[str, TargetGroup, str], ...] = (
    ("unemployed_jobseeker", TargetGroup.UNEMPLOYED_JOBSEEKER, "TARGET_GROUP_UNEMPLOYED_JOBSEEKER"),
    (
        "social_assistance_long_term",
        TargetGroup.SOCIAL_ASSISTANCE,
        "TARGET_GROUP_SOCIAL_ASSISTANCE",
    ),
    (
        "child_home_care_allowance",
        TargetGroup.CHILD_HOME_CARE_ALLOWANCE,
        "TARGET_GROUP_CHILD_HOME_CARE_ALLOWANCE",
    ),
)


# --------------------------------------------------------------------------- dates


def anniversary(d: date, years: int) -> date:
    """The same day ``years`` later; 29 February falls back to 28 February."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def age_on(birth_date: date, on: date) -> int:
    """Completed years on ``on``; the birthday itself counts (29 Feb -> 28 Feb)."""
    years = on.year - birth_date.year
    if anniversary(birth_date, years) > on:
        years -= 1
    return years


# --------------------------------------------------------------------------- input


# The latest date a fact may carry: the rules count periods of years on from each date,
# which must stay within the calendar (year 9999).
LAST_FACT_DATE = date(2200, 12, 31)


def check_facts(facts: Facts) -> None:
    """Cross-field checks that the model alone cannot express; raises ``FactsError``."""
    basis = facts.residence_basis
    birth = facts.birth_date
    for name in ("on", "birth_date", "first_permit_on", "home_municipality_on"):
        day = getattr(facts, name)
        if day is not None and day > LAST_FACT_DATE:  # the rules add years to these dates
            raise FactsError(name, f"is after {LAST_FACT_DATE.isoformat()}")
    if facts.first_permit_on is None:
        if basis is not ASYLUM_SEEKER:
            raise FactsError("first_permit_on", f"is required for residence_basis {basis.value!r}")
    else:
        if basis is ASYLUM_SEEKER:
            raise FactsError(
                "first_permit_on",
                "must be null for an asylum seeker; record the basis of the permit instead",
            )
        if facts.first_permit_on < birth:
            raise FactsError("first_permit_on", "is before birth_date")
    if facts.home_municipality_on is not None and facts.home_municipality_on < birth:
        raise FactsError("home_municipality_on", "is before birth_date")
    if facts.on < birth:
        raise FactsError("on", "is before birth_date")
    _check_periods(facts, registry())


def _check_periods(facts: Facts, reg: Registry) -> None:
    """The dates the rules look parameters up by must fall in a parameter period: ``on``
    always (no rules are known before 1.9.2011), ``home_municipality_on`` unless it is
    before the first period (a fact: read with the earliest period, and the decision says
    so). After the last period only when that one has an end date (loading refuses it)."""
    try:
        reg.period_on(facts.on)
    except NoPeriodInForce as exc:
        raise FactsError("on", exc.reason) from None
    if facts.home_municipality_on is not None:
        try:
            reg.period_on_or_earliest(facts.home_municipality_on)
        except NoPeriodInForce as exc:
            raise FactsError("home_municipality_on", exc.reason) from None


def facts_error_from_validation(exc: ValidationError) -> FactsError:
    """The first pydantic error as a ``FactsError`` naming the field (from ``loc``)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"]
    if first["type"] == "json_invalid" and "EOF while parsing a value at line 1 column 0" in (
        message
    ):
        message = "empty input: expected a JSON object with the facts"
    return FactsError(
        loc,
        message,
        [
            {"field": ".".join(str(p) for p in e["loc"]) or None, "message": e["msg"]}
            for e in errors
        ],
    )


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def parse_facts(data: dict[str, Any] | str | bytes | bytearray) -> Facts:
    """Facts from a JSON document or a dict of JSON values (``date`` objects allowed).

    Every problem raises ``FactsError`` with the offending field (None for the whole input).
    """
    if isinstance(data, dict):
        try:
            data = json.dumps(data, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise FactsError(None, str(exc)) from None
    elif not isinstance(data, str | bytes | bytearray):
        raise FactsError(None, "facts must be a JSON object")
    if not data.strip():
        raise FactsError(None, "empty input: expected a JSON object with the facts")
    try:
        facts = Facts.model_validate_json(data)
    except ValidationError as exc:
        raise facts_error_from_validation(exc) from None
    check_facts(facts)
    return facts


# --------------------------------------------------------------------------- rules


class _Trace:
    """Collects reasons, the periods used and the assumed parameters relied on."""

    __slots__ = ("reasons", "used", "assumptions", "clamped")

    def __init__(self) -> None:
        self.reasons: list[CachedReason] = []
        self.used: dict[str, str] = {}
        self.assumptions: list[str] = []
        self.clamped: set[date] = set()

    def value(self, period: Period, key: str, purpose: str, *, relied_on: bool = True) -> Any:
        self.used[purpose] = period.id
        if relied_on and period.params[key].confidence == "assumed":
            if key not in self.assumptions:
                self.assumptions.append(key)
        return period.values[key]

    def add(self, code: str, section: str, **values: object) -> None:
        self.reasons.append(build(code, section, tuple(values.items())))


# (eligible, period_years, starts_on, ends_on, age_band, transition_applied, in_period_on)
_CompensationTuple = tuple[bool, int | None, date | None, date | None, str | None, bool, bool]
_NOT_ELIGIBLE: _CompensationTuple = (False, None, None, None, None, False, False)


def _jdate(d: date | None) -> bytes:
    return b'"%s"' % d.isoformat().encode() if d is not None else b"null"


class _Result:
    """The conclusions of ``_decide``; rendered as a ``Decision`` or straight to JSON."""

    __slots__ = (
        "on",
        "covered",
        "groups",
        "authority",
        "entitled",
        "window_ends_on",
        "multisectoral",
        "exempt",
        "first",
        "total",
        "ext",
        "compensation",
        "support_ends_on",
        "trace",
    )

    def __init__(
        self,
        on: date,
        covered: bool,
        groups: list[TargetGroup],
        authority: Authority | None,
        entitled: bool,
        window_ends_on: date | None,
        multisectoral: bool,
        exempt: bool,
        first: int,
        total: int,
        ext: int,
        compensation: _CompensationTuple,
        support_ends_on: date | None,
        trace: _Trace,
    ) -> None:
        self.on = on
        self.covered = covered
        self.groups = groups
        self.authority = authority
        self.entitled = entitled
        self.window_ends_on = window_ends_on
        self.multisectoral = multisectoral
        self.exempt = exempt
        self.first = first
        self.total = total
        self.ext = ext
        self.compensation = compensation
        self.support_ends_on = support_ends_on
        self.trace = trace

    def to_decision(self) -> Decision:
        eligible, years, starts_on, ends_on, band, transition, in_period = self.compensation
        return Decision(
            on=self.on,
            covered=self.covered,
            target_groups=list(self.groups),
            responsible_authority=self.authority,
            assessment=Assessment(
                entitled=self.entitled,
                window_ends_on=self.window_ends_on,
                multisectoral=self.multisectoral,
                exempt_from_window=self.exempt,
            ),
            plan=Plan(
                first_max_months=self.first,
                total_max_months=self.total,
                extension_max_months=self.ext,
            ),
            compensation=Compensation(
                eligible=eligible,
                period_years=years,
                starts_on=starts_on,
                ends_on=ends_on,
                age_band=band,
                transition_applied=transition,
                in_period_on=in_period,
            ),
            unaccompanied_minor_support_ends_on=self.support_ends_on,
            reasons=[r.model for r in self.trace.reasons],
            parameters_used=dict(self.trace.used),
            assumptions=list(self.trace.assumptions),
        )

    def to_json(self) -> bytes:
        """Byte-for-byte ``self.to_decision().model_dump_json()``, several times faster."""
        eligible, years, starts_on, ends_on, band, transition, in_period = self.compensation
        trace = self.trace
        authority = self.authority
        return _DECISION_JSON % (
            self.on.isoformat().encode(),
            b"true" if self.covered else b"false",
            b",".join([_GROUP_JSON[g] for g in self.groups]),
            _AUTHORITY_JSON[authority],
            b"true" if self.entitled else b"false",
            _jdate(self.window_ends_on),
            b"true" if self.multisectoral else b"false",
            b"true" if self.exempt else b"false",
            self.first,
            self.total,
            self.ext,
            b"true" if eligible else b"false",
            b"%d" % years if years is not None else b"null",
            _jdate(starts_on),
            _jdate(ends_on),
            b'"%s"' % band.encode() if band is not None else b"null",
            b"true" if transition else b"false",
            b"true" if in_period else b"false",
            _jdate(self.support_ends_on),
            b",".join([r.json for r in trace.reasons]),
            _used_json(tuple(trace.used.items())),
            _assumptions_json(tuple(trace.assumptions)),
        )


_GROUP_JSON = {g: b'"%s"' % g.value.encode() for g in TargetGroup}
_AUTHORITY_JSON: dict[Authority | None, bytes] = {a: b'"%s"' % a.value.encode() for a in Authority}
_AUTHORITY_JSON[None] = b"null"


@lru_cache(maxsize=1024)
def _used_json(items: tuple[tuple[str, str], ...]) -> bytes:
    return b",".join([json.dumps(k).encode() + b":" + json.dumps(v).encode() for k, v in items])


@lru_cache(maxsize=1024)
def _assumptions_json(keys: tuple[str, ...]) -> bytes:
    return b",".join([json.dumps(k).encode() for k in keys])


_DECISION_JSON = (
    b'{"on":"%s","covered":%s,"target_groups":[%s],"responsible_authority":%s,'
    b'"assessment":{"entitled":%s,"window_ends_on":%s,"multisectoral":%s,'
    b'"exempt_from_window":%s},'
    b'"plan":{"first_max_months":%d,"total_max_months":%d,"extension_max_months":%d},'
    b'"compensation":{"eligible":%s,"period_years":%s,"starts_on":%s,"ends_on":%s,'
    b'"age_band":%s,"transition_applied":%s,"in_period_on":%s},'
    b'"unaccompanied_minor_support_ends_on":%s,"reasons":[%s],"parameters_used":{%s},'
    b'"assumptions":[%s]}'
)


def evaluate(facts: Facts) -> Decision:
    """Decide the rules for ``facts`` (a person on ``facts.on``). Raises ``FactsError``."""
    if not isinstance(facts, Facts):
        raise TypeError("evaluate() takes Facts; use parse_facts() for JSON or a dict")
    check_facts(facts)
    return _decide(facts, registry()).to_decision()


def evaluate_json(facts: Facts) -> bytes:
    """``evaluate(facts).model_dump_json()`` as bytes, built on a fast path (the CLI's)."""
    check_facts(facts)
    return _decide(facts, registry()).to_json()


def _period_on(reg: Registry, on: date) -> Period:
    """The period in force on the date asked for (``check_facts`` has made sure there is one;
    a registry built by hand still gets a ``FactsError``, never a bare lookup error)."""
    try:
        return reg.period_on(on)
    except NoPeriodInForce as exc:
        raise FactsError("on", exc.reason) from None


def _period(reg: Registry, d: date, trace: _Trace, field: str) -> Period:
    """The period in force on the fact ``d`` (the earliest one for a date before it)."""
    try:
        period, clamped = reg.period_on_or_earliest(d)
    except NoPeriodInForce as exc:
        raise FactsError(field, exc.reason) from None
    if clamped and d not in trace.clamped:
        trace.clamped.add(d)
        trace.add("PARAMETERS_EARLIEST_PERIOD", period.act, d=d, period_id=period.id)
    return period


def _period_years(lengths: Any, basis: ResidenceBasis) -> int:
    if basis is ResidenceBasis.QUOTA_REFUGEE:
        return lengths.quota_refugee
    if basis is ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE:
        return lengths.family_of_quota_refugee
    return lengths.other


def _decide(facts: Facts, reg: Registry) -> _Result:
    trace = _Trace()
    on = facts.on
    basis = facts.residence_basis
    p_on = _period_on(reg, on)
    sections = p_on.sections
    first_permit_on = facts.first_permit_on
    home_on = facts.home_municipality_on

    # 2 § scope
    covered = first_permit_on is not None and first_permit_on <= on
    trace.used["scope"] = p_on.id
    if covered:
        trace.add("COVERED", sections["scope"], basis=basis.value)
    elif basis is ASYLUM_SEEKER:
        trace.add("NOT_COVERED_ASYLUM_SEEKER", sections["scope"])
    else:
        trace.add(
            "NOT_COVERED_BEFORE_PERMIT", sections["scope"], on=on, first_permit_on=first_permit_on
        )

    # target groups
    groups: list[TargetGroup] = []
    if covered:
        sec = sections["target_groups"]
        for flag, group, code in _FLAG_GROUPS:
            if getattr(facts, flag):
                groups.append(group)
                trace.add(code, sec)
        if basis in PROTECTION_BASES:
            groups.append(TargetGroup.INTERNATIONAL_PROTECTION)
            trace.add("TARGET_GROUP_INTERNATIONAL_PROTECTION", sec, basis=basis.value)
        elif basis is TP:
            if home_on is not None and home_on <= on:
                key = "temporary_protection_with_home_municipality_is_protection_group"
                if trace.value(p_on, key, "target_groups"):
                    groups.append(TargetGroup.INTERNATIONAL_PROTECTION)
                    trace.add(
                        "TARGET_GROUP_TEMPORARY_PROTECTION_WITH_HOME_MUNICIPALITY",
                        sections["special_target_group"],
                        home_municipality_on=home_on,
                    )
            else:
                trace.add(
                    "TEMPORARY_PROTECTION_WITHOUT_HOME_MUNICIPALITY",
                    sections["special_target_group"],
                )
        if facts.arrived_as_unaccompanied_minor:
            groups.append(TargetGroup.UNACCOMPANIED_MINOR)
            trace.add("TARGET_GROUP_UNACCOMPANIED_MINOR", sec)
        if facts.trafficking_victim or basis is ResidenceBasis.TRAFFICKING_VICTIM_PERMIT:
            groups.append(TargetGroup.TRAFFICKING_VICTIM)
            trace.add("TARGET_GROUP_TRAFFICKING_VICTIM", sec)
        if facts.other_need_identified:
            groups.append(TargetGroup.OTHER_NEED)
            trace.add("TARGET_GROUP_OTHER_NEED", sec)
        if not groups:
            trace.add("NO_TARGET_GROUP", sec)

    # responsible authority (3 §)
    authority: Authority | None
    sec = sections["responsible_authority"]
    if TargetGroup.UNEMPLOYED_JOBSEEKER in groups:
        authority = Authority.EMPLOYMENT_AUTHORITY
        trace.add("AUTHORITY_EMPLOYMENT", sec)
    elif groups:
        authority = Authority.MUNICIPALITY
        trace.add("AUTHORITY_MUNICIPALITY", sec)
    else:
        authority = None
        trace.add("AUTHORITY_NONE", sec)

    # assessment window
    window_ends_on: date | None = None
    exempt = False
    entitled = False
    if covered:
        years = trace.value(p_on, "assessment_window_years", "assessment_window")
        exempt_groups = trace.value(
            p_on, "assessment_window_exempt_groups", "assessment_window", relied_on=bool(groups)
        )
        window_section = p_on.params["assessment_window_years"].section
        exempt = any(g.value in exempt_groups for g in groups)
        if exempt:
            entitled = True
            trace.add("ASSESSMENT_ENTITLED_EXEMPT", window_section, years=years)
        else:
            assert first_permit_on is not None  # covered
            window_ends_on = anniversary(first_permit_on, years)
            if not groups:
                trace.add("ASSESSMENT_NOT_ENTITLED", sections["target_groups"])
            elif on <= window_ends_on:
                entitled = True
                trace.add(
                    "ASSESSMENT_ENTITLED",
                    window_section,
                    window_ends_on=window_ends_on,
                    years=years,
                )
            else:
                trace.add(
                    "ASSESSMENT_WINDOW_CLOSED",
                    window_section,
                    window_ends_on=window_ends_on,
                    years=years,
                )
    else:
        trace.add("ASSESSMENT_NOT_ENTITLED", sections["scope"])

    multisectoral = facts.welfare_service_needs or facts.arrived_as_unaccompanied_minor
    if multisectoral:
        why = [
            LABELS[flag]
            for flag in ("welfare_service_needs", "arrived_as_unaccompanied_minor")
            if getattr(facts, flag)
        ]
        joined = tuple("; ".join(w[lang] for w in why) for lang in (0, 1, 2))
        trace.add("MULTISECTORAL", sections["multisectoral"], why=joined)

    # plan durations, from the period in force on `on`
    first = trace.value(p_on, "plan_first_max_months", "plan", relied_on=entitled)
    total = trace.value(p_on, "plan_total_max_months", "plan", relied_on=entitled)
    ext = trace.value(p_on, "plan_extension_max_months", "plan", relied_on=entitled)
    trace.add(
        "PLAN_LIMITS",
        p_on.params["plan_first_max_months"].section,
        first=first,
        total=total,
        ext=ext,
    )

    compensation = _compensation(facts, reg, p_on, trace)

    # support for adulthood of unaccompanied minors
    support_ends_on: date | None = None
    if facts.arrived_as_unaccompanied_minor:
        support_ends_on = _adulthood_support(facts.birth_date, reg, trace)

    return _Result(
        on,
        covered,
        groups,
        authority,
        entitled,
        window_ends_on,
        multisectoral,
        exempt,
        first,
        total,
        ext,
        compensation,
        support_ends_on,
        trace,
    )


TRANSITION_KEY = "adulthood_support_transition"


def _adulthood_support(birth: date, reg: Registry, trace: _Trace) -> date:
    """The last day of the support for adulthood: the day before the first date on which the
    person's age reaches the end age of the period in force on that date. The law in force
    when the age is reached decides, whatever the date asked for (``on``).

    Within a period ``p`` that date is the birthday for ``p``'s age, or ``p``'s first day
    when the person had already passed that age then (the age was lowered: 25 -> 23 on
    1.7.2024): the support then ends the day before the lower age took effect, never earlier
    (no transition provision was found; ``adulthood_support_transition``, assumed). The
    first period also stands for the dates before it (as for facts before 1.9.2011) and the
    last one for the dates after it."""
    periods = reg.periods
    last = len(periods) - 1
    previous: tuple[Period, date] | None = None  # the period before and its birthday
    for i, p in enumerate(periods):
        age = p.values["adulthood_support_end_age"]
        reached = anniversary(birth, age)
        lowered = i > 0 and reached < p.valid_from
        if lowered:
            assert previous is not None
            if previous[1] == p.valid_from:
                # the birthday of the previous age falls on this period's first day: the
                # previous rule ends the support the day before as well (no transition)
                p, reached, lowered = previous[0], previous[1], False
                age = p.values["adulthood_support_end_age"]
            else:
                reached = p.valid_from
        elif i < last and p.valid_to is not None and reached > p.valid_to:
            previous = (p, reached)
            continue
        trace.value(p, "adulthood_support_end_age", "adulthood_support")
        ends_on = reached - ONE_DAY
        if not lowered:
            trace.add(
                "ADULTHOOD_SUPPORT_ENDS",
                p.params["adulthood_support_end_age"].section,
                ends_on=ends_on,
                age=age,
            )
            return ends_on
        if p.has(TRANSITION_KEY):
            trace.value(p, TRANSITION_KEY, TRANSITION_KEY)
            section = p.params[TRANSITION_KEY].section
        else:  # the engine's reading all the same: say it is assumed
            if TRANSITION_KEY not in trace.assumptions:
                trace.assumptions.append(TRANSITION_KEY)
            section = p.params["adulthood_support_end_age"].section
        trace.add(
            "ADULTHOOD_SUPPORT_ENDS_AGE_LOWERED",
            section,
            ends_on=ends_on,
            age=age,
            in_force_on=p.valid_from,
        )
        return ends_on
    raise AssertionError("the last period always decides")  # pragma: no cover


def _compensation(facts: Facts, reg: Registry, p_on: Period, trace: _Trace) -> _CompensationTuple:
    basis = facts.residence_basis
    starts_on = facts.home_municipality_on
    sec = p_on.sections["compensation"]
    if basis in PROTECTION_BASES:
        special = True
        p_start = _period(reg, starts_on, trace, HOME) if starts_on is not None else p_on
    elif basis is TP:
        p_start = _period(reg, starts_on, trace, HOME) if starts_on is not None else p_on
        special = bool(
            trace.value(
                p_start,
                "compensation_temporary_protection_with_home_municipality",
                "compensation_period",
                relied_on=starts_on is not None,
            )
        )
    else:
        special = False
    if not special:
        trace.add("COMPENSATION_NOT_SPECIAL_TARGET_GROUP", sec, basis=basis.value)
        return _NOT_ELIGIBLE
    if starts_on is None:
        trace.add("COMPENSATION_NO_HOME_MUNICIPALITY", sec)
        return _NOT_ELIGIBLE

    lengths = trace.value(p_start, "compensation_period_years", "compensation_period")
    years = _period_years(lengths, basis)
    ends_on = anniversary(starts_on, years) - ONE_DAY
    trace.add(
        "COMPENSATION_ELIGIBLE",
        p_start.params["compensation_period_years"].section,
        years=years,
        starts_on=starts_on,
        ends_on=ends_on,
    )

    # Periods that began before a later parameter period with a transition rule.
    transition_applied = False
    for q in reg.transitions:
        if starts_on < q.valid_from <= ends_on:
            trace.value(q, "compensation_transition", "compensation_transition")
            new_years = _period_years(q.values["compensation_period_years"], basis)
            new_end = anniversary(starts_on, new_years) - ONE_DAY
            candidate = max(new_end, q.valid_from - ONE_DAY)
            if candidate < ends_on:
                ends_on = candidate
                transition_applied = True
                trace.add(
                    "COMPENSATION_TRANSITION",
                    q.params["compensation_transition"].section,
                    transition_on=q.valid_from,
                    new_years=new_years,
                    ends_on=ends_on,
                )

    # age band on `on`
    bands = trace.value(p_on, "compensation_age_bands", "compensation_age_band")
    age = age_on(facts.birth_date, facts.on)
    band = bands[-1]
    for candidate_band in bands:
        if candidate_band.max_age is None or age < candidate_band.max_age:
            band = candidate_band
            break
    trace.add(
        "COMPENSATION_AGE_BAND",
        p_on.params["compensation_age_bands"].section,
        band=age_band_label(band.min_age, band.max_age),
    )
    return (
        True,
        years,
        starts_on,
        ends_on,
        band.code,
        transition_applied,
        starts_on <= facts.on <= ends_on,
    )
