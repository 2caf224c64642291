from koto.organisations.models import EmploymentArea, Organisation, OrganisationKind
from koto.organisations.reference import load_reference_data


def test_reference_data__all_finland(db):
    result = load_reference_data()
    assert result.municipalities == 308
    assert result.welfare_regions == 22
    lahti = Organisation.objects.get(code="398")
    assert lahti.welfare_region.code == "hva-09"
    assert lahti.regional_state_authority.code == "evk-03"
    assert "Statistics Finland" in lahti.source
    ely = Organisation.objects.get(code="ely-04")
    assert ely.valid_to.isoformat() == "2025-12-31"
    assert sorted(ely.successors.values_list("code", flat=True)) == ["evk-03", "evk-04"]
    area = EmploymentArea.objects.get(authority__code="ta-paijat-hameen-tyollisyysalue")
    assert area.responsible_municipality.code == "098"
    assert area.members.count() == 9
    assert Organisation.objects.filter(kind=OrganisationKind.KEHA).count() == 1


def test_reference_data__idempotent(db):
    load_reference_data()
    n = Organisation.objects.count()
    load_reference_data()
    assert Organisation.objects.count() == n
