"""Every write to the client registry: validated, in one transaction, with a timeline event
and an audit record."""

import datetime as dt
import functools
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.fi import hetu as hetu_lib

from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.models import (
    INVERSE_RELATION,
    AccessGrant,
    BreakGlass,
    Client,
    ClientEvent,
    ClientFactChange,
    ClientLanguage,
    ClientName,
    Consent,
    ConsentScope,
    FamilyLink,
    Gender,
    LawFact,
    Meeting,
    NameKind,
    Relation,
    Residence,
    ResidenceBasis,
    Task,
)
from koto.clients.permissions import can_assign_counsellor, can_edit_client
from koto.clients.selectors import counsellor_candidates, possible_duplicates
from koto.clients.signals import client_changed, client_created
from koto.core import clock
from koto.core.errors import DomainError, PermissionDenied, ValidationFailed
from koto.core.forms import FIRST_DATE, LAST_DATE
from koto.core.roles import Perm
from koto.core.text import has_control_characters, normalise_identity_code, search_key
from koto.organisations.models import Organisation, OrganisationKind

BREAK_GLASS_HOURS = 4

LAW_FACTS = tuple(LawFact.values)

# Fields a caller may set through client_create / client_update.
EDITABLE_FIELDS = (
    "first_name", "last_name", "birth_date", "hetu", "gender", "citizenship", "mother_tongue",
    "interpreter_needed", "interpreter_language", "email", "phone", "street_address", "postal_code",
    "post_office", "residence_basis", "first_permit_on", "home_municipality_code",
    "home_municipality_on", "migri_number", "unhcr_number", "other_languages",
    "transliterated_names", *LawFact.values,
)  # fmt: skip


class PossibleDuplicate(DomainError):
    def __init__(self, duplicates: list[Client]) -> None:
        super().__init__(
            "possible_duplicate",
            _(
                "A client with a similar name and the same birth date exists. Check it, or confirm to create a new client."
            ),
            fields={"last_name": _("Similar client exists.")},
        )
        self.duplicates = duplicates

    def as_dict(self) -> dict:
        d = super().as_dict()
        d["duplicates"] = [
            {"id": c.id, "url": reverse("clients:detail", args=[c.id])} for c in self.duplicates
        ]
        return d


class IdentityCodeTaken(ValidationFailed):
    """The identity code is another client's: the answer tells that such a client exists
    (the registry holds each person once), so the attempt is audited against that client
    once the refused write has been rolled back (`_audit_identity_code_taken`)."""

    def __init__(self, client_id: int | None) -> None:
        super().__init__({"hetu": _("A client with this personal identity code already exists.")})
        self.client_id = client_id


def _audit_identity_code_taken(actor, e: IdentityCodeTaken) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor, action="read", object_type="client_identity_code",
            object_id=e.client_id or "", client_id=e.client_id,
            reason="identity code already recorded: write refused",
        )  # fmt: skip


def _holder_of(hetu: str, exclude_id: int | None = None) -> int | None:
    qs = Client.objects.filter(hetu=hetu)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.values_list("id", flat=True).first()


class EditConflict(DomainError):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "edit_conflict",
            _(
                "Someone else changed this client while you were editing. Reload to see their changes."
            ),
            fields={"version": _("The record has changed since you opened it.")},
        )


# Other spellings of a client's name (transliterations), each searchable.
MAX_TRANSLITERATED = 20


@dataclass
class CleanClient:
    values: dict = field(default_factory=dict)
    other_languages: list[str] | None = None
    transliterated_names: list[tuple[str, str]] | None = None


def _clean(
    data: dict,
    *,
    existing: Client | None = None,
    municipality_cache: dict[str, Organisation] | None = None,
) -> CleanClient:
    """Validate a dict of client fields; raise ValidationFailed naming every bad field."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    errors: dict[str, list[str]] = {k: [_("Unknown field.")] for k in sorted(unknown)}
    out = CleanClient()
    v = out.values

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def text(name: str, max_len: int, required: bool = False) -> None:
        if name not in data:
            if required and existing is None:
                err(name, _("This field is required."))
            return
        value = (data[name] or "").strip() if isinstance(data[name], str | type(None)) else None
        if value is None:
            err(name, _("Enter text."))
        elif required and not value:
            err(name, _("This field is required."))
        elif len(value) > max_len:
            err(name, _("At most %(n)s characters.") % {"n": max_len})
        else:
            v[name] = value

    def date(name: str, required: bool = False) -> None:
        if name not in data:
            if required and existing is None:
                err(name, _("This field is required."))
            return
        value = data[name]
        if value in (None, ""):
            if required:
                err(name, _("This field is required."))
            else:
                v[name] = None
            return
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                err(name, _("Enter a date as YYYY-MM-DD."))
                return
        if not isinstance(value, dt.date):
            err(name, _("Enter a date as YYYY-MM-DD."))
            return
        if not FIRST_DATE <= value <= LAST_DATE:
            # the form and the API refuse these; an import's "0202-05-01" was stored
            err(name, _("Give a date from %(first)s to %(last)s.") % {"first": "1.1.1900", "last": "31.12.2100"})  # fmt: skip
            return
        v[name] = value

    def boolean(name: str) -> None:
        if name in data:
            if isinstance(data[name], bool):
                v[name] = data[name]
            else:
                err(name, _("Enter true or false."))

    text("first_name", 150, required=True)
    text("last_name", 150, required=True)
    for name in ("first_name", "last_name"):
        if name in v and has_control_characters(v[name]):
            err(name, _("Names cannot hold control or text-direction characters."))
    date("birth_date", required=True)
    for name, n in [("email", 254), ("phone", 30), ("street_address", 200), ("postal_code", 10),
                    ("post_office", 100), ("migri_number", 20), ("unhcr_number", 30)]:  # fmt: skip
        text(name, n)
    if v.get("email"):
        # as the client form's EmailField: the API and the import took any text
        try:
            validate_email(v["email"])
        except DjangoValidationError:
            err("email", _("Enter a valid email address."))
    date("first_permit_on")
    date("home_municipality_on")
    for name in ("interpreter_needed", *LAW_FACTS):
        boolean(name)

    if "hetu" in data:
        raw = normalise_identity_code(data["hetu"]) if isinstance(data["hetu"], str) else ""
        if raw:
            try:
                v["hetu"] = hetu_lib.validate(raw)
            except stdnum_exceptions.ValidationError:
                if _is_temporary_hetu(raw):
                    err("hetu", _("This is a temporary identity code (individual number 900–999), "
                                  "not a personal identity code: leave the field empty and the "
                                  "client is given a temporary id."))  # fmt: skip
                else:
                    err("hetu", _("This is not a valid Finnish personal identity code."))
        else:
            v["hetu"] = None
    if "gender" in data:
        if data["gender"] in Gender.values:
            v["gender"] = data["gender"]
        else:
            err("gender", _("Choose one of: %(choices)s.") % {"choices": ", ".join(Gender.values)})
    if "citizenship" in data:
        c = (data["citizenship"] or "").strip().upper()
        if c and not codes.is_country(c, stateless=True):
            err("citizenship", _("Unknown country code (ISO 3166)."))
        else:
            v["citizenship"] = codes.normalise_country(c) if c else ""
    for name in ("mother_tongue", "interpreter_language"):
        if name in data:
            c = (data[name] or "").strip().lower()
            if c and not codes.is_language(c):
                err(name, _("Unknown language code (ISO 639)."))
            else:
                v[name] = codes.normalise_language(c) if c else ""
    if "residence_basis" in data:
        b = data["residence_basis"] or ""
        if b and b not in ResidenceBasis.values:
            err("residence_basis", _("Unknown residence basis."))
        else:
            v["residence_basis"] = b
    if "home_municipality_code" in data:
        code = (data["home_municipality_code"] or "").strip()
        if code:
            if municipality_cache is not None:
                org = municipality_cache.get(code)
            else:
                org = Organisation.objects.filter(
                    kind=OrganisationKind.MUNICIPALITY, municipality_code=code
                ).first()
            if org is None:
                err("home_municipality_code", _("Unknown municipality code."))
            else:
                v["home_municipality"] = org
        else:
            v["home_municipality"] = None
    if "other_languages" in data:
        langs = data["other_languages"] or []
        if isinstance(langs, str):
            langs = [x for x in langs.replace(";", ",").split(",")]
        clean = []
        for lang in langs:
            lang = lang.strip().lower()
            if not lang:
                continue
            if not codes.is_language(lang):
                err(
                    "other_languages",
                    _("Unknown language code (ISO 639): %(code)s") % {"code": lang},
                )
            elif codes.normalise_language(lang) not in clean:
                clean.append(codes.normalise_language(lang))
        out.other_languages = clean
    if "transliterated_names" in data:
        names = []
        items = data["transliterated_names"] or []
        if len(items) > MAX_TRANSLITERATED:
            err("transliterated_names", _("At most %(n)s name forms.") % {"n": MAX_TRANSLITERATED})
            items = []
        for item in items:
            if isinstance(item, str):
                item = parse_name_form_line(item)
            if not (
                isinstance(item, (list, tuple))
                and len(item) == 2
                and all(isinstance(p, str) or p is None for p in item)
            ):
                err("transliterated_names", _("Give each name form as first names and last name."))
                break
            first, last = (item[0] or "").strip(), (item[1] or "").strip()
            if len(first) > 150 or len(last) > 150:  # ClientName's columns
                err("transliterated_names", _("At most %(n)s characters.") % {"n": 150})
                break
            if has_control_characters(first + last):
                err(
                    "transliterated_names",
                    _("Names cannot hold control or text-direction characters."),
                )
                break
            if first or last:
                names.append((first, last))
        out.transliterated_names = names

    # Cross-field checks on the resulting record.
    merged = (
        {
            f: getattr(existing, f)
            for f in ("birth_date", "hetu", "first_permit_on", "home_municipality_on")
        }
        if existing
        else {}
    )
    merged.update(
        {
            k: v[k]
            for k in ("birth_date", "hetu", "first_permit_on", "home_municipality_on")
            if k in v
        }
    )
    birth = merged.get("birth_date")
    if merged.get("hetu") and birth and "birth_date" not in errors and "hetu" not in errors:
        if _hetu_birth_date(merged["hetu"]) != birth:
            err("birth_date", _("The birth date does not match the personal identity code."))
    if birth and birth > clock.today():
        err("birth_date", _("The birth date cannot be in the future."))
    for name in ("first_permit_on", "home_municipality_on"):
        d = merged.get(name)
        if d and birth and d < birth:
            err(name, _("This date cannot be before the birth date."))
    basis = (
        v["residence_basis"] if "residence_basis" in v else getattr(existing, "residence_basis", "")
    )
    if (
        ("residence_basis" in v or "first_permit_on" in v)
        and basis == ResidenceBasis.ASYLUM_SEEKER
        and merged.get("first_permit_on")
        and "first_permit_on" not in errors
    ):
        # the law's decision refused the record, and the client's page showed the
        # engine's English message; the deadline sweep skipped the client
        err("first_permit_on", _("An asylum seeker has no residence permit yet: leave the date "
                                 "empty, or record the basis of the permit granted."))  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    return out


def parse_name_form_line(line: str) -> tuple[str, str]:
    """A name form typed on one line, as (first names, last name): "Al Hassan, Ali" (a
    last name of several words, first, with a comma) or "Ali Hassan" (the last word is the
    last name)."""
    line = line.strip()
    if "," in line:
        last, first = line.split(",", 1)
        return first.strip(), last.strip()
    parts = line.rsplit(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])


def name_form_line(first: str, last: str) -> str:
    """The line `parse_name_form_line` reads back as (first, last): "Al Hassan, Ali" where
    the last name has several words, ", Ali" for a first name alone (read back as "Ali" it
    became a last name at every save of the form), "Ali Hassan" otherwise."""
    if " " in last.strip() or "," in first or (first.strip() and not last.strip()):
        return f"{last}, {first}".rstrip()
    return f"{first} {last}".strip()


def _is_temporary_hetu(code: str) -> bool:
    try:
        hetu_lib.validate(code, allow_temporary=True)
    except stdnum_exceptions.ValidationError:
        return False
    return True


def _hetu_birth_date(code: str) -> dt.date:
    """The birth date a valid identity code encodes (python-stdnum validates, not decodes)."""
    century = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
               "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}[code[6]]  # fmt: skip
    return dt.date(century + int(code[4:6]), int(code[2:4]), int(code[0:2]))


def _new_temporary_id() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "TMP-" + "".join(secrets.choice(alphabet) for _ in range(8))


def _sort_key(first: str, last: str) -> str:
    return search_key(f"{last} {first}")[:310]


def _name_row(client: Client, kind: str, first: str, last: str) -> ClientName:
    return ClientName(
        client=client,
        organisation_id=client.responsible_organisation_id,
        kind=kind,
        first_name=first,
        last_name=last,
        key_last_first=search_key(f"{last} {first}")[:310],
        key_first_last=search_key(f"{first} {last}")[:310],
    )


def casework_owner(actor, client):
    """Who owns casework the actor starts (an assessment, a plan): the actor, or for a
    system account (an API token) the client's counsellor in the same organisation, so the
    statutory tasks of that casework reach a person's "my work", not the integration's."""
    if not actor.is_system:
        return actor
    membership = actor.active_membership
    if (
        client.counsellor_id
        and membership is not None
        and client.responsible_organisation_id == membership.organisation_id
    ):
        return client.counsellor
    return actor


def record_event(client: Client, actor, kind: str, data: dict | None = None) -> ClientEvent:
    """Add an event to the client's timeline (other apps' services call this too)."""
    membership = getattr(actor, "active_membership", None)
    return ClientEvent.objects.create(
        client=client,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        organisation=membership.organisation if membership else None,
        data=data or {},
    )


def _jsonable(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Organisation):
        return value.code
    return value


def _sync_official_name(client: Client) -> None:
    official = client.names.filter(kind=NameKind.OFFICIAL).first()
    row = _name_row(client, NameKind.OFFICIAL, client.first_name, client.last_name)
    if official is None:
        row.save()
    else:
        official.first_name, official.last_name = row.first_name, row.last_name
        official.key_last_first, official.key_first_last = row.key_last_first, row.key_first_last
        official.save()


def _end_residence(client: Client, *, left_on: dt.date) -> dict | None:
    """The municipality of residence cleared (the client left Finland, or it was entered by
    mistake): the residence in force ends the day before `left_on`, or is superseded when
    it had not begun by then. Without this it stayed open, and State compensation went on
    being counted for the old municipality (`funding.compensation`). The change is returned
    for the audit record."""
    current = (
        client.residences.filter(superseded_at__isnull=True, to_on__isnull=True)
        .order_by("-from_on", "-id")
        .first()
    )
    if current is None:
        return None
    if left_on <= current.from_on:
        current.superseded_at = clock.now()
        current.save(update_fields=["superseded_at"])
        return {"residence": current.id, "superseded": True}
    current.to_on = left_on - dt.timedelta(days=1)
    current.save(update_fields=["to_on"])
    return {"residence": current.id, "to_on": current.to_on.isoformat()}


def _record_residence(client: Client, *, moved: bool) -> dict | None:
    """Keep the residence history in step with the current municipality of residence: the
    client lives in `home_municipality` from `home_municipality_on` on, so no other
    residence covers that day or any after it. A residence that began on or after it is
    superseded (kept, marked: `Residence.in_force` leaves it out, the rollup refresh still
    sees its municipality); one that ran past it ends the day before. Where only the date
    changed (not `moved`: the same municipality, the move recorded on the wrong day) the
    current residence's first day is corrected, and a later day gives the days between back
    to the residence before it; a municipality set again (one cleared and set, a client
    back) is a new residence. The first kotikunta date follows the history's first day
    where the two were in step; the change is returned ({"from": …, "to": …}) for the audit
    record."""
    municipality, since = client.home_municipality_id, client.home_municipality_on
    if municipality is None or since is None:
        return None
    rows = list(client.residences.filter(superseded_at__isnull=True).order_by("from_on", "id"))
    in_step = bool(rows) and client.first_home_municipality_on == rows[0].from_on
    day_before = since - dt.timedelta(days=1)
    current = next((r for r in reversed(rows) if r.to_on is None), None)
    same = current is not None and current.municipality_id == municipality
    if same and current.from_on == since:
        return None
    if same and not moved:
        if since > current.from_on:
            ended = current.from_on - dt.timedelta(days=1)
            # the residence the recorded move ended, if any
            before = next((r for r in reversed(rows) if r.to_on == ended), None)
            if before is not None:
                before.to_on = day_before
                before.save(update_fields=["to_on"])
        current.from_on = since
        current.save(update_fields=["from_on"])
    else:
        current = Residence.objects.create(
            client=client, municipality_id=municipality, from_on=since
        )
    now = clock.now()
    for r in rows:
        if r is current:
            continue
        if r.from_on >= since:
            r.superseded_at = now
            r.save(update_fields=["superseded_at"])
        elif r.to_on is None or r.to_on > day_before:
            r.to_on = day_before
            r.save(update_fields=["to_on"])
    if not in_step:
        return None
    first = min(r.from_on for r in [*rows, current] if r.superseded_at is None)
    if first == client.first_home_municipality_on:
        return None
    change = {"from": _jsonable(client.first_home_municipality_on), "to": _jsonable(first)}
    client.first_home_municipality_on = first
    client.save(update_fields=["first_home_municipality_on"])
    return change


def _check_facts_valid_from(client: Client, changed: dict, valid_from: dt.date) -> None:
    """A situation change is dated today or earlier, not before the client's birth, and
    not before a change of the same fact already recorded: the history applies in date
    order, so a change dated before a later one left every day after that one as it was
    (the record said "not a jobseeker", the past decisions from May still "jobseeker")."""
    if valid_from > clock.today():
        raise ValidationFailed(
            {"facts_valid_from": _("A change of the situation cannot be dated in the future.")}
        )
    if client.birth_date and valid_from < client.birth_date:
        raise ValidationFailed(
            {"facts_valid_from": _("This date cannot be before the birth date.")}
        )
    latest = (
        ClientFactChange.objects.filter(client=client, fact__in=list(changed))
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    if latest is not None and valid_from < latest:
        raise ValidationFailed(
            {
                "facts_valid_from": _(
                    "The situation was last changed from %(date)s: date this change on "
                    "that day or later."
                )
                % {"date": date_format(latest, "SHORT_DATE_FORMAT")}
            }
        )


def _record_fact_changes(client: Client, actor, changed: dict, valid_from: dt.date) -> None:
    ClientFactChange.objects.bulk_create(
        ClientFactChange(
            client=client,
            fact=fact,
            value=value,
            valid_from=valid_from,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for fact, value in changed.items()
    )


def _require(actor, perm: str) -> None:
    if not actor.has_perm_in_org(perm):
        raise PermissionDenied()


def _audits_identity_code_taken(service):
    """The service, and the audit of an identity code it found taken, written once its
    transaction has been rolled back."""

    @functools.wraps(service)
    def wrapper(*, actor, **kwargs):
        try:
            return service(actor=actor, **kwargs)
        except IdentityCodeTaken as e:
            _audit_identity_code_taken(actor, e)
            raise

    return wrapper


@_audits_identity_code_taken
@transaction.atomic
def client_create(
    *,
    actor,
    data: dict,
    organisation: Organisation | None = None,
    confirm_duplicate: bool = False,
    facts_valid_from: dt.date | None = None,
    event_kind: str = ClientEvent.Kind.CREATED,
    audit_reason: str = "",
) -> Client:
    """Create a client in the actor's organisation (or `organisation`, for imports run by a
    system job). The same identity code twice is refused; a similar name with the same birth
    date raises PossibleDuplicate unless `confirm_duplicate`."""
    if organisation is None:
        _require(actor, Perm.CLIENT_CREATE)
        organisation = actor.active_membership.organisation
    clean = _clean(data)
    v = clean.values
    if v.get("hetu") and (holder := _holder_of(v["hetu"])) is not None:
        raise IdentityCodeTaken(holder)
    if not confirm_duplicate:
        dups = possible_duplicates(
            user=actor,
            first_name=v["first_name"],
            last_name=v["last_name"],
            birth_date=v["birth_date"],
        )
        if dups:
            raise PossibleDuplicate(dups)
    if v.get("hetu") and v.get("gender", Gender.UNKNOWN) == Gender.UNKNOWN:
        v["gender"] = Gender.FEMALE if int(v["hetu"][9]) % 2 == 0 else Gender.MALE
    client = Client(
        responsible_organisation=organisation,
        sort_key=_sort_key(v["first_name"], v["last_name"]),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        # the maker is the counsellor when they do casework (a guidance adviser who
        # registers a client cannot start its assessment: its task went to them)
        counsellor=actor
        if getattr(actor, "is_authenticated", False)
        and not actor.is_system
        and actor.has_perm_in_org(Perm.CLIENT_EDIT)
        else None,
        **v,
    )
    if client.home_municipality_on:
        client.first_home_municipality_on = client.home_municipality_on
    if not client.hetu:
        client.temporary_id = _new_temporary_id()
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as e:
        raise IdentityCodeTaken(_holder_of(v["hetu"]) if v.get("hetu") else None) from e
    _sync_official_name(client)
    _record_residence(client, moved=True)
    if clean.transliterated_names:
        ClientName.objects.bulk_create(
            _name_row(client, NameKind.TRANSLITERATED, f, la)
            for f, la in clean.transliterated_names
        )
    if clean.other_languages:
        ClientLanguage.objects.bulk_create(
            ClientLanguage(client=client, language=c) for c in clean.other_languages
        )
    facts = {f: v[f] for f in LawFact.values if v.get(f)}
    if facts:
        if facts_valid_from is not None:
            # as on an edit: not ahead, not before birth (a 2099 start left every decision
            # until then without the facts)
            _check_facts_valid_from(client, facts, facts_valid_from)
        _record_fact_changes(client, actor, facts, facts_valid_from or clock.today())
    record_event(client, actor, event_kind, {"organisation": organisation.code})
    audit_record(
        actor=actor,
        action="create",
        object_type="client",
        object_id=client.id,
        client_id=client.id,
        reason=audit_reason,
        changes={k: _jsonable(val) for k, val in v.items() if k not in Client.SENSITIVE_FIELDS},
    )
    client_created.send(sender=Client, client=client, actor=actor)
    return client


@_audits_identity_code_taken
@transaction.atomic
def client_update(
    *,
    actor,
    client: Client,
    data: dict,
    expected_version: int | None = None,
    facts_valid_from: dt.date | None = None,
    municipality_corrected: bool = False,
) -> Client:
    """Update fields; law-fact changes are kept with `facts_valid_from` (default today).
    `expected_version` guards against a silent overwrite of someone else's edit. Another
    municipality of residence from the same day is a correction (the one recorded was
    wrong, `municipality_corrected`: the residence is replaced over its whole time); a move
    comes with the day of the move."""
    if not can_edit_client(actor, client):
        raise PermissionDenied()
    clean = _clean(data, existing=client)
    v = clean.values
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if expected_version is not None and locked.version != expected_version:
        raise EditConflict()
    if v.get("hetu") and (holder := _holder_of(v["hetu"], exclude_id=client.pk)) is not None:
        raise IdentityCodeTaken(holder)
    if "home_municipality" in v and v["home_municipality"] is None and locked.home_municipality_id:
        # cleared: the residence ends the day before the change's day (`_end_residence`), a
        # day that has come and not before birth (a future one went on counting compensation
        # until then); its "since" goes with it, so a municipality set again later starts a
        # residence of its own, not one from the old day over the time away
        left_on = facts_valid_from or clock.today()
        if left_on > clock.today():
            raise ValidationFailed({"facts_valid_from": _("The client cannot have left on a day to come.")})  # fmt: skip
        if locked.birth_date and left_on < locked.birth_date:
            raise ValidationFailed({"facts_valid_from": _("This date cannot be before the birth date.")})  # fmt: skip
        v["home_municipality_on"] = None
    elif (
        v.get("home_municipality") is not None
        and locked.home_municipality_id is not None
        and v["home_municipality"].id != locked.home_municipality_id
        and locked.home_municipality_on is not None
        and v.get("home_municipality_on", locked.home_municipality_on)
        == locked.home_municipality_on
        and not municipality_corrected
    ):
        # The form sends the old "since" back: a move recorded by changing the municipality
        # alone replaced the whole residence, and every month of State compensation paid to
        # the old municipality moved to the new one.
        raise ValidationFailed(
            {
                "home_municipality_on": _(
                    "Give the day the client moved to the new municipality. If the "
                    "municipality was recorded wrongly, mark the change as a correction."
                )
            }
        )
    changes: dict = {}
    fact_changes: dict = {}
    for name, value in v.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = {"from": _jsonable(old), "to": _jsonable(value)}
            setattr(locked, name, value)
            if name in LawFact.values:
                fact_changes[name] = value
    if fact_changes and facts_valid_from is not None:
        _check_facts_valid_from(locked, fact_changes, facts_valid_from)
    if clean.other_languages is not None:
        current = list(locked.languages.values_list("language", flat=True))
        if sorted(current) != sorted(clean.other_languages):
            locked.languages.all().delete()
            ClientLanguage.objects.bulk_create(
                ClientLanguage(client=locked, language=c) for c in clean.other_languages
            )
            changes["other_languages"] = {"from": current, "to": clean.other_languages}
    if clean.transliterated_names is not None:
        current = [
            (n.first_name, n.last_name)
            for n in locked.names.filter(kind=NameKind.TRANSLITERATED).order_by("id")
        ]
        if sorted(current) != sorted(clean.transliterated_names):
            locked.names.filter(kind=NameKind.TRANSLITERATED).delete()
            ClientName.objects.bulk_create(
                _name_row(locked, NameKind.TRANSLITERATED, f, la)
                for f, la in clean.transliterated_names
            )
            changes["transliterated_names"] = {"from": current, "to": clean.transliterated_names}
    if not changes:
        locked.access = client.access
        return locked
    if (
        "home_municipality_on" in changes
        and locked.home_municipality_on
        and not locked.first_home_municipality_on
    ):
        locked.first_home_municipality_on = locked.home_municipality_on
    if not locked.hetu and not locked.temporary_id:
        locked.temporary_id = _new_temporary_id()
    locked.sort_key = _sort_key(locked.first_name, locked.last_name)
    locked.version += 1
    locked.updated_at = clock.now()
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as e:
        # another client given the same code at the same moment (the check above passed
        # for both): the unique index refuses the second, named as the check would
        raise IdentityCodeTaken(
            _holder_of(v["hetu"], exclude_id=client.pk) if v.get("hetu") else None
        ) from e
    if "first_name" in changes or "last_name" in changes:
        _sync_official_name(locked)
    if "home_municipality" in changes and locked.home_municipality_id is None:
        ended = _end_residence(locked, left_on=facts_valid_from or clock.today())
        if ended is not None:
            changes["residence_ended"] = ended
    elif "home_municipality" in changes or "home_municipality_on" in changes:
        first = _record_residence(locked, moved="home_municipality" in changes)
        if first is not None:
            changes["first_home_municipality_on"] = first
    if fact_changes:
        _record_fact_changes(locked, actor, fact_changes, facts_valid_from or clock.today())
        record_event(
            locked,
            actor,
            ClientEvent.Kind.FACT_CHANGED,
            {"facts": {k: bool(x) for k, x in fact_changes.items()}},
        )
    other = sorted(set(changes) - set(fact_changes))
    if other:
        record_event(locked, actor, ClientEvent.Kind.UPDATED, {"fields": other})
    client_changed.send(sender=Client, client=locked, actor=actor, changed=frozenset(changes))
    audit_record(
        actor=actor,
        action="update",
        object_type="client",
        object_id=locked.id,
        client_id=locked.id,
        changes={
            k: ({"from": "***", "to": "***"} if k in Client.SENSITIVE_FIELDS else c)
            for k, c in changes.items()
        },
    )
    locked.access = client.access
    return locked


@transaction.atomic
def client_assign_counsellor(
    *, actor, client: Client, counsellor, expected_version: int | None = None
) -> Client:
    """Make `counsellor` (a user, or None for nobody) the client's counsellor: one of the
    actor's organisation whose role edits clients (`selectors.counsellor_candidates`). The
    client's own open tasks (the assessment's start, an unaccompanied minor's care) go with
    the client; a plan's stay with the plan's counsellor. Only the client's organisation
    (or one serving it under an agreement) chooses: not one reaching it by a grant. Imported clients had nobody, and a counsellor who left kept
    their clients: nothing could change it."""
    if not can_assign_counsellor(actor, client):
        raise PermissionDenied()
    org_id = actor.active_membership.organisation_id
    if counsellor is not None and counsellor.id not in {
        u.id for u in counsellor_candidates(organisation_id=org_id)
    }:
        raise ValidationFailed(
            {"counsellor": _("Choose a member of your organisation who works with clients.")}
        )
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if expected_version is not None and locked.version != expected_version:
        raise EditConflict()
    before = locked.counsellor
    if (before.id if before else None) == (counsellor.id if counsellor else None):
        locked.access = client.access
        return locked
    locked.counsellor = counsellor
    locked.version += 1
    locked.updated_at = clock.now()
    locked.save(update_fields=["counsellor", "version", "updated_at"])
    # the client's own (the assessment's start) and its care's as an unaccompanied minor
    moved = Task.objects.filter(
        client=locked, source_type__in=("client", "minor_care"), status=Task.Status.OPEN
    ).update(assignee=counsellor)
    record_event(locked, actor, ClientEvent.Kind.UPDATED, {"fields": ["counsellor"]})
    audit_record(
        actor=actor,
        action="update",
        object_type="client",
        object_id=locked.id,
        client_id=locked.id,
        changes={
            "counsellor": {
                "from": before.username if before else None,
                "to": counsellor.username if counsellor else None,
            },
            "tasks_moved": moved,
        },
    )
    locked.access = client.access
    return locked


@transaction.atomic
def family_link_add(*, actor, client: Client, relative: Client, relation: str) -> FamilyLink:
    if not can_edit_client(actor, client):
        raise PermissionDenied()
    if relation not in Relation.values:
        raise ValidationFailed({"relation": _("Unknown relation.")})
    if relative.pk == client.pk:
        raise ValidationFailed({"relative": _("A client cannot be their own relative.")})
    # the link is written on both records: the relative's too must be the actor's to edit
    # (`access` as the selector that fetched it set it), not one read under a grant
    if not can_edit_client(actor, relative):
        raise ValidationFailed(
            {"relative": _("You may link only a client whose record you may edit.")}
        )
    inverse = INVERSE_RELATION[Relation(relation)]
    # both records locked, in id order: two adds of one pair at the same moment wait for
    # each other instead of one failing on the unique pair (a 500)
    list(Client.objects.select_for_update().filter(pk__in=[client.pk, relative.pk]).order_by("pk"))
    before = dict(
        FamilyLink.objects.filter(client__in=[client, relative], relative__in=[client, relative])
        .values_list("client_id", "relation")
    )  # fmt: skip
    link, _created = FamilyLink.objects.update_or_create(
        client=client, relative=relative, defaults={"relation": relation}
    )
    back, _created = FamilyLink.objects.update_or_create(
        client=relative, relative=client, defaults={"relation": inverse}
    )
    for row, one, other, rel in (
        (link, client, relative, relation),
        (back, relative, client, inverse),
    ):
        old = before.get(one.id)
        if old == rel:
            continue  # already so: nothing written, nothing to record
        record_event(
            one, actor, ClientEvent.Kind.FAMILY_LINKED, {"relative_id": other.id, "relation": rel}
        )
        audit_record(
            actor=actor, action="create" if old is None else "update", object_type="family_link",
            object_id=row.id, client_id=one.id,
            changes={"relative_id": other.id, "relation": rel if old is None else {"from": old, "to": rel}},
        )  # fmt: skip
    return link


@transaction.atomic
def consent_record(
    *,
    actor,
    client: Client,
    organisation: Organisation,
    scope: str,
    given_on: dt.date,
    note: str = "",
) -> Consent:
    if not can_edit_client(actor, client):
        raise PermissionDenied()
    if scope not in ConsentScope.values:
        raise ValidationFailed({"scope": _("Unknown scope.")})
    if given_on > clock.today():
        raise ValidationFailed({"given_on": _("The date cannot be in the future.")})
    consent = Consent.objects.create(
        client=client,
        organisation=organisation,
        scope=scope,
        given_on=given_on,
        note=note,
        recorded_by=actor,
    )
    record_event(
        client,
        actor,
        ClientEvent.Kind.CONSENT_GIVEN,
        {"organisation": organisation.code, "scope": scope},
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="consent",
        object_id=consent.id,
        client_id=client.id,
        changes={
            "organisation": organisation.code,
            "scope": scope,
            "given_on": given_on.isoformat(),
        },
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor, client: Client, consent: Consent, withdrawn_on: dt.date) -> Consent:
    if consent.client_id != client.id:
        raise ValidationFailed({"consent": _("The consent belongs to another client.")})
    if not can_edit_client(actor, client):
        raise PermissionDenied()
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_on is not None:
        # withdrawing again rewrote the date the client withdrew it
        raise ValidationFailed(
            {"withdrawn_on": _("The consent was already withdrawn on %(date)s.")
             % {"date": date_format(consent.withdrawn_on, "SHORT_DATE_FORMAT")}}
        )  # fmt: skip
    if withdrawn_on < consent.given_on:
        raise ValidationFailed(
            {"withdrawn_on": _("The date cannot be before the consent was given.")}
        )
    if withdrawn_on > clock.today():
        raise ValidationFailed({"withdrawn_on": _("The date cannot be in the future.")})
    consent.withdrawn_on = withdrawn_on
    consent.save(update_fields=["withdrawn_on"])
    record_event(
        client,
        actor,
        ClientEvent.Kind.CONSENT_WITHDRAWN,
        {"organisation": consent.organisation.code},
    )
    audit_record(
        actor=actor,
        action="update",
        object_type="consent",
        object_id=consent.id,
        client_id=consent.client_id,
        changes={"withdrawn_on": withdrawn_on.isoformat()},
    )
    return consent


@transaction.atomic
def break_glass_open(*, actor, client_id: int, reason: str) -> BreakGlass:
    """Emergency access to a client outside the viewer's reach: a reason of at least 10
    characters is required; access lasts BREAK_GLASS_HOURS and is audited."""
    _require(actor, Perm.CLIENT_BREAK_GLASS)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed(
            {"reason": _("Explain why you need access (at least 10 characters).")}
        )
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise ValidationFailed({"client": _("No such client.")})
    grant = BreakGlass.objects.create(
        user=actor,
        organisation=actor.active_membership.organisation,
        client=client,
        reason=reason,
        expires_at=clock.now() + dt.timedelta(hours=BREAK_GLASS_HOURS),
    )
    record_event(client, actor, ClientEvent.Kind.BREAK_GLASS, {"reason": reason})
    audit_record(
        actor=actor,
        action="break_glass",
        object_type="client",
        object_id=client.id,
        client_id=client.id,
        reason=reason,
    )
    return grant


def access_grant_open(
    *,
    actor,
    client: Client,
    organisation: Organisation,
    scope: str,
    source: str,
    source_id: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
):
    """Give another organisation access to one client (used by accepted referrals)."""
    with transaction.atomic():
        grant = AccessGrant.objects.create(
            client=client,
            organisation=organisation,
            scope=scope,
            source=source,
            source_id=source_id,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        audit_record(
            actor=actor,
            action="create",
            object_type="access_grant",
            object_id=grant.id,
            client_id=client.id,
            changes={
                "organisation": organisation.code,
                "scope": scope,
                "source": source,
                "source_id": source_id,
            },
        )
    return grant


MEETING_TEXT = {"purpose": 200, "interpreter_provider": 200, "notes": 5000}


@transaction.atomic
def meeting_record(*, actor, client: Client, data: dict) -> Meeting:
    """Record a meeting with the interpreting used and whether the client came."""
    if not can_edit_client(actor, client):
        raise PermissionDenied()
    errors: dict[str, str] = {}
    held_on = data.get("held_on")
    if not isinstance(held_on, dt.date):
        errors["held_on"] = _("Enter a date as YYYY-MM-DD.")
    elif held_on > clock.today() + dt.timedelta(days=366):
        errors["held_on"] = _("The date is too far in the future.")
    values = {}
    for name, n in MEETING_TEXT.items():
        value = (data.get(name) or "").strip()
        if len(value) > n:
            errors[name] = _("At most %(n)s characters.") % {"n": n}
        values[name] = value
    if not values["purpose"]:
        errors["purpose"] = _("This field is required.")
    mode = data.get("interpreter_mode") or ""
    if mode not in Meeting.InterpreterMode.values:
        errors["interpreter_mode"] = _("Unknown choice.")
    lang = (data.get("interpreter_language") or "").strip()
    if lang and not codes.is_language(lang):
        errors["interpreter_language"] = _("Unknown language code (ISO 639).")
    if mode and not lang:
        errors["interpreter_language"] = _("Give the interpreting language.")
    minutes, cost = data.get("interpreter_minutes"), data.get("interpreter_cost")
    if minutes is not None and (not isinstance(minutes, int) or minutes < 0 or minutes > 24 * 60):
        errors["interpreter_minutes"] = _("Enter minutes from 0 to 1440.")
    if isinstance(cost, int):
        cost = Decimal(cost)
    if cost is not None and not (isinstance(cost, Decimal) and cost.is_finite()):
        errors["interpreter_cost"] = _("Enter a number.")
    elif cost is not None and cost < 0:
        errors["interpreter_cost"] = _("The cost cannot be negative.")
    elif cost is not None and cost.as_tuple().exponent < -2:
        # 9 999 999.995 passed the bound below, was rounded to 10 000 000.00 and overflowed
        # the column (a 500 on PostgreSQL); 12.345 was rounded silently
        errors["interpreter_cost"] = _("Enter the cost in euros and cents (at most two decimals).")
    elif cost is not None and cost > Decimal("9999999.99"):  # the column: 9 digits, 2 decimals
        errors["interpreter_cost"] = _("Enter at most %(n)s euros.") % {"n": "9 999 999.99"}
    if errors:
        raise ValidationFailed(errors)
    meeting = Meeting.objects.create(
        client=client,
        organisation=actor.active_membership.organisation,
        counsellor=actor,
        held_on=held_on,
        interpreter_mode=mode,
        interpreter_language=codes.normalise_language(lang) if lang else "",
        interpreter_minutes=minutes,
        interpreter_cost=cost,
        client_no_show=bool(data.get("client_no_show")),
        no_show_reason_accepted=bool(data.get("no_show_reason_accepted")),
        **values,
    )
    record_event(
        client,
        actor,
        ClientEvent.Kind.MEETING,
        {"meeting_id": meeting.id, "no_show": meeting.client_no_show},
    )
    audit_record(
        actor=actor, action="create", object_type="meeting", object_id=meeting.id, client_id=client.id,
        changes={"held_on": held_on.isoformat(), "interpreter_mode": mode, "no_show": meeting.client_no_show},
    )  # fmt: skip
    return meeting
