"""State compensation: calculated compensation, KEHA reconciliation, actual-cost claims."""

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from koto.api.types import Day, In
from koto.audit.services import audit_record
from koto.core.errors import NotFound, ValidationFailed
from koto.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from koto.funding import permissions, selectors, services
from koto.funding.compensation import FIRST_AMOUNT_YEAR, LAST_YEAR, RECIPIENT_KINDS, Span
from koto.funding.models import Claim, ClaimSection
from koto.funding.reconciliation import parse_statement, read_statement, reconcile

router = Router(tags=["funding"])


class RateOut(Schema):
    year: int
    recipient: str
    age_band: str
    annual_amount: Decimal
    monthly_amount: Decimal
    source: str
    confirmed: bool
    origin: str


class RowOut(Schema):
    organisation: str
    name: str
    kind: str
    persons: int
    amount: Decimal


class MonthOut(Schema):
    year: int
    month: int
    persons: int
    amount: Decimal


class ReportOut(Schema):
    period_from: str
    period_to: str
    unconfirmed: bool
    parameters_used: list[RateOut]
    rows: list[RowOut]
    months: list[MonthOut]
    as_of: dt.datetime | None = Field(
        None,
        description="When the rollup refresh computed these figures; null: computed now.",
    )


class ClaimIn(In):
    section: ClaimSection
    period_start: Day
    period_end: Day
    description: str = ""


class LineIn(In):
    description: str = Field(max_length=300)
    amount: Decimal
    occurred_on: Day = Field(
        description="The date of the cost, within the claim's period and not in the future."
    )


class LineOut(Schema):
    id: int
    description: str
    amount: Decimal
    occurred_on: dt.date | None
    client_id: int | None
    meeting_id: int | None


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int


class ClaimOut(Schema):
    id: int
    organisation: str
    authority: str
    section: str
    period_start: dt.date
    period_end: dt.date
    description: str
    status: str
    submitted_on: dt.date | None
    approved_amount: Decimal | None
    decided_on: dt.date | None
    decision_note: str
    paid_on: dt.date | None
    claimed: Decimal
    lines: list[LineOut]
    attachments: list[AttachmentOut]


class ClaimSummaryOut(Schema):
    id: int
    organisation: str
    section: str
    period_start: dt.date
    period_end: dt.date
    status: str
    claimed: Decimal
    approved_amount: Decimal | None


class ClaimPage(Schema):
    items: list[ClaimSummaryOut]
    next_cursor: str | None


class DecideIn(In):
    approved_amount: Decimal
    decided_on: Day | None = None
    note: str = ""


class PaidIn(In):
    paid_on: Day | None = None


class GatheredOut(Schema):
    added: int
    warning: str | None = Field(
        None,
        description="Said when the claim's period reaches 2025 or later: interpreting is then "
        "among the costs the calculated compensation is meant to cover.",
    )


class ItemOut(Schema):
    hetu: str
    client_id: int | None
    year: int
    month: int
    expected: Decimal
    paid: Decimal


class ReconciliationOut(Schema):
    organisation: str
    year: int
    rows_read: int
    rows_other_organisation: int
    compared_until_month: int = Field(
        description="Months 1 to this one of the year are compared (0: none is due yet)."
    )
    compared_until_basis: str = Field(
        description="`statement`: the latest month of the year on the statement; `today`: "
        "the statement has no row of the year, so the current month."
    )
    unpaid: list[ItemOut]
    not_eligible: list[ItemOut]
    amount_differs: list[ItemOut]
    not_yet_due: list[ItemOut] = Field(
        description="Expected for months after those compared: neither unpaid nor claimed."
    )
    claim_total: Decimal = Field(description="Months not paid plus amounts paid short.")
    unpaid_total: Decimal
    underpaid_total: Decimal
    overpaid_total: Decimal
    not_eligible_total: Decimal
    not_yet_due_total: Decimal


def _claim_out(request, claim: Claim) -> dict:
    lines = selectors.claim_lines_for(user=request.auth, claim=claim)
    return {
        "id": claim.id,
        "organisation": claim.organisation.code,
        "authority": claim.authority.code,
        "section": claim.section,
        "period_start": claim.period_start,
        "period_end": claim.period_end,
        "description": claim.description,
        "status": claim.status,
        "submitted_on": claim.submitted_on,
        "approved_amount": claim.approved_amount,
        "decided_on": claim.decided_on,
        "decision_note": claim.decision_note,
        "paid_on": claim.paid_on,
        "claimed": sum((ln.amount for ln in lines), Decimal("0.00")),
        "lines": lines,
        "attachments": list(selectors.claim_attachments(claim)),
    }


def _claim(request, claim_id: int) -> Claim:
    return selectors.claim_get_for(user=request.auth, claim_id=claim_id)


@router.get("/compensation", response=ReportOut, summary="Calculated compensation")
def compensation(
    request,
    year: int = Query(..., ge=FIRST_AMOUNT_YEAR, le=LAST_YEAR),
    quarter: int | None = Query(None, ge=1, le=4),
    month: int | None = Query(None, ge=1, le=12),
    live: bool = Query(False, description="Compute now rather than read the stored figures."),
):
    """The viewer's organisation (a municipality or welfare region), per month; `quarter`
    (1–4) or `month` (1–12) narrows the period. Read from the figures the rollup refresh
    stored (`as_of`) when they are as they would be computed now, else computed now."""
    user = request.auth
    if not permissions.can_manage_funding(user):
        raise NotFound("funding")
    org = user.active_membership.organisation
    if org.kind not in RECIPIENT_KINDS:
        raise NotFound("funding")
    if quarter is not None and month is not None:
        raise ValidationFailed({"month": gettext("Give a quarter or a month, not both.")})
    report = selectors.compensation_for(
        user=user, span=Span.of(year, quarter=quarter, month=month), live=live
    )
    data = report.as_dict()
    return {
        "period_from": data["period"]["from"],
        "period_to": data["period"]["to"],
        "unconfirmed": report.unconfirmed,
        "parameters_used": [r.as_dict() for r in report.parameters_used],
        "rows": [r.as_dict() for r in report.rows],
        "months": [m.__dict__ for m in report.months.get(org.id, [])],
        "as_of": report.computed_at,
    }


@router.post("/reconciliation", response=ReconciliationOut, summary="Reconcile KEHA payments")
def reconciliation(
    request,
    file: File[UploadedFile],
    year: int = Form(..., ge=FIRST_AMOUNT_YEAR, le=LAST_YEAR),
):
    user = request.auth
    if not permissions.can_manage_funding(user):
        raise NotFound("funding")
    org = user.active_membership.organisation
    result = reconcile(organisation=org, year=year, statement=parse_statement(read_statement(file)))
    audit_record(
        actor=user, action="export", object_type="keha_reconciliation",
        object_id=f"{org.code}-{year}", listed=result.client_ids(),
    )  # fmt: skip
    return result.as_dict()


def _claim_summary(c: Claim) -> dict:
    return {
        "id": c.id,
        "organisation": c.organisation.code,
        "section": c.section,
        "period_start": c.period_start,
        "period_end": c.period_end,
        "status": c.status,
        # SQLite sums decimals without their scale: 10.5, not 10.50
        "claimed": (c.claimed or Decimal("0")).quantize(Decimal("0.01")),
        "approved_amount": c.approved_amount,
    }


@router.get("/claims", response=ClaimPage, summary="Actual-cost claims, latest period first")
def claim_list(
    request,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    page = selectors.claim_page_for(user=request.auth, cursor=cursor, limit=limit)
    return {"items": [_claim_summary(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/claims", response={201: ClaimOut}, summary="Start a claim")
def claim_create(request, payload: ClaimIn):
    claim = services.claim_create(actor=request.auth, **payload.model_dump())
    return Status(201, _claim_out(request, _claim(request, claim.id)))


@router.get("/claims/{claim_id}", response=ClaimOut, summary="Read a claim")
def claim_read(request, claim_id: int):
    return _claim_out(request, _claim(request, claim_id))


@router.post("/claims/{claim_id}/lines", response={201: ClaimOut}, summary="Add a cost line")
def claim_line_add(request, claim_id: int, payload: LineIn):
    claim = _claim(request, claim_id)
    services.claim_line_add(actor=request.auth, claim=claim, **payload.model_dump())
    return Status(201, _claim_out(request, claim))


@router.post(
    "/claims/{claim_id}/attachments", response={201: AttachmentOut}, summary="Attach a file"
)
def claim_attach(request, claim_id: int, file: File[UploadedFile]):
    claim = _claim(request, claim_id)
    att = services.claim_attachment_add(
        actor=request.auth, claim=claim, name=file.name or "attachment",
        content_type=file.content_type or "", data=services.read_attachment(file),
    )  # fmt: skip
    return Status(201, att)


@router.post(
    "/claims/{claim_id}/gather-interpreting",
    response=GatheredOut,
    summary="Add interpreting costs from recorded meetings",
    description="A line for each meeting of the claim's period, held by today, with an "
    "interpreting cost and on no claim yet. Only onto a 65 § claim (else 422 naming "
    "`section`); `warning` says when the period reaches 2025 or later.",
)
def claim_gather(request, claim_id: int):
    claim = _claim(request, claim_id)
    added = services.claim_gather_interpreting(actor=request.auth, claim=claim)
    return {"added": added, "warning": services.interpreting_warning(claim)}


@router.post("/claims/{claim_id}/submit", response=ClaimOut, summary="Submit a claim")
def claim_submit(request, claim_id: int):
    claim = services.claim_submit(actor=request.auth, claim=_claim(request, claim_id))
    return _claim_out(request, claim)


@router.post("/claims/{claim_id}/decide", response=ClaimOut, summary="Decide a claim (ELY)")
def claim_decide(request, claim_id: int, payload: DecideIn):
    claim = services.claim_decide(
        actor=request.auth, claim=_claim(request, claim_id), **payload.model_dump()
    )
    return _claim_out(request, claim)


@router.post("/claims/{claim_id}/paid", response=ClaimOut, summary="Record the payment")
def claim_paid(request, claim_id: int, payload: PaidIn):
    claim = services.claim_mark_paid(
        actor=request.auth, claim=_claim(request, claim_id), paid_on=payload.paid_on
    )
    return _claim_out(request, claim)


@router.get("/claims/{claim_id}/export.csv", summary="The claim for the regional e-service")
def claim_export(request, claim_id: int):
    claim = _claim(request, claim_id)
    body = selectors.claim_export_csv(user=request.auth, claim=claim)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="claim-{claim.id}.csv"'
    return response
