"""The dimensions every dashboard figure can be filtered by: period (months), scope
(organisation, welfare region, employment area, the whole country), target group, language
and age band. Pure: codes in, codes out."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

# Target groups: the residence bases of the registry folded into the groups managers follow.
TARGET_GROUPS: dict[str, tuple[str, ...]] = {
    "protection": (
        "quota_refugee",
        "family_of_quota_refugee",
        "asylum",
        "subsidiary_protection",
        "humanitarian",
        "trafficking_victim_permit",
        "removal_barrier",
        "family_of_protected",
    ),
    "temporary_protection": ("temporary_protection",),
    "work": ("work",),
    "study": ("study",),
    "family": ("family",),
    "eu_nordic": ("eu_registration", "nordic"),
    "other": ("other_permit", "asylum_seeker", ""),
}
TARGET_GROUP_LABELS = {
    "protection": _("International protection and quota refugees"),
    "temporary_protection": _("Temporary protection"),
    "work": _("Work"),
    "study": _("Study"),
    "family": _("Family ties"),
    "eu_nordic": _("EU and Nordic citizens"),
    "other": _("Other or not known"),
    "unknown": _("No client linked"),
}
_BASIS_GROUP = {basis: group for group, bases in TARGET_GROUPS.items() for basis in bases}

# Age bands by age in the calendar year of the event (birth year to event year).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0_17", 0, 17),
    ("18_29", 18, 29),
    ("30_49", 30, 49),
    ("50_64", 50, 64),
    ("65_plus", 65, 200),
)
AGE_BAND_LABELS = {
    "0_17": _("under 18"),
    "18_29": _("18–29"),
    "30_49": _("30–49"),
    "50_64": _("50–64"),
    "65_plus": _("65 or over"),
    "unknown": _("not known"),
}
UNKNOWN = "unknown"


def target_group(residence_basis: str | None) -> str:
    if residence_basis is None:
        return UNKNOWN
    return _BASIS_GROUP.get(residence_basis, "other")


def age_band(birth_year: int | None, event_year: int) -> str:
    if birth_year is None:
        return UNKNOWN
    age = event_year - birth_year
    for code, low, high in AGE_BANDS:
        if low <= age <= high:
            return code
    return UNKNOWN


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    i = month.year * 12 + month.month - 1 + n
    return dt.date(i // 12, i % 12 + 1, 1)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (end's day before start's day: one fewer)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def quarter_of(month: dt.date) -> str:
    return f"{month.year} Q{(month.month - 1) // 3 + 1}"
