"""Placement services: the state machine (every allowed and refused transition), the
welfare region's consultation rules, arrival making clients, places used and minors' tasks."""

import datetime as dt

import pytest

from koto.audit.models import AuditEvent
from koto.clients.models import AccessGrant, Client, ClientEvent, Residence, Task
from koto.clients.services import client_assign_counsellor, client_update
from koto.core import clock
from koto.core.errors import PermissionDenied, ValidationFailed
from koto.core.roles import Role
from koto.placement import selectors, services
from koto.placement.models import (
    AgreementStatus,
    HealthCheckReferral,
    MinorCare,
    Placement,
    PlacementStatus,
)
from koto.placement.states import TRANSITIONS
from tests.factories import member

from .conftest import TODAY, family

VALID_ARGS = {
    "accept": {"decided_on": dt.date(2026, 10, 5)},
    "decline": {"reason": "No suitable housing this autumn."},
    "reserve_housing": {"address": "Kauppakatu 1 A 3, 15140 Lahti", "housing_on": TODAY},
    "request_supported_housing": {"note": "Needs an accessible flat with support."},
    "arrive": {"arrived_on": dt.date(2026, 10, 20)},
    "cancel": {"reason": "The family moved elsewhere."},
}


def _actor_for(operation, officer, manager):
    return officer if operation == "cancel" else manager


@pytest.mark.parametrize("operation", list(VALID_ARGS))
@pytest.mark.parametrize("status", PlacementStatus.values)
def test_placement_operation__every_status__follows_state_machine(
    operation, status, propose, officer, manager
):
    # given a placement in `status`
    placement = propose()
    Placement.objects.filter(pk=placement.pk).update(status=status)
    placement.refresh_from_db()
    expected = TRANSITIONS[operation].get(status)
    # when
    call = services.OPERATIONS[operation]
    actor = _actor_for(operation, officer, manager)
    if expected is None:
        with pytest.raises(services.PlacementError) as e:
            call(actor=actor, placement=placement, **VALID_ARGS[operation])
        assert e.value.code == "invalid_transition"
        placement.refresh_from_db()
        assert placement.status == status
    else:
        result = call(actor=actor, placement=placement, **VALID_ARGS[operation])
        assert result.status == expected
        placement.refresh_from_db()
        assert placement.status == expected
        assert placement.version == 2


def test_state_machine__terminal_statuses__allow_nothing():
    for status in (PlacementStatus.DECLINED, PlacementStatus.ARRIVED, PlacementStatus.CANCELLED):
        assert [op for op, moves in TRANSITIONS.items() if status in moves] == []


def test_placement_accept__by_authority__permission_denied(propose, officer):
    placement = propose()
    with pytest.raises(PermissionDenied):
        services.placement_accept(actor=officer, placement=placement)


def test_placement_cancel__by_municipality__permission_denied(propose, manager):
    placement = propose()
    with pytest.raises(PermissionDenied):
        services.placement_cancel(actor=manager, placement=placement, reason="x")


def test_placement_decline__without_reason__refused_naming_reason(propose, manager):
    placement = propose()
    with pytest.raises(ValidationFailed) as e:
        services.placement_decline(actor=manager, placement=placement, reason="  ")
    assert list(e.value.fields) == ["reason"]


def test_placement_accept__stale_version__conflict(propose, manager):
    placement = propose()
    with pytest.raises(services.PlacementConflict):
        services.placement_accept(actor=manager, placement=placement, expected_version=7)


# ---------------------------------------------------------------- proposal


def test_placement_propose__authority_not_valid_in_year__refused_naming_year(propose, ely, lahti):
    from koto.core.roles import Role
    from tests.factories import member

    ely_officer = member(ely, Role.PLACEMENT_OFFICER)
    with pytest.raises(ValidationFailed) as e:
        propose(actor=ely_officer, year=2026)
    assert list(e.value.fields) == ["year"]


def test_placement_propose__by_municipality__permission_denied(propose, manager):
    with pytest.raises(PermissionDenied):
        propose(actor=manager)


def test_placement_propose__no_persons__refused(propose):
    with pytest.raises(ValidationFailed) as e:
        propose(persons=[])
    assert list(e.value.fields) == ["persons"]


def test_placement_propose__adult_as_unaccompanied_minor__refused(propose):
    person = {
        "first_name": "Ali",
        "last_name": "Rahimi",
        "birth_date": dt.date(2006, 1, 1),
        "residence_basis": "asylum",
        "first_permit_on": dt.date(2025, 9, 1),
    }
    with pytest.raises(ValidationFailed) as e:
        propose(category="unaccompanied_minor", source="reception_centre", persons=[person])
    assert list(e.value.fields) == ["persons.0.birth_date"]


@pytest.mark.parametrize(
    "field, value",
    [("mother_tongue", "xx"), ("first_permit_on", dt.date(1989, 12, 31)),
     ("last_name", "Yusuf\u202e"), ("first_name", "A\u0007mina")],
)  # fmt: skip
def test_placement_propose__a_person_the_registry_would_refuse__refused_naming_it(
    propose, field, value
):
    # accepted before, the arrival could then never be recorded (the registry refused them)
    persons = family()
    persons[0][field] = value
    with pytest.raises(ValidationFailed) as e:
        propose(persons=persons)
    assert list(e.value.fields) == [f"persons.0.{field}"]


def test_placement_propose__mother_tongue_normalised_as_the_registry_does(propose, manager):
    persons = family()
    persons[0]["mother_tongue"] = "SOM"
    placement = propose(persons=persons)
    assert placement.persons.order_by("id").first().mother_tongue == "so"
    placement = _to_housing(manager, placement)
    services.placement_arrive(actor=manager, placement=placement, arrived_on=dt.date(2026, 10, 20))
    assert Client.objects.filter(mother_tongue="so").count() == 1


def test_placement_detail__read__names_the_clients_shown(propose, manager):
    placement = _to_housing(manager, propose())
    services.placement_arrive(actor=manager, placement=placement, arrived_on=dt.date(2026, 10, 20))
    selectors.placement_get_for(user=manager, placement_id=placement.id)
    event = AuditEvent.objects.filter(object_type="placement", action="read").latest("id")
    clients = set(Client.objects.values_list("id", flat=True))
    assert len(clients) == 2 and set(event.changes["listed_clients"]) == clients


def test_agreement_create__same_year_twice__refused_naming_year(agreement, officer, lahti):
    with pytest.raises(ValidationFailed) as e:
        services.agreement_create(
            actor=officer, municipality=lahti, year=2026,
            places={"places_quota_refugee": 1, "places_international_protection": 0,
                    "places_unaccompanied_minor": 0},
        )  # fmt: skip
    assert list(e.value.fields) == ["year"]


def test_placement_propose__valid__stored_with_people_and_audited(propose, officer, evk):
    placement = propose()
    assert placement.status == PlacementStatus.PROPOSED
    assert placement.authority == evk
    assert placement.year == 2026
    assert [p.relation for p in placement.persons.all()] == ["main", "child"]
    assert AuditEvent.objects.filter(object_type="placement", action="create").count() == 1


# ---------------------------------------------------------------- welfare consultation


def test_placement_accept__flagged_without_consultation__refused_with_field_error(propose, manager):
    placement = propose(evident_welfare_needs=True, welfare_needs_note="Wheelchair user")
    with pytest.raises(ValidationFailed) as e:
        services.placement_accept(actor=manager, placement=placement)
    assert list(e.value.fields) == ["welfare_consultation"]
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.PROPOSED


def test_placement_accept__flagged_after_consultation__accepted(propose, manager, social_worker):
    placement = propose(evident_welfare_needs=True)
    services.placement_consult(
        actor=social_worker,
        placement=placement,
        consulted_on=dt.date(2026, 10, 3),
        statement="Home care and physiotherapy can be arranged.",
    )
    result = services.placement_accept(actor=manager, placement=placement)
    assert result.status == PlacementStatus.ACCEPTED


def test_placement_consult__by_municipality__permission_denied(propose, manager):
    placement = propose(evident_welfare_needs=True)
    with pytest.raises(PermissionDenied):
        services.placement_consult(
            actor=manager, placement=placement, consulted_on=TODAY, statement="ok"
        )


def test_placement_accept__not_flagged__no_consultation_needed(propose, manager):
    assert services.placement_accept(actor=manager, placement=propose()).status == "accepted"


def test_agreement_sign__without_consultation__refused(agreement, officer):
    with pytest.raises(services.PlacementError) as e:
        services.agreement_sign(actor=officer, agreement=agreement, signed_on=TODAY)
    assert e.value.code == "consultation_required"


def test_agreement_sign__consultation_before_last_change__refused(
    agreement, officer, social_worker
):
    # given a consultation, then a change of places
    services.agreement_consult(
        actor=social_worker, agreement=agreement, consulted_on=TODAY, statement="Agreed."
    )
    agreement = services.agreement_update(
        actor=officer,
        agreement=agreement,
        places={
            "places_quota_refugee": 25,
            "places_international_protection": 10,
            "places_unaccompanied_minor": 4,
        },
    )
    # when / then
    with pytest.raises(services.PlacementError) as e:
        services.agreement_sign(actor=officer, agreement=agreement, signed_on=TODAY)
    assert e.value.code == "consultation_required"


def test_agreement_sign__consulted_after_last_change__signed(agreement, officer, manager):
    services.agreement_consult(
        actor=manager, agreement=agreement, consulted_on=TODAY, statement="Statement received."
    )
    signed = services.agreement_sign(actor=officer, agreement=agreement, signed_on=TODAY)
    assert signed.status == AgreementStatus.SIGNED
    assert signed.signed_on == TODAY


def test_agreement_sign__consultation_dated_after_signing__refused_naming_signed_on(
    agreement, officer, social_worker
):
    services.agreement_consult(
        actor=social_worker, agreement=agreement, consulted_on=TODAY, statement="Agreed."
    )
    with pytest.raises(ValidationFailed) as e:
        services.agreement_sign(
            actor=officer, agreement=agreement, signed_on=TODAY - dt.timedelta(days=1)
        )
    assert list(e.value.fields) == ["signed_on"]


def test_agreement_revise__needs_consultation_after_signing(agreement, officer, social_worker):
    services.agreement_consult(
        actor=social_worker, agreement=agreement, consulted_on=TODAY, statement="Agreed."
    )
    agreement = services.agreement_sign(actor=officer, agreement=agreement, signed_on=TODAY)
    places = {
        "places_quota_refugee": 30,
        "places_international_protection": 10,
        "places_unaccompanied_minor": 4,
    }
    with pytest.raises(services.PlacementError) as e:
        services.agreement_revise(
            actor=officer, agreement=agreement, places=places, revised_on=TODAY
        )
    assert e.value.code == "consultation_required"
    services.agreement_consult(
        actor=social_worker, agreement=agreement, consulted_on=TODAY, statement="More is fine."
    )
    revised = services.agreement_revise(
        actor=officer, agreement=agreement, places=places, revised_on=TODAY
    )
    assert revised.status == AgreementStatus.REVISED
    assert revised.places_quota_refugee == 30


def test_agreement_update__signed__refused(agreement, officer, social_worker):
    services.agreement_consult(
        actor=social_worker, agreement=agreement, consulted_on=TODAY, statement="Agreed."
    )
    agreement = services.agreement_sign(actor=officer, agreement=agreement, signed_on=TODAY)
    with pytest.raises(services.PlacementError):
        services.agreement_update(actor=officer, agreement=agreement, places={})


def test_agreement_create__vitality_centre_for_2025__refused_naming_year(officer, lahti):
    with pytest.raises(ValidationFailed) as e:
        services.agreement_create(actor=officer, municipality=lahti, year=2025, places={})
    assert list(e.value.fields) == ["year"]


def test_agreement_create__second_for_same_year__refused(agreement, officer, lahti):
    with pytest.raises(ValidationFailed) as e:
        services.agreement_create(actor=officer, municipality=lahti, year=2026, places={})
    assert list(e.value.fields) == ["year"]


def test_agreement_create__negative_places__refused(officer, lahti):
    with pytest.raises(ValidationFailed) as e:
        services.agreement_create(
            actor=officer, municipality=lahti, year=2027, places={"places_quota_refugee": -1}
        )
    assert list(e.value.fields) == ["places_quota_refugee"]


def test_agreement_update__one_category__others_kept(agreement, officer):
    services.agreement_update(
        actor=officer, agreement=agreement, places={"places_quota_refugee": 25}
    )
    agreement.refresh_from_db()
    places = [getattr(agreement, f) for f in services.PLACE_FIELDS]
    assert places == [25, 10, 4]


def test_agreement_create__municipality_of_another_authority__refused_naming_municipality(
    lahti, strangers
):
    other_officer = strangers[-1]
    with pytest.raises(ValidationFailed) as e:
        services.agreement_create(actor=other_officer, municipality=lahti, year=2026, places={})
    assert list(e.value.fields) == ["municipality"]
    with pytest.raises(ValidationFailed) as e:
        services.placement_propose(
            actor=other_officer, municipality=lahti, category="quota_refugee",
            source="quota", persons=family(), proposed_on=dt.date(2026, 10, 1),
        )  # fmt: skip
    assert list(e.value.fields) == ["municipality"]


def test_agreement_create__municipality_without_authority__refused_naming_municipality(
    officer, lahti
):
    lahti.regional_state_authority = None
    lahti.save()
    with pytest.raises(ValidationFailed) as e:
        services.agreement_create(actor=officer, municipality=lahti, year=2027, places={})
    assert list(e.value.fields) == ["municipality"]


def test_predecessor_agreement__successor_sees_and_revises_it__others_404(
    ely, officer, lahti, social_worker, strangers
):
    """The ELY centre's 2025 agreement passes to the vitality centre that took over Lahti."""
    from koto.core.errors import NotFound
    from koto.core.roles import Role
    from tests.factories import member

    ely_officer = member(ely, Role.PLACEMENT_OFFICER)
    with clock.frozen(dt.date(2025, 3, 3)):
        old = services.agreement_create(
            actor=ely_officer, municipality=lahti, year=2025, places={"places_quota_refugee": 5}
        )
        services.agreement_consult(
            actor=social_worker, agreement=old, consulted_on=clock.today(), statement="Ok."
        )
        services.agreement_sign(actor=ely_officer, agreement=old, signed_on=clock.today())
    seen = selectors.agreement_get_for(user=officer, agreement_id=old.id)
    services.agreement_consult(
        actor=social_worker, agreement=seen, consulted_on=TODAY, statement="Two more."
    )
    revised = services.agreement_revise(
        actor=officer, agreement=seen, places={"places_quota_refugee": 7}, revised_on=TODAY
    )
    assert (revised.status, revised.places_quota_refugee) == (AgreementStatus.REVISED, 7)
    with pytest.raises(NotFound):
        selectors.agreement_get_for(user=strangers[-1], agreement_id=old.id)


# ---------------------------------------------------------------- arrival


def _to_housing(manager, placement):
    services.placement_accept(actor=manager, placement=placement)
    return services.placement_reserve_housing(
        actor=manager, placement=placement, address="Kauppakatu 1", housing_on=TODAY
    )


def test_placement_arrive__people_become_clients_with_residence(propose, manager, lahti, region):
    # given
    placement = _to_housing(manager, propose())
    # when
    services.placement_arrive(actor=manager, placement=placement, arrived_on=dt.date(2026, 10, 20))
    # then
    clients = list(Client.objects.filter(placement_person__placement=placement).order_by("id"))
    assert [c.first_name for c in clients] == ["Amina", "Hodan"]
    for c in clients:
        assert c.responsible_organisation == lahti
        assert c.home_municipality == lahti
        assert c.home_municipality_on == dt.date(2026, 10, 20)
        assert c.first_home_municipality_on == dt.date(2026, 10, 20)
        assert c.residence_basis in ("quota_refugee", "family_of_quota_refugee")
        assert list(Residence.objects.filter(client=c).values_list("municipality", "from_on")) == [
            (lahti.id, dt.date(2026, 10, 20))
        ]
        assert c.events.filter(kind=ClientEvent.Kind.PLACEMENT_ARRIVED).count() == 1
        assert AccessGrant.objects.filter(client=c, organisation=region, scope="read").count() == 1
    referral = HealthCheckReferral.objects.get(placement=placement)
    assert (referral.welfare_region, referral.sent_on, referral.status) == (
        region,
        dt.date(2026, 10, 20),
        "sent",
    )
    assert MinorCare.objects.count() == 0


def test_placement_arrive__future_date__refused(propose, manager):
    placement = _to_housing(manager, propose())
    with pytest.raises(ValidationFailed) as e:
        services.placement_arrive(
            actor=manager, placement=placement, arrived_on=TODAY + dt.timedelta(days=1)
        )
    assert list(e.value.fields) == ["arrived_on"]
    assert Client.objects.count() == 0


def test_health_check_done__by_welfare_region__done(propose, manager, social_worker):
    placement = _to_housing(manager, propose())
    arrived = TODAY - dt.timedelta(days=5)
    services.placement_arrive(actor=manager, placement=placement, arrived_on=arrived)
    referral = services.health_check_done(actor=social_worker, placement=placement, done_on=TODAY)
    assert (referral.status, referral.done_on) == ("done", TODAY)
    # recorded again: a correction of a mistyped date, audited from what to what
    earlier = TODAY - dt.timedelta(days=1)
    referral = services.health_check_done(actor=social_worker, placement=placement, done_on=earlier)
    assert referral.done_on == earlier
    event = AuditEvent.objects.filter(object_type="health_check_referral").latest("id")
    assert event.changes["done_on"] == [TODAY.isoformat(), earlier.isoformat()]
    # health data of the arrived persons: in their audit trails
    arrived_clients = sorted(placement.persons.values_list("client_id", flat=True))
    assert arrived_clients and None not in arrived_clients
    assert event.changes["listed_clients"] == arrived_clients


def test_placement_decline_and_cancel__before_proposal__refused_naming_date(
    propose, manager, officer
):
    early = dt.date(2026, 9, 1)
    with pytest.raises(ValidationFailed) as e:
        services.placement_decline(actor=manager, placement=propose(), reason="x", decided_on=early)
    assert list(e.value.fields) == ["decided_on"]
    with pytest.raises(ValidationFailed) as e:
        services.placement_cancel(
            actor=officer, placement=propose(), reason="x", cancelled_on=early
        )
    assert list(e.value.fields) == ["cancelled_on"]


# ---------------------------------------------------------------- places used


def test_agreement_usage__counts_arrived_and_committed_people_per_category(
    agreement, propose, manager, officer
):
    arrived = _to_housing(manager, propose())
    services.placement_arrive(actor=manager, placement=arrived, arrived_on=TODAY)
    services.placement_accept(
        actor=manager, placement=propose(persons=[{**family()[0], "first_name": "Sahra"}])
    )
    propose()  # only proposed: not counted
    declined = propose()
    services.placement_decline(actor=manager, placement=declined, reason="No flat")
    other_year = propose(year=2027)
    services.placement_accept(actor=manager, placement=other_year)

    usage = {
        u.category: (u.agreed, u.used, u.committed, u.remaining)
        for u in selectors.agreement_get_for(user=officer, agreement_id=agreement.id).usage
    }
    assert usage == {
        "quota_refugee": (20, 2, 1, 17),
        "international_protection": (10, 0, 0, 10),
        "unaccompanied_minor": (4, 0, 0, 4),
    }


# ---------------------------------------------------------------- unaccompanied minors


def _minor(birth: dt.date, **kw) -> list[dict]:
    return [
        {
            "first_name": "Ali",
            "last_name": "Rahimi",
            "birth_date": birth,
            "residence_basis": "asylum",
            "first_permit_on": dt.date(2026, 8, 1),
            **kw,
        }
    ]


def _arrive_minor(propose, manager, birth: dt.date) -> MinorCare:
    placement = propose(
        category="unaccompanied_minor", source="reception_centre", persons=_minor(birth)
    )
    services.placement_accept(actor=manager, placement=placement)
    services.placement_request_supported_housing(
        actor=manager, placement=placement, note="Family group home"
    )
    services.placement_arrive(actor=manager, placement=placement, arrived_on=TODAY)
    return MinorCare.objects.get(placement=placement)


def _tasks(care) -> dict[str, dt.date]:
    return {
        t.kind: t.due_on for t in Task.objects.filter(source_type="minor_care", source_id=care.id)
    }


@pytest.mark.parametrize(
    ("birth", "turns_18", "representative_to", "support_ends", "support_task"),
    [
        (dt.date(2010, 5, 15), dt.date(2028, 5, 15), dt.date(2028, 5, 14),
         dt.date(2033, 5, 14), dt.date(2033, 2, 14)),
        # 29 February: birthdays fall on 28 February in common years
        (dt.date(2012, 2, 29), dt.date(2030, 2, 28), dt.date(2030, 2, 27),
         dt.date(2035, 2, 27), dt.date(2034, 11, 27)),
        # 3 months before a 31st: clamped to the month's end
        (dt.date(2009, 6, 1), dt.date(2027, 6, 1), dt.date(2027, 5, 31),
         dt.date(2032, 5, 31), dt.date(2032, 2, 29)),
    ],
)  # fmt: skip
def test_placement_arrive__unaccompanied_minor__care_and_tasks_from_law(
    propose, manager, region, birth, turns_18, representative_to, support_ends, support_task
):
    care = _arrive_minor(propose, manager, birth)
    assert care.turns_18_on == turns_18
    assert care.representative_to == representative_to
    assert care.support_ends_on == support_ends
    assert _tasks(care) == {"minor_turns_18": turns_18, "adulthood_support_ending": support_task}
    client = care.client
    assert client.arrived_as_unaccompanied_minor is True
    assert client.fact_changes.filter(fact="arrived_as_unaccompanied_minor").count() == 1
    assert AccessGrant.objects.filter(client=client, organisation=region, scope="full").exists()
    task = Task.objects.get(source_type="minor_care", kind="adulthood_support_ending")
    assert task.organisation_id == client.responsible_organisation_id
    assert task.rule_section != ""
    assert task.period_id != ""
    assert support_ends.strftime("%Y") in task.reason_en
    assert task.reason_fi and task.reason_sv


def test_minor_care_update__representative_beyond_18__refused(propose, manager):
    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    care.client.access = "full"
    with pytest.raises(ValidationFailed) as e:
        services.minor_care_update(
            actor=manager, care=care, data={"representative_to": dt.date(2028, 5, 15)}
        )
    assert list(e.value.fields) == ["representative_to"]


def test_minor_care_update__housing_and_representative__saved_and_audited(propose, manager):
    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    care.client.access = "full"
    updated = services.minor_care_update(
        actor=manager,
        care=care,
        data={
            "housing_form": "family_group_home",
            "representative_name": "Maija Edustaja",
            "representative_from": dt.date(2026, 10, 1),
            "representative_to": None,
        },
    )
    assert updated.housing_form == "family_group_home"
    assert updated.representative_to == dt.date(2028, 5, 14)
    assert AuditEvent.objects.filter(object_type="minor_care", action="update").count() == 1


def test_minor_care_tasks__resync__moves_not_duplicates(propose, manager):
    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    tasks = Task.objects.filter(source_type="minor_care", source_id=care.id)
    stamped = dict(tasks.values_list("kind", "computed_at"))
    with clock.frozen(clock.now() + dt.timedelta(days=3)):
        services.minor_care_sync_tasks(care=care, client=care.client)
    assert tasks.count() == 2
    # nothing changed, nothing re-stamped (the dashboards' refresh reads the stamp)
    assert dict(tasks.values_list("kind", "computed_at")) == stamped


def test_birth_date_corrected__care_dates_and_tasks_follow(propose, manager):
    """The registry's correction of a minor's birth date moves the 18th birthday, the
    representative's last day, the end of the support for adulthood and their tasks (they
    kept the first birth date's dates, the deadline tasks too)."""
    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    client = Client.objects.get(pk=care.client_id)
    client.access = "full"

    counsellor = member(client.responsible_organisation, Role.INTEGRATION_COUNSELLOR)
    client_update(actor=counsellor, client=client, data={"birth_date": dt.date(2010, 1, 20)})

    care.refresh_from_db()
    assert care.turns_18_on == dt.date(2028, 1, 20)
    assert care.representative_to == dt.date(2028, 1, 19)
    assert care.support_ends_on == dt.date(2033, 1, 19)
    assert care.version == 2
    assert _tasks(care) == {
        "minor_turns_18": dt.date(2028, 1, 20),
        "adulthood_support_ending": dt.date(2032, 10, 19),
    }
    event = AuditEvent.objects.get(object_type="minor_care", action="update")
    assert event.changes["turns_18_on"] == "2028-01-20" and event.client_id == client.id


def test_client_changed_otherwise__care_untouched(propose, manager):
    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    care.client.access = "full"
    care = services.minor_care_update(
        actor=manager, care=care, data={"representative_to": dt.date(2027, 12, 31)}
    )
    client = Client.objects.get(pk=care.client_id)
    client.access = "full"

    counsellor = member(client.responsible_organisation, Role.INTEGRATION_COUNSELLOR)
    client_update(actor=counsellor, client=client, data={"first_name": "Aliya"})
    care.refresh_from_db()
    assert (care.version, care.turns_18_on) == (2, dt.date(2028, 5, 15))
    # a later birthday leaves a representative's earlier chosen last day as it was
    client_update(actor=counsellor, client=client, data={"birth_date": dt.date(2010, 9, 1)})
    care.refresh_from_db()
    assert care.turns_18_on == dt.date(2028, 9, 1)
    assert care.representative_to == dt.date(2027, 12, 31)


def test_counsellor_chosen__the_minor_s_care_tasks_follow(propose, manager, lahti):
    """The placement manager who records an arrival is not the counsellor: the care's tasks
    had nobody, and choosing a counsellor afterwards left them so."""
    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    client = Client.objects.get(pk=care.client_id)
    client.access = "full"
    counsellor = member(lahti, Role.INTEGRATION_COUNSELLOR)
    client_assign_counsellor(actor=counsellor, client=client, counsellor=counsellor)
    assignees = set(
        Task.objects.filter(client=client, status="open").values_list("kind", "assignee_id")
    )
    assert ("minor_turns_18", counsellor.id) in assignees
    assert ("adulthood_support_ending", counsellor.id) in assignees


def test_clock_is_frozen():
    assert clock.today() == TODAY


def test_plans_deadline_sweep__keeps_minor_care_tasks(propose, manager):
    from koto.plans.deadlines_sweep import sweep_client_tasks

    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    sweep_client_tasks(care.client)
    assert set(
        Task.objects.filter(source_type="minor_care", status="open").values_list("kind", flat=True)
    ) == {"minor_turns_18", "adulthood_support_ending"}


# ---------------------------------------------------------------- review round


def test_placement_propose__minor_without_permit_date__refused_naming_it(propose):
    # the support for adulthood is counted from the permit: without one the minor arrived
    # with no end to it and no task before it ends
    with pytest.raises(ValidationFailed) as e:
        propose(category="unaccompanied_minor", source="reception_centre",
                persons=_minor(dt.date(2010, 5, 15), first_permit_on=None))  # fmt: skip
    assert list(e.value.fields) == ["persons.0.first_permit_on"]


def test_placement_arrive__minor_turned_18_since_the_proposal__refused_naming_arrived_on(
    propose, manager
):
    born = dt.date(2008, 10, 20)  # 17 when proposed on 1.10.2026, 18 on 20.10.2026
    placement = propose(category="unaccompanied_minor", source="reception_centre",
                        persons=_minor(born))  # fmt: skip
    services.placement_accept(actor=manager, placement=placement)
    services.placement_request_supported_housing(actor=manager, placement=placement, note="x")
    with pytest.raises(ValidationFailed) as e:
        services.placement_arrive(actor=manager, placement=placement, arrived_on=TODAY)
    assert list(e.value.fields) == ["arrived_on"]
    assert not MinorCare.objects.exists() and not Client.objects.exists()


def test_placement_accept__dated_before_the_welfare_statement__refused(
    propose, manager, social_worker
):
    # 6 §: the welfare region is consulted before placing
    placement = propose(evident_welfare_needs=True)
    services.placement_consult(actor=social_worker, placement=placement,
                               consulted_on=dt.date(2026, 10, 20), statement="Arranged.")  # fmt: skip
    with pytest.raises(ValidationFailed) as e:
        services.placement_accept(actor=manager, placement=placement,
                                  decided_on=dt.date(2026, 10, 15))  # fmt: skip
    assert list(e.value.fields) == ["welfare_consultation"]
    accepted = services.placement_accept(actor=manager, placement=placement,
                                         decided_on=dt.date(2026, 10, 20))  # fmt: skip
    assert accepted.status == PlacementStatus.ACCEPTED


def test_minor_care_update__dates_in_order_and_not_ahead(propose, manager):
    care = _arrive_minor(propose, manager, dt.date(2010, 5, 15))
    care.client.access = "full"
    with pytest.raises(ValidationFailed) as e:
        services.minor_care_update(actor=manager, care=care, data={
            "representative_from": TODAY + dt.timedelta(days=3),
            "after_care_plan_on": dt.date(2026, 10, 1),
            "after_care_plan_ends_on": dt.date(2026, 9, 1),
        })  # fmt: skip
    assert set(e.value.fields) == {"representative_from", "after_care_plan_ends_on"}


def _health_checked_today(propose, manager, social_worker, region):
    """A family arrived five days ago and had its health check today: the placement and the
    welfare region's grants from it."""
    placement = _to_housing(manager, propose())
    services.placement_arrive(
        actor=manager, placement=placement, arrived_on=TODAY - dt.timedelta(days=5)
    )
    services.health_check_done(actor=social_worker, placement=placement, done_on=TODAY)
    return placement, AccessGrant.objects.filter(organisation=region, source="placement")


def test_health_check_done__adults_read_grants_end_after_the_follow_up(
    propose, manager, social_worker, region
):
    # the welfare region's read grant from arrival had no end: it read the adults for good
    from koto.clients.selectors import client_get_for
    from koto.core.errors import NotFound

    placement, grants = _health_checked_today(propose, manager, social_worker, region)
    last = TODAY + dt.timedelta(days=services.READ_AFTER_HEALTH_CHECK_DAYS)
    assert sorted(set(grants.values_list("scope", "valid_to"))) == [("read", last)]
    event = AuditEvent.objects.filter(object_type="access_grant", action="update").latest("id")
    assert event.changes["valid_to"] == [None, last.isoformat()]
    client_id = grants.first().client_id
    # read until then, not after
    with clock.frozen(last):
        assert client_get_for(user=social_worker, client_id=client_id).access == "read"
    with clock.frozen(last + dt.timedelta(days=1)), pytest.raises(NotFound):
        client_get_for(user=social_worker, client_id=client_id)
    # a corrected date moves the end with it
    services.health_check_done(
        actor=social_worker, placement=placement, done_on=TODAY - dt.timedelta(days=1)
    )
    assert set(grants.values_list("valid_to", flat=True)) == {last - dt.timedelta(days=1)}


def test_migration_0002__grants_of_health_checks_done_get_their_end(
    propose, manager, social_worker, region
):
    import importlib

    from django.apps import apps

    _placement, grants = _health_checked_today(propose, manager, social_worker, region)
    grants.update(valid_to=None)  # as before the change
    migration = importlib.import_module("koto.placement.migrations.0002_end_adult_read_grants")
    migration.forwards(apps, None)
    assert set(grants.values_list("valid_to", flat=True)) == {TODAY + dt.timedelta(days=30)}
    assert migration.DAYS == services.READ_AFTER_HEALTH_CHECK_DAYS
    event = AuditEvent.objects.filter(reason="migration placement.0002").get()
    assert sorted(event.changes["listed_clients"]) == sorted(
        grants.values_list("client_id", flat=True)
    )


def test_health_check_done__recorded_again_later__the_read_access_not_extended(
    propose, manager, social_worker, region
):
    # recording the check again with a later day gave the region another 30 days, at will
    placement, grants = _health_checked_today(propose, manager, social_worker, region)
    last = TODAY + dt.timedelta(days=services.READ_AFTER_HEALTH_CHECK_DAYS)
    with clock.frozen(last + dt.timedelta(days=10)):
        services.health_check_done(
            actor=social_worker, placement=placement, done_on=last + dt.timedelta(days=10)
        )
    assert set(grants.values_list("valid_to", flat=True)) == {last}
