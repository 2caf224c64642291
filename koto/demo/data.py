"""Demo data drawn from the seed deck: Päijät-Häme (Lahti producing integration services for
the region by agreement, the employment area led by Hollola, the welfare region) and the
Tampere region, about 200 clients in varied situations, and one demo user per role."""

import datetime as dt
import random

from django.db import transaction

from koto.accounts.models import User
from koto.accounts.services import membership_add, user_create
from koto.clients.services import PossibleDuplicate, client_create
from koto.clients.synthetic import synthetic_person
from koto.core import clock
from koto.core.errors import ValidationFailed
from koto.core.roles import Role
from koto.organisations.models import (
    AgreementScope,
    Office,
    Organisation,
    OrganisationKind,
    ServiceAgreement,
)
from koto.organisations.reference import load_reference_data

DEMO_PASSWORD = "Koto-demo-2026"
PH_MUNICIPALITIES = ["016", "081", "111", "098", "142", "316", "560", "576", "781"]
NGO_CODE = "ngo-ph-monikulttuuri"

# username, organisation code, role, first name, last name
DEMO_USERS = [
    ("lahti.neuvoja", "398", Role.INTEGRATION_COUNSELLOR, "Laura", "Lahtinen"),
    (
        "ph.tyovoima",
        "ta-paijat-hameen-tyollisyysalue",
        Role.EMPLOYMENT_COUNSELLOR,
        "Heikki",
        "Hollo",
    ),
    ("phhva.sosiaali", "hva-09", Role.SOCIAL_WORKER, "Sanna", "Sosiaalinen"),
    ("lahti.ohjaus", "398", Role.GUIDANCE_ADVISER, "Amir", "Ohjaaja"),
    ("lahti.esihenkilo", "398", Role.MANAGER, "Maija", "Esimies"),
    ("lahti.talous", "398", Role.FINANCE_OFFICER, "Tuomas", "Talous"),
    ("evk.sijoitus", "evk-03", Role.PLACEMENT_OFFICER, "Eeva", "Elinvoima"),
    ("lahti.admin", "398", Role.ORG_ADMIN, "Antti", "Admin"),
    ("lahti.auditoija", "398", Role.AUDITOR, "Aino", "Auditoija"),
    ("tampere.neuvoja", "837", Role.INTEGRATION_COUNSELLOR, "Tiina", "Tamminen"),
    ("jarjesto.neuvoja", NGO_CODE, Role.GUIDANCE_ADVISER, "Nadia", "Neuvonen"),
]


def demo_loaded() -> bool:
    return User.objects.filter(username=DEMO_USERS[0][0]).exists()


@transaction.atomic
def load_demo(*, clients: int = 200, seed: int = 2023) -> dict:
    load_reference_data()
    org = {o.code: o for o in Organisation.objects.filter(code__in=[*PH_MUNICIPALITIES, "398", "837", "hva-09", "hva-08", "evk-03", "ta-lahti", "ta-paijat-hameen-tyollisyysalue", "ta-tampereen-seudun-tyollisyysalue"])}  # fmt: skip
    ngo, _ = Organisation.objects.update_or_create(
        code=NGO_CODE,
        defaults={
            "kind": OrganisationKind.NGO,
            "name_fi": "Päijät-Hämeen monikulttuurinen yhdistys (demo)",
            "name_sv": "Mångkulturella föreningen i Päijänne-Tavastland (demo)",
            "name_en": "Päijät-Häme Multicultural Association (demo)",
            "source": "Demo data",
        },
    )
    org[NGO_CODE] = ngo
    start = dt.date(2025, 1, 1)
    for code in PH_MUNICIPALITIES:
        ServiceAgreement.objects.get_or_create(
            producer=org["398"],
            purchaser=org[code],
            scope=AgreementScope.INTEGRATION_SERVICES,
            defaults={
                "valid_from": start,
                "description": "Lahti produces integration services for the other Päijät-Häme municipalities (seed deck).",
            },
        )
    Office.objects.get_or_create(organisation=org["398"], name="Lahden kotoutumispalvelut", defaults={"street_address": "Kirkkokatu 31", "postal_code": "15140", "municipality": org["398"]})  # fmt: skip
    Office.objects.get_or_create(organisation=org["837"], name="Tampereen kansainvälinen osaamiskeskus", defaults={"street_address": "Hatanpään valtatie 1", "postal_code": "33100", "municipality": org["837"]})  # fmt: skip

    users = {}
    for username, code, role, first, last in DEMO_USERS:
        user = User.objects.filter(username=username).first() or user_create(
            actor=None, username=username, password=DEMO_PASSWORD, first_name=first, last_name=last
        )
        membership_add(actor=None, user=user, organisation=org[code], role=role, check=False)
        user.active_membership = user.memberships.select_related("organisation").get(
            organisation=org[code], role=role
        )
        users[username] = user

    rng = random.Random(seed)
    today = clock.today()
    created = 0
    for i in range(clients):
        person = synthetic_person(rng, on=today)
        roll = rng.random()
        if i % 5 == 4:
            owner, municipality = users["tampere.neuvoja"], org["837"]
        elif person["unemployed_jobseeker"] and roll < 0.5:
            owner = users["ph.tyovoima"]
            municipality = org[rng.choice(PH_MUNICIPALITIES)]
        else:
            owner = users["lahti.neuvoja"]
            municipality = org["398"] if roll < 0.7 else org[rng.choice(PH_MUNICIPALITIES)]
        if person["home_municipality_on"]:
            person["home_municipality_code"] = municipality.municipality_code
        try:
            client_create(actor=owner, data=person, confirm_duplicate=True)
            created += 1
        except (PossibleDuplicate, ValidationFailed):
            continue
    return {"users": len(users), "clients": created, "password": DEMO_PASSWORD}
