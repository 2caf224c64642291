from django.utils import translation

from koto.clients.forms import ClientForm
from koto.organisations.models import EmploymentArea, Organisation, OrganisationKind
from koto.organisations.reference import load_reference_data
from koto.organisations.selectors import municipality_names


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


def test_municipality_names__in_the_language_of_the_page(db):
    load_reference_data()
    with translation.override("sv"):
        names = {code: name for _id, code, name in municipality_names()}
        form = ClientForm()
    assert len(names) == 308
    assert names["091"] == "Helsingfors"
    assert ("091", "Helsingfors (091)") in form.fields["home_municipality_code"].choices
    with translation.override("fi"):
        assert {code: name for _id, code, name in municipality_names()}["091"] == "Helsinki"
