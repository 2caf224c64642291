import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.audit.models import AuditEvent
from koto.clients import codes, selectors, services
from koto.clients.models import (
    AccessGrant,
    Client,
    ClientEvent,
    ClientFactChange,
    ClientName,
    NameKind,
    Task,
)
from koto.clients.services import EditConflict
from koto.core.errors import PermissionDenied, ValidationFailed
from koto.core.roles import Role
from koto.core.text import search_key
from koto.organisations.models import AgreementScope, ServiceAgreement
from tests.factories import OrganisationFactory, client_data, make_client, member


def test_client_create__valid__stored_with_timeline_and_audit(counsellor):
    c = make_client(
        counsellor, first_name="Amina", last_name="Warsame", transliterated_names=["Amiina Warsame"]
    )
    assert c.responsible_organisation == counsellor.active_membership.organisation
    assert c.counsellor == counsellor
    assert set(c.names.values_list("kind", flat=True)) == {
        NameKind.OFFICIAL,
        NameKind.TRANSLITERATED,
    }
    assert ClientEvent.objects.filter(client=c, kind="created").count() == 1
    assert AuditEvent.objects.filter(client_id=c.id, action="create").count() == 1


@pytest.fixture
def heinola(db):
    """A counsellor of another organisation (Heinola)."""
    other_org = OrganisationFactory(code="111", name_fi="Heinola")
    return member(other_org, Role.INTEGRATION_COUNSELLOR, username="heinola.c")


@pytest.mark.parametrize("own", [True, False], ids=["own", "another_organisations"])
def test_client_create__same_hetu__refused_naming_hetu_and_audited(counsellor, heinola, own):
    theirs = make_client(counsellor if own else heinola)
    with pytest.raises(ValidationFailed) as e:
        services.client_create(
            actor=counsellor,
            data=client_data(hetu=theirs.hetu, birth_date=theirs.birth_date),
            confirm_duplicate=True,
        )
    assert list(e.value.fields) == ["hetu"]
    probe = AuditEvent.objects.filter(client_id=theirs.id, object_type="client_identity_code")
    assert [(p.action, p.actor_id) for p in probe] == [("read", counsellor.id)]


def test_client_create__similar_client_of_another_organisation__not_named(counsellor, heinola):
    same = {"first_name": "Mohammed", "last_name": "Al-Hassan", "hetu": None}
    make_client(heinola, birth_date=dt.date(1980, 1, 1), **same)
    # nothing tells the counsellor that Heinola has such a client
    created = services.client_create(
        actor=counsellor, data=client_data(birth_date=dt.date(1980, 1, 1), **same)
    )
    assert created.responsible_organisation == counsellor.active_membership.organisation


def test_client_create__invalid_hetu__named(counsellor):
    with pytest.raises(ValidationFailed) as e:
        services.client_create(actor=counsellor, data=client_data(hetu="010190-123X"))
    assert "hetu" in e.value.fields


def test_client_create__hetu_birth_date_mismatch__named(counsellor):
    data = client_data(birth_date=dt.date(1990, 5, 17))
    data["birth_date"] = dt.date(1991, 5, 17)
    with pytest.raises(ValidationFailed) as e:
        services.client_create(actor=counsellor, data=data)
    assert e.value.fields["birth_date"] == [
        "The birth date does not match the personal identity code."
    ]


def test_client_create__temporary_identity_code__says_so(counsellor):
    """A temporary code (individual number 900–999, given by a hospital, say) was called
    "not valid" without a word on what to do instead."""
    code = "010190-901"
    code += "0123456789ABCDEFHJKLMNPRSTUVWXY"[int("010190901") % 31]
    with pytest.raises(ValidationFailed) as e:
        services.client_create(
            actor=counsellor, data=client_data(birth_date=dt.date(1990, 1, 1), hetu=code)
        )
    assert "temporary" in str(e.value.fields["hetu"])


def test_client_create__identity_code_with_an_en_dash__accepted_as_the_code(counsellor):
    data = client_data(birth_date=dt.date(1984, 6, 2))  # born in the 1900s: the sign is "-"
    code = data["hetu"]
    made = services.client_create(
        actor=counsellor, data={**data, "hetu": f" {code[:6]}\u2013{code[7:].lower()} "}
    )
    assert made.hetu == code


@pytest.mark.parametrize(("typed", "stored"), [("XK", "XK"), ("xxa", "XXA")])
def test_client_create__kosovo_and_stateless_citizenship__recorded(counsellor, typed, stored):
    """Neither has an ISO 3166 code: they were refused, and a stateless refugee's
    citizenship could only be left blank ("not known")."""
    made = services.client_create(actor=counsellor, data=client_data(citizenship=typed))
    assert made.citizenship == stored
    assert codes.country_name(stored) in ("Kosovo", "Stateless")
    assert ("XXA", "Stateless") not in codes.country_choices()  # not a country of education


def test_client_create__no_hetu__temporary_id_given(counsellor):
    c = make_client(counsellor, hetu=None)
    assert c.hetu is None
    assert c.temporary_id.startswith("TMP-")


def test_client_create__names_the_other_way_round_same_birth_date__warns(counsellor):
    first = make_client(
        counsellor, first_name="Hassan", last_name="Ali", hetu=None,
        birth_date=dt.date(1980, 1, 1),
    )  # fmt: skip
    with pytest.raises(services.PossibleDuplicate) as e:
        services.client_create(
            actor=counsellor,
            data=client_data(
                first_name="Ali", last_name="Hassan", hetu=None, birth_date=dt.date(1980, 1, 1)
            ),
        )
    assert [d.id for d in e.value.duplicates] == [first.id]


def test_client_create__similar_name_same_birth_date__warns_with_link(counsellor):
    first = make_client(
        counsellor,
        first_name="Mohammed",
        last_name="Al-Hassan",
        hetu=None,
        birth_date=dt.date(1980, 1, 1),
    )
    with pytest.raises(services.PossibleDuplicate) as e:
        services.client_create(
            actor=counsellor,
            data=client_data(
                first_name="Mohammed",
                last_name="Al-Hassan",
                hetu=None,
                birth_date=dt.date(1980, 1, 1),
            ),
        )
    assert [d.id for d in e.value.duplicates] == [first.id]
    assert e.value.as_dict()["duplicates"][0]["url"] == f"/clients/{first.id}/"
    # confirmed: created
    second = services.client_create(
        actor=counsellor,
        data=client_data(
            first_name="Mohammed", last_name="Al-Hassan", hetu=None, birth_date=dt.date(1980, 1, 1)
        ),
        confirm_duplicate=True,
    )
    assert second.id != first.id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("citizenship", "XX"),
        ("mother_tongue", "zz"),
        ("residence_basis", "tourist"),
        ("home_municipality_code", "999"),
        ("gender", "x"),
        ("birth_date", "31.12.1990"),
        ("first_permit_on", "1900-01-01"),
        ("interpreter_needed", "yes"),
        ("first_name", ""),
    ],
)
def test_client_create__bad_field__error_names_it(counsellor, field, value):
    with pytest.raises(ValidationFailed) as e:
        services.client_create(
            actor=counsellor, data=client_data(**{field: value}), confirm_duplicate=True
        )
    assert field in e.value.fields


def test_client_create__bad_input__nothing_written(counsellor):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed):
        services.client_create(actor=counsellor, data=client_data(citizenship="XX"))
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("valid_from", [dt.date(2099, 1, 1), dt.date(1950, 1, 1)])
def test_client_create__facts_valid_from_ahead_or_before_birth__refused(counsellor, valid_from):
    """As on an edit: the situation's start is not ahead and not before the birth (a 2099
    start left every decision until then without the facts)."""
    with pytest.raises(ValidationFailed) as e:
        services.client_create(
            actor=counsellor, data=client_data(unemployed_jobseeker=True),
            facts_valid_from=valid_from,
        )  # fmt: skip
    assert list(e.value.fields) == ["facts_valid_from"]
    assert not Client.objects.exists()


def test_client_create__by_a_guidance_adviser__no_counsellor(org, counsellor):
    """The maker is the counsellor only when they do casework: an adviser, who cannot
    start the assessment, was given the client's assessment task."""
    adviser = member(org, Role.GUIDANCE_ADVISER, username="adviser")
    made = services.client_create(actor=adviser, data=client_data())
    assert made.counsellor_id is None
    assert (
        services.client_create(
            actor=counsellor, data=client_data(first_name="Other", hetu=None)
        ).counsellor_id
        == counsellor.id
    )


def test_client_asylum_seeker_with_a_permit_date__refused_naming_it(counsellor):
    """The law refuses the record (an asylum seeker has no permit): the client's page said
    so in the engine's English and the deadline sweep skipped the client."""
    with pytest.raises(ValidationFailed) as e:
        services.client_create(actor=counsellor, data=client_data(residence_basis="asylum_seeker"))
    assert list(e.value.fields) == ["first_permit_on"]
    c = make_client(counsellor, residence_basis="asylum_seeker", first_permit_on=None)
    c.access = "full"
    with pytest.raises(ValidationFailed) as e:
        services.client_update(
            actor=counsellor, client=c, data={"first_permit_on": dt.date(2025, 5, 1)}
        )
    assert list(e.value.fields) == ["first_permit_on"]
    # the permit granted: basis and date together
    services.client_update(
        actor=counsellor, client=c,
        data={"residence_basis": "asylum", "first_permit_on": dt.date(2025, 5, 1)},
    )  # fmt: skip


def test_client_page__permit_date_missing__says_which_field_in_the_users_words(web, counsellor):
    c = make_client(counsellor, residence_basis="quota_refugee", first_permit_on=None)
    page = web(counsellor).get(f"/clients/{c.id}/").content.decode()
    assert "is required for residence_basis" not in page
    assert "Record the date of the first residence permit or registration" in page


def test_client_update__fact_change__kept_with_date(counsellor):
    c = make_client(counsellor)
    c.access = "full"
    services.client_update(
        actor=counsellor,
        client=c,
        data={"unemployed_jobseeker": True},
        facts_valid_from=dt.date(2025, 6, 1),
    )
    services.client_update(
        actor=counsellor,
        client=c,
        data={"unemployed_jobseeker": False},
        facts_valid_from=dt.date(2025, 9, 1),
    )
    history = list(
        ClientFactChange.objects.filter(client=c).values_list("fact", "value", "valid_from")
    )
    assert history == [
        ("unemployed_jobseeker", True, dt.date(2025, 6, 1)),
        ("unemployed_jobseeker", False, dt.date(2025, 9, 1)),
    ]


def test_client_update__stale_version__conflict(counsellor):
    c = make_client(counsellor)
    c.access = "full"
    services.client_update(
        actor=counsellor, client=c, data={"phone": "+358401"}, expected_version=1
    )
    with pytest.raises(services.EditConflict):
        services.client_update(
            actor=counsellor, client=c, data={"phone": "+358402"}, expected_version=1
        )


def test_client_update__sensitive_values_masked_in_audit(counsellor):
    c = make_client(counsellor)
    c.access = "full"
    services.client_update(actor=counsellor, client=c, data={"trafficking_victim": True})
    event = AuditEvent.objects.filter(action="update", client_id=c.id).get()
    assert event.changes["trafficking_victim"] == {"from": "***", "to": "***"}


def test_search__any_name_form_either_order(counsellor):
    c = make_client(
        counsellor,
        first_name="Olena",
        last_name="Tkachenko",
        transliterated_names=["Olena Tkatšenko"],
    )
    for q in ["Tkachenko", "tkatsenko", "Olena Tk", "TKACHENKO OLENA", c.hetu, c.hetu.lower()]:
        page = selectors.client_search_for(user=counsellor, query=q)
        assert [x.id for x in page.items] == [c.id], q


def test_search__keyset_pagination__every_client_once(counsellor):
    ids = {make_client(counsellor, last_name=f"Virtanen{i:02d}").id for i in range(7)}
    seen, cursor = [], None
    while True:
        page = selectors.client_search_for(
            user=counsellor, query="virtanen", cursor=cursor, limit=3
        )
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 7


def test_family_link__both_directions(counsellor):
    parent = make_client(counsellor)
    child = make_client(counsellor)
    parent.access = child.access = "full"
    services.family_link_add(actor=counsellor, client=parent, relative=child, relation="child")
    assert child.family_links.get().relation == "parent"
    # both records say so, in their timelines and audit trails
    for c in (parent, child):
        assert ClientEvent.objects.filter(client=c, kind="family_linked").count() == 1
        assert AuditEvent.objects.filter(client_id=c.id, object_type="family_link").count() == 1
    # the same again records nothing; a changed relation is an update, not a creation
    services.family_link_add(actor=counsellor, client=parent, relative=child, relation="child")
    assert AuditEvent.objects.filter(object_type="family_link").count() == 2
    services.family_link_add(actor=counsellor, client=parent, relative=child, relation="spouse")
    changed = AuditEvent.objects.filter(object_type="family_link", client_id=parent.id).latest("id")
    assert (changed.action, changed.changes["relation"]) == (
        "update",
        {"from": "child", "to": "spouse"},
    )


def test_family_link__relative_only_readable_under_a_grant__refused_nothing_written(
    counsellor, heinola
):
    theirs = make_client(heinola)
    AccessGrant.objects.create(
        client=theirs, organisation=counsellor.active_membership.organisation, scope="read",
        source="referral", valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    ours = make_client(counsellor)
    ours.access = "full"
    relative = selectors.client_get_for(user=counsellor, client_id=theirs.id)
    assert relative.access == "read"
    with pytest.raises(ValidationFailed) as e:
        services.family_link_add(
            actor=counsellor, client=ours, relative=relative, relation="spouse"
        )
    assert list(e.value.fields) == ["relative"]
    assert not theirs.family_links.exists()


def test_client_page__relative_the_viewer_cannot_see__shown_without_name(counsellor, heinola, web):
    ours = make_client(counsellor)
    theirs = make_client(heinola, first_name="Salainen", last_name="Sukulainen")
    ours.access = theirs.access = "full"
    services.family_link_add(actor=counsellor, client=ours, relative=theirs, relation="spouse")
    http = web(counsellor)
    http.cookies["django_language"] = "en"
    html = http.get(f"/clients/{ours.id}/").content.decode()
    assert "Sukulainen" not in html
    assert f"/clients/{theirs.id}/" not in html
    assert "recorded by another organisation" in html


def test_consent__recorded_and_withdrawn(counsellor, other_org):
    c = make_client(counsellor)
    c.access = "full"

    def record():
        return services.consent_record(
            actor=counsellor, client=c, organisation=other_org, scope="plan",
            given_on=dt.date(2025, 1, 2),
        )  # fmt: skip

    consent = record()
    services.consent_withdraw(
        actor=counsellor, client=c, consent=consent, withdrawn_on=dt.date(2025, 3, 1)
    )
    consent.refresh_from_db()
    assert consent.withdrawn_on == dt.date(2025, 3, 1)
    with pytest.raises(ValidationFailed) as e:
        services.consent_withdraw(
            actor=counsellor, client=c, consent=consent, withdrawn_on=dt.date(2024, 1, 1)
        )
    assert "withdrawn_on" in e.value.fields
    # withdrawing again rewrote the day the client withdrew it; a day to come was taken
    with pytest.raises(ValidationFailed) as e:
        services.consent_withdraw(
            actor=counsellor, client=c, consent=consent, withdrawn_on=dt.date(2025, 4, 1)
        )
    assert "already withdrawn" in e.value.fields["withdrawn_on"][0]
    consent.refresh_from_db()
    assert consent.withdrawn_on == dt.date(2025, 3, 1)
    later = record()
    with pytest.raises(ValidationFailed) as e:
        services.consent_withdraw(
            actor=counsellor, client=c, consent=later, withdrawn_on=dt.date(2099, 1, 1)
        )
    assert "withdrawn_on" in e.value.fields


def test_client_update__moves__residence_history_kept(counsellor):
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    c.access = "full"
    services.client_update(
        actor=counsellor,
        client=c,
        data={"home_municipality_code": "098", "home_municipality_on": dt.date(2025, 9, 15)},
    )
    rows = list(c.residences.values_list("municipality__code", "from_on", "to_on"))
    assert rows == [
        ("398", dt.date(2025, 2, 1), dt.date(2025, 9, 14)),
        ("098", dt.date(2025, 9, 15), None),
    ]
    c.refresh_from_db()
    assert c.first_home_municipality_on == dt.date(2025, 2, 1)
    assert c.home_municipality == hollola


def _moved(counsellor, c, code, on, **kw):
    c.access = "full"
    return services.client_update(
        actor=counsellor,
        client=c,
        data={"home_municipality_code": code, "home_municipality_on": on},
        **kw,
    )


def _history(c):
    """(municipality, from, to, superseded) in the order recorded."""
    return [
        (r.municipality.code, r.from_on, r.to_on, r.superseded_at is not None)
        for r in c.residences.order_by("id")
    ]


def test_client_update__move_dated_before_current_start__current_superseded_no_overlap(
    counsellor,
):
    OrganisationFactory(code="098", name_fi="Hollola")
    OrganisationFactory(code="111", name_fi="Heinola")
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    _moved(counsellor, c, "098", dt.date(2026, 3, 1))
    # the move to Hollola was really on 15 January, from Lahti, to Heinola
    c = _moved(counsellor, c, "111", dt.date(2026, 1, 15))
    assert _history(c) == [
        ("398", dt.date(2025, 2, 1), dt.date(2026, 1, 14), False),
        ("098", dt.date(2026, 3, 1), None, True),
        ("111", dt.date(2026, 1, 15), None, False),
    ]
    c.refresh_from_db()
    assert c.first_home_municipality_on == dt.date(2025, 2, 1)


def test_client_update__move_on_current_start__replaces_it(counsellor):
    OrganisationFactory(code="098", name_fi="Hollola")
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    # the first municipality was wrong: the client has lived in Hollola from the start
    c = _moved(counsellor, c, "098", dt.date(2025, 2, 1), municipality_corrected=True)
    assert _history(c) == [
        ("398", dt.date(2025, 2, 1), None, True),
        ("098", dt.date(2025, 2, 1), None, False),
    ]


def test_client_update__other_municipality_same_day_unmarked__asks_for_the_move_day(counsellor):
    """The form sends the old "since" back: a move recorded by changing the municipality
    alone replaced the whole residence (the old municipality's compensation months went to
    the new one). It is either a correction, said so, or a move with its day."""
    OrganisationFactory(code="098", name_fi="Hollola")
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    c.access = "full"
    for data in (
        {"home_municipality_code": "098"},
        {"home_municipality_code": "098", "home_municipality_on": dt.date(2025, 2, 1)},
    ):
        with pytest.raises(ValidationFailed) as e:
            services.client_update(actor=counsellor, client=c, data=data)
        assert list(e.value.fields) == ["home_municipality_on"]
    assert _history(c) == [("398", dt.date(2025, 2, 1), None, False)]
    c = _moved(counsellor, c, "098", dt.date(2026, 3, 1))  # the move, with its day
    assert _history(c) == [
        ("398", dt.date(2025, 2, 1), dt.date(2026, 2, 28), False),
        ("098", dt.date(2026, 3, 1), None, False),
    ]


def test_client_update__same_municipality_later__residence_before_runs_on(counsellor):
    OrganisationFactory(code="098", name_fi="Hollola")
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    _moved(counsellor, c, "098", dt.date(2026, 3, 1))
    c = _moved(counsellor, c, "098", dt.date(2026, 4, 1))  # the move was a month later
    assert _history(c) == [
        ("398", dt.date(2025, 2, 1), dt.date(2026, 3, 31), False),
        ("098", dt.date(2026, 4, 1), None, False),
    ]


def test_client_update__same_municipality_earlier__residence_before_ends_earlier(counsellor):
    OrganisationFactory(code="098", name_fi="Hollola")
    OrganisationFactory(code="111", name_fi="Heinola")
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    _moved(counsellor, c, "111", dt.date(2025, 6, 1))
    _moved(counsellor, c, "098", dt.date(2026, 3, 1))
    # the move to Hollola was in 2025, before the recorded stay in Heinola began
    c = _moved(counsellor, c, "098", dt.date(2025, 5, 1))
    assert _history(c) == [
        ("398", dt.date(2025, 2, 1), dt.date(2025, 4, 30), False),
        ("111", dt.date(2025, 6, 1), dt.date(2026, 2, 28), True),
        ("098", dt.date(2025, 5, 1), None, False),
    ]


def test_client_update__back_after_the_municipality_was_cleared__new_residence_history_kept(
    counsellor,
):
    OrganisationFactory(code="111", name_fi="Heinola")
    c = make_client(
        counsellor, home_municipality_code="111", home_municipality_on=dt.date(2023, 1, 1)
    )
    _moved(counsellor, c, "398", dt.date(2024, 2, 1))
    c.access = "full"
    c = services.client_update(actor=counsellor, client=c, data={"home_municipality_code": ""})
    # back in Lahti: not a correction of the day the client came to Lahti
    c = _moved(counsellor, c, "398", dt.date(2025, 5, 1))
    assert _history(c) == [
        ("111", dt.date(2023, 1, 1), dt.date(2024, 1, 31), False),
        ("398", dt.date(2024, 2, 1), dt.date(2025, 4, 30), False),
        ("398", dt.date(2025, 5, 1), None, False),
    ]
    c.refresh_from_db()
    assert c.first_home_municipality_on == dt.date(2023, 1, 1)


@pytest.mark.parametrize(
    ("since", "left_on", "history"),
    [
        # the client left Finland: the residence stayed open and compensation went on counting
        (dt.date(2024, 2, 1), dt.date(2025, 10, 1), ("398", dt.date(2024, 2, 1), dt.date(2025, 9, 30), False)),
        # cleared from the day it began: it never was
        (dt.date(2025, 2, 1), dt.date(2025, 2, 1), ("398", dt.date(2025, 2, 1), None, True)),
    ],
)  # fmt: skip
def test_client_update__municipality_cleared__residence_ends_the_day_before_audited(
    counsellor, since, left_on, history
):
    from koto.audit.models import AuditEvent

    c = make_client(counsellor, home_municipality_code="398", home_municipality_on=since)
    c.access = "full"
    services.client_update(
        actor=counsellor, client=c, data={"home_municipality_code": ""}, facts_valid_from=left_on
    )
    assert _history(c) == [history]
    assert not c.residences.filter(to_on=None, superseded_at=None).exists()
    event = AuditEvent.objects.filter(action="update", object_type="client").latest("id")
    assert "residence_ended" in event.changes


@pytest.mark.parametrize("left_on", [dt.date(2099, 1, 1), dt.date(1950, 1, 1)])
def test_client_update__municipality_cleared_on_a_day_to_come_or_before_birth__refused(
    counsellor, left_on
):
    c = make_client(counsellor, home_municipality_code="398", home_municipality_on=dt.date(2024, 2, 1),
                    birth_date=dt.date(1990, 1, 1), hetu=None)  # fmt: skip
    c.access = "full"
    with pytest.raises(ValidationFailed) as e:
        services.client_update(
            actor=counsellor,
            client=c,
            data={"home_municipality_code": ""},
            facts_valid_from=left_on,
        )
    assert list(e.value.fields) == ["facts_valid_from"]
    assert _history(c) == [("398", dt.date(2024, 2, 1), None, False)]


def test_client_update__back_after_leaving__the_time_away_stays_unpaid(counsellor):
    # the "since" day stayed: set again without a new day, the residence began on the old
    # one and superseded the ended one, the time abroad paid again
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2024, 2, 1)
    )
    c.access = "full"
    c = services.client_update(
        actor=counsellor, client=c, data={"home_municipality_code": ""},
        facts_valid_from=dt.date(2025, 3, 1),
    )  # fmt: skip
    assert c.home_municipality_on is None
    c = _moved(counsellor, c, "398", dt.date(2025, 9, 1))
    assert _history(c) == [
        ("398", dt.date(2024, 2, 1), dt.date(2025, 2, 28), False),
        ("398", dt.date(2025, 9, 1), None, False),
    ]


def test_client_update__first_residence_date_corrected__first_kotikunta_date_follows_audited(
    counsellor,
):
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    c.access = "full"
    services.client_update(
        actor=counsellor, client=c, data={"home_municipality_on": dt.date(2024, 2, 1)}
    )
    c.refresh_from_db()
    assert _history(c) == [("398", dt.date(2024, 2, 1), None, False)]
    assert c.first_home_municipality_on == dt.date(2024, 2, 1)
    update = AuditEvent.objects.filter(client_id=c.id, action="update").latest("id")
    assert update.changes["first_home_municipality_on"] == {
        "from": "2025-02-01",
        "to": "2024-02-01",
    }


def test_client_update__first_kotikunta_date_before_history__kept(counsellor):
    c = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=dt.date(2025, 2, 1)
    )
    type(c).objects.filter(pk=c.pk).update(first_home_municipality_on=dt.date(2023, 1, 1))
    c.refresh_from_db()
    c.access = "full"
    services.client_update(
        actor=counsellor, client=c, data={"home_municipality_on": dt.date(2024, 2, 1)}
    )
    c.refresh_from_db()
    assert c.first_home_municipality_on == dt.date(2023, 1, 1)  # not in step: not ours to move


def _all_pages(user, query, limit):
    seen, cursor = [], None
    while True:
        page = selectors.client_search_for(user=user, query=query, cursor=cursor, limit=limit)
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            return seen


def test_search__name_matching_twice__listed_once_in_key_order(counsellor):
    # "an" matches Anttila Anna by both word orders and by a former name: listed once
    both = make_client(
        counsellor, first_name="Anna", last_name="Anttila", transliterated_names=["Anna Anttonen"]
    )
    last = make_client(counsellor, first_name="Olli", last_name="Andersson")
    first = make_client(counsellor, first_name="Antti", last_name="Virtanen")
    make_client(counsellor, first_name="Olli", last_name="Bergman")
    for limit in (1, 2, 25):
        # keys: "andersson olli", "anna anttila", "anttila anna", "antti virtanen"
        assert _all_pages(counsellor, "an", limit) == [last.id, both.id, first.id], limit


def test_search__more_matches_than_a_batch__every_client_once_in_order(counsellor):
    ids = [make_client(counsellor, last_name=f"Mäkinen{i:02d}").id for i in range(13)]
    assert _all_pages(counsellor, "makinen", 2) == ids


def test_search__served_purchaser_and_granted_clients_found(org, counsellor, other_org):
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    served = make_client(member(hollola, Role.INTEGRATION_COUNSELLOR), last_name="Salo")
    ServiceAgreement.objects.create(
        producer=org,
        purchaser=hollola,
        scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )
    granted = make_client(member(other_org), last_name="Salonen")
    AccessGrant.objects.create(
        client=granted,
        organisation=org,
        scope="read",
        source="referral",
        valid_from=dt.date(2020, 1, 1),
    )
    own = make_client(counsellor, last_name="Salmi")
    make_client(member(other_org), last_name="Salminen")  # not visible
    assert _all_pages(counsellor, "sal", 1) == [own.id, served.id, granted.id]


@pytest.mark.parametrize("probe", [True, False])
def test_search__own_and_granted_interleaved__every_visible_client_once_in_order(
    org, counsellor, other_org, monkeypatch, probe
):
    """The own branch fills its batch first and bounds the granted branches (on PostgreSQL
    they then probe each name's grant, or join the grants): every page still holds the
    visible clients in key order, granted ones between own ones, ties on the same name in
    id order, and none of the others'."""
    monkeypatch.setattr(selectors, "_probe_pays", lambda reach, n: probe)
    theirs = member(other_org)

    def grant(c, **kwargs):
        AccessGrant.objects.create(client=c, organisation=org, scope="read", source="referral",
                                   valid_from=dt.date(2020, 1, 1), **kwargs)  # fmt: skip

    visible = []
    for i in range(24):
        # two in three surnames are shared, the granted client made first (a smaller id):
        # ties on the key across the branches, which the bound must keep (`<=`, not `<`)
        last = f"Koski{i // 3:02d}" if i % 3 else f"Koski{i:02d}x"
        if i % 3 == 1:
            c = make_client(theirs, first_name="Aino", last_name=last)
            grant(c)
        else:
            c = make_client(counsellor, first_name="Aino", last_name=last)
        visible.append(c)
        hidden = make_client(theirs, first_name="Aino", last_name=last)
        if i % 4 == 0:  # a grant that has ended
            grant(hidden, valid_to=dt.date(2021, 1, 1))
    expected = [
        c.id for c in sorted(visible, key=lambda c: (search_key(f"{c.last_name} aino"), c.id))
    ]
    for limit in (1, 2, 3, 4, 5, 25):
        with CaptureQueriesContext(connection) as queries:
            assert _all_pages(counsellor, "kos", limit) == expected, limit
        if connection.vendor == "postgresql" and limit < 5:
            probed = any("OFFSET 0)" in q["sql"] for q in queries.captured_queries)
            assert probed is probe
    first_last = sorted(visible, key=lambda c: (search_key(f"aino {c.last_name}"), c.id))
    assert _all_pages(counsellor, "aino k", 2) == [c.id for c in first_last]


@pytest.mark.parametrize("probe", [True, False])
@pytest.mark.parametrize("first_name", ["Aino", "Kaarina"])
def test_search__granted_client_tied_with_the_bound__listed(
    org, counsellor, other_org, monkeypatch, probe, first_name
):
    """A search of one per page reads batches of 4: the reach's branch fills with three own
    "Kivi" clients and an own "Koski Aino", which bounds the granted branch; a granted
    "Koski Aino" made before it (a smaller id) sorts just before it and must be read (the
    bound is `<=`, not `<`). With "Kaarina" the Kivis match "k" by both names and are
    listed at "kaarina kivi…"; on the next page the batch is their second names (dropped:
    already listed) and the own "koski aino", so the granted twin is read in that round or
    never (no page ends between them): this case fails with `<`, the "Aino" one does not."""
    monkeypatch.setattr(selectors, "_probe_pays", lambda reach, n: probe)
    kivi = [make_client(counsellor, first_name=first_name, last_name=f"Kivi{i}") for i in range(3)]
    twin = make_client(member(other_org), first_name="Aino", last_name="Koski")
    AccessGrant.objects.create(client=twin, organisation=org, scope="read", source="referral",
                               valid_from=dt.date(2020, 1, 1))  # fmt: skip
    last = make_client(counsellor, first_name="Aino", last_name="Koski")
    assert _all_pages(counsellor, "k", 1) == [c.id for c in kivi] + [twin.id, last.id]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimates")
def test_probe_pays__chosen_from_the_planners_estimates_without_counting(
    org, counsellor, other_org
):
    """Many grants against the reach's names: probe; no grants: join. The choice reads the
    planner's estimates (EXPLAIN), never a count of the rows."""
    theirs = member(other_org)
    for i in range(20):
        make_client(counsellor, last_name=f"Oma{i}")
        granted = make_client(theirs, last_name=f"Muu{i}")
        AccessGrant.objects.create(client=granted, organisation=org, scope="read",
                                   source="referral", valid_from=dt.date(2020, 1, 1))  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_clientname, clients_accessgrant")
    with CaptureQueriesContext(connection) as queries:
        assert selectors._probe_pays(selectors.reach_of(counsellor), 4) is True
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert selectors._probe_pays(selectors.reach_of(theirs), 4) is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's collations")
def test_search_keys__in_code_point_order_in_the_database(counsellor):
    """The search merges and pages name keys in Python's order: the database must sort them
    the same way whatever its default collation (migration clients.0009)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, collation_name FROM information_schema.columns"
            " WHERE table_name = 'clients_clientname' AND column_name IN ('key_last_first', 'key_first_last')"
        )
        assert dict(cursor.fetchall()) == {"key_last_first": "C", "key_first_last": "C"}
    for last in ("Koski", "Koskia", "Koski-Berg", "Kö", "Ko", "Kz", "Øster"):
        make_client(counsellor, first_name="A", last_name=last)
    keys = list(ClientName.objects.order_by("key_last_first").values_list("key_last_first", flat=True))  # fmt: skip
    assert keys == sorted(keys)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
def test_search_keys__statistics_large_enough_for_common_surnames(db):
    """A common surname outside the default statistics' most common values was guessed
    rare and read by the key index alone, filtering out other organisations' names
    (migration clients.0020): the keys keep a sample of 1 000."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstattarget FROM pg_attribute WHERE attrelid ="
            " 'clients_clientname'::regclass AND attname IN ('key_last_first', 'key_first_last')"
        )
        assert dict(cursor.fetchall()) == {"key_last_first": 1000, "key_first_last": 1000}


@pytest.mark.parametrize(
    "names",
    [
        ["Amiina " + "W" * 151],  # a name longer than its column (a 500 on PostgreSQL)
        [("A" * 151, "Warsame")],
        [["Amiina", 7]],  # the API's JSON may carry anything
        [("Amiina",)],
        [f"Amiina Warsame{i}" for i in range(21)],
    ],
)
def test_client_create__bad_transliterated_names__refused_naming_them(counsellor, names):
    from koto.clients.models import Client

    before = Client.objects.count()
    with pytest.raises(ValidationFailed) as e:
        services.client_create(
            actor=counsellor,
            data=client_data(first_name="Amina", last_name="Warsame", transliterated_names=names),
        )
    assert set(e.value.fields) == {"transliterated_names"}
    assert Client.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_name", "Ali\u202eofni"), ("last_name", "Warsame\x07"), ("first_name", "A\u2066B")],
)
def test_client_create__name_with_control_or_direction_characters__refused(
    counsellor, field, value
):
    with pytest.raises(ValidationFailed) as e:
        services.client_create(actor=counsellor, data=client_data(**{field: value}))
    assert e.value.fields == {field: ["Names cannot hold control or text-direction characters."]}


def test_client_create__persian_name_with_zero_width_non_joiner__kept(counsellor):
    c = services.client_create(
        actor=counsellor, data=client_data(first_name="مهر\u200cنوش", last_name="Ahmadi")
    )
    assert c.first_name == "مهر\u200cنوش"


def test_client_update__identity_code_taken_at_the_same_moment__refused_naming_hetu(
    counsellor, monkeypatch
):
    # two edits giving two clients one code: both pass the check, the unique index refuses
    # the second; that was an IntegrityError (a 500), not the registry's answer
    first = make_client(counsellor)
    second = make_client(counsellor)
    holder = services._holder_of
    monkeypatch.setattr(services, "_holder_of", lambda hetu, exclude_id=None: None)
    second.access = "full"
    with pytest.raises(services.IdentityCodeTaken) as e:
        services.client_update(
            actor=counsellor, client=second,
            data={"hetu": first.hetu, "birth_date": first.birth_date},
        )  # fmt: skip
    monkeypatch.setattr(services, "_holder_of", holder)
    assert "hetu" in e.value.fields
    second.refresh_from_db()
    assert second.hetu != first.hetu


@pytest.mark.parametrize(
    ("valid_from", "why"),
    [(dt.date(2099, 1, 1), "future"), (dt.date(1950, 1, 1), "before birth"),
     # a jobseeker from 1 May is recorded: unticking it "from 20 April" left the days after
     # 1 May saying jobseeker, while the record says not
     (dt.date(2025, 4, 20), "before a later change")],
)  # fmt: skip
def test_client_update__situation_change_dated_out_of_order__refused_nothing_written(
    counsellor, valid_from, why
):
    c = make_client(counsellor, birth_date=dt.date(1990, 1, 1), hetu=None)
    c.access = "full"
    c = services.client_update(
        actor=counsellor, client=c, data={"unemployed_jobseeker": True},
        facts_valid_from=dt.date(2025, 5, 1),
    )  # fmt: skip
    before = list(c.fact_changes.values_list("fact", "value", "valid_from"))
    c.access = "full"
    with pytest.raises(ValidationFailed) as e:
        services.client_update(
            actor=counsellor, client=c, data={"unemployed_jobseeker": False},
            facts_valid_from=valid_from,
        )  # fmt: skip
    assert list(e.value.fields) == ["facts_valid_from"], why
    c.refresh_from_db()
    assert c.unemployed_jobseeker is True
    assert list(c.fact_changes.values_list("fact", "value", "valid_from")) == before


@pytest.mark.parametrize("email", ["not an address", "a@", "@b.fi", "a b@c.fi"])
def test_client_create__email_not_an_address__refused_naming_it(counsellor, email):
    """As the form's EmailField: the API and the import took any text."""
    with pytest.raises(ValidationFailed) as e:
        services.client_create(actor=counsellor, data=client_data(email=email))
    assert "email" in e.value.fields
    ok = services.client_create(actor=counsellor, data=client_data(email="nimi@example.fi"))
    assert ok.email == "nimi@example.fi"


@pytest.mark.parametrize(
    "names",
    [("Ali", ""), ("", "Hassan"), ("Ali", "Al Hassan"), ("Ali Reza", "Hassan"), ("Ali", "Hassan")],
)
def test_name_form_line__reads_back_as_written(names):
    """A first name alone, shown as "Ali", came back as a last name at every save of the
    form (and recorded a change nobody made)."""
    assert services.parse_name_form_line(services.name_form_line(*names)) == names


def test_assign_counsellor__a_colleague__client_tasks_follow_audited(org, counsellor):
    """Imported clients had nobody, and a counsellor who left kept their clients: the
    counsellor is chosen, and the client's own open tasks go with the client."""
    colleague = member(org, Role.INTEGRATION_COUNSELLOR, username="colleague")
    c = make_client(counsellor)  # a new entitled client: given its assessment task at once
    task = Task.objects.get(client=c, kind=Task.Kind.ASSESSMENT_START, status="open")
    assert task.assignee == counsellor
    c.access = "full"

    updated = services.client_assign_counsellor(
        actor=counsellor, client=c, counsellor=colleague, expected_version=c.version
    )

    assert updated.counsellor == colleague and updated.version == c.version + 1
    task.refresh_from_db()
    assert task.assignee == colleague
    event = AuditEvent.objects.filter(object_type="client", action="update").latest("id")
    assert event.changes["counsellor"] == {"from": "counsellor", "to": "colleague"}
    assert c.events.filter(kind=ClientEvent.Kind.UPDATED).exists()
    # and nobody
    updated = services.client_assign_counsellor(actor=counsellor, client=updated, counsellor=None)
    assert updated.counsellor is None


def test_assign_counsellor__someone_who_may_not__refused_naming_the_field(
    org, other_org, counsellor, outsider
):
    adviser = member(org, Role.GUIDANCE_ADVISER, username="adviser")
    c = make_client(counsellor)
    c.access = "full"
    for who in (adviser, outsider):  # no casework role; another organisation
        with pytest.raises(ValidationFailed) as e:
            services.client_assign_counsellor(actor=counsellor, client=c, counsellor=who)
        assert list(e.value.fields) == ["counsellor"]
    with pytest.raises(EditConflict):
        services.client_assign_counsellor(
            actor=counsellor, client=c, counsellor=None, expected_version=c.version + 1
        )
    c.refresh_from_db()
    assert c.counsellor == counsellor


def test_assign_counsellor__page_and_api(web, org, counsellor):
    colleague = member(org, Role.INTEGRATION_COUNSELLOR, username="colleague")
    colleague.first_name, colleague.last_name = "Kaisa", "Kollega"
    colleague.save()
    c = make_client(counsellor)
    http = web(counsellor)
    page = http.get(f"/clients/{c.id}/counsellor/").content.decode()
    assert "Kaisa Kollega" in page
    response = http.post(
        f"/clients/{c.id}/counsellor/", {"counsellor": str(colleague.id), "version": c.version}
    )
    assert response.status_code == 302
    assert "Kaisa Kollega" in http.get(f"/clients/{c.id}/").content.decode()
    c.refresh_from_db()
    response = http.put(
        f"/api/v1/clients/{c.id}/counsellor",
        {"counsellor": "counsellor", "version": c.version}, content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200 and response.json()["counsellor"] == "counsellor"
    response = http.put(
        f"/api/v1/clients/{c.id}/counsellor",
        {"counsellor": "nobody-here", "version": c.version + 1}, content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422 and list(response.json()["fields"]) == ["counsellor"]


def test_assign_counsellor__by_an_organisation_reaching_the_client_by_a_grant__refused(
    web, org, other_org, counsellor, outsider
):
    """A full grant (a referral, the welfare region's for a placed minor) lets another
    organisation edit the record; it took the client and the municipality's assessment task
    over with it."""
    c = make_client(counsellor)
    services.access_grant_open(
        actor=counsellor, client=c, organisation=other_org, scope="full", source="test",
        source_id="1", valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    seen = selectors.client_get_for(user=outsider, client_id=c.id)
    assert seen.access == "full"
    with pytest.raises(PermissionDenied):
        services.client_assign_counsellor(actor=outsider, client=seen, counsellor=outsider)
    http = web(outsider)
    assert http.get(f"/clients/{c.id}/counsellor/").status_code == 404
    assert f"/clients/{c.id}/counsellor/" not in http.get(f"/clients/{c.id}/").content.decode()
    c.refresh_from_db()
    assert c.counsellor == counsellor


def test_assign_counsellor__by_the_producer_serving_the_client_s_municipality(org, counsellor):
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    c = make_client(member(hollola, Role.INTEGRATION_COUNSELLOR))
    ServiceAgreement.objects.create(
        producer=org, purchaser=hollola, scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    seen = selectors.client_get_for(user=counsellor, client_id=c.id)
    updated = services.client_assign_counsellor(
        actor=counsellor, client=seen, counsellor=counsellor
    )
    assert updated.counsellor == counsellor
