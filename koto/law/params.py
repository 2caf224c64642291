"""Parameter periods of the Integration Act: load, validate, pick the period in force.

Every number the rules use lives in ``koto/law/parameters/<id>.toml``, one file per
validity period, each value with its section, source and confidence (``seen`` or
``assumed``). An administrator adds a period by dropping a file in that directory or in a
directory named by the environment variable ``KOTO_LAW_PARAMETERS_DIR`` (several
directories separated by ``os.pathsep``); files there are merged by ``id`` and replace a
built-in period with the same id. See ``koto/law/parameters/README.md``.

Files are read once, on first use, and validated as a whole: overlapping periods, gaps,
missing or malformed values fail loudly with the file named.
"""

from __future__ import annotations

import bisect
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

BUILTIN_DIR = Path(__file__).with_name("parameters")
ENV_VAR = "KOTO_LAW_PARAMETERS_DIR"

Recipient = Literal["municipality", "municipality_aland", "welfare_region"]


class ParameterError(RuntimeError):
    """The parameter files are inconsistent (overlap, gap, missing or malformed value)."""


class ParameterMissing(LookupError):
    """A value was asked of a period that does not define it."""

    def __init__(self, key: str, period_id: str) -> None:
        self.key = key
        self.period_id = period_id
        super().__init__(f"parameter {key!r} is not defined in period {period_id!r}")


class NoPeriodInForce(LookupError):
    """No parameter period covers the date: it is before the first period, or after the last
    one when that has an end date (``before_first`` says which; ``period`` is that first or
    last period)."""

    def __init__(self, day: date, period: Period, *, before_first: bool) -> None:
        self.day = day
        self.period = period
        self.before_first = before_first
        super().__init__(f"no parameter period is in force on {day.isoformat()}: {self.reason}")

    @property
    def reason(self) -> str:
        """Why, in words that read after a field name (``on: <reason>``)."""
        if self.before_first:
            return (
                f"is before the first parameter period {self.period.id}: no rules are known "
                f"before {self.period.valid_from.isoformat()}"
            )
        assert self.period.valid_to is not None
        end = self.period.valid_to.isoformat()
        return (
            f"is after the last parameter period {self.period.id}, which ends on {end}: "
            f"no rules after {end}"
        )


class AgeBand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    min_age: int
    max_age: int | None = None  # exclusive; None = no upper limit


class CompensationYears(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quota_refugee: int
    family_of_quota_refugee: int
    other: int


#: Known value keys and their types. ``required`` keys must be in every period.
VALUE_TYPES: dict[str, tuple[Any, bool]] = {
    "assessment_window_years": (int, True),
    "assessment_window_exempt_groups": (list[str], True),
    "temporary_protection_with_home_municipality_is_protection_group": (bool, True),
    "plan_first_max_months": (int, True),
    "plan_total_max_months": (int, True),
    "plan_extension_max_months": (int, True),
    "guidance_to_service_within_months": (int, False),
    "plan_preparation_start_within_days": (int, False),
    "plan_review_interval_months": (int, False),
    "assessment_start_within_months": (int, False),
    "jobseeker_initial_interview_working_days": (int, False),
    "civic_orientation_min_hours": (int, False),
    "compensation_period_years": (CompensationYears, True),
    "compensation_transition": (Literal["none", "new_length_from_original_start"], False),
    "compensation_temporary_protection_with_home_municipality": (bool, True),
    "interpreting_in_calculated_compensation": (bool, False),
    "adulthood_support_end_age": (int, True),
    "adulthood_support_transition": (Literal["ends_when_lower_age_takes_effect"], False),
    "age_of_majority": (int, True),
    "adulthood_support_ending_notice_months": (int, True),
    "compensation_age_bands": (list[AgeBand], True),
    "compensation_annual_amounts": (
        dict[str, dict[Recipient, dict[str, Decimal]]],
        False,
    ),
}
_ADAPTERS = {key: TypeAdapter(tp) for key, (tp, _) in VALUE_TYPES.items()}
REQUIRED_SECTIONS = (
    "scope",
    "special_target_group",
    "target_groups",
    "responsible_authority",
    "multisectoral",
    "compensation",
)


class Param(BaseModel):
    """One value with where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Any
    section: str
    source: str
    confidence: Literal["seen", "assumed"]
    note: str | None = None

    @property
    def assumed(self) -> bool:
        return self.confidence == "assumed"


class PeriodFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]+$")]
    valid_from: date
    valid_to: date | None = None
    act: str
    title: str = ""
    sections: dict[str, str]
    values: dict[str, Param]


@dataclass(frozen=True)
class Period:
    """A validity period of the parameters; ``valid_to`` None means open-ended."""

    id: str
    valid_from: date
    valid_to: date | None
    act: str
    title: str
    sections: dict[str, str]
    params: dict[str, Param]
    path: str
    #: Typed values (validated); same keys as ``params``.
    values: dict[str, Any] = field(repr=False)

    def has(self, key: str) -> bool:
        return key in self.values

    def value(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise ParameterMissing(key, self.id) from None

    def param(self, key: str) -> Param:
        try:
            return self.params[key]
        except KeyError:
            raise ParameterMissing(key, self.id) from None

    def is_assumed(self, key: str) -> bool:
        return self.param(key).assumed

    def covers(self, d: date) -> bool:
        return self.valid_from <= d and (self.valid_to is None or d <= self.valid_to)


def _load_file(path: Path) -> Period:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read: {exc}") from exc
    try:
        spec = PeriodFile.model_validate(raw)
    except ValidationError as exc:
        raise ParameterError(f"{path}: {exc}") from exc
    if spec.id != path.stem:
        raise ParameterError(f"{path}: id {spec.id!r} must equal the file name {path.stem!r}")
    if spec.valid_to is not None and spec.valid_to < spec.valid_from:
        raise ParameterError(f"{path}: valid_to is before valid_from")
    missing = [k for k, (_, req) in VALUE_TYPES.items() if req and k not in spec.values]
    if missing:
        raise ParameterError(f"{path}: missing values: {', '.join(missing)}")
    unsourced = [
        k for k, p in spec.values.items() if p.confidence == "seen" and not _is_url(p.source)
    ]
    if unsourced:
        raise ParameterError(
            f"{path}: values marked 'seen' need a public source (an http(s) address): "
            f"{', '.join(unsourced)}; mark them 'assumed' otherwise"
        )
    missing_sections = [s for s in REQUIRED_SECTIONS if s not in spec.sections]
    if missing_sections:
        raise ParameterError(f"{path}: missing sections: {', '.join(missing_sections)}")
    values: dict[str, Any] = {}
    for key, param in spec.values.items():
        adapter = _ADAPTERS.get(key)
        if adapter is None:
            values[key] = param.value  # unknown to the engine: kept, documented only
            continue
        try:
            values[key] = adapter.validate_python(param.value)
        except ValidationError as exc:
            raise ParameterError(f"{path}: value {key!r}: {exc}") from exc
    bands: list[AgeBand] = values["compensation_age_bands"]
    _check_bands(path, bands)
    return Period(
        id=spec.id,
        valid_from=spec.valid_from,
        valid_to=spec.valid_to,
        act=spec.act,
        title=spec.title,
        sections=dict(spec.sections),
        params=dict(spec.values),
        path=str(path),
        values=values,
    )


def _is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def _check_bands(path: Path, bands: list[AgeBand]) -> None:
    expected = 0
    for i, band in enumerate(bands):
        if band.min_age != expected:
            raise ParameterError(f"{path}: age band {band.code!r} must start at {expected}")
        if band.max_age is None:
            if i != len(bands) - 1:
                raise ParameterError(f"{path}: only the last age band may be open-ended")
            return
        if band.max_age <= band.min_age:
            raise ParameterError(f"{path}: age band {band.code!r} is empty")
        expected = band.max_age
    raise ParameterError(f"{path}: the last age band must be open-ended (no max_age)")


class Registry:
    """All periods, sorted and checked: contiguous, no overlap, no gap."""

    def __init__(self, periods: list[Period]) -> None:
        if not periods:
            raise ParameterError("no parameter periods found")
        periods = sorted(periods, key=lambda p: p.valid_from)
        closed: list[Period] = []
        for current, nxt in zip(periods, periods[1:] + [None], strict=True):
            if nxt is None:
                closed.append(current)
                break
            if nxt.valid_from == current.valid_from:
                raise ParameterError(
                    f"periods {current.id!r} and {nxt.id!r} start on the same day "
                    f"({current.path}, {nxt.path})"
                )
            day_before_next = nxt.valid_from - timedelta(days=1)
            if current.valid_to is None:
                # open-ended until the next period begins
                current = _replace_valid_to(current, day_before_next)
            elif current.valid_to >= nxt.valid_from:
                raise ParameterError(
                    f"periods overlap: {current.id!r} ends {current.valid_to} but "
                    f"{nxt.id!r} starts {nxt.valid_from} ({current.path}, {nxt.path})"
                )
            elif current.valid_to < day_before_next:
                raise ParameterError(
                    f"gap between periods: {current.id!r} ends {current.valid_to} and "
                    f"{nxt.id!r} starts {nxt.valid_from} ({current.path}, {nxt.path})"
                )
            closed.append(current)
        self.periods: tuple[Period, ...] = tuple(closed)
        self._starts = [p.valid_from for p in self.periods]
        self.by_id = {p.id: p for p in self.periods}
        #: Periods that shorten compensation periods begun before them.
        self.transitions: tuple[Period, ...] = tuple(
            p
            for p in self.periods
            if p.values.get("compensation_transition") == "new_length_from_original_start"
        )

    @property
    def first(self) -> Period:
        return self.periods[0]

    @property
    def last(self) -> Period:
        return self.periods[-1]

    def period_on(self, d: date) -> Period:
        """The period in force on ``d``; raises ``NoPeriodInForce`` outside all periods."""
        i = bisect.bisect_right(self._starts, d) - 1
        if i < 0:
            raise NoPeriodInForce(d, self.periods[0], before_first=True)
        period = self.periods[i]
        if period.valid_to is not None and d > period.valid_to:
            raise NoPeriodInForce(d, period, before_first=False)
        return period

    def period_on_or_earliest(self, d: date) -> tuple[Period, bool]:
        """Like ``period_on`` but dates before the first period get the first period.

        Returns ``(period, clamped)``; ``clamped`` is True when ``d`` precedes every period.
        """
        i = bisect.bisect_right(self._starts, d) - 1
        if i < 0:
            return self.periods[0], True
        period = self.periods[i]
        if period.valid_to is not None and d > period.valid_to:
            raise NoPeriodInForce(d, period, before_first=False)
        return period, False


def _replace_valid_to(p: Period, valid_to: date) -> Period:
    return Period(
        id=p.id,
        valid_from=p.valid_from,
        valid_to=valid_to,
        act=p.act,
        title=p.title,
        sections=p.sections,
        params=p.params,
        path=p.path,
        values=p.values,
    )


def parameter_dirs(env_value: str | None = None) -> list[Path]:
    """The built-in directory followed by the extra directories named in the env var."""
    dirs = [BUILTIN_DIR]
    if env_value:
        dirs.extend(Path(part) for part in env_value.split(os.pathsep) if part)
    return dirs


def load_registry(dirs: list[Path]) -> Registry:
    """Read every ``*.toml`` in ``dirs``; a later directory replaces an earlier id.

    The last period must be open-ended: with a ``valid_to`` no rules would exist after it
    and every later date would fail, so loading refuses it (add the next period instead)."""
    by_id: dict[str, Period] = {}
    for directory in dirs:
        if not directory.is_dir():
            raise ParameterError(f"parameter directory {directory} does not exist")
        for path in sorted(directory.glob("*.toml")):
            period = _load_file(path)
            by_id[period.id] = period
    reg = Registry(list(by_id.values()))
    last = reg.last
    if last.valid_to is not None:
        raise ParameterError(
            f"{last.path}: the last period {last.id!r} must not have valid_to "
            f"({last.valid_to}): no rules would exist after it; leave valid_to out (it then "
            "runs until a next period begins) or add the next period"
        )
    return reg


_cache: dict[str | None, Registry] = {}


def registry() -> Registry:
    """The registry for the current ``KOTO_LAW_PARAMETERS_DIR``, loaded once and cached."""
    env_value = os.environ.get(ENV_VAR) or None
    reg = _cache.get(env_value)
    if reg is None:
        reg = _cache[env_value] = load_registry(parameter_dirs(env_value))
    return reg


def clear_cache() -> None:
    """Forget the loaded files; the next use reads them again."""
    _cache.clear()


def reload() -> Registry:
    """Forget cached files (after an administrator changed them) and load again."""
    clear_cache()
    return registry()


def periods() -> tuple[Period, ...]:
    return registry().periods


def period_on(d: date) -> Period:
    """The parameter period in force on ``d`` (raises ``NoPeriodInForce`` before the first)."""
    return registry().period_on(d)


def annual_amount(on: date, recipient: Recipient, age_band: str) -> Decimal | None:
    """The calculated compensation per year for ``recipient`` and ``age_band`` in the year of
    ``on``, from the period in force on ``on``; None when the amount is not known (also when
    no period is in force on ``on``: before 1.9.2011)."""
    try:
        period = registry().period_on(on)
    except NoPeriodInForce:
        return None
    amounts = period.values.get("compensation_annual_amounts") or {}
    return amounts.get(str(on.year), {}).get(recipient, {}).get(age_band)


def interpreting_in_calculated_compensation(on: date) -> bool:
    """Whether interpreting is among the costs the calculated compensation is meant to
    cover on `on` (from 681/2023): a claim of interpreting costs as special costs is then
    for the authority to weigh. False where no period covers the date."""
    try:
        period = period_on(on)
    except NoPeriodInForce:
        return False
    return bool(period.values.get("interpreting_in_calculated_compensation", False))
