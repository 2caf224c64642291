"""Every write of State compensation: actual-cost claims (64, 65, 68, 69 §) from draft to
paid. Keyword-only, with `actor`; each write is audited in its transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from koto.audit.services import audit_record
from koto.clients.models import Meeting
from koto.core import clock
from koto.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed, read_upload
from koto.funding import permissions
from koto.funding.compensation import (
    RECIPIENT_KINDS,
    MonthTotal,
    Report,
    organisation_keys,
    rates_key,
    zero_row,
)
from koto.funding.models import (
    Claim,
    ClaimAttachment,
    ClaimLine,
    ClaimSection,
    ClaimStatus,
    ExpectedMonth,
    ExpectedPeriod,
)
from koto.law import params as law_params
from koto.organisations.models import Organisation, OrganisationKind

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_CONTENT_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/csv",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def read_attachment(upload) -> bytes:
    return read_upload(upload, MAX_ATTACHMENT_BYTES, _("The file is larger than 10 MB."))


def _audit(actor, claim: Claim, action: str, changes: dict | None = None, clients=None) -> None:
    """The claim's audit record; `clients`: those its lines named (put on or taken off a
    claim to the State), listed so that each client's audit page shows it."""
    listed = [c for c in clients or () if c is not None]
    audit_record(
        actor=actor, action=action, object_type="funding_claim", object_id=claim.id,
        changes=changes or {}, listed=listed or None,
    )  # fmt: skip


def authority_for(organisation: Organisation) -> Organisation | None:
    """The regional State authority that decides the organisation's claims: its own, or for a
    welfare region that of its member municipalities."""
    if organisation.regional_state_authority_id:
        return organisation.regional_state_authority
    if organisation.kind == OrganisationKind.WELFARE_REGION:
        member = (
            organisation.member_municipalities.exclude(regional_state_authority=None)
            .select_related("regional_state_authority")
            .first()
        )
        if member is not None:
            return member.regional_state_authority
    return None


def _lock(claim: Claim) -> None:
    """Lock the claim's row until the transaction ends and read its state again: two
    requests on one claim (a submit and a line added, two decisions) go one after the
    other, and the second checks the state the first left."""
    locked = Claim.objects.select_for_update().filter(pk=claim.pk).first()
    if locked is None:
        raise NotFound("claim")
    for f in ("status", "submitted_on", "decided_on", "approved_amount", "paid_on", "updated_at"):
        setattr(claim, f, getattr(locked, f))


def _require_edit(actor, claim: Claim) -> None:
    if not permissions.can_view_claim(actor, claim):
        raise NotFound("claim")
    if not permissions.can_edit_claim(actor, claim):
        raise PermissionDenied()
    if claim.status != ClaimStatus.DRAFT:
        raise DomainError("claim_not_draft", _("Only a draft claim can be changed."))


MAX_AMOUNT = Decimal("10000000000")


CENT = Decimal("0.01")
LINE_DESCRIPTION_MAX = 300


def _money(value, field: str) -> Decimal:
    """An amount in euros and cents as given: a third decimal is refused, not rounded away."""
    try:
        given = Decimal(str(value))
        amount = given.quantize(CENT)
    except ArithmeticError:
        raise ValidationFailed({field: _("Enter an amount in euros.")}) from None
    if amount != given:
        raise ValidationFailed(
            {field: _("Give the amount in euros and cents (at most two decimals).")}
        )
    if amount < 0:
        raise ValidationFailed({field: _("The amount cannot be negative.")})
    if amount >= MAX_AMOUNT:  # the columns hold 12 digits, 2 of them decimals
        raise ValidationFailed({field: _("Enter at most %(n)s euros.") % {"n": "9 999 999 999.99"}})
    return amount


def claim_create(
    *,
    actor,
    section: str,
    period_start: dt.date,
    period_end: dt.date,
    description: str = "",
) -> Claim:
    if not permissions.can_manage_funding(actor):
        raise PermissionDenied()
    errors = {}
    if section not in ClaimSection.values:
        errors["section"] = _("Choose a section.")
    if period_end < period_start:
        errors["period_end"] = _("The period cannot end before it starts.")
    if errors:
        raise ValidationFailed(errors)
    organisation = actor.active_membership.organisation
    authority = authority_for(organisation)
    if authority is None:
        raise DomainError(
            "no_authority",
            _("No regional State authority is recorded for %(name)s.")
            % {"name": organisation.name},
        )
    with transaction.atomic():
        claim = Claim.objects.create(
            organisation=organisation, authority=authority, section=section,
            period_start=period_start, period_end=period_end, description=description,
            created_by=actor,
        )  # fmt: skip
        _audit(actor, claim, "create", {"section": section})
    return claim


@transaction.atomic
def claim_line_add(
    *,
    actor,
    claim: Claim,
    description: str,
    amount,
    occurred_on: dt.date | None,
    client=None,
) -> ClaimLine:
    """A cost line typed in. Its date is required: a cost belongs to the claim of its
    period, and an undated one could go on two claims."""
    _lock(claim)
    _require_edit(actor, claim)
    errors = {}
    if not description.strip():
        errors["description"] = _("Describe the cost.")
    elif len(description.strip()) > LINE_DESCRIPTION_MAX:
        errors["description"] = _("At most %(n)s characters.") % {"n": LINE_DESCRIPTION_MAX}
    if occurred_on is None:
        errors["occurred_on"] = _("Give the date of the cost.")
    else:
        if occurred_on > clock.today():
            errors["occurred_on"] = _("The date cannot be in the future.")
        elif not claim.period_start <= occurred_on <= claim.period_end:
            # a cost belongs to the claim of its period: on another it could be claimed twice
            errors["occurred_on"] = _("The cost must fall within the claim's period.")
    if errors:
        raise ValidationFailed(errors)
    value = _money(amount, "amount")
    with transaction.atomic():
        line = ClaimLine.objects.create(
            claim=claim, description=description.strip(), amount=value,
            occurred_on=occurred_on, client=client,
        )  # fmt: skip
        _audit(
            actor, claim, "update", {"line_added": line.id, "amount": str(value)},
            clients=[line.client_id],
        )  # fmt: skip
    return line


@transaction.atomic
def claim_line_remove(*, actor, claim: Claim, line_id: int) -> None:
    _lock(claim)
    _require_edit(actor, claim)
    with transaction.atomic():
        line = ClaimLine.objects.filter(claim=claim, id=line_id).only("id", "client_id").first()
        if line is None:
            raise NotFound("claim line")
        line.delete()
        # the client the line named (a meeting's interpreting) was taken off the claim
        _audit(actor, claim, "update", {"line_removed": line_id}, clients=[line.client_id])


@transaction.atomic
def claim_attachment_add(
    *, actor, claim: Claim, name: str, content_type: str, data: bytes
) -> ClaimAttachment:
    _lock(claim)
    _require_edit(actor, claim)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed({"file": _("The file is larger than 10 MB.")})
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise ValidationFailed({"file": _("Attach a PDF, image, CSV, text or Excel file.")})
    with transaction.atomic():
        att = ClaimAttachment.objects.create(
            claim=claim, name=name[:200], content_type=content_type, size=len(data), data=data,
            uploaded_at=clock.now(), uploaded_by=actor,
        )  # fmt: skip
        _audit(actor, claim, "update", {"attachment_added": att.id, "name": att.name})
    return att


def interpreting_warning(claim: Claim) -> str | None:
    """What to tell whoever gathers interpreting costs onto `claim`, or None: from 2025
    interpreting is meant to be covered by the calculated compensation."""
    # (`koto.law`: from 681/2023, 1.1.2025; gathering is not refused, the regional State
    # authority decides, but said)
    if not law_params.interpreting_in_calculated_compensation(claim.period_end):
        return None
    return _(
        "From 2025 interpreting is among the costs the calculated compensation is meant to "
        "cover. The regional State authority decides whether interpreting costs of a 65 § "
        "claim are compensated."
    )


@transaction.atomic
def claim_gather_interpreting(*, actor, claim: Claim) -> int:
    """Add a line for every meeting of the claiming organisation in the claim's period, held
    by today, with an interpreting cost, unless a claim of the organisation already has it
    (a cost is claimed once, whichever claim it went on). Only onto a 65 § (special costs)
    claim: interpreting is not among the costs of 64, 68 or 69 §. Returns the number of
    lines added (`interpreting_warning` says what to add for periods from 2025). The
    organisation's row is locked first, so two claims gathering at once do not both take a
    meeting."""
    _lock(claim)
    _require_edit(actor, claim)
    if claim.section != ClaimSection.SPECIAL_COSTS:
        message = _("Interpreting costs are claimed on a 65 § (special costs) claim.")
        raise DomainError("claim_section_not_65", message, fields={"section": message})
    list(
        Organisation.objects.select_for_update(no_key=True)
        .filter(pk=claim.organisation_id)
        .values("pk")
    )
    claimed = ClaimLine.objects.filter(
        claim__organisation_id=claim.organisation_id, meeting__isnull=False
    )
    meetings = (
        Meeting.objects.filter(
            organisation_id=claim.organisation_id,
            held_on__gte=claim.period_start,
            held_on__lte=min(claim.period_end, clock.today()),  # a meeting to come: no cost yet
            interpreter_cost__gt=0,
        )
        .exclude(id__in=claimed.values("meeting_id"))
        .order_by("held_on", "id")
    )  # fmt: skip
    lines = [
        ClaimLine(
            claim=claim,
            description=_("Interpreting %(language)s, %(mode)s: %(purpose)s")
            % {
                "language": m.interpreter_language or "-",
                "mode": m.get_interpreter_mode_display(),
                "purpose": m.purpose,
            },
            amount=m.interpreter_cost,
            occurred_on=m.held_on,
            client_id=m.client_id,
            meeting=m,
        )
        for m in meetings
    ]
    with transaction.atomic():
        ClaimLine.objects.bulk_create(lines)
        # the clients whose meetings went on a claim to the State: on their audit pages
        _audit(
            actor, claim, "update", {"interpreting_lines_added": len(lines)},
            clients=[ln.client_id for ln in lines],
        )  # fmt: skip
    return len(lines)


@transaction.atomic
def claim_submit(*, actor, claim: Claim, submitted_on: dt.date | None = None) -> Claim:
    _lock(claim)
    _require_edit(actor, claim)
    if not claim.lines.exists():
        raise DomainError("claim_empty", _("Add at least one cost line before submitting."))
    if submitted_on is not None and submitted_on > clock.today():
        raise ValidationFailed({"submitted_on": _("The date cannot be in the future.")})
    with transaction.atomic():
        claim.status = ClaimStatus.SUBMITTED
        claim.submitted_on = submitted_on or clock.today()
        claim.updated_at = clock.now()
        claim.save(update_fields=["status", "submitted_on", "updated_at"])
        _audit(actor, claim, "update", {"status": claim.status})
    return claim


@transaction.atomic
def claim_decide(
    *, actor, claim: Claim, approved_amount, decided_on: dt.date | None = None, note: str = ""
) -> Claim:
    _lock(claim)
    if not permissions.can_view_claim(actor, claim):
        raise NotFound("claim")
    if not permissions.can_decide_claim(actor, claim):
        raise PermissionDenied()
    if claim.status != ClaimStatus.SUBMITTED:
        raise DomainError("claim_not_submitted", _("Only a submitted claim can be decided."))
    amount = _money(approved_amount, "approved_amount")
    claimed = claim_total(claim)
    if amount > claimed:
        raise ValidationFailed(
            {"approved_amount": _("The approved amount cannot exceed the amount claimed.")}
        )
    decided_on = decided_on or clock.today()
    if claim.submitted_on and decided_on < claim.submitted_on:
        raise ValidationFailed({"decided_on": _("The decision cannot precede the claim.")})
    if decided_on > clock.today():
        raise ValidationFailed({"decided_on": _("The date cannot be in the future.")})
    with transaction.atomic():
        claim.status = ClaimStatus.DECIDED
        claim.approved_amount = amount
        claim.decided_on = decided_on
        claim.decided_by = actor
        claim.decision_note = note
        claim.updated_at = clock.now()
        claim.save()
        _audit(actor, claim, "update", {"status": claim.status, "approved": str(amount)})
    return claim


@transaction.atomic
def claim_mark_paid(*, actor, claim: Claim, paid_on: dt.date | None = None) -> Claim:
    _lock(claim)
    if not permissions.can_view_claim(actor, claim):
        raise NotFound("claim")
    if not permissions.can_edit_claim(actor, claim):
        raise PermissionDenied()
    if claim.status != ClaimStatus.DECIDED:
        raise DomainError("claim_not_decided", _("Only a decided claim can be marked paid."))
    paid_on = paid_on or clock.today()
    if paid_on < claim.decided_on:
        raise ValidationFailed({"paid_on": _("The payment cannot precede the decision.")})
    if paid_on > clock.today():
        raise ValidationFailed({"paid_on": _("The date cannot be in the future.")})
    with transaction.atomic():
        claim.status = ClaimStatus.PAID
        claim.paid_on = paid_on
        claim.updated_at = clock.now()
        claim.save(update_fields=["status", "paid_on", "updated_at"])
        _audit(actor, claim, "update", {"status": claim.status})
    return claim


def claim_total(claim: Claim) -> Decimal:
    return sum((line.amount for line in claim.lines.all()), Decimal("0.00"))


def expected_months_store(
    *,
    report: Report,
    year: int,
    organisation_ids: list[int] | None,
    computed_at: dt.datetime,
    organisation_keys_then: dict[int, str] | None = None,
) -> int:
    """Replace the stored expected months and periods (the year, its quarters) of `year` by
    those of `report` (computed with `per_month` over the whole year): of every
    organisation (`None`: every municipality and welfare region, zeros for those absent
    from the report) or of these.
    Called by the rollup refresh (task worker) in its transaction; derived figures, not
    personal data, so not audited. `organisation_keys_then`: the organisations'
    fingerprints taken before the report was computed (an organisation missing from them
    did not exist then: its rows are stored as stale); default: computed now."""
    if report.span.first_index != year * 12 or report.span.last_index != year * 12 + 11:
        raise ValueError(f"the report does not cover the year {year}")
    key = rates_key(year, report.parameters_used)
    stale_months = ExpectedMonth.objects.filter(year=year)
    stale_periods = ExpectedPeriod.objects.filter(year=year)
    if organisation_ids is not None:
        stale_months = stale_months.filter(organisation_id__in=organisation_ids)
        stale_periods = stale_periods.filter(organisation_id__in=organisation_ids)
    rows = [
        r for r in report.rows if organisation_ids is None or r.organisation_id in organisation_ids
    ]
    if any(r.organisation_id not in report.months for r in rows):
        raise ValueError("the report was computed without its months (per_month)")
    if organisation_ids is None:
        # every municipality and welfare region, those paid nothing with zeros: the State's
        # view can then tell an organisation paid nothing from one the refresh has not seen
        paid = {r.organisation_id for r in rows}
        rows += [
            zero_row(o)
            for o in Organisation.objects.filter(kind__in=RECIPIENT_KINDS).exclude(id__in=paid)
        ]
    ids = [r.organisation_id for r in rows]
    if organisation_keys_then is None:
        org_keys = organisation_keys(ids)
    else:
        org_keys = {oid: organisation_keys_then.get(oid, "") for oid in ids}
    months, periods = [], []
    for row in rows:
        oid = row.organisation_id
        stored = dict(rates_key=key, organisation_key=org_keys[oid], computed_at=computed_at)
        of_row = report.months.get(oid) or [
            MonthTotal(year, m, 0, Decimal("0.00")) for m in range(1, 13)
        ]
        months += [
            ExpectedMonth(
                organisation_id=oid, year=year, month=m.month, persons=m.persons,
                amount=m.amount, **stored,
            )
            for m in of_row
        ]  # fmt: skip
        periods.append(
            ExpectedPeriod(
                organisation_id=oid, year=year, quarter=0, kind=row.kind,
                persons=row.persons, amount=row.amount, **stored,
            )
        )  # fmt: skip
        for q in range(1, 5):
            periods.append(
                ExpectedPeriod(
                    organisation_id=oid, year=year, quarter=q, kind=row.kind,
                    persons=report.quarter_persons.get((oid, q), 0),
                    amount=sum(
                        (m.amount for m in of_row if (m.month - 1) // 3 + 1 == q),
                        Decimal("0.00"),
                    ),
                    **stored,
                )
            )  # fmt: skip
    with transaction.atomic():
        stale_months.delete()
        stale_periods.delete()
        ExpectedMonth.objects.bulk_create(months, batch_size=2000)
        ExpectedPeriod.objects.bulk_create(periods, batch_size=2000)
    return len(months) + len(periods)


def expected_months_prune(*, before: dt.datetime) -> int:
    """Remove the months and periods a full refresh did not write again (computed before
    it started): an organisation no longer a municipality or welfare region, a year
    without known amounts (one paid nothing keeps its zeros)."""
    months, _ = ExpectedMonth.objects.filter(computed_at__lt=before).delete()
    periods, _ = ExpectedPeriod.objects.filter(computed_at__lt=before).delete()
    return months + periods
