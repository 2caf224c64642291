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


def test_reference_data__each_load_one_audit_event_of_what_changed(db):
    # the organisations define who may act and see what; the load changed them unrecorded
    from koto.audit.models import AuditEvent

    first = load_reference_data()
    event = AuditEvent.objects.get(object_type="reference_data")
    assert (event.action, event.actor, event.object_id) == ("update", None, "organisations")
    assert event.changes["counts"]["municipalities"] == 308
    assert "398" in event.changes["created"] and event.changes["changed"] == {}
    assert len(event.changes["created"]) == len(first.created) == Organisation.objects.count()

    # given an organisation changed by hand and an employment area's member removed
    Organisation.objects.filter(code="398").update(name_fi="Lahden kaupunki", welfare_region=None)
    area = EmploymentArea.objects.get(authority__code="ta-paijat-hameen-tyollisyysalue")
    area.members.remove(area.members.first())
    Organisation.objects.filter(code="kela").delete()
    load_reference_data()
    second = AuditEvent.objects.filter(object_type="reference_data").latest("id")
    assert second.changes["created"] == ["kela"]
    assert second.changes["changed"] == {
        "398": ["name_fi", "welfare_region"],
        "ta-paijat-hameen-tyollisyysalue": ["employment_area.members"],
    }
    lahti = Organisation.objects.get(code="398")
    assert (lahti.name_fi, lahti.welfare_region.code) == ("Lahti", "hva-09")

    load_reference_data()
    third = AuditEvent.objects.filter(object_type="reference_data").latest("id")
    assert (third.changes["created"], third.changes["changed"]) == ([], {})


def test_load_reference_data_command__audited_naming_the_operator(db, monkeypatch, capsys):
    from django.core.management import call_command

    from koto.audit.models import AuditEvent
    from koto.core import context

    monkeypatch.setattr(context, "os_user", lambda: "maija")
    call_command("load_reference_data")
    event = AuditEvent.objects.get(object_type="reference_data")
    assert (event.channel, event.changes["operator"]) == ("cli", "maija")
    assert "organisations created, 0 changed" in capsys.readouterr().out
