"""National-scale synthetic data for benchmarks: clients spread over all municipalities
(weighted towards the cities that receive most immigrants), counsellors per municipality,
names, languages and timeline events. Deterministic for a seed. Written with bulk inserts,
outside the audited services: this is load-test data, never production data."""

import random
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db import transaction

from koto.accounts.models import Membership, User
from koto.clients.models import Client, ClientEvent, ClientLanguage, ClientName, NameKind, Residence
from koto.clients.services import _name_row, _sort_key
from koto.clients.synthetic import hetu_for, synthetic_person
from koto.core import clock
from koto.core.roles import Role
from koto.organisations.models import Organisation, OrganisationKind
from koto.organisations.reference import load_reference_data

# Relative weights of the largest receiving municipalities; every other municipality weighs 1.
CITY_WEIGHTS = {"091": 120, "049": 45, "092": 45, "837": 35, "853": 30, "564": 20, "398": 18, "179": 15, "297": 12, "286": 10, "109": 8, "743": 6, "405": 6, "609": 5, "245": 5}  # fmt: skip
SCALE_PASSWORD = "Koto-scale-2026"


def generate(
    *,
    clients: int,
    seed: int,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> dict:
    load_reference_data()
    rng = random.Random(seed)
    today = clock.today()
    municipalities = list(
        Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY).order_by("code")
    )
    weights = [CITY_WEIGHTS.get(m.municipality_code, 1) for m in municipalities]
    password = make_password(SCALE_PASSWORD)
    counsellors: dict[int, list[User]] = {}
    with transaction.atomic():
        for m, w in zip(municipalities, weights, strict=True):
            n = max(1, w // 4)
            users = []
            for i in range(n):
                user, created = User.objects.get_or_create(
                    username=f"scale.{m.municipality_code}.{i}", defaults={"password": password}
                )
                if created:
                    Membership.objects.create(
                        user=user, organisation=m, role=Role.INTEGRATION_COUNSELLOR
                    )
                users.append(user)
            counsellors[m.id] = users
    start_count = Client.objects.count()
    used_hetu = set(Client.objects.exclude(hetu=None).values_list("hetu", flat=True))
    made = 0
    serial = 0
    while made < clients:
        n = min(batch_size, clients - made)
        rows: list[tuple[Client, dict]] = []
        for _ in range(n):
            serial += 1
            person = synthetic_person(rng, on=today)
            municipality = rng.choices(municipalities, weights=weights)[0]
            langs = person.pop("other_languages")
            names = person.pop("transliterated_names")
            hetu = person.pop("hetu", None)
            while hetu is not None and hetu in used_hetu:
                hetu = hetu_for(person["birth_date"], rng.randint(2, 899))
            if hetu is not None:
                used_hetu.add(hetu)
            client = Client(
                responsible_organisation=municipality,
                counsellor=rng.choice(counsellors[municipality.id]),
                sort_key=_sort_key(person["first_name"], person["last_name"]),
                home_municipality=municipality if person["home_municipality_on"] else None,
                first_home_municipality_on=person["home_municipality_on"],
                hetu=hetu,
                temporary_id=None if hetu else f"TMP-S{seed % 1000:03d}{start_count + serial:09d}",
                **person,
            )
            rows.append((client, {"langs": langs, "names": names}))
        with transaction.atomic():
            created = Client.objects.bulk_create([c for c, _ in rows], ignore_conflicts=False)
            name_rows, lang_rows, events = [], [], []
            for client, extra in zip(created, [e for _, e in rows], strict=True):
                name_rows.append(
                    _name_row(client, NameKind.OFFICIAL, client.first_name, client.last_name)
                )
                for full in extra["names"]:
                    first, _sep, last = full.rpartition(" ")
                    name_rows.append(_name_row(client, NameKind.TRANSLITERATED, first, last))
                lang_rows += [ClientLanguage(client=client, language=c) for c in extra["langs"]]
                events.append(
                    ClientEvent(client=client, kind=ClientEvent.Kind.CREATED, data={"scale": True})
                )
            ClientName.objects.bulk_create(name_rows)
            ClientLanguage.objects.bulk_create(lang_rows)
            ClientEvent.objects.bulk_create(events)
            Residence.objects.bulk_create(
                Residence(
                    client=c, municipality_id=c.home_municipality_id, from_on=c.home_municipality_on
                )
                for c in created
                if c.home_municipality_id and c.home_municipality_on
            )
        made += n
        if progress:
            progress(n)
    return {
        "clients": made,
        "municipalities": len(municipalities),
        "counsellors": sum(len(v) for v in counsellors.values()),
    }
