"""Review fixes: the same people placed or arrived twice, places beyond the agreement warned
about, the welfare region seeing only what it has a task with, and the ages and lead times
of unaccompanied minors' care from `koto.law` parameters."""

import datetime as dt
import json
import re

import pytest

from koto.audit.models import AuditEvent
from koto.clients.models import Client
from koto.clients.services import client_create
from koto.core.errors import DomainError, NotFound, ValidationFailed
from koto.law import params as law_params
from koto.organisations.models import Organisation
from koto.placement import selectors, services
from koto.placement.models import MinorCare, Placement

from .conftest import TODAY, family

BASE = "/api/v1/placement"


def _to_housing(manager, placement):
    services.placement_accept(actor=manager, placement=placement)
    return services.placement_reserve_housing(
        actor=manager, placement=placement, address="Kauppakatu 1", housing_on=TODAY
    )


def _person(first: str, last: str, birth: dt.date, **kw) -> dict:
    return {
        "first_name": first,
        "last_name": last,
        "birth_date": birth,
        "residence_basis": "quota_refugee",
        "first_permit_on": dt.date(2026, 9, 1),
        **kw,
    }


# ---------------------------------------------------------------- the same people twice


def test_placement_propose__same_proposal_again__refused_once_made(officer, lahti):
    # given: the form sent once
    args = {
        "actor": officer, "municipality": lahti, "category": "quota_refugee", "source": "quota",
        "proposed_on": dt.date(2026, 10, 1),
    }  # fmt: skip
    first = services.placement_propose(persons=family(), **args)

    # when: sent again (or by a second officer), even confirmed as other people
    with pytest.raises(DomainError) as e:
        services.placement_propose(persons=family(), confirm_duplicate=True, **args)

    # then
    assert e.value.code == "duplicate_proposal"
    assert list(e.value.fields) == ["persons"]
    assert f"placement {first.id}" in e.value.message
    assert Placement.objects.count() == 1


def test_placement_propose__person_in_another_open_placement__refused_unless_confirmed(
    propose, officer, lahti
):
    # given: Amina proposed with her child
    propose()
    alone = [{**family()[0], "first_name": "AMINA", "last_name": "yusuf"}]

    # when: proposed alone (case and accents aside, the same person)
    with pytest.raises(ValidationFailed) as e:
        propose(persons=alone)

    # then: the person's field and the confirmation are named; nothing written
    assert set(e.value.fields) == {"persons.0.last_name", "confirm_duplicate"}
    assert "proposed on 1.10.2026" in e.value.fields["persons.0.last_name"][0]
    assert Placement.objects.count() == 1

    # when confirmed to be another person: made
    made = propose(persons=alone, confirm_duplicate=True)
    assert made.persons.count() == 1
    event = AuditEvent.objects.get(object_type="placement", object_id=str(made.id))
    assert event.changes["confirm_duplicate"] is True


def test_placement_propose__names_in_the_other_order__found(propose):
    propose(persons=[_person("Ali", "Hassan", dt.date(1988, 1, 1))])

    with pytest.raises(ValidationFailed) as e:
        propose(persons=[_person("Hassan", "Ali", dt.date(1988, 1, 1))])

    assert "persons.0.last_name" in e.value.fields


def test_placement_propose__same_person_twice_in_one_proposal__refused_naming_the_second(
    propose,
):
    twice = [family()[0], {**family()[0], "relation": "spouse"}]

    with pytest.raises(ValidationFailed) as e:
        propose(persons=twice)

    assert list(e.value.fields) == ["persons.1.first_name"]
    assert Placement.objects.count() == 0


def test_placement_propose__after_a_decline__the_same_people_again(propose, manager, officer):
    declined = propose()
    services.placement_decline(actor=manager, placement=declined, reason="No flat")

    again = propose(persons=family())

    assert again.id != declined.id


def test_placement_propose__another_authority_s_placement__not_looked_at(propose, strangers):
    # given: the Pirkanmaa centre's officer cannot see Häme's placements
    propose(persons=[_person("Ali", "Hassan", dt.date(1988, 1, 1))])
    other_officer = strangers[3]
    tampere = Organisation.objects.get(code="837")

    # when / then: its own proposal is not refused on what it may not see
    made = services.placement_propose(
        actor=other_officer, municipality=tampere, category="quota_refugee", source="quota",
        persons=[_person("Ali", "Hassan", dt.date(1988, 1, 1))],
        proposed_on=dt.date(2026, 10, 1),
    )  # fmt: skip
    assert made.municipality_id == tampere.id


def test_placement_arrive__person_already_a_client__refused_unless_confirmed(
    propose, manager, lahti
):
    # given: Lahti already has Amina as a client (registered before the placement)
    existing = client_create(
        actor=manager,
        organisation=lahti,
        data={"first_name": "Amina", "last_name": "Yusuf", "birth_date": dt.date(1990, 4, 2)},
    )
    placement = _to_housing(manager, propose())
    clients_before = Client.objects.count()

    # when
    with pytest.raises(DomainError) as e:
        services.placement_arrive(actor=manager, placement=placement, arrived_on=TODAY)

    # then: named, nothing half-written
    assert e.value.code == "possible_duplicate"
    amina = placement.persons.get(first_name="Amina")
    assert set(e.value.fields) == {f"persons.{amina.id}.last_name", "confirm_duplicate"}
    assert "Amina Yusuf" in e.value.fields["confirm_duplicate"][0]
    assert Client.objects.count() == clients_before
    placement.refresh_from_db()
    assert placement.status == "housing_reserved"

    # when confirmed: new clients made
    services.placement_arrive(
        actor=manager, placement=placement, arrived_on=TODAY, confirm_duplicate=True
    )
    assert Client.objects.count() == clients_before + 2
    assert existing.id not in set(placement.persons.values_list("client_id", flat=True))


def test_placement_arrive__twins__not_each_others_duplicates(propose, manager):
    twins = [
        _person("Amina", "Yusuf", dt.date(1990, 4, 2)),
        _person("Hodan", "Yusuf", dt.date(2016, 8, 20), relation="child"),
        _person("Hamza", "Yusuf", dt.date(2016, 8, 20), relation="child"),
    ]
    placement = _to_housing(manager, propose(persons=twins))

    services.placement_arrive(actor=manager, placement=placement, arrived_on=TODAY)

    assert placement.persons.filter(client__isnull=False).count() == 3


def test_api_arrive__twice__second_refused_no_second_clients(web, propose, manager):
    placement = _to_housing(manager, propose())
    http = web(manager)
    url = f"{BASE}/placements/{placement.id}/arrive"
    placement.refresh_from_db()
    body = json.dumps({"arrived_on": "2026-11-02", "version": placement.version})

    first = http.post(url, data=body, content_type="application/json")
    second = http.post(url, data=body, content_type="application/json")

    assert first.status_code == 200
    assert second.status_code == 409
    assert Client.objects.count() == 2


def test_api_propose__duplicate__422_naming_the_person_and_confirm(web, propose, officer):
    propose()
    body = {
        "municipality_code": "398", "category": "quota_refugee", "source": "quota",
        "proposed_on": "2026-10-01",
        "persons": [{**family()[0], "birth_date": "1990-04-02", "first_permit_on": "2026-09-01"}],
    }  # fmt: skip
    http = web(officer)

    r = http.post(f"{BASE}/placements", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"persons.0.last_name", "confirm_duplicate"}

    body["confirm_duplicate"] = True
    r = http.post(f"{BASE}/placements", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 201


def test_propose_page__duplicate__error_on_the_persons_row_and_the_confirmation(
    web, propose, officer, lahti
):
    propose()
    person = family()[0]
    data = {
        "municipality": lahti.id, "year": 2026, "category": "quota_refugee", "source": "quota",
        "persons-TOTAL_FORMS": "1", "persons-INITIAL_FORMS": "0",
        "persons-MIN_NUM_FORMS": "1", "persons-MAX_NUM_FORMS": "1000",
        "persons-0-first_name": person["first_name"], "persons-0-last_name": person["last_name"],
        "persons-0-birth_date": "1990-04-02", "persons-0-gender": "female",
        "persons-0-residence_basis": "quota_refugee", "persons-0-first_permit_on": "2026-09-01",
    }  # fmt: skip

    r = web(officer).post("/placement/new/", data)

    assert r.status_code == 200
    assert r.context["persons"].forms[0].errors["last_name"]
    assert r.context["form"].errors["confirm_duplicate"]
    assert Placement.objects.count() == 1


# ---------------------------------------------------------------- beyond the agreement


def _agreement(officer, lahti, quota: int):
    return services.agreement_create(
        actor=officer, municipality=lahti, year=2026, places={"places_quota_refugee": quota}
    )


def test_placement_propose__beyond_the_places_agreed__made_with_a_warning(propose, officer, lahti):
    _agreement(officer, lahti, quota=3)
    within = propose()  # 2 of 3

    beyond = propose()  # 4 of 3 with the open proposal

    assert within.warnings == []
    assert len(beyond.warnings) == 1
    assert "Beyond the agreement by 1" in beyond.warnings[0]
    event = AuditEvent.objects.get(object_type="placement", object_id=str(beyond.id))
    assert event.changes["over_agreement"] == 1


def test_placement_propose__no_agreement_for_the_year__warned(propose):
    made = propose()

    assert len(made.warnings) == 1
    assert "no placement agreement for 2026" in made.warnings[0]


def test_placement_accept__beyond_the_places_agreed__accepted_with_a_warning(
    propose, officer, manager, lahti
):
    _agreement(officer, lahti, quota=3)
    first, second = propose(), propose()
    services.placement_accept(actor=manager, placement=first)

    done = services.placement_accept(actor=manager, placement=second)

    assert done.status == "accepted"
    assert "Beyond the agreement by 1" in done.warnings[0]
    check = selectors.places_check(second)
    assert (check.agreed, check.committed, check.this, check.over_if_accepted) == (3, 2, 2, 1)
    usage = {u.category: u.over for u in selectors.agreement_get_for(
        user=officer, agreement_id=second.municipality.placement_agreements.get().id
    ).usage}  # fmt: skip
    assert usage["quota_refugee"] == 1


def test_api_accept__beyond_the_agreement__warnings_and_places_in_the_answer(
    web, propose, officer, manager, lahti
):
    _agreement(officer, lahti, quota=1)
    placement = propose()

    r = web(manager).post(
        f"{BASE}/placements/{placement.id}/accept", data="{}", content_type="application/json"
    )

    assert r.status_code == 200
    assert len(r.json()["warnings"]) == 1
    read = web(manager).get(f"{BASE}/placements/{placement.id}").json()
    assert read["warnings"] == []
    assert read["places"]["agreed"] == 1
    assert read["places"]["over_if_accepted"] == 1


def test_placement_detail__beyond_the_agreement__warning_shown(web, propose, officer, lahti):
    _agreement(officer, lahti, quota=1)
    placement = propose()

    r = web(officer).get(f"/placement/{placement.id}/")

    assert r.status_code == 200
    assert "Beyond the agreement by 1" in r.content.decode()


# ---------------------------------------------------------------- the welfare region


def test_welfare_region__a_plain_proposal__not_seen(propose, social_worker):
    placement = propose()

    with pytest.raises(NotFound):
        selectors.placement_get_for(user=social_worker, placement_id=placement.id)
    assert selectors.placement_page_for(user=social_worker).items == []


def test_welfare_region__flagged_minor_and_arrived__seen(propose, manager, social_worker):
    flagged = propose(evident_welfare_needs=True, welfare_needs_note="Diabetes")
    arrived = _to_housing(manager, propose())
    services.placement_arrive(actor=manager, placement=arrived, arrived_on=TODAY)
    plain = propose()

    seen = {p.id for p in selectors.placement_page_for(user=social_worker).items}

    assert seen == {flagged.id, arrived.id}
    assert plain.id not in seen


def test_welfare_region__declined_after_its_statement__seen_without_the_reasons(
    web, propose, manager, social_worker, officer
):
    placement = propose(evident_welfare_needs=True)
    services.placement_consult(
        actor=social_worker, placement=placement, consulted_on=TODAY, statement="Puollamme."
    )
    services.placement_decline(actor=manager, placement=placement, reason="Ei asuntoa: velkaa")

    read = selectors.placement_get_for(user=social_worker, placement_id=placement.id)
    api = web(social_worker).get(f"{BASE}/placements/{placement.id}").json()
    page = web(social_worker).get(f"/placement/{placement.id}/").content.decode()

    assert read.decline_reason == ""
    assert api["decline_reason"] == ""
    assert "velkaa" not in page
    # the municipality and the authority still see it
    assert selectors.placement_get_for(user=officer, placement_id=placement.id).decline_reason


def test_welfare_region__flagged_but_declined_without_statement__not_seen(
    propose, manager, social_worker
):
    placement = propose(evident_welfare_needs=True)
    services.placement_decline(actor=manager, placement=placement, reason="x")

    with pytest.raises(NotFound):
        selectors.placement_get_for(user=social_worker, placement_id=placement.id)


def test_api_welfare_region__a_plain_proposal__404(web, propose, social_worker):
    placement = propose()

    r = web(social_worker).get(f"{BASE}/placements/{placement.id}")

    assert r.status_code == 404


# ---------------------------------------------------------------- law parameters


@pytest.fixture
def law_dir(tmp_path, monkeypatch):
    """The 2025 period again with other values (same id: it replaces the shipped one)."""

    def _with(**values):
        text = (law_params.BUILTIN_DIR / "2025-01-01.toml").read_text(encoding="utf-8")
        for key, value in values.items():
            text, n = re.subn(
                rf"^{key} = {{ value = [^,]+,", f"{key} = {{ value = {value},", text, flags=re.M
            )
            assert n == 1, key
        (tmp_path / "2025-01-01.toml").write_text(text, encoding="utf-8")
        monkeypatch.setenv(law_params.ENV_VAR, str(tmp_path))
        law_params.clear_cache()

    yield _with
    monkeypatch.delenv(law_params.ENV_VAR, raising=False)
    law_params.clear_cache()


def test_turns_18_on__age_from_the_law_parameters(law_dir):
    birth = dt.date(2010, 5, 20)
    assert services.turns_18_on(birth) == dt.date(2028, 5, 20)

    law_dir(age_of_majority=19)

    assert services.turns_18_on(birth) == dt.date(2029, 5, 20)


def test_turns_18_on__29_february__28_february():
    assert services.turns_18_on(dt.date(2008, 2, 29)) == dt.date(2026, 2, 28)


def test_support_ending_task__lead_time_from_the_law_parameters(law_dir):
    ends = dt.date(2033, 5, 19)
    assert services.support_ending_task_on(ends)[:2] == (dt.date(2033, 2, 19), 3)

    law_dir(adulthood_support_ending_notice_months=6)

    assert services.support_ending_task_on(ends) == (dt.date(2032, 11, 19), 6, "2025-01-01")


def test_minor_arrival__task_before_the_support_ends__months_in_the_reason(propose, manager):
    minor = _person(
        "Ali", "Rahimi", dt.date(2010, 5, 20), residence_basis="asylum",
        first_permit_on=dt.date(2025, 9, 1),
    )  # fmt: skip
    placement = _to_housing(
        manager, propose(category="unaccompanied_minor", source="reception_centre",
                         persons=[minor])
    )  # fmt: skip
    services.placement_arrive(actor=manager, placement=placement, arrived_on=TODAY)

    care = MinorCare.objects.get()
    task = care.client.tasks.get(kind="adulthood_support_ending")
    assert care.support_ends_on == dt.date(2033, 5, 19)
    assert task.due_on == dt.date(2033, 2, 19)
    assert "(in 3 months)" in task.reason_en
    assert "(3 kuukauden päästä)" in task.reason_fi
