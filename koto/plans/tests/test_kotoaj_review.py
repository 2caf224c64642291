"""The Koto-AJ export sends only the municipality's own records."""

import datetime as dt

from koto.clients.models import Client
from koto.core.roles import Role
from koto.plans.tests.test_kotoaj import (  # noqa: F401 (fixture)
    casework,
    export,
    fixed_today,
    manifest_of,
    new_client,
    records,
)
from tests.factories import OrganisationFactory, member

TODAY = dt.date(2026, 11, 2)


def test_export_kotoaj__employment_authoritys_record__never_exported(org, counsellor, tmp_path):
    """The client came to the municipality from the employment authority; the facts carry
    no jobseeker history (loaded data): the employment authority's assessment and plan are
    still its own, and the municipality does not send them."""
    te = OrganisationFactory(code="te-lahti", kind="employment_authority", name_fi="TE Lahti")
    te_counsellor = member(te, Role.INTEGRATION_COUNSELLOR, username="te_counsellor")
    moved = new_client(te_counsellor)
    casework(te_counsellor, moved, on=TODAY)
    Client.objects.filter(pk=moved.pk).update(responsible_organisation=org)
    own = new_client(counsellor)
    casework(counsellor, own, on=TODAY)

    out = export(tmp_path / "out")

    assert [r["client"]["id"] for r in records(out / "assessments.jsonl")] == [own.id]
    assert [r["client"]["id"] for r in records(out / "plans.jsonl")] == [own.id]
    text = (out / "assessments.jsonl").read_text() + (out / "plans.jsonl").read_text()
    assert moved.hetu not in text
    skipped = manifest_of(out)["skipped_jobseekers"]
    assert (skipped["assessments"], skipped["plans"], skipped["clients"]) == (1, 1, 1)
