"""Factories that build valid objects of one organisation (Faker fi_FI)."""

import datetime as dt
import itertools

import factory
from faker import Faker

from koto.accounts.models import Membership, User
from koto.clients.services import client_create
from koto.clients.synthetic import hetu_for
from koto.core.roles import Role
from koto.organisations.models import Organisation, OrganisationKind

fake = Faker("fi_FI")
_individual = itertools.count(2)
PASSWORD = "Test-password-2026"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("code",)

    kind = OrganisationKind.MUNICIPALITY
    code = factory.Sequence(lambda n: f"{900 + n:03d}" if n < 99 else f"x{n}")
    municipality_code = factory.LazyAttribute(
        lambda o: o.code if o.kind == OrganisationKind.MUNICIPALITY else ""
    )
    name_fi = factory.LazyAttribute(lambda o: f"Testikunta {o.code}")
    name_sv = factory.LazyAttribute(lambda o: f"Testkommun {o.code}")
    name_en = factory.LazyAttribute(lambda o: f"Test municipality {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyFunction(fake.first_name)
    last_name = factory.LazyFunction(fake.last_name)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def member(organisation: Organisation, role: str = Role.INTEGRATION_COUNSELLOR, **kwargs) -> User:
    """A user with one active membership, with `active_membership` attached as a request would."""
    user = UserFactory(**kwargs)
    user.active_membership = Membership.objects.create(
        user=user, organisation=organisation, role=role
    )
    return user


def approved_token(admin: User, organisation: Organisation, name: str = "CRM"):
    """An API token made by `admin` and approved by a manager of the organisation, as the
    services require before it works: (token, key)."""
    from koto.accounts.services import api_token_approve, api_token_create

    token, key = api_token_create(actor=admin, organisation=organisation, name=name)
    manager = member(organisation, Role.MANAGER, username=f"approver-{token.prefix}")
    return api_token_approve(actor=manager, token=token), key


def client_data(**overrides) -> dict:
    birth = overrides.pop("birth_date", None) or fake.date_between(
        dt.date(1960, 1, 1), dt.date(2005, 12, 31)
    )
    data = {
        "first_name": fake.first_name(),
        "last_name": fake.last_name() + str(next(_individual)),
        "birth_date": birth,
        "hetu": hetu_for(birth, next(_individual) % 897 + 2)
        if isinstance(birth, dt.date)
        else None,
        "residence_basis": "asylum",
        "first_permit_on": dt.date(2025, 3, 1),
        "mother_tongue": "ar",
        "citizenship": "SY",
    }
    data.update(overrides)
    return data


def make_client(actor: User, **overrides):
    return client_create(actor=actor, data=client_data(**overrides), confirm_duplicate=True)


def move_residence(client, to_code: str, on: dt.date) -> None:
    """Test data: the client's residence history ends the day before `on` and continues in
    the municipality `to_code` (written directly, as a residence history arrives by import)."""
    from koto.clients.models import Residence

    current = client.residences.get(to_on__isnull=True, superseded_at__isnull=True)
    current.to_on = on - dt.timedelta(days=1)
    current.save()
    Residence.objects.create(
        client=client, municipality=Organisation.objects.get(code=to_code), from_on=on
    )


def transfer(client, *, sender: User, taker: User, on: dt.date):
    """The client transferred from the sender's organisation to the taker's (a referral of
    kind "transfer", received and accepted on `on`): the referral."""
    from koto.clients.selectors import client_get_for
    from koto.core import clock
    from koto.referrals import services

    with clock.frozen(on):
        seen = client_get_for(user=sender, client_id=client.id, audit=False)
        referral = services.referral_send(
            actor=sender, client=seen, kind="transfer", message="Muutti.",
            to_organisation=taker.active_membership.organisation, scope="none",
        )  # fmt: skip
        services.referral_receive(actor=taker, referral=referral)
        return services.referral_accept(actor=taker, referral=referral)
