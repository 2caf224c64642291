"""Demo data drawn from the seed deck: Päijät-Häme (Lahti producing integration services for
the region by agreement, the employment area led by Hollola, the welfare region) and the
Tampere region, about 200 clients in varied situations, and one demo user per role."""

import datetime as dt
import random

from django.db import transaction

from koto.accounts.models import User
from koto.accounts.services import membership_add, user_create
from koto.assessments.services import (
    assessment_complete,
    assessment_record_interview,
    assessment_start,
)
from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import Client
from koto.clients.services import PossibleDuplicate, client_create
from koto.clients.synthetic import synthetic_person
from koto.core import clock
from koto.core.errors import ValidationFailed
from koto.core.roles import Role
from koto.guidance.services import reasons_seed
from koto.law import add_months
from koto.organisations.models import (
    AgreementScope,
    Office,
    Organisation,
    OrganisationKind,
    ServiceAgreement,
)
from koto.organisations.reference import load_reference_data
from koto.plans.services import (
    action_add,
    goal_add,
    plan_acknowledge,
    plan_activate,
    plan_create,
    plan_end,
)

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
    # Managers at the dashboards' other two levels: the welfare region and the whole country.
    ("phhva.esihenkilo", "hva-09", Role.MANAGER, "Paula", "Päijänne"),
    ("keha.esihenkilo", "keha", Role.MANAGER, "Kerttu", "Keskinen"),
]


def demo_loaded() -> bool:
    return User.objects.filter(username=DEMO_USERS[0][0]).exists()


@transaction.atomic
def load_demo(*, clients: int = 200, seed: int = 2023) -> dict:
    load_reference_data()
    org = {o.code: o for o in Organisation.objects.filter(code__in=[*PH_MUNICIPALITIES, "398", "837", "hva-09", "hva-08", "evk-03", "keha", "ta-lahti", "ta-paijat-hameen-tyollisyysalue", "ta-tampereen-seudun-tyollisyysalue"])}  # fmt: skip
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
    plans = demo_casework(users["lahti.neuvoja"], rng, today)
    demo_plan_document(users["lahti.neuvoja"])
    reasons_seed()
    referrals = demo_referrals(users, org, today)
    minors = demo_minor_placement(users, org["398"], today)
    claims = demo_claims(users["lahti.talous"], today)
    return {
        "users": len(users), "clients": created, "plans": plans, "referrals": referrals,
        "minors": minors, "claims": claims, "password": DEMO_PASSWORD,
    }  # fmt: skip


GOALS = [
    (
        "language",
        "Oppia suomea niin, että pärjää asioinnissa (B1.1)",
        "Kotoutumiskoulutus",
        "Kotoutumiskoulutus",
    ),
    ("work", "Löytää työpaikka omalta alalta", "Työkokeilu logistiikkayrityksessä", "Työkokeilu"),
    (
        "everyday_life",
        "Oppia hoitamaan pankki- ja viranomaisasiat itse",
        "Monikielinen yhteiskuntaorientaatio",
        "Yhteiskuntaorientaatio",
    ),
    ("parenting", "Lapsille päivähoitopaikka", "Varhaiskasvatushakemus", ""),
]


def demo_casework(counsellor, rng: random.Random, today: dt.date) -> int:
    """Assessments and plans for some of the Lahti counsellor's clients, so "my work" has
    real deadlines: plans agreed at different times, one extended, some ended."""
    clients = list(
        Client.objects.filter(counsellor=counsellor, responsible_organisation__code="398")
        .exclude(residence_basis__in=["", "asylum_seeker"])
        .exclude(first_permit_on=None)
        .order_by("id")[:40]
    )
    made = 0
    for i, client in enumerate(clients):
        client.access = "full"
        if not law_entitled(client, today):
            continue
        started = max(client.first_permit_on, today - dt.timedelta(days=rng.randint(30, 400)))
        if i % 4 == 3:
            assessment_start(
                actor=counsellor, client=client, trigger="client_request", started_on=started
            )
            continue
        a = assessment_start(actor=counsellor, client=client, trigger="intake", started_on=started)
        a = assessment_record_interview(
            actor=counsellor, assessment=a,
            data={"interview_on": started, "interview_language": client.mother_tongue or "fi",
                  "interpreter_used": client.interpreter_needed, "literacy": "latin",
                  "skills": [{"language": "fi", "skill": s, "level": rng.choice(["0", "A1.1", "A1.2", "A2.1"])}
                             for s in ("listening", "reading", "speaking", "writing")]},
        )  # fmt: skip
        assessment_complete(actor=counsellor, assessment=a, plan_needed=True, completed_on=started)
        plan = plan_create(actor=counsellor, client=client, assessment=a, kind=a.kind, starts_on=started,
                           ends_on=add_months(started, 12) - dt.timedelta(days=1))  # fmt: skip
        for area, text, what, service in rng.sample(GOALS, 2):
            goal = goal_add(actor=counsellor, plan=plan, area=area, description=text)
            action_add(actor=counsellor, goal=goal, what=what, responsible="client", service_name=service,
                       planned_on=started + dt.timedelta(days=30))  # fmt: skip
        plan = plan_activate(actor=counsellor, plan=plan, agreed_on=started)
        plan_acknowledge(actor=counsellor, plan=plan, acknowledged_on=started, method="signature",
                         interpreter_language=client.mother_tongue if client.interpreter_needed else "")  # fmt: skip
        if i % 5 == 0 and plan.ends_on < today:
            plan_end(
                actor=counsellor,
                plan=plan,
                ended_on=plan.ends_on,
                outcome=rng.choice(["employed", "studying"]),
            )
        made += 1
    return made


def demo_plan_document(counsellor) -> None:
    """The PDF of one active plan, as the counsellor asks for it (rendered by the task
    worker after the commit: `make run` starts one)."""
    from koto.plans.models import IntegrationPlan
    from koto.plans.pdfs import pdf_request

    plan = (
        IntegrationPlan.objects.filter(counsellor=counsellor, status="active")
        .select_related("client")
        .order_by("id")
        .first()
    )
    if plan is not None:
        plan.client.access = "full"
        pdf_request(actor=counsellor, plan=plan)


def law_entitled(client, today: dt.date) -> bool:
    try:
        return decision_for(client, today).assessment.entitled
    except (MissingFacts, FactsError):
        return False


# (sender, receiving organisation code, kind, scope, what the receiver does)
REFERRALS = [
    ("lahti.neuvoja", "ta-paijat-hameen-tyollisyysalue", "employment_services", "read", "accept"),
    ("lahti.neuvoja", "ta-paijat-hameen-tyollisyysalue", "employment_services", "read", "accept"),
    ("lahti.neuvoja", "ta-paijat-hameen-tyollisyysalue", "employment_services", "none", "decline"),
    ("lahti.neuvoja", "ta-paijat-hameen-tyollisyysalue", "employment_services", "read", ""),
    ("lahti.neuvoja", "hva-09", "welfare_services", "read", "complete"),
    ("lahti.neuvoja", "hva-09", "welfare_services", "read", ""),
    ("lahti.neuvoja", NGO_CODE, "guidance", "none", "accept"),
    ("ph.tyovoima", "398", "integration_training", "full", "accept"),
    ("ph.tyovoima", "398", "integration_training", "read", ""),
    ("ph.tyovoima", "398", "assessment_contact_9", "read", ""),
    # clients who moved: the dashboards' "Clients who moved" of Lahti and Tampere
    ("lahti.neuvoja", "837", "transfer", "none", "accept"),
    ("tampere.neuvoja", "398", "transfer", "none", "accept"),
]
RECEIVERS = {
    "ta-paijat-hameen-tyollisyysalue": "ph.tyovoima",
    "hva-09": "phhva.sosiaali",
    NGO_CODE: "jarjesto.neuvoja",
    "398": "lahti.neuvoja",
    "837": "tampere.neuvoja",
}
MESSAGES = {
    "employment_services": "Asiakas on valmis työnhakuun; pyydämme työllisyyspalveluiden arviota.",
    "welfare_services": "Asiakas tarvitsee sosiaalityön arvion perhetilanteen vuoksi.",
    "guidance": "Asiakas toivoo apua asunnon hakemiseen ja viranomaisasiointiin.",
    "integration_training": "Työnhakija, jolla kotoutumissuunnitelma: ohjaus kotoutumiskoulutukseen.",
    "assessment_contact_9": "Yhteydenotto 9 §: asiakas pyytää alkukartoitusta.",
    "transfer": "Asiakas on muuttanut kuntaanne; siirrämme asiakkuuden.",
}


def demo_referrals(users: dict, org: dict, today: dt.date) -> int:
    """Referrals both ways between Lahti and its partners (the employment area, the
    welfare region, the NGO), in every state, through the referral services: the inbox,
    the badge and the closed loop have something to show."""
    from koto.clients.selectors import client_get_for
    from koto.referrals.services import (
        referral_accept,
        referral_complete,
        referral_decline,
        referral_send,
    )

    org = {**org, NGO_CODE: Organisation.objects.get(code=NGO_CODE)}
    used: set[int] = set()
    made = 0
    for i, (sender_name, to_code, kind, scope, answer) in enumerate(REFERRALS):
        sender = users[sender_name]
        candidate = (
            Client.objects.filter(counsellor=sender)
            .exclude(id__in=used)
            .exclude(referrals__isnull=False)
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        if candidate is None:
            continue
        used.add(candidate)
        client = client_get_for(user=sender, client_id=candidate, purpose="referral")
        referral = referral_send(
            actor=sender, client=client, kind=kind, message=MESSAGES[kind],
            to_organisation=org[to_code], scope=scope if client.access == "full" else "none",
            include_contact_details=i % 2 == 0,
        )  # fmt: skip
        made += 1
        receiver = users[RECEIVERS[to_code]]
        if answer in ("accept", "complete"):
            referral = referral_accept(actor=receiver, referral=referral, note="Otamme asiakkaan.")
        if answer == "complete":
            referral_complete(actor=receiver, referral=referral, note="Arvio tehty.")
        if answer == "decline":
            referral_decline(
                actor=receiver, referral=referral, reason="Asiakas ei ole työnhakijana."
            )
    return made


def demo_minor_placement(users: dict, lahti: Organisation, today: dt.date) -> int:
    """The vitality centre's placement agreement with Lahti for this year (the welfare
    region's statement first), and an unaccompanied minor proposed, accepted, housed and
    arrived through the placement services: a client with a care record and its tasks."""
    from koto.placement.models import PlacementAgreement
    from koto.placement.services import (
        agreement_consult,
        agreement_create,
        agreement_sign,
        placement_accept,
        placement_arrive,
        placement_propose,
        placement_reserve_housing,
    )

    officer, manager = users["evk.sijoitus"], users["lahti.esihenkilo"]
    if PlacementAgreement.objects.filter(municipality=lahti, year=today.year).exists():
        return 0
    agreement = agreement_create(
        actor=officer, municipality=lahti, year=today.year,
        places={"places_quota_refugee": 30, "places_international_protection": 20,
                "places_unaccompanied_minor": 4},
    )  # fmt: skip
    agreement_consult(
        actor=users["phhva.sosiaali"], agreement=agreement, consulted_on=today,
        statement="Hyvinvointialue puoltaa: terveystarkastukset ja perhetyö järjestetään.",
    )  # fmt: skip
    agreement_sign(actor=officer, agreement=agreement, signed_on=today)
    placement = placement_propose(
        actor=officer, municipality=lahti, category="unaccompanied_minor",
        source="reception_centre", source_detail="Espoon ryhmäkoti",
        persons=[{
            "first_name": "Yonas", "last_name": "Tesfaye", "gender": "male",
            "birth_date": dt.date(today.year - 16, 3, 14), "residence_basis": "asylum",
            "first_permit_on": today - dt.timedelta(days=40), "mother_tongue": "ti",
        }],
        proposed_on=today,
    )  # fmt: skip
    placement = placement_accept(actor=manager, placement=placement, decided_on=today)
    placement = placement_reserve_housing(
        actor=manager, placement=placement, address="Perhekoti Lähde, Lahti", housing_on=today
    )
    placement_arrive(actor=manager, placement=placement, arrived_on=today)
    return 1


def demo_claims(finance, today: dt.date) -> int:
    """Lahti's actual-cost claims: last year's special costs submitted, this quarter's
    interpreting costs still a draft (the finance officer's month page and the claim)."""
    from koto.funding.services import claim_create, claim_line_add, claim_submit

    last_year = today.year - 1
    submitted = claim_create(
        actor=finance, section="65", period_start=dt.date(last_year, 1, 1),
        period_end=dt.date(last_year, 12, 31), description="Erityiskustannukset (65 §)",
    )  # fmt: skip
    for text, amount in (("Tulkkaus, terveystarkastukset", "1840.00"),
                         ("Erityisruokavalio, lapsiperhe", "620.50")):  # fmt: skip
        claim_line_add(actor=finance, claim=submitted, description=text, amount=amount,
                       occurred_on=dt.date(last_year, 6, 30))  # fmt: skip
    claim_submit(actor=finance, claim=submitted, submitted_on=today)
    quarter = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    draft = claim_create(
        actor=finance, section="64", period_start=quarter, period_end=today,
        description="Vastaanottovalmius (64 §)",
    )  # fmt: skip
    claim_line_add(actor=finance, claim=draft, description="Asunnon varaus", amount="950.00",
                   occurred_on=quarter)  # fmt: skip
    return 2
