"""Every write to the guidance log: validated, in one transaction, with an audit record.

Logging a contact for a known client writes no timeline event (the timeline has no guidance
kind yet); the audit record names the client."""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.selectors import client_by_identifier_for
from koto.core import clock
from koto.core.errors import NotFound, PermissionDenied, ValidationFailed
from koto.guidance import summary
from koto.guidance.models import (
    Channel,
    Contact,
    ContactKind,
    ContactReason,
    Outcome,
    PartnerType,
    ReasonCode,
    Theme,
)
from koto.guidance.permissions import can_log_contacts, can_manage_reasons

# The seed deck's reason codes (Lahti guidance service), in display order.
DEFAULT_REASONS = (
    ("immigration_process", Theme.PARTICIPATION, "Maahanmuuttoprosessi (oleskeluluvat, rekisteröinti, perheenyhdistäminen)", "Invandringsprocessen (uppehållstillstånd, registrering, familjeåterförening)", "Immigration process (permits, registration, family reunification)"),
    ("job_search", Theme.EMPLOYMENT, "Työnhaku", "Jobbsökning", "Job search"),
    ("benefits", Theme.WELLBEING, "Etuudet", "Förmåner", "Benefits"),
    ("housing_family_school", Theme.HOUSING, "Asuminen, perhe ja koulu", "Boende, familj och skola", "Housing, family and school"),
    ("money_tax_banking", Theme.PARTICIPATION, "Raha-asiat, verotus ja pankki", "Pengar, skatter och bank", "Money, tax and banking"),
    ("education_language", Theme.EDUCATION, "Koulutus ja suomen kielen opinnot", "Utbildning och finskstudier", "Education and Finnish studies"),
    ("health_social", Theme.WELLBEING, "Terveys- ja sosiaalipalvelut", "Hälso- och socialtjänster", "Health and social services"),
    ("other", Theme.PARTICIPATION, "Muu", "Annat", "Other"),
)  # fmt: skip

MAX_MINUTES = 24 * 60


def reasons_seed() -> int:
    """Create the default reason codes that are missing (idempotent). Returns how many."""
    existing = set(ReasonCode.objects.values_list("code", flat=True))
    new = [
        ReasonCode(code=code, theme=theme, label_fi=fi, label_sv=sv, label_en=en, position=i * 10)
        for i, (code, theme, fi, sv, en) in enumerate(DEFAULT_REASONS, start=1)
        if code not in existing
    ]
    if not new:
        return 0
    with transaction.atomic():
        ReasonCode.objects.bulk_create(new, ignore_conflicts=True)
        # a write like any other, also when a page's first use seeds them (`reasons_ensure`)
        audit_record(
            actor=None, action="create", object_type="reason_code",
            changes={"codes": [r.code for r in new], "seeded": True},
        )  # fmt: skip
    return len(new)


def reasons_ensure() -> None:
    """Seed the defaults on first use (one EXISTS query once seeded)."""
    if not ReasonCode.objects.exists():
        reasons_seed()


def reason_code_create(
    *, actor, code: str, theme: str, label_fi: str, label_sv: str = "", label_en: str = ""
) -> ReasonCode:
    if not can_manage_reasons(actor):
        raise PermissionDenied()
    errors = {}
    limit = ReasonCode._meta.get_field("code").max_length
    if not re.fullmatch(r"[a-z0-9_]+", code or ""):
        # ASCII only: "työ" passed `isalnum` and went into codes, URLs and exports
        errors["code"] = _("Use lower-case letters, digits and underscores.")
    elif len(code) > limit:
        errors["code"] = _("At most %(n)s characters.") % {"n": limit}
    elif ReasonCode.objects.filter(code=code).exists():
        errors["code"] = _("This code exists already.")
    if theme not in Theme.values:
        errors["theme"] = _("Choose a monitoring theme.")
    if not label_fi.strip():
        errors["label_fi"] = _("This field is required.")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        last = ReasonCode.objects.order_by("-position").values_list("position", flat=True).first()
        reason = ReasonCode.objects.create(
            code=code, theme=theme, label_fi=label_fi.strip(), label_sv=label_sv.strip(),
            label_en=label_en.strip(), position=(last or 0) + 10,
        )  # fmt: skip
        audit_record(
            actor=actor, action="create", object_type="guidance_reason", object_id=reason.id,
            changes={"code": code, "theme": theme},
        )  # fmt: skip
    return reason


@dataclass
class CleanContact:
    """A validated contact, ready to store (shared by the service and the importer)."""

    kind: str
    partner_type: str
    channel: str
    language: str
    interpreter_used: bool
    minutes: int | None
    reasons: list[ReasonCode]
    outcome: str
    referred_to: str
    referred_to_organisation: object | None


def clean_contact(
    *,
    channel: str,
    reasons: list[str],
    reason_map: dict[str, ReasonCode],
    partner_type: str = "",
    language: str = "",
    interpreter_used: bool = False,
    minutes: int | None = None,
    outcome: str = Outcome.ANSWERED,
    referred_to: str = "",
    referred_to_organisation=None,
    has_client: bool = False,
) -> CleanContact:
    """Validate a contact's fields; raise ValidationFailed naming each wrong field."""
    errors: dict[str, str] = {}
    if channel not in Channel.values:
        errors["channel"] = _("Choose a channel.")
    partner_type = partner_type or ""
    if partner_type and partner_type not in PartnerType.values:
        errors["partner_type"] = _("Choose a partner type.")
    if partner_type and has_client:
        errors["client"] = _("A partner contact is not about a client.")
    chosen: list[ReasonCode] = []
    unknown = []
    for code in dict.fromkeys(r.strip() for r in reasons if r and r.strip()):
        reason = reason_map.get(code)
        if reason is None or not reason.active:
            unknown.append(code)
        else:
            chosen.append(reason)
    if unknown:
        errors["reasons"] = _("Unknown reason: %(codes)s.") % {"codes": ", ".join(unknown)}
    elif not chosen and not partner_type:
        errors["reasons"] = _("Choose at least one reason.")
    language = (language or "").strip()
    if language:
        if codes.is_language(language):
            language = codes.normalise_language(language)
        else:
            errors["language"] = _("Choose a language (ISO 639 code).")
    if minutes is not None and not (0 < minutes <= MAX_MINUTES):
        errors["minutes"] = _("Enter minutes between 1 and %(max)s.") % {"max": MAX_MINUTES}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose an outcome.")
    referred_to = (referred_to or "").strip()
    limit = Contact._meta.get_field("referred_to").max_length
    if len(referred_to) > limit:
        # an imported cell was cut to the limit without a word
        errors["referred_to"] = _("At most %(n)s characters.") % {"n": limit}
    elif outcome == Outcome.REFERRED and not referred_to and referred_to_organisation is None:
        errors["referred_to"] = _("Say where the client was referred.")
    if outcome != Outcome.REFERRED and (referred_to or referred_to_organisation is not None):
        errors["outcome"] = _("Choose Referred when you name where the client was referred.")
    if errors:
        raise ValidationFailed(errors)
    return CleanContact(
        kind=ContactKind.PARTNER if partner_type else ContactKind.CLIENT,
        partner_type=partner_type,
        channel=channel,
        language=language,
        interpreter_used=bool(interpreter_used),
        minutes=minutes,
        reasons=chosen,
        outcome=outcome,
        referred_to=referred_to,
        referred_to_organisation=referred_to_organisation,
    )


def reason_map() -> dict[str, ReasonCode]:
    """All reason codes by code (seeding the defaults on first use)."""
    reasons = list(ReasonCode.objects.all())
    if not reasons:
        reasons_seed()
        reasons = list(ReasonCode.objects.all())
    return {r.code: r for r in reasons}


def contact_log(
    *,
    actor,
    channel: str,
    reasons: list[str],
    partner_type: str = "",
    language: str = "",
    interpreter_used: bool = False,
    minutes: int | None = None,
    outcome: str = Outcome.ANSWERED,
    referred_to: str = "",
    referred_to_organisation=None,
    client_identifier: str = "",
    contacted_on: dt.date | None = None,
    office=None,
) -> Contact:
    """Log one guidance contact in the actor's organisation. Without `client_identifier` a
    client contact is anonymous: nothing that names a person is stored."""
    if not can_log_contacts(actor):
        raise PermissionDenied()
    organisation = actor.active_membership.organisation
    identifier = (client_identifier or "").strip()
    client = None
    field_errors: dict[str, str] = {}
    if identifier:
        try:
            client = client_by_identifier_for(user=actor, identifier=identifier)
        except NotFound:
            field_errors["client_identifier"] = _(
                "No client you may see has this identity code or temporary id."
            )
    today = clock.today()
    if contacted_on is not None and contacted_on > today:
        field_errors["contacted_on"] = _("The date cannot be in the future.")
    try:
        clean = clean_contact(
            channel=channel, reasons=reasons, reason_map=reason_map(), partner_type=partner_type,
            language=language, interpreter_used=interpreter_used, minutes=minutes,
            outcome=outcome, referred_to=referred_to,
            referred_to_organisation=referred_to_organisation, has_client=client is not None,
        )  # fmt: skip
    except ValidationFailed as e:
        # `clean_contact` names the import's column `client`; here the field is the identifier
        named = {("client_identifier" if k == "client" else k): v for k, v in e.fields.items()}
        raise ValidationFailed({**named, **field_errors}) from None
    day = contacted_on or today
    if "contacted_on" not in field_errors and not organisation.is_valid_on(day):
        field_errors["contacted_on"] = _("%(organisation)s did not exist on this day.") % {
            "organisation": organisation.name
        }
    target = clean.referred_to_organisation
    if target is not None and not target.is_valid_on(day):
        # the ELY centres ended with 2025: a referral dated after that goes to the successor
        field_errors["referred_to_organisation"] = _(
            "%(organisation)s did not exist on the day of the contact."
        ) % {"organisation": target.name}
    if field_errors:
        raise ValidationFailed(field_errors)
    now = clock.now()
    if contacted_on is None or contacted_on == today:
        contacted_at, contacted_on = now, today
    else:
        contacted_at = dt.datetime.combine(contacted_on, dt.time(12, 0), tzinfo=clock.HELSINKI)
    contact = Contact(
        organisation=organisation, office=office, logged_by=actor, logged_at=now,
        contacted_at=contacted_at, contacted_on=contacted_on, kind=clean.kind,
        partner_type=clean.partner_type, client=client, channel=clean.channel,
        language=clean.language, interpreter_used=clean.interpreter_used, minutes=clean.minutes,
        outcome=clean.outcome, referred_to=clean.referred_to,
        referred_to_organisation=clean.referred_to_organisation,
    )  # fmt: skip
    reason_rows = [
        ContactReason(
            contact=contact,
            reason=r,
            organisation_id=organisation.id,
            contacted_on=contacted_on,
            kind=clean.kind,
        )  # fmt: skip
        for r in clean.reasons
    ]
    with transaction.atomic():
        # Stamped once the transaction holds the database (SQLite's IMMEDIATE lock may take
        # seconds to come): the dashboard refresh takes the contacts logged after its
        # watermark, and a stamp older than the transaction could fall behind it.
        contact.logged_at = clock.now()
        contact.save(force_insert=True)
        ContactReason.objects.bulk_create(reason_rows)
        audit_record(
            actor=actor,
            action="create",
            object_type="guidance_contact",
            object_id=contact.id,
            client_id=client.id if client else None,
            changes={
                "kind": clean.kind,
                "channel": clean.channel,
                "reasons": [r.code for r in clean.reasons],
                "anonymous": contact.anonymous,
            },
        )
        # last: the day rows it locks are the ones other writers of the day wait for
        summary.add([contact], reason_rows)
    contact.reason_codes = [r.code for r in clean.reasons]
    return contact


def report_exported(*, actor, report, file_format: str) -> None:
    """A report left Koto as a file: audit it (the numbers are statistics, not personal
    data, but exports are logged)."""
    audit_record(
        actor=actor,
        action="export",
        object_type="guidance_report",
        object_id=report.organisation_id,
        changes={
            "from": report.date_from.isoformat(),
            "to": report.date_to.isoformat(),
            "format": file_format,
        },
    )
