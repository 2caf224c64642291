"""Writes of municipal placement. Agreements: create, change, the welfare region's
consultation, sign, revise. Placements: propose, consult, and every status change through
the one state machine in `states.py`; arrival makes the people clients of the municipality
(with their municipality of residence from the arrival date), sends the initial health
check to the welfare region and starts the care of unaccompanied minors, whose tasks come
from `koto.law`."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import (
    AccessGrant,
    Client,
    ClientEvent,
    Gender,
    LawFact,
    ResidenceBasis,
    Task,
)
from koto.clients.selectors import possible_duplicates
from koto.clients.services import access_grant_open, client_create, record_event
from koto.core import clock
from koto.core.errors import DomainError, PermissionDenied, ValidationFailed
from koto.core.text import has_control_characters, search_key
from koto.law import add_months
from koto.law import params as law_params
from koto.law.reasons import months_words
from koto.organisations.models import Organisation, OrganisationKind
from koto.placement import permissions, selectors
from koto.placement.models import (
    AgreementStatus,
    HealthCheckReferral,
    HousingForm,
    MinorCare,
    PlaceCategory,
    Placement,
    PlacementAgreement,
    PlacementPerson,
    PlacementSource,
    PlacementStatus,
    WelfareConsultation,
)
from koto.placement.states import OPEN, next_status

PLACE_FIELDS = tuple(f"places_{c}" for c in PlaceCategory.values)
MAX_TEXT = 5000


class PlacementError(DomainError):
    pass


class PlacementConflict(DomainError):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "edit_conflict",
            _("Someone else changed this record while you were editing. Reload to see it."),
            fields={"version": _("The record has changed since you opened it.")},
        )


def _fi_date(d: dt.date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


def _not_future(name: str, value: dt.date, errors: dict) -> None:
    if value > clock.today():
        errors[name] = _("This date cannot be in the future.")


def _text(name: str, value: str, errors: dict, *, required: bool, max_len: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > max_len:
        errors[name] = _("At most %(n)s characters.") % {"n": max_len}
    return value


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def authority_valid_in_year(authority: Organisation, year: int) -> bool:
    """The regional State authority existed during the year (ELY centres to 2025, vitality
    centres from 2026)."""
    first, last = _year_bounds(year)
    return (
        authority.kind == OrganisationKind.REGIONAL_STATE_AUTHORITY
        and (authority.valid_from is None or authority.valid_from <= last)
        and (authority.valid_to is None or authority.valid_to >= first)
    )


def _check_area(authority: Organisation, municipality, errors: dict) -> None:
    """A regional State authority agrees and places only within its own area: the
    municipality's vitality centre, or for an ELY centre (to 2025) one of its successors."""
    if "municipality" in errors or municipality is None:
        return
    area = municipality.regional_state_authority_id
    if area is None:
        errors["municipality"] = _(
            "The municipality has no regional State authority recorded; ask the administrator."
        )
    elif area != authority.id and not authority.successors.filter(pk=area).exists():
        errors["municipality"] = _("%(municipality)s is not in the area of %(authority)s.") % {
            "municipality": municipality.name,
            "authority": authority.name,
        }


# ---------------------------------------------------------------- agreements


def _clean_places(
    places: dict, errors: dict, current: PlacementAgreement | None = None
) -> dict[str, int]:
    """The places to store. A category not given keeps `current`'s (a change of one
    category leaves the others as they are), or is 0 for a new agreement."""
    out = {}
    for name in PLACE_FIELDS:
        value = places.get(name, getattr(current, name) if current is not None else 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors[name] = _("Enter a whole number, 0 or more.")
        elif value > 100000:
            errors[name] = _("Enter a smaller number.")
        else:
            out[name] = value
    return out


def _lock_agreement(agreement: PlacementAgreement, expected_version: int | None):
    locked = (
        PlacementAgreement.objects.select_for_update(of=("self",))
        .select_related("municipality", "authority")
        .get(pk=agreement.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise PlacementConflict()
    return locked


def _bump(obj, fields: list[str]) -> None:
    obj.version += 1
    obj.updated_at = clock.now()
    obj.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def agreement_create(
    *, actor, municipality: Organisation, year: int, places: dict, note: str = ""
) -> PlacementAgreement:
    """A draft agreement of the actor's regional State authority with a municipality."""
    authority_id = permissions.authority_of(actor)
    if authority_id is None:
        raise PermissionDenied()
    authority = Organisation.objects.get(pk=authority_id)
    errors: dict[str, str] = {}
    if municipality is None or municipality.kind != OrganisationKind.MUNICIPALITY:
        errors["municipality"] = _("Choose a municipality.")
    _check_area(authority, municipality, errors)
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = _("Enter a year.")
    elif not authority_valid_in_year(authority, year):
        errors["year"] = _("%(authority)s is not the regional State authority in %(year)s.") % {
            "authority": authority.name,
            "year": year,
        }
    clean = _clean_places(places, errors)
    note = _text("note", note, errors, required=False)
    if (
        not errors
        and PlacementAgreement.objects.filter(municipality=municipality, year=year).exists()
    ):
        errors["year"] = _("The municipality already has an agreement for this year.")
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():  # two agreements at the same moment: the second refused
            agreement = PlacementAgreement.objects.create(
                municipality=municipality,
                authority=authority,
                year=year,
                note=note,
                created_by=actor,
                **clean,
            )
    except IntegrityError as e:
        raise ValidationFailed(
            {"year": _("The municipality already has an agreement for this year.")}
        ) from e
    audit_record(
        actor=actor,
        action="create",
        object_type="placement_agreement",
        object_id=agreement.id,
        changes={"municipality": municipality.code, "year": year, **clean},
    )
    return agreement


@transaction.atomic
def agreement_update(
    *,
    actor,
    agreement: PlacementAgreement,
    places: dict,
    note: str | None = None,
    expected_version: int | None = None,
) -> PlacementAgreement:
    """Change the places of a draft agreement (a signed one is revised instead)."""
    if not permissions.can_manage_agreement(actor, agreement):
        raise PermissionDenied()
    agreement = _lock_agreement(agreement, expected_version)
    if agreement.status != AgreementStatus.DRAFT:
        raise PlacementError(
            "invalid_transition",
            _("A signed agreement is changed by revising it, after consulting the welfare region."),
        )
    errors: dict[str, str] = {}
    clean = _clean_places(places, errors, agreement)
    if note is not None:
        agreement.note = _text("note", note, errors, required=False)
    if errors:
        raise ValidationFailed(errors)
    for k, v in clean.items():
        setattr(agreement, k, v)
    _bump(agreement, [*PLACE_FIELDS, "note"])
    audit_record(
        actor=actor,
        action="update",
        object_type="placement_agreement",
        object_id=agreement.id,
        changes=clean,
    )
    return agreement


def _welfare_region_of(municipality: Organisation) -> Organisation:
    if municipality.welfare_region_id is None:
        raise PlacementError(
            "no_welfare_region",
            _("The municipality has no welfare region recorded; ask the administrator."),
        )
    return municipality.welfare_region


@transaction.atomic
def agreement_consult(
    *, actor, agreement: PlacementAgreement, consulted_on: dt.date, statement: str
) -> WelfareConsultation:
    """Record the welfare region's statement on the agreement as it now stands."""
    if not permissions.can_consult_on_agreement(actor, agreement):
        raise PermissionDenied()
    agreement = _lock_agreement(agreement, None)
    errors: dict[str, str] = {}
    statement = _text("statement", statement, errors, required=True)
    _not_future("consulted_on", consulted_on, errors)
    if errors:
        raise ValidationFailed(errors)
    region = _welfare_region_of(agreement.municipality)
    consultation = WelfareConsultation.objects.create(
        agreement=agreement,
        agreement_version=agreement.version,
        welfare_region=region,
        consulted_on=consulted_on,
        statement=statement,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="welfare_consultation",
        object_id=consultation.id,
        changes={"agreement": agreement.id, "version": agreement.version},
    )
    return consultation


def _require_consultation(agreement: PlacementAgreement, on: dt.date, field: str) -> None:
    current = (
        agreement.consultations.filter(agreement_version=agreement.version)
        .order_by("-recorded_at", "-id")
        .first()
    )
    if current is None:
        raise PlacementError(
            "consultation_required",
            _(
                "Consult the welfare region first: record its statement on the agreement as it now stands."
            ),
            fields={"consultation": _("No welfare-region statement since the last change.")},
        )
    if current.consulted_on > on:
        raise ValidationFailed(
            {field: _("The welfare region was consulted on %(date)s, after this date.")
             % {"date": _fi_date(current.consulted_on)}}
        )  # fmt: skip


@transaction.atomic
def agreement_sign(
    *,
    actor,
    agreement: PlacementAgreement,
    signed_on: dt.date,
    expected_version: int | None = None,
) -> PlacementAgreement:
    if not permissions.can_manage_agreement(actor, agreement):
        raise PermissionDenied()
    agreement = _lock_agreement(agreement, expected_version)
    if agreement.status != AgreementStatus.DRAFT:
        raise PlacementError("invalid_transition", _("The agreement is already signed."))
    errors: dict[str, str] = {}
    _not_future("signed_on", signed_on, errors)
    if errors:
        raise ValidationFailed(errors)
    _require_consultation(agreement, signed_on, "signed_on")
    agreement.status = AgreementStatus.SIGNED
    agreement.signed_on = signed_on
    _bump(agreement, ["status", "signed_on"])
    audit_record(
        actor=actor,
        action="update",
        object_type="placement_agreement",
        object_id=agreement.id,
        changes={"status": agreement.status, "signed_on": signed_on.isoformat()},
    )
    return agreement


@transaction.atomic
def agreement_revise(
    *,
    actor,
    agreement: PlacementAgreement,
    places: dict,
    revised_on: dt.date,
    note: str | None = None,
    expected_version: int | None = None,
) -> PlacementAgreement:
    """Revise a signed agreement's places; the welfare region must have been consulted after
    the last signing or revision."""
    if not permissions.can_manage_agreement(actor, agreement):
        raise PermissionDenied()
    agreement = _lock_agreement(agreement, expected_version)
    if agreement.status not in (AgreementStatus.SIGNED, AgreementStatus.REVISED):
        raise PlacementError(
            "invalid_transition", _("Only a signed agreement can be revised; sign it first.")
        )
    errors: dict[str, str] = {}
    clean = _clean_places(places, errors, agreement)
    _not_future("revised_on", revised_on, errors)
    if revised_on and agreement.signed_on and revised_on < agreement.signed_on:
        errors["revised_on"] = _("The revision cannot be before the signing.")
    if note is not None:
        agreement.note = _text("note", note, errors, required=False)
    if errors:
        raise ValidationFailed(errors)
    _require_consultation(agreement, revised_on, "revised_on")
    before = {k: getattr(agreement, k) for k in PLACE_FIELDS}
    for k, v in clean.items():
        setattr(agreement, k, v)
    agreement.status = AgreementStatus.REVISED
    agreement.revised_on = revised_on
    _bump(agreement, [*PLACE_FIELDS, "note", "status", "revised_on"])
    audit_record(
        actor=actor,
        action="update",
        object_type="placement_agreement",
        object_id=agreement.id,
        changes={
            "status": agreement.status,
            "revised_on": revised_on.isoformat(),
            **{k: {"from": before[k], "to": v} for k, v in clean.items() if before[k] != v},
        },
    )
    return agreement


# ---------------------------------------------------------------- placements

PERSON_FIELDS = (
    "first_name", "last_name", "birth_date", "gender", "residence_basis", "first_permit_on",
    "mother_tongue", "relation",
)  # fmt: skip


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _clean_persons(persons: list[dict], category: str, on: dt.date, errors: dict) -> list[dict]:
    if not persons:
        errors["persons"] = _("Add at least one person.")
        return []
    out = []
    for i, p in enumerate(persons):
        prefix = f"persons.{i}."
        row: dict = {}
        unknown = set(p) - set(PERSON_FIELDS)
        for name in sorted(unknown):
            errors[prefix + name] = _("Unknown field.")
        for name, n in (("first_name", 150), ("last_name", 150)):
            row[name] = _text(prefix + name, p.get(name, ""), errors, required=True, max_len=n)
            if has_control_characters(row[name]):
                errors[prefix + name] = _("Names cannot hold control or text-direction characters.")
        birth = _as_date(p.get("birth_date"))
        if birth is None:
            errors[prefix + "birth_date"] = _("Enter a date as YYYY-MM-DD.")
        elif birth > on:
            errors[prefix + "birth_date"] = _("The birth date cannot be in the future.")
        elif category == PlaceCategory.UNACCOMPANIED_MINOR and turns_18_on(birth) <= on:
            errors[prefix + "birth_date"] = _("An unaccompanied minor is under 18.")
        row["birth_date"] = birth
        row["gender"] = p.get("gender") or Gender.UNKNOWN
        if row["gender"] not in Gender.values:
            errors[prefix + "gender"] = _("Choose one of: %(choices)s.") % {
                "choices": ", ".join(Gender.values)
            }
        row["residence_basis"] = p.get("residence_basis") or ""
        if row["residence_basis"] not in ResidenceBasis.values:
            errors[prefix + "residence_basis"] = _("Unknown residence basis.")
        permit = p.get("first_permit_on")
        row["first_permit_on"] = _as_date(permit) if permit else None
        if permit and row["first_permit_on"] is None:
            errors[prefix + "first_permit_on"] = _("Enter a date as YYYY-MM-DD.")
        elif row["first_permit_on"] and birth and row["first_permit_on"] < birth:
            errors[prefix + "first_permit_on"] = _("This date cannot be before the birth date.")
        elif row["first_permit_on"] and row["first_permit_on"] > clock.today():
            errors[prefix + "first_permit_on"] = _("The date cannot be in the future.")
        elif (
            category == PlaceCategory.UNACCOMPANIED_MINOR
            and row["first_permit_on"] is None
            and row["residence_basis"] != ResidenceBasis.ASYLUM_SEEKER
        ):
            # the support for adulthood (until 23) is counted from the permit: without it the
            # minor arrived with no end to the support and no task before it ends
            errors[prefix + "first_permit_on"] = _(
                "Give the date of the first residence permit: the support for adulthood is "
                "counted from it."
            )
        # checked as the client registry checks them at arrival: a proposal it would refuse
        # then could never be recorded as arrived
        tongue = (p.get("mother_tongue") or "").strip().lower()
        if tongue and not codes.is_language(tongue):
            errors[prefix + "mother_tongue"] = _("Unknown language code (ISO 639).")
        row["mother_tongue"] = codes.normalise_language(tongue) if tongue else ""
        row["relation"] = p.get("relation") or PlacementPerson.Role.MAIN
        if row["relation"] not in PlacementPerson.Role.values:
            errors[prefix + "relation"] = _("Unknown relation.")
        out.append(row)
    if out and not any(r["relation"] == PlacementPerson.Role.MAIN for r in out):
        out[0]["relation"] = PlacementPerson.Role.MAIN
    return out


@transaction.atomic
def placement_propose(
    *,
    actor,
    municipality: Organisation,
    category: str,
    source: str,
    persons: list[dict],
    year: int | None = None,
    source_detail: str = "",
    evident_welfare_needs: bool = False,
    welfare_needs_note: str = "",
    proposed_on: dt.date | None = None,
    confirm_duplicate: bool = False,
) -> Placement:
    """The regional State authority proposes a person or a family to a municipality.

    The same proposal again (a form sent twice, two officers) is refused; a person already
    in another open or arrived placement of the authority is refused unless
    `confirm_duplicate` (two people may share a name and a birth date). A placement beyond
    the places agreed is made, with a warning in `placement.warnings`."""
    authority_id = permissions.authority_of(actor)
    if authority_id is None:
        raise PermissionDenied()
    # one proposal of the authority at a time: the check for the same people below then
    # sees the other officer's proposal made at the same moment
    authority = Organisation.objects.select_for_update().get(pk=authority_id)
    proposed_on = proposed_on or clock.today()
    year = year or proposed_on.year
    errors: dict[str, str] = {}
    if municipality is None or municipality.kind != OrganisationKind.MUNICIPALITY:
        errors["municipality"] = _("Choose a municipality.")
    _check_area(authority, municipality, errors)
    if category not in PlaceCategory.values:
        errors["category"] = _("Choose a category.")
    if source not in PlacementSource.values:
        errors["source"] = _("Choose where the people come from.")
    _not_future("proposed_on", proposed_on, errors)
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = _("Enter a year.")
    elif not authority_valid_in_year(authority, year):
        errors["year"] = _("%(authority)s is not the regional State authority in %(year)s.") % {
            "authority": authority.name,
            "year": year,
        }
    source_detail = _text("source_detail", source_detail, errors, required=False, max_len=200)
    welfare_needs_note = _text("welfare_needs_note", welfare_needs_note, errors, required=False)
    rows = _clean_persons(persons, category, proposed_on, errors)
    if errors:
        raise ValidationFailed(errors)
    _check_not_proposed_before(authority, municipality, category, rows, confirm_duplicate)
    placement = Placement.objects.create(
        authority=authority,
        municipality=municipality,
        year=year,
        category=category,
        source=source,
        source_detail=source_detail,
        proposed_on=proposed_on,
        evident_welfare_needs=bool(evident_welfare_needs),
        welfare_needs_note=welfare_needs_note,
        created_by=actor,
    )
    PlacementPerson.objects.bulk_create(PlacementPerson(placement=placement, **r) for r in rows)
    check = selectors.places_check(placement)
    warning = check.warning(with_proposals=True)
    audit_record(
        actor=actor,
        action="create",
        object_type="placement",
        object_id=placement.id,
        changes={
            "municipality": municipality.code,
            "year": year,
            "category": category,
            "source": source,
            "persons": len(rows),
            **({"confirm_duplicate": True} if confirm_duplicate else {}),
            **({"over_agreement": check.over_with_proposals} if warning else {}),
        },
    )
    placement.warnings = [warning] if warning else []
    return placement


def person_key(first_name: str, last_name: str, birth_date: dt.date) -> str:
    """Who a person is for finding them twice: the birth date and the words of the names
    in any order ("Ali Hassan" recorded as "Hassan Ali"), without accents or case."""
    words = sorted(search_key(f"{first_name} {last_name}").split())
    return f"{birth_date.isoformat()} {' '.join(words)}"


def _check_not_proposed_before(
    authority: Organisation, municipality, category: str, rows: list[dict], confirm: bool
) -> None:
    """Refuse the same person twice: twice in the proposal, the same proposal again (not
    to be confirmed: it is the form sent twice), or a person in another open or arrived
    placement of the authority (unless confirmed to be another person)."""
    keys = [person_key(r["first_name"], r["last_name"], r["birth_date"]) for r in rows]
    as_typed = sorted((r["first_name"], r["last_name"], r["birth_date"]) for r in rows)
    errors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in seen:
            errors[f"persons.{i}.first_name"] = _(
                "The same person as person %(n)s of this proposal."
            ) % {"n": seen[key] + 1}
        seen.setdefault(key, i)
    if errors:
        raise ValidationFailed(errors)
    earlier = (
        PlacementPerson.objects.filter(
            permissions.authority_records(authority.id, prefix="placement__"),
            birth_date__in={r["birth_date"] for r in rows},
            placement__status__in=[*OPEN, PlacementStatus.ARRIVED],
        )
        .select_related("placement", "placement__municipality")
        .order_by("placement_id", "id")
    )
    found: dict[str, list[PlacementPerson]] = {}
    by_placement: dict[int, list[tuple]] = {}
    for person in earlier:
        key = person_key(person.first_name, person.last_name, person.birth_date)
        by_placement.setdefault(person.placement_id, []).append(
            (person.first_name, person.last_name, person.birth_date)
        )
        if key in seen:
            found.setdefault(key, []).append(person)
    if not found:
        return
    candidates = {p.placement_id: p for people in found.values() for p in people}
    sizes = dict(
        Placement.objects.filter(pk__in=candidates)
        .annotate(n=Count("persons"))
        .values_list("pk", "n")
    )
    for placement_id, other in candidates.items():
        if (
            sizes[placement_id] == len(rows)
            and sorted(by_placement[placement_id]) == as_typed
            and other.placement.municipality_id == municipality.id
            and other.placement.category == category
            and other.placement.status in OPEN
        ):
            raise PlacementError(
                "duplicate_proposal",
                _("These people were already proposed to %(municipality)s on %(date)s "
                  "(placement %(id)s, %(status)s).")
                % {"municipality": municipality.name,
                   "date": _fi_date(other.placement.proposed_on), "id": other.placement_id,
                   "status": other.placement.get_status_display()},
                fields={"persons": _("The same proposal was already made.")},
            )  # fmt: skip
    if confirm:
        return
    for key, people in found.items():
        other = people[0].placement
        errors[f"persons.{seen[key]}.last_name"] = _(
            "Already in the placement to %(municipality)s proposed on %(date)s (%(status)s)."
        ) % {
            "municipality": other.municipality.name,
            "date": _fi_date(other.proposed_on),
            "status": other.get_status_display(),
        }
    errors["confirm_duplicate"] = _(
        "A person with the same names and birth date is already in another placement. If "
        "this is another person, confirm and propose again."
    )
    raise ValidationFailed(errors)


def _lock(placement: Placement, expected_version: int | None) -> Placement:
    locked = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("municipality", "municipality__welfare_region", "authority")
        .get(pk=placement.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise PlacementConflict()
    return locked


def _transition(placement: Placement, operation: str) -> str:
    new = next_status(operation, placement.status)
    if new is None:
        raise PlacementError(
            "invalid_transition",
            _("This cannot be done to a placement whose status is %(status)s.")
            % {"status": placement.get_status_display()},
        )
    return new


def _respond_start(actor, placement, operation, expected_version) -> tuple[Placement, str]:
    if not permissions.can_respond_to_placement(actor, placement):
        raise PermissionDenied()
    locked = _lock(placement, expected_version)
    return locked, _transition(locked, operation)


def _save(
    actor,
    placement: Placement,
    new_status: str,
    fields: dict,
    operation: str,
    extra: dict | None = None,
) -> Placement:
    for k, v in fields.items():
        setattr(placement, k, v)
    placement.status = new_status
    _bump(placement, [*fields, "status"])
    audit_record(
        actor=actor,
        action="update",
        object_type="placement",
        object_id=placement.id,
        reason=operation,
        changes={
            "status": new_status,
            **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()},
            **(extra or {}),
        },
    )
    return placement


@transaction.atomic
def placement_consult(
    *, actor, placement: Placement, consulted_on: dt.date, statement: str
) -> WelfareConsultation:
    """The welfare region's statement on a placement (needed before accepting a proposal
    flagged with evident social or health needs)."""
    if not permissions.can_consult_on_placement(actor, placement):
        raise PermissionDenied()
    placement = _lock(placement, None)
    if placement.status not in (PlacementStatus.PROPOSED, PlacementStatus.ACCEPTED):
        raise PlacementError(
            "invalid_transition",
            _("The welfare region's statement is given before the placement is agreed."),
        )
    errors: dict[str, str] = {}
    statement = _text("statement", statement, errors, required=True)
    _not_future("consulted_on", consulted_on, errors)
    if consulted_on < placement.proposed_on:
        errors["consulted_on"] = _("This date cannot be before the proposal.")
    if errors:
        raise ValidationFailed(errors)
    consultation = WelfareConsultation.objects.create(
        placement=placement,
        welfare_region=_welfare_region_of(placement.municipality),
        consulted_on=consulted_on,
        statement=statement,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="welfare_consultation",
        object_id=consultation.id,
        changes={"placement": placement.id},
    )
    return consultation


@transaction.atomic
def placement_accept(
    *,
    actor,
    placement: Placement,
    decided_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Placement:
    placement, new = _respond_start(actor, placement, "accept", expected_version)
    decided_on = decided_on or clock.today()
    errors: dict[str, str] = {}
    _not_future("decided_on", decided_on, errors)
    if decided_on < placement.proposed_on:
        errors["decided_on"] = _("This date cannot be before the proposal.")
    if errors:
        raise ValidationFailed(errors)
    if (
        placement.evident_welfare_needs
        and not placement.consultations.filter(consulted_on__lte=decided_on).exists()
    ):
        raise ValidationFailed(
            {"welfare_consultation": _("The proposal has evident social or health care needs: the welfare region must give its statement before the placement is accepted.")},
            message=_("The welfare region must give its statement before the placement is accepted."),
        )  # fmt: skip
    # beyond the places agreed: accepted all the same (the municipality decides), warned
    # and kept in the audit record
    check = selectors.places_check(placement)
    warning = check.warning(with_proposals=False)
    placement = _save(
        actor, placement, new, {"decided_on": decided_on}, "accept",
        extra={"over_agreement": check.over_if_accepted} if warning else None,
    )  # fmt: skip
    placement.warnings = [warning] if warning else []
    return placement


@transaction.atomic
def placement_decline(
    *,
    actor,
    placement: Placement,
    reason: str,
    decided_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Placement:
    placement, new = _respond_start(actor, placement, "decline", expected_version)
    decided_on = decided_on or clock.today()
    errors: dict[str, str] = {}
    reason = _text("reason", reason, errors, required=True)
    _not_future("decided_on", decided_on, errors)
    if decided_on < placement.proposed_on:
        errors["decided_on"] = _("This date cannot be before the proposal.")
    if errors:
        raise ValidationFailed(errors)
    return _save(
        actor, placement, new, {"decided_on": decided_on, "decline_reason": reason}, "decline"
    )


@transaction.atomic
def placement_reserve_housing(
    *,
    actor,
    placement: Placement,
    address: str,
    housing_on: dt.date,
    expected_version: int | None = None,
) -> Placement:
    placement, new = _respond_start(actor, placement, "reserve_housing", expected_version)
    errors: dict[str, str] = {}
    address = _text("address", address, errors, required=True, max_len=200)
    if housing_on is None:
        errors["housing_on"] = _("This field is required.")
    if errors:
        raise ValidationFailed(errors)
    return _save(
        actor,
        placement,
        new,
        {"housing_address": address, "housing_on": housing_on, "supported_housing_note": ""},
        "reserve_housing",
    )


@transaction.atomic
def placement_request_supported_housing(
    *, actor, placement: Placement, note: str, expected_version: int | None = None
) -> Placement:
    placement, new = _respond_start(actor, placement, "request_supported_housing", expected_version)
    errors: dict[str, str] = {}
    note = _text("note", note, errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    return _save(
        actor,
        placement,
        new,
        {"supported_housing_note": note, "housing_address": "", "housing_on": None},
        "request_supported_housing",
    )


@transaction.atomic
def placement_cancel(
    *,
    actor,
    placement: Placement,
    reason: str,
    cancelled_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Placement:
    if not permissions.can_manage_placement(actor, placement):
        raise PermissionDenied()
    placement = _lock(placement, expected_version)
    new = _transition(placement, "cancel")
    cancelled_on = cancelled_on or clock.today()
    errors: dict[str, str] = {}
    reason = _text("reason", reason, errors, required=True)
    _not_future("cancelled_on", cancelled_on, errors)
    if cancelled_on < placement.proposed_on:
        errors["cancelled_on"] = _("This date cannot be before the proposal.")
    if errors:
        raise ValidationFailed(errors)
    return _save(
        actor,
        placement,
        new,
        {"cancelled_on": cancelled_on, "cancel_reason": reason},
        "cancel",
    )


@transaction.atomic
def placement_arrive(
    *,
    actor,
    placement: Placement,
    arrived_on: dt.date,
    expected_version: int | None = None,
    confirm_duplicate: bool = False,
) -> Placement:
    """The people arrived: each becomes a client of the municipality with it as their
    municipality of residence from `arrived_on`; the welfare region gets the initial health
    check (and access to the people); unaccompanied minors get their care record and tasks.
    A person the municipality already has as a client (the same birth date, a similar name)
    is refused unless `confirm_duplicate`: the registry would hold them twice."""
    placement, new = _respond_start(actor, placement, "arrive", expected_version)
    errors: dict[str, str] = {}
    if arrived_on is None:
        errors["arrived_on"] = _("This field is required.")
    else:
        _not_future("arrived_on", arrived_on, errors)
        if arrived_on < placement.proposed_on:
            errors["arrived_on"] = _("This date cannot be before the proposal.")
    if errors:
        raise ValidationFailed(errors)
    if placement.category == PlaceCategory.UNACCOMPANIED_MINOR:
        # under 18 on the day they arrive, not only on the day they were proposed
        adults = [p for p in placement.persons.all() if turns_18_on(p.birth_date) <= arrived_on]
        if adults:
            raise ValidationFailed({"arrived_on": _(
                "%(name)s turned 18 on %(date)s: not an unaccompanied minor on arrival."
            ) % {"name": f"{adults[0].first_name} {adults[0].last_name}",
                 "date": _fi_date(turns_18_on(adults[0].birth_date))}})  # fmt: skip
    municipality = placement.municipality
    region = _welfare_region_of(municipality)
    minor = placement.category == PlaceCategory.UNACCOMPANIED_MINOR
    people = list(placement.persons.select_for_update().filter(client__isnull=True))
    if not confirm_duplicate:
        _check_not_clients(actor, people)
    for person in people:
        data = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": person.birth_date,
            "gender": person.gender,
            "residence_basis": person.residence_basis,
            "first_permit_on": person.first_permit_on,
            "mother_tongue": person.mother_tongue,
            "home_municipality_code": municipality.municipality_code,
            "home_municipality_on": arrived_on,
        }
        if minor:
            data["arrived_as_unaccompanied_minor"] = True
        try:
            client = client_create(
                actor=actor,
                data=data,
                organisation=municipality,
                confirm_duplicate=True,
                facts_valid_from=arrived_on,
                event_kind=ClientEvent.Kind.PLACEMENT_ARRIVED,
                audit_reason=f"placement:{placement.id}",
            )
        except ValidationFailed as e:
            raise ValidationFailed(
                {f"persons.{person.id}.{k}": v for k, v in e.fields.items()},
                message=_("%(name)s cannot be made a client: %(message)s")
                % {"name": f"{person.first_name} {person.last_name}", "message": e.message},
            ) from e
        person.client = client
        person.save(update_fields=["client"])
        access_grant_open(
            actor=actor,
            client=client,
            organisation=region,
            scope=AccessGrant.Scope.FULL if minor else AccessGrant.Scope.READ,
            source="placement",
            source_id=str(placement.id),
            valid_from=arrived_on,
        )
        if minor:
            client.access = "full"
            _minor_care_start(actor=actor, client=client, placement=placement, on=arrived_on)
    HealthCheckReferral.objects.update_or_create(
        placement=placement,
        defaults={
            "welfare_region": region,
            "sent_on": arrived_on,
            "status": HealthCheckReferral.Status.SENT,
        },
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="health_check_referral",
        object_id=placement.id,
        listed=_arrived_clients(placement),
        changes={"welfare_region": region.code, "sent_on": arrived_on.isoformat()},
    )
    return _save(actor, placement, new, {"arrived_on": arrived_on}, "arrive")


@transaction.atomic
def health_check_done(*, actor, placement: Placement, done_on: dt.date) -> HealthCheckReferral:
    """The welfare region did the initial health check."""
    if not permissions.can_consult_on_placement(actor, placement):
        raise PermissionDenied()
    referral = HealthCheckReferral.objects.select_for_update().filter(placement=placement).first()
    if referral is None:
        raise PlacementError(
            "invalid_transition", _("The health check is referred when the people arrive.")
        )
    before = referral.done_on if referral.status == HealthCheckReferral.Status.DONE else None
    errors: dict[str, str] = {}
    _not_future("done_on", done_on, errors)
    if done_on < referral.sent_on:
        errors["done_on"] = _("This date cannot be before the referral.")
    if errors:
        raise ValidationFailed(errors)
    referral.status = HealthCheckReferral.Status.DONE
    referral.done_on = done_on
    referral.save(update_fields=["status", "done_on"])
    _adult_grants_end(actor, placement, done_on + dt.timedelta(days=READ_AFTER_HEALTH_CHECK_DAYS))
    audit_record(
        actor=actor,
        action="update",
        object_type="health_check_referral",
        object_id=placement.id,
        listed=_arrived_clients(placement),
        # recorded again: a correction of the date, from what to what
        changes={"status": referral.status, "done_on": done_on.isoformat()}
        if before is None
        else {"done_on": [before.isoformat(), done_on.isoformat()]},
    )
    return referral


#: How long the welfare region still reads an adult's record after the initial health check
#: (its follow-up: results, a referral onwards). Koto's choice, not the law's: the region's
#: read grant from arrival serves the health check; further work comes with a referral,
#: which opens a grant of its own.
READ_AFTER_HEALTH_CHECK_DAYS = 30


def _adult_grants_end(actor, placement: Placement, last_day: dt.date) -> None:
    """The welfare region's read grants of the placement's adults (an unaccompanied minor's
    full grant stays: the region answers for the minor's care) end on `last_day`. A
    corrected health check date moves the end earlier, never later: the region cannot give
    itself more time by recording the check again (further work comes with a referral)."""
    grants = AccessGrant.objects.select_for_update().filter(
        source="placement", source_id=str(placement.id), scope=AccessGrant.Scope.READ
    )
    for grant in grants:
        if grant.valid_to is not None and grant.valid_to <= last_day:
            continue
        before = grant.valid_to
        grant.valid_to = last_day
        grant.save(update_fields=["valid_to"])
        audit_record(
            actor=actor, action="update", object_type="access_grant", object_id=grant.id,
            client_id=grant.client_id,
            changes={"valid_to": [before.isoformat() if before else None, last_day.isoformat()],
                     "source_id": str(placement.id)},
        )  # fmt: skip


def _check_not_clients(actor, people: list[PlacementPerson]) -> None:
    """Before any of them is made a client (twins are not each other's duplicates): a person
    the municipality already has as a client is named, on `persons.<id>.last_name` and on
    `confirm_duplicate`."""
    errors: dict[str, str] = {}
    named = []
    for person in people:
        dups = possible_duplicates(
            user=actor,
            first_name=person.first_name,
            last_name=person.last_name,
            birth_date=person.birth_date,
        )
        if dups:
            errors[f"persons.{person.id}.last_name"] = _("Similar client exists.")
            named.append(
                _("%(name)s (born %(date)s)")
                % {"name": f"{person.first_name} {person.last_name}",
                   "date": _fi_date(person.birth_date)}
            )  # fmt: skip
    if named:
        errors["confirm_duplicate"] = _(
            "The municipality already has a client with the same birth date and a similar "
            "name: %(people)s. Check them; if they are other people, confirm to make new "
            "clients."
        ) % {"people": ", ".join(named)}
        raise PlacementError(
            "possible_duplicate",
            errors["confirm_duplicate"],
            fields=errors,
        )


def _arrived_clients(placement: Placement) -> list[int]:
    """The clients a health-check referral concerns: in their audit trails (health data)."""
    return sorted(
        placement.persons.filter(client__isnull=False).values_list("client_id", flat=True)
    )


OPERATIONS = {
    "accept": placement_accept,
    "decline": placement_decline,
    "reserve_housing": placement_reserve_housing,
    "request_supported_housing": placement_request_supported_housing,
    "arrive": placement_arrive,
    "cancel": placement_cancel,
}


# ---------------------------------------------------------------- unaccompanied minors


def _law_period(on: dt.date) -> law_params.Period:
    """The parameter period of `koto.law` in force on `on` (the first one before it)."""
    return law_params.registry().period_on_or_earliest(on)[0]


def turns_18_on(birth_date: dt.date) -> dt.date:
    """The day of coming of age, `age_of_majority` of `koto.law` (18): an unaccompanied
    minor is under it and the representative acts until the day before. The law in force
    on that birthday decides. 29 February falls on 28 February, as in `koto.law`."""
    age = _law_period(birth_date).value("age_of_majority")
    day = add_months(birth_date, 12 * age)
    in_force = _law_period(day).value("age_of_majority")
    return day if in_force == age else add_months(birth_date, 12 * in_force)


def support_ending_task_on(support_ends_on: dt.date) -> tuple[dt.date, int, str]:
    """When the task to prepare the end of the support for adulthood is due
    (`adulthood_support_ending_notice_months` of `koto.law` before it ends, under the period
    in force on the last day of the support), the months and that period's id."""
    period = _law_period(support_ends_on)
    months = period.value("adulthood_support_ending_notice_months")
    return add_months(support_ends_on, -months), months, period.id


def support_ends_on_for(client: Client) -> tuple[dt.date | None, object | None]:
    """When the support for adulthood ends under `koto.law` today, and the decision."""
    try:
        decision = decision_for(client, clock.today())
    except (MissingFacts, FactsError):
        return None, None
    return decision.unaccompanied_minor_support_ends_on, decision


def _minor_care_start(*, actor, client: Client, placement: Placement | None, on: dt.date):
    turns_18 = turns_18_on(client.birth_date)
    support_ends_on, _decision = support_ends_on_for(client)
    care = MinorCare.objects.create(
        client=client,
        placement=placement,
        turns_18_on=turns_18,
        representative_to=turns_18 - dt.timedelta(days=1),
        support_ends_on=support_ends_on,
    )
    minor_care_sync_tasks(care=care, client=client)
    record_event(client, actor, ClientEvent.Kind.MINOR_CARE_RECORDED, {"care": care.id})
    audit_record(
        actor=actor,
        action="create",
        object_type="minor_care",
        object_id=care.id,
        client_id=client.id,
        changes={"turns_18_on": turns_18.isoformat(), "support_ends_on": _iso(support_ends_on)},
    )
    return care


# The client's fields the care's dates follow (the law's decision reads the facts too).
CARE_FOLLOWS = frozenset({"birth_date", "first_permit_on", *LawFact.values})


def minor_care_follow_client(*, actor, client: Client, changed: frozenset) -> MinorCare | None:
    """A correction of the client's birth date, or of a fact the law reads, moves the 18th
    birthday, the representative's last day (when it was the day before the old birthday,
    or is now past the new one) and the end of the support for adulthood, with their
    tasks: they kept the dates of the birth date first recorded."""
    if not CARE_FOLLOWS & changed:
        return None
    care = MinorCare.objects.select_for_update().filter(client=client).first()
    if care is None:
        return None
    moved: dict = {}
    turns_18 = turns_18_on(client.birth_date)
    if turns_18 != care.turns_18_on:
        old_last, new_last = (d - dt.timedelta(days=1) for d in (care.turns_18_on, turns_18))
        moved["turns_18_on"] = turns_18
        if care.representative_to is not None and (
            care.representative_to == old_last or care.representative_to > new_last
        ):
            moved["representative_to"] = new_last
    support_ends_on, _decision = support_ends_on_for(client)
    if support_ends_on != care.support_ends_on:
        moved["support_ends_on"] = support_ends_on
    if not moved:
        return care
    for name, value in moved.items():
        setattr(care, name, value)
    _bump(care, list(moved))
    minor_care_sync_tasks(care=care, client=client)
    audit_record(
        actor=actor,
        action="update",
        object_type="minor_care",
        object_id=care.id,
        client_id=client.id,
        changes={k: _iso(v) for k, v in moved.items()},
    )
    return care


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def minor_tasks_due(care: MinorCare, client: Client) -> list[dict]:
    """The tasks an unaccompanied minor's care calls for: the 18th birthday (the
    representative's task ends) and three months before the support for adulthood ends."""
    out = [
        {
            "kind": Task.Kind.MINOR_TURNS_18,
            "due_on": care.turns_18_on,
            "rule_code": "MINOR_TURNS_18",
            "rule_section": "746/2011 (representative until 18); 681/2023",
            "reason_fi": (
                f"Nuori täyttää 18 vuotta {_fi_date(care.turns_18_on)}: edustajan tehtävä "
                "päättyy; sovi aikuistumisen tuesta ja jälkihuollosta."
            ),
            "reason_sv": (
                f"Den unga fyller 18 år den {_fi_date(care.turns_18_on)}: företrädarens "
                "uppdrag upphör; kom överens om stödet för vuxenblivandet och eftervården."
            ),
            "reason_en": (
                f"The young person turns 18 on {_fi_date(care.turns_18_on)}: the "
                "representative's task ends; agree on the support for adulthood and after-care."
            ),
            "period_id": "",
            "assumed": False,
        }
    ]
    if care.support_ends_on:
        _ends, decision = support_ends_on_for(client)
        reason = next(
            (r for r in decision.reasons if r.code == "ADULTHOOD_SUPPORT_ENDS"), None
        ) if decision else None  # fmt: skip
        ends = _fi_date(care.support_ends_on)
        due_on, months, _period_id = support_ending_task_on(care.support_ends_on)
        fi, sv, en = months_words(months)
        out.append(
            {
                "kind": Task.Kind.ADULTHOOD_SUPPORT_ENDING,
                "due_on": due_on,
                "rule_code": "ADULTHOOD_SUPPORT_ENDING",
                "rule_section": reason.section if reason else "681/2023",
                "reason_fi": f"Aikuistumisen tuki päättyy {ends} ({fi} päästä). "
                + (reason.text_fi if reason else ""),
                "reason_sv": f"Stödet för vuxenblivandet upphör den {ends} (om {sv}). "
                + (reason.text_sv if reason else ""),
                "reason_en": f"Support for adulthood ends on {ends} (in {en}). "
                + (reason.text_en if reason else ""),
                "period_id": decision.parameters_used.get("adulthood_support", "")
                if decision
                else "",
                "assumed": bool(decision and decision.assumptions),
            }
        )
    return out


def minor_care_sync_tasks(*, care: MinorCare, client: Client) -> list[Task]:
    """Create or move the care record's tasks; tasks no longer called for are closed."""
    wanted = {d["kind"]: d for d in minor_tasks_due(care, client)}
    existing = {t.kind: t for t in Task.objects.filter(source_type="minor_care", source_id=care.id)}
    now = clock.now()
    out = []
    for kind, task in existing.items():
        if kind not in wanted and task.status == Task.Status.OPEN:
            task.status = Task.Status.DONE
            task.computed_at = now
            task.save(update_fields=["status", "computed_at"])
    for kind, d in wanted.items():
        fields = {
            **{k: v for k, v in d.items() if k != "kind"},
            "organisation_id": client.responsible_organisation_id,
            "assignee_id": client.counsellor_id,
            "computed_at": now,
        }
        task = existing.get(kind)
        if task is None:
            task = Task.objects.create(
                client=client, kind=kind, source_type="minor_care", source_id=care.id, **fields
            )
        elif any(getattr(task, k) != v for k, v in fields.items() if k != "computed_at"):
            # stamped only when it changes, as the deadline sweep does: the dashboards'
            # refresh reads the tasks computed since its last run
            for k, v in fields.items():
                setattr(task, k, v)
            task.save()
        out.append(task)
    return out


MINOR_CARE_FIELDS = (
    "housing_form", "representative_name", "representative_contact", "representative_from",
    "representative_to", "after_care_plan_on", "after_care_plan_ends_on",
)  # fmt: skip


@transaction.atomic
def minor_care_update(
    *, actor, care: MinorCare, data: dict, expected_version: int | None = None
) -> MinorCare:
    """Record the form of housing, the representative and the adulthood-support plan. The
    representative acts until the day before the 18th birthday at the latest."""
    client = care.client
    if not permissions.can_edit_minor_care(actor, client):
        raise PermissionDenied()
    locked = MinorCare.objects.select_for_update().get(pk=care.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PlacementConflict()
    errors: dict[str, str] = {}
    unknown = set(data) - set(MINOR_CARE_FIELDS)
    for name in sorted(unknown):
        errors[name] = _("Unknown field.")
    clean: dict = {}
    if "housing_form" in data:
        value = data["housing_form"] or ""
        if value and value not in HousingForm.values:
            errors["housing_form"] = _("Choose a form of housing.")
        clean["housing_form"] = value
    for name in ("representative_name", "representative_contact"):
        if name in data:
            clean[name] = _text(name, data[name], errors, required=False, max_len=200)
    for name in (
        "representative_from", "representative_to", "after_care_plan_on",
        "after_care_plan_ends_on",
    ):  # fmt: skip
        if name in data:
            value = data[name]
            if value in (None, ""):
                clean[name] = None
            elif (d := _as_date(value)) is None:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
            else:
                clean[name] = d
    merged = {f: clean.get(f, getattr(locked, f)) for f in MINOR_CARE_FIELDS}
    last_day = locked.turns_18_on - dt.timedelta(days=1)
    if "representative_to" in clean and clean["representative_to"] is None:
        merged["representative_to"] = clean["representative_to"] = last_day
    if merged["representative_to"] and merged["representative_to"] > last_day:
        errors["representative_to"] = _(
            "A representative acts until the 18th birthday: %(date)s at the latest."
        ) % {"date": _fi_date(last_day)}
    if (
        merged["representative_from"]
        and merged["representative_to"]
        and merged["representative_to"] < merged["representative_from"]
    ):
        errors["representative_to"] = _("The end cannot be before the start.")
    for name in ("representative_from", "after_care_plan_on"):
        day = clean.get(name)
        if day and day > clock.today():
            errors[name] = _("The date cannot be in the future.")
        elif day and day < client.birth_date:
            errors[name] = _("This date cannot be before the birth date.")
    if (
        merged["after_care_plan_on"]
        and merged["after_care_plan_ends_on"]
        and merged["after_care_plan_ends_on"] < merged["after_care_plan_on"]
    ):
        errors["after_care_plan_ends_on"] = _("The end cannot be before the start.")
    if (
        merged["after_care_plan_ends_on"]
        and locked.support_ends_on
        and merged["after_care_plan_ends_on"] > locked.support_ends_on
    ):
        errors["after_care_plan_ends_on"] = _(
            "Support for adulthood ends on %(date)s (681/2023); the plan cannot last longer."
        ) % {"date": _fi_date(locked.support_ends_on)}
    if errors:
        raise ValidationFailed(errors)
    changed = {k: v for k, v in clean.items() if getattr(locked, k) != v}
    for k, v in changed.items():
        setattr(locked, k, v)
    support_ends_on, _decision = support_ends_on_for(client)
    if support_ends_on != locked.support_ends_on:
        changed["support_ends_on"] = locked.support_ends_on = support_ends_on
    _bump(locked, [*MINOR_CARE_FIELDS, "support_ends_on"])
    minor_care_sync_tasks(care=locked, client=client)
    record_event(client, actor, ClientEvent.Kind.MINOR_CARE_RECORDED, {"care": locked.id})
    audit_record(
        actor=actor,
        action="update",
        object_type="minor_care",
        object_id=locked.id,
        client_id=client.id,
        changes={k: _iso(v) if isinstance(v, dt.date) else v for k, v in changed.items()},
    )
    locked.client = client
    return locked
