"""The Koto-AJ export after a client moved: a test across the plans (the export) and the
referrals (the transfer), which the layers keep from importing each other."""

import datetime as dt

from koto.assessments import services as assessment_services
from koto.core import clock
from koto.plans.tests.test_kotoaj import (
    EARLIER,
    TODAY,
    casework,
    export,
    fixed_today,
    new_client,
    records,
)
from tests.factories import transfer

__all__ = ["fixed_today"]  # the export's fixed day, for this module's tests too


def exported(tmp_path, organisation: str) -> list[list[int]]:
    """The ids of the assessments and of the plans in `organisation`'s export since May."""
    out = export(tmp_path / organisation, organisation=organisation, since="2026-05-01")
    return [[r["id"] for r in records(out / name)] for name in ("assessments.jsonl", "plans.jsonl")]


def moved_on_20_october(c, *, sender, taker) -> None:
    """The client transferred from the sender's organisation to the taker's, accepted."""
    transfer(c, sender=sender, taker=taker, on=dt.date(2026, 10, 20))


def test_export_kotoaj__after_a_transfer__each_record_with_the_municipality_whose_it_was(
    counsellor, outsider, tmp_path
):
    """A Lahti client moves to Tampere in October. Lahti's completed assessment of May stays
    Lahti's export; the plan in force, handed over with the client, and the assessment
    Tampere starts after the move are Tampere's. Until 2026-12-08 the export went by the
    client's responsible organisation now: Tampere's carried Lahti's assessment, and
    Lahti's export after the move lost the records it had made."""
    with clock.frozen(EARLIER):
        c = new_client(counsellor)
        may_assessment, plan, _ = casework(counsellor, c, on=EARLIER)
    moved_on_20_october(c, sender=counsellor, taker=outsider)
    tampere_assessment = assessment_services.assessment_start(
        actor=outsider, client=c, trigger="client_request", started_on=TODAY
    )

    assert exported(tmp_path, "398") == [[may_assessment.id], []]
    assert exported(tmp_path, "837") == [[tampere_assessment.id], [plan.id]]


def test_export_kotoaj__a_producer_s_record__the_purchaser_s_after_the_client_moved_to_the_producer(
    counsellor, tmp_path
):
    """Lahti assesses Hollola's client under a service agreement in May; in October the
    client moves to Lahti. The completed assessment was made for Hollola and stays Hollola's
    export; the plan in force passed to Lahti with the client (on record as handed over) and
    is Lahti's. A check by organisation alone took the assessment for a handed-over one."""
    from koto.core.roles import Role
    from koto.organisations.models import AgreementScope, ServiceAgreement
    from tests.factories import OrganisationFactory, member

    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    hollola_worker = member(hollola, Role.INTEGRATION_COUNSELLOR, username="hollola")
    lahti = counsellor.active_membership.organisation
    ServiceAgreement.objects.create(
        producer=lahti, purchaser=hollola, scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    with clock.frozen(EARLIER):
        c = new_client(hollola_worker)
        assessment, plan, _ = casework(counsellor, c, on=EARLIER)
    moved_on_20_october(c, sender=hollola_worker, taker=counsellor)

    assert exported(tmp_path, "098") == [[assessment.id], []]
    assert exported(tmp_path, "398") == [[], [plan.id]]
