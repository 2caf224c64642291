"""The claim list API: keyset pages (latest period first), bad cursor or limit 422 naming the
field, constant queries, and nothing of another organisation."""

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.core.roles import Role
from koto.funding import services
from koto.funding.models import Claim, ClaimStatus
from tests.factories import member

D = dt.date
URL = "/api/v1/funding/claims"
pytestmark = pytest.mark.django_db


def _claims(actor, n: int) -> list[Claim]:
    """n claims, three of each period start (so the id breaks the ties)."""
    out = []
    for i in range(n):
        start = D(2026, 1 + i // 3 % 12, 1)
        claim = services.claim_create(
            actor=actor, section="65", period_start=start, period_end=start + dt.timedelta(27)
        )
        if i % 2:
            services.claim_line_add(
                actor=actor, claim=claim, description="Rent", amount="10.50", occurred_on=start
            )
        out.append(claim)
    return out


def _walk(http, limit: int) -> tuple[list[dict], int]:
    items, cursor, pages = [], None, 0
    while True:
        r = http.get(URL, {"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.content
        body = r.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def test_claim_list__pages__every_claim_once_in_order(web, finance, hollola, decider):
    # given claims of Lahti and Hollola, both decided by the same authority
    _claims(finance, 4)
    _claims(member(hollola, Role.FINANCE_OFFICER, username="hollola_finance"), 3)
    Claim.objects.update(status=ClaimStatus.SUBMITTED)  # sent: the authority sees no drafts
    # when the authority pages through them two at a time
    items, pages = _walk(web(decider), limit=2)
    # then every claim comes once, latest period first, the id breaking ties
    expected = list(Claim.objects.order_by("-period_start", "-id").values_list("id", flat=True))
    assert [c["id"] for c in items] == expected
    assert (len(items), pages) == (7, 4)
    claimed = {c["id"]: c["claimed"] for c in items}
    assert sorted(claimed.values()) == ["0.00"] * 4 + ["10.50"] * 3


def test_claim_drafts__deciding_authority__neither_listed_nor_readable(web, finance, decider):
    draft, sent = _claims(finance, 2)
    Claim.objects.filter(pk=sent.pk).update(status=ClaimStatus.SUBMITTED)
    http = web(decider)
    assert [c["id"] for c in http.get(URL).json()["items"]] == [sent.id]
    assert http.get(f"{URL}/{draft.id}").status_code == 404
    assert http.get(f"{URL}/{sent.id}").status_code == 200


def test_claim_list__first_page__shape(web, finance):
    claim = _claims(finance, 1)[0]
    body = web(finance).get(URL).json()
    assert body == {
        "items": [
            {
                "id": claim.id, "organisation": "398", "section": "65",
                "period_start": "2026-01-01", "period_end": "2026-01-28", "status": "draft",
                "claimed": "0.00", "approved_amount": None,
            }
        ],
        "next_cursor": None,
    }  # fmt: skip


def test_claim_list__other_organisation__sees_none(web, finance, outsider):
    _claims(finance, 2)
    assert web(outsider).get(URL).json() == {"items": [], "next_cursor": None}


def _b64(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "12", _b64(["2026-01-01"]), _b64(["2026-13-01", "1"]), _b64(["2026-01-01", 1])],
)
def test_claim_list__bad_cursor__422_naming_cursor(web, finance, cursor):
    r = web(finance).get(URL, {"cursor": cursor})
    assert r.status_code == 422
    assert (r.json()["code"], list(r.json()["fields"])) == ("validation_error", ["cursor"])


@pytest.mark.parametrize("limit", ["0", "501", "many"])
def test_claim_list__bad_limit__422_naming_limit(web, finance, limit):
    r = web(finance).get(URL, {"limit": limit})
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["limit"]


def test_claim_list__queries_constant(web, finance):
    http = web(finance)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = http.get(URL)
            assert r.status_code == 200
        return len(ctx.captured_queries)

    _claims(finance, 2)
    two = count()
    _claims(finance, 18)
    assert len(http.get(URL).json()["items"]) == 20
    assert count() == two


def test_attachment_sent_again_with_its_key__one_file_browser_session(finance):
    # a form's body can be read once: the key's digest read it before the upload did (a 500)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client as HttpClient

    from koto.funding.models import ClaimAttachment

    (claim,) = _claims(finance, 1)
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(finance, backend="koto.accounts.backends.MembershipModelBackend")
    http.get("/clients/")
    csrf = http.cookies["csrftoken"].value
    answers = []
    for _ in range(2):
        upload = SimpleUploadedFile(
            "kuitti.pdf", b"%PDF-1.4 receipt", content_type="application/pdf"
        )
        answers.append(http.post(f"{URL}/{claim.id}/attachments", {"file": upload},
                                 HTTP_X_CSRFTOKEN=csrf, HTTP_IDEMPOTENCY_KEY="receipt-1"))  # fmt: skip
    assert [a.status_code for a in answers] == [201, 201], answers[0].content
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert ClaimAttachment.objects.filter(claim=claim).count() == 1
    other = SimpleUploadedFile("kuitti.pdf", b"%PDF-1.4 another", content_type="application/pdf")
    response = http.post(f"{URL}/{claim.id}/attachments", {"file": other},
                         HTTP_X_CSRFTOKEN=csrf, HTTP_IDEMPOTENCY_KEY="receipt-1")  # fmt: skip
    assert response.status_code == 422  # the same key for another file


def test_upload_larger_than_allowed__refused_on_file_before_it_is_read(finance):
    # the whole upload was read into memory first and its length checked after
    from koto.core.errors import ValidationFailed
    from koto.funding.reconciliation import read_statement
    from koto.funding.services import read_attachment

    class Huge:
        size = 3 * 1024**3

        def read(self):
            raise AssertionError("read before its size was checked")

    for read in (read_statement, read_attachment):
        with pytest.raises(ValidationFailed) as e:
            read(Huge())
        assert list(e.value.fields) == ["file"]


def test_attachment_over_the_limit__api_refuses_it_naming_file(finance, monkeypatch):
    # the endpoints read the size through the helper, not the whole file first
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client as HttpClient

    from koto.funding import services
    from koto.funding.models import ClaimAttachment

    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 8)
    (claim,) = _claims(finance, 1)
    http = HttpClient()
    http.force_login(finance, backend="koto.accounts.backends.MembershipModelBackend")
    upload = SimpleUploadedFile("kuitti.pdf", b"%PDF-1.4 too big", content_type="application/pdf")
    response = http.post(f"{URL}/{claim.id}/attachments", {"file": upload})
    assert response.status_code == 422 and list(response.json()["fields"]) == ["file"]
    assert not ClaimAttachment.objects.exists()
