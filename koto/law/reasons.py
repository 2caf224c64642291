"""Texts of the reasons, in Finnish, Swedish and English.

A reason is built by ``reason(code, section, **values)``. Dates print as d.m.yyyy in
Finnish and Swedish and as ISO in English; codes such as residence bases print as words.
Built reasons are cached (they are immutable), which keeps evaluation fast.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from json.encoder import encode_basestring as _quote

from koto.law.models import Reason

# (fi, sv, en) words for the codes that appear inside texts.
LABELS: dict[str, tuple[str, str, str]] = {
    "quota_refugee": ("kiintiöpakolainen", "kvotflykting", "quota refugee"),
    "family_of_quota_refugee": (
        "kiintiöpakolaisen perheenjäsen",
        "familjemedlem till en kvotflykting",
        "family member of a quota refugee",
    ),
    "asylum": ("turvapaikka", "asyl", "asylum"),
    "subsidiary_protection": ("toissijainen suojelu", "alternativt skydd", "subsidiary protection"),
    "humanitarian": ("humanitaarinen peruste", "humanitära skäl", "humanitarian grounds"),
    "trafficking_victim_permit": (
        "ihmiskaupan uhrin oleskelulupa",
        "uppehållstillstånd för offer för människohandel",
        "residence permit for a victim of human trafficking",
    ),
    "removal_barrier": (
        "maasta poistamisen este",
        "hinder för avlägsnande ur landet",
        "barrier to removal from the country",
    ),
    "family_of_protected": (
        "kansainvälistä suojelua saavan perheenjäsen",
        "familjemedlem till en person som får internationellt skydd",
        "family member of a beneficiary of international protection",
    ),
    "temporary_protection": ("tilapäinen suojelu", "tillfälligt skydd", "temporary protection"),
    "work": ("työ", "arbete", "work"),
    "study": ("opiskelu", "studier", "study"),
    "family": ("perheside", "familjeband", "family ties"),
    "eu_registration": (
        "EU-kansalaisen oleskeluoikeuden rekisteröinti",
        "registrering av EU-medborgares uppehållsrätt",
        "registration of an EU citizen's right of residence",
    ),
    "nordic": ("Pohjoismaan kansalainen", "nordisk medborgare", "Nordic citizen"),
    "other_permit": ("muu oleskelulupa", "annat uppehållstillstånd", "other residence permit"),
    "asylum_seeker": ("turvapaikanhakija", "asylsökande", "asylum seeker"),
    "welfare_service_needs": (
        "sosiaali- ja terveyspalvelujen tarve",
        "behov av social- och hälsovårdstjänster",
        "needs for social and health services",
    ),
    "arrived_as_unaccompanied_minor": (
        "tullut alaikäisenä ilman huoltajaa",
        "kom som ensamkommande minderårig",
        "arrived as an unaccompanied minor",
    ),
}

_GROUP_SUFFIX = (
    " henkilö kuuluu osaamisen ja kotoutumisen palvelutarpeen arvioinnin ja "
    "kotoutumissuunnitelman kohderyhmään.",
    " hör personen till målgruppen för bedömningen av kompetens och integrationsservicebehov "
    "och för integrationsplanen.",
    ", the person is in a target group of the competence and integration service-needs "
    "assessment and the integration plan.",
)


def _group(fi: str, sv: str, en: str) -> tuple[str, str, str]:
    return (fi + _GROUP_SUFFIX[0], sv + _GROUP_SUFFIX[1], en + _GROUP_SUFFIX[2])


TEMPLATES: dict[str, tuple[str, str, str]] = {
    "COVERED": (
        "Henkilö kuuluu kotoutumislain soveltamisalaan: hänellä on oleskelulupa, "
        "oleskelukortti tai rekisteröity oleskeluoikeus (oleskeluperuste {basis}).",
        "Personen omfattas av integrationslagen: personen har uppehållstillstånd, "
        "uppehållskort eller registrerad uppehållsrätt (uppehållsgrund {basis}).",
        "The person is covered by the Integration Act: they hold a residence permit, card or "
        "registered right of residence (residence basis {basis}).",
    ),
    "NOT_COVERED_ASYLUM_SEEKER": (
        "Turvapaikanhakija ei kuulu kotoutumislain soveltamisalaan ennen oleskeluluvan "
        "myöntämistä. Ohjaus ja neuvonta ovat silti kaikkien maahanmuuttajien käytettävissä.",
        "En asylsökande omfattas inte av integrationslagen förrän uppehållstillstånd har "
        "beviljats. Vägledning och rådgivning står ändå till buds för alla invandrare.",
        "An asylum seeker is not covered by the Integration Act until a residence permit is "
        "granted. Guidance and counselling remain open to every immigrant.",
    ),
    "NOT_COVERED_BEFORE_PERMIT": (
        "Henkilö ei kuulu kotoutumislain soveltamisalaan {on}, koska ensimmäinen oleskelulupa, "
        "oleskelukortti tai rekisteröinti on vasta {first_permit_on}.",
        "Personen omfattas inte av integrationslagen den {on}, eftersom det första "
        "uppehållstillståndet, uppehållskortet eller registreringen gäller först från "
        "{first_permit_on}.",
        "The person is not covered on {on}: the first residence permit, card or registration "
        "is dated {first_permit_on}.",
    ),
    "TARGET_GROUP_UNEMPLOYED_JOBSEEKER": _group(
        "Työttömänä työnhakijana", "Som arbetslös arbetssökande", "As an unemployed jobseeker"
    ),
    "TARGET_GROUP_SOCIAL_ASSISTANCE": _group(
        "Pitkäaikaisesti toimeentulotukea saavana",
        "Som långvarig mottagare av utkomststöd",
        "As a long-term recipient of social assistance",
    ),
    "TARGET_GROUP_CHILD_HOME_CARE_ALLOWANCE": _group(
        "Lasten kotihoidon tukea saavana",
        "Som mottagare av stöd för hemvård av barn",
        "As a recipient of child home care allowance",
    ),
    "TARGET_GROUP_INTERNATIONAL_PROTECTION": _group(
        "Kansainvälistä suojelua saavana tai tämän perheenjäsenenä ({basis})",
        "Som person som får internationellt skydd eller familjemedlem till en sådan ({basis})",
        "As a beneficiary of international protection or a family member ({basis})",
    ),
    "TARGET_GROUP_TEMPORARY_PROTECTION_WITH_HOME_MUNICIPALITY": _group(
        "Tilapäistä suojelua saavana, jolla on kotikunta {home_municipality_on} alkaen,",
        "Som person med tillfälligt skydd och hemkommun från och med {home_municipality_on}",
        "As a temporary-protection holder with a municipality of residence since "
        "{home_municipality_on}",
    ),
    "TARGET_GROUP_UNACCOMPANIED_MINOR": _group(
        "Alaikäisenä ilman huoltajaa tulleena",
        "Som ensamkommande minderårig",
        "Having arrived as an unaccompanied minor",
    ),
    "TARGET_GROUP_TRAFFICKING_VICTIM": _group(
        "Ihmiskaupan uhrina", "Som offer för människohandel", "As a victim of human trafficking"
    ),
    "TARGET_GROUP_OTHER_NEED": _group(
        "Muun todetun palvelutarpeen vuoksi",
        "På grund av ett annat konstaterat servicebehov",
        "Because another service need has been identified",
    ),
    "TEMPORARY_PROTECTION_WITHOUT_HOME_MUNICIPALITY": (
        "Tilapäistä suojelua saava ei kuulu kansainvälistä suojelua saavien kohderyhmään ilman "
        "kotikuntaa.",
        "En person med tillfälligt skydd hör inte till målgruppen personer som får "
        "internationellt skydd utan hemkommun.",
        "A temporary-protection holder without a municipality of residence is not in the "
        "international-protection target group.",
    ),
    "NO_TARGET_GROUP": (
        "Henkilö ei kuulu mihinkään osaamisen ja kotoutumisen palvelutarpeen arvioinnin "
        "kohderyhmään; ohjaus ja neuvonta ovat silti käytettävissä.",
        "Personen hör inte till någon målgrupp för bedömningen av kompetens och "
        "integrationsservicebehov; vägledning och rådgivning står ändå till buds.",
        "The person is in no target group of the competence and integration service-needs "
        "assessment; guidance and counselling remain available.",
    ),
    "AUTHORITY_EMPLOYMENT": (
        "Vastuu on työvoimaviranomaisella, koska henkilö on työtön työnhakija; "
        "työvoimaviranomainen ei voi siirtää häntä kunnalle.",
        "Arbetskraftsmyndigheten ansvarar, eftersom personen är arbetslös arbetssökande; "
        "myndigheten kan inte överföra personen till kommunen.",
        "The employment authority is responsible because the person is an unemployed "
        "jobseeker; it cannot hand the person over to the municipality.",
    ),
    "AUTHORITY_MUNICIPALITY": (
        "Vastuu on kunnalla, koska henkilö kuuluu kohderyhmään eikä ole työtön työnhakija.",
        "Kommunen ansvarar, eftersom personen hör till en målgrupp men inte är arbetslös "
        "arbetssökande.",
        "The municipality is responsible: the person is in a target group and is not an "
        "unemployed jobseeker.",
    ),
    "AUTHORITY_NONE": (
        "Vastuuviranomaista ei ole, koska henkilö ei kuulu kohderyhmään.",
        "Det finns ingen ansvarig myndighet, eftersom personen inte hör till någon målgrupp.",
        "No responsible authority: the person is in no target group.",
    ),
    "ASSESSMENT_ENTITLED": (
        "Oikeus osaamisen ja kotoutumisen palvelutarpeen arviointiin ja ensimmäiseen "
        "kotoutumissuunnitelmaan: määräaika päättyy {window_ends_on} ({years} vuotta "
        "ensimmäisestä oleskeluluvasta, oleskelukortista tai rekisteröinnistä).",
        "Rätt till bedömning av kompetens och integrationsservicebehov och till en första "
        "integrationsplan: fristen löper ut den {window_ends_on} ({years} år från det första "
        "uppehållstillståndet, uppehållskortet eller registreringen).",
        "Entitled to the competence and integration service-needs assessment and a first "
        "integration plan: the window ends on {window_ends_on} ({years} years from the first "
        "residence permit, card or registration).",
    ),
    "ASSESSMENT_ENTITLED_EXEMPT": (
        "Ihmiskaupan uhria ei koske {years} vuoden määräaika: oikeus arviointiin ja "
        "kotoutumissuunnitelmaan on ilman määräaikaa.",
        "Fristen på {years} år gäller inte offer för människohandel: rätten till bedömning och "
        "integrationsplan gäller utan tidsgräns.",
        "The {years}-year window does not apply to victims of human trafficking: the "
        "assessment and the integration plan are available without a time limit.",
    ),
    "ASSESSMENT_WINDOW_CLOSED": (
        "Ei oikeutta arviointiin eikä ensimmäiseen kotoutumissuunnitelmaan: {years} vuoden "
        "määräaika päättyi {window_ends_on}.",
        "Ingen rätt till bedömning eller en första integrationsplan: fristen på {years} år "
        "löpte ut den {window_ends_on}.",
        "Not entitled to the assessment or a first integration plan: the {years}-year window "
        "ended on {window_ends_on}.",
    ),
    "ASSESSMENT_NOT_ENTITLED": (
        "Ei oikeutta osaamisen ja kotoutumisen palvelutarpeen arviointiin, koska henkilö ei "
        "kuulu lain soveltamisalaan tai kohderyhmään.",
        "Ingen rätt till bedömning av kompetens och integrationsservicebehov, eftersom "
        "personen inte omfattas av lagen eller inte hör till någon målgrupp.",
        "Not entitled to the competence and integration service-needs assessment: the person "
        "is not covered or is in no target group.",
    ),
    "MULTISECTORAL": (
        "Arviointi ja suunnitelma ovat monialaisia, ja hyvinvointialue osallistuu ({why}).",
        "Bedömningen och planen är sektorsövergripande och välfärdsområdet deltar ({why}).",
        "The assessment and the plan are multi-sectoral: the welfare region takes part ({why}).",
    ),
    "PLAN_LIMITS": (
        "Ensimmäinen kotoutumissuunnitelma on enintään {first} kuukautta ja suunnitelmat "
        "yhteensä enintään {total} kuukautta; erityisestä syystä jatkoa enintään {ext} "
        "kuukautta.",
        "Den första integrationsplanen gäller högst {first} månader och planerna sammanlagt "
        "högst {total} månader; av särskilda skäl kan den förlängas med högst {ext} månader.",
        "The first integration plan lasts at most {first} months and plans together at most "
        "{total} months; for specific reasons it may be extended by at most {ext} months.",
    ),
    "COMPENSATION_ELIGIBLE": (
        "Kunnalle ja hyvinvointialueelle maksetaan laskennallista korvausta {years} vuoden "
        "ajalta ensimmäisestä kotikuntamerkinnästä: {starts_on}–{ends_on}.",
        "Kalkylerad ersättning betalas till kommunen och välfärdsområdet för {years} år från "
        "den första registreringen av hemkommun: {starts_on}–{ends_on}.",
        "Calculated compensation is paid to the municipality and the welfare region for "
        "{years} years from the first entry of a municipality of residence: {starts_on} to "
        "{ends_on}.",
    ),
    "COMPENSATION_TRANSITION": (
        "Korvausaika alkoi ennen {transition_on}; oletetun siirtymäsäännön mukaan uusi "
        "{new_years} vuoden korvausaika lasketaan alkuperäisestä alkamispäivästä, joten "
        "korvaus päättyy {ends_on}.",
        "Ersättningsperioden började före {transition_on}; enligt den antagna "
        "övergångsregeln räknas den nya perioden på {new_years} år från den ursprungliga "
        "starten, och ersättningen upphör därför den {ends_on}.",
        "The compensation period began before {transition_on}; under the assumed transition "
        "rule the new {new_years}-year length counts from the original start, so "
        "compensation ends on {ends_on}.",
    ),
    "COMPENSATION_NOT_SPECIAL_TARGET_GROUP": (
        "Laskennallista korvausta ei makseta: oleskeluperuste ({basis}) ei kuulu korvausten "
        "erityiseen kohderyhmään.",
        "Ingen kalkylerad ersättning: uppehållsgrunden ({basis}) hör inte till den särskilda "
        "målgruppen för ersättningar.",
        "No calculated compensation: the residence basis ({basis}) is not in the special "
        "target group.",
    ),
    "COMPENSATION_NO_HOME_MUNICIPALITY": (
        "Laskennallista korvausta ei makseta, koska kotikuntaa ei ole merkitty.",
        "Ingen kalkylerad ersättning, eftersom ingen hemkommun har registrerats.",
        "No calculated compensation: no municipality of residence has been recorded.",
    ),
    "COMPENSATION_AGE_BAND": (
        "Korvauksen ikäryhmä kysytyllä päivällä: {band}.",
        "Ersättningens åldersgrupp på den angivna dagen: {band}.",
        "Compensation age band on the date asked for: {band}.",
    ),
    "ADULTHOOD_SUPPORT_ENDS": (
        "Alaikäisenä ilman huoltajaa tulleen aikuistumisen tuki päättyy {ends_on} eli "
        "{age}. syntymäpäivää edeltävänä päivänä.",
        "Stödet för vuxenblivandet för den som kom som ensamkommande minderårig upphör den "
        "{ends_on}, dagen före {age}-årsdagen.",
        "Support for adulthood for a person who arrived as an unaccompanied minor ends on "
        "{ends_on}, the day before turning {age}.",
    ),
    "ADULTHOOD_SUPPORT_ENDS_AGE_LOWERED": (
        "Alaikäisenä ilman huoltajaa tulleen aikuistumisen tuki päättyy {ends_on}: yläikäraja "
        "laskettiin {age} vuoteen {in_force_on} alkaen, ja henkilö oli jo täyttänyt {age} "
        "vuotta. Oletus: tuki päättyy uutta ikärajaa edeltävänä päivänä, koska "
        "siirtymäsäännöstä ei löytynyt.",
        "Stödet för vuxenblivandet för den som kom som ensamkommande minderårig upphör den "
        "{ends_on}: åldersgränsen sänktes till {age} år från och med den {in_force_on}, och "
        "personen hade redan fyllt {age}. Antagande: stödet upphör dagen innan den nya "
        "åldersgränsen trädde i kraft, eftersom ingen övergångsbestämmelse hittades.",
        "Support for adulthood for a person who arrived as an unaccompanied minor ends on "
        "{ends_on}: the age limit was lowered to {age} from {in_force_on} and the person was "
        "already {age} or older. Assumed: the support ends the day before the lower limit "
        "took effect, as no transition provision was found.",
    ),
    "PARAMETERS_EARLIEST_PERIOD": (
        "Päivälle {d} ei ole parametrijaksoa; käytettiin varhaisinta jaksoa {period_id}.",
        "Det finns ingen parameterperiod för {d}; den tidigaste perioden {period_id} användes.",
        "No parameter period covers {d}; the earliest period {period_id} was used.",
    ),
    # Deadlines (koto.law.deadlines)
    "DEADLINE_ASSESSMENT_START": (
        "Osaamisen ja kotoutumisen palvelutarpeen arviointi aloitetaan viimeistään {due_on} "
        "({months} kuluessa asiakkuuden alkamisesta {start_on}).",
        "Bedömningen av kompetens och integrationsservicebehov inleds senast den {due_on} "
        "(inom {months} från att kundrelationen började den {start_on}).",
        "The competence and integration service-needs assessment starts by {due_on} "
        "(within {months} of becoming a client on {start_on}).",
    ),
    "DEADLINE_JOBSEEKER_INITIAL_INTERVIEW": (
        "Alkuhaastattelu järjestetään viimeistään {due_on} ({days} arkipäivän kuluessa "
        "työnhakijaksi rekisteröitymisestä {start_on}).",
        "Den inledande intervjun ordnas senast den {due_on} (inom {days} vardagar från "
        "registreringen som arbetssökande den {start_on}).",
        "The initial interview takes place by {due_on} (within {days} working days of "
        "registering as a jobseeker on {start_on}).",
    ),
    "DEADLINE_GUIDANCE_TO_SERVICE": (
        "Asiakas ohjataan sopivaan palveluun viimeistään {due_on} ({months} "
        "kuluessa kotoutumissuunnitelman laatimisesta {start_on}).",
        "Kunden hänvisas till en lämplig tjänst senast den {due_on} (inom {months} "
        "från att integrationsplanen upprättades den {start_on}).",
        "The client is guided to a suitable service by {due_on} (within {months} of "
        "the integration plan agreed on {start_on}).",
    ),
    "DEADLINE_PLAN_PREPARATION_START": (
        "Kotoutumissuunnitelman laatiminen aloitetaan viimeistään {due_on} ({days} päivän "
        "kuluessa siitä, kun arviointi {start_on} totesi suunnitelman tarpeelliseksi).",
        "Utarbetandet av integrationsplanen inleds senast den {due_on} (inom {days} dagar "
        "från att bedömningen den {start_on} fann att en plan behövs).",
        "Start drawing up the integration plan by {due_on} (within {days} days of the "
        "assessment completed on {start_on} finding a plan needed).",
    ),
    "DEADLINE_PLAN_REVIEW": (
        "Kotoutumissuunnitelma tarkistetaan viimeistään {due_on} (vähintään {months} "
        "kuukauden välein, edellinen tarkistus {start_on}).",
        "Integrationsplanen ses över senast den {due_on} (minst var {months}:e månad, "
        "föregående översyn den {start_on}).",
        "The integration plan is reviewed by {due_on} (at least every {months} months; last "
        "review on {start_on}).",
    ),
    "DEADLINE_PLAN_END": (
        "Kotoutumissuunnitelma voi olla voimassa enintään {due_on} asti ({months} alkaen "
        "{start_on}).",
        "Integrationsplanen kan gälla högst till och med den {due_on} ({months} från "
        "den {start_on}).",
        "The integration plan may last until {due_on} at the latest ({months} from {start_on}).",
    ),
    "DEADLINE_PLAN_MONTHS_USED": (
        "Kotoutumissuunnitelmien enimmäisaika ({total} kuukautta) on käytetty; uutta "
        "suunnitelmakautta ei ole {start_on} alkaen.",
        "Den längsta tiden för integrationsplaner ({total} månader) har använts; ingen ny "
        "planperiod från och med den {start_on}.",
        "The maximum time for integration plans ({total} months) has been used; no plan time "
        "remains from {start_on}.",
    ),
    "DEADLINE_EXTENSION_END": (
        "Kotoutumissuunnitelmaa voidaan erityisestä syystä jatkaa enintään {due_on} asti "
        "({months} suunnitelman päättymisen {start_on} jälkeen).",
        "Integrationsplanen kan av särskilda skäl förlängas högst till och med den {due_on} "
        "({months} efter att planen upphör den {start_on}).",
        "For specific reasons the integration plan may be extended until {due_on} at the "
        "latest ({months} after the plan ends on {start_on}).",
    ),
}


def age_band_label(min_age: int, max_age: int | None) -> tuple[str, str, str]:
    """Words for an age band [min_age, max_age) in fi, sv, en."""
    if max_age is None:
        return (f"{min_age} vuotta täyttänyt", f"{min_age} år eller äldre", f"{min_age} or over")
    if min_age == 0:
        return (f"alle {max_age}-vuotias", f"under {max_age} år", f"under {max_age}")
    last = max_age - 1
    return (f"{min_age}–{last}-vuotias", f"{min_age}–{last} år", f"{min_age} to {last}")


def months_words(n: int, fi_case: str = "genitive") -> tuple[str, str, str]:
    """``n`` months in fi, sv, en, singular for one: the Finnish genitive ("6 kuukauden
    kuluessa") or partitive ("6 kuukautta", "1 kuukausi")."""
    if fi_case == "genitive":
        fi = f"{n} kuukauden"
    else:
        fi = "1 kuukausi" if n == 1 else f"{n} kuukautta"
    if n == 1:
        return (fi, "1 månad", "1 month")
    return (fi, f"{n} månader", f"{n} months")


@lru_cache(maxsize=1 << 14)
def _date_words(d: date) -> tuple[str, str, str]:
    fi = f"{d.day}.{d.month}.{d.year}"
    return (fi, fi, d.isoformat())


def _words(value: object) -> tuple[str, str, str]:
    if isinstance(value, date):
        return _date_words(value)
    if isinstance(value, tuple):  # already (fi, sv, en)
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        label = LABELS.get(value)
        if label:
            return label
    text = str(value)
    return (text, text, text)


class CachedReason:
    """A built reason: its texts and its JSON, shared between decisions (immutable)."""

    __slots__ = ("code", "section", "text_fi", "text_sv", "text_en", "json")

    def __init__(self, code: str, section: str, text_fi: str, text_sv: str, text_en: str):
        self.code = code
        self.section = section
        self.text_fi = text_fi
        self.text_sv = text_sv
        self.text_en = text_en
        # Same bytes as Reason.model_dump_json(): compact, UTF-8, minimal escaping.
        q = [_quote(text) for text in (code, section, text_fi, text_sv, text_en)]
        self.json: bytes = (
            f'{{"code":{q[0]},"section":{q[1]},"text_fi":{q[2]},"text_sv":{q[3]},"text_en":{q[4]}}}'
        ).encode()

    @property
    def model(self) -> Reason:
        return Reason(
            code=self.code,
            section=self.section,
            text_fi=self.text_fi,
            text_sv=self.text_sv,
            text_en=self.text_en,
        )


@lru_cache(maxsize=1 << 14)
def build(code: str, section: str, items: tuple[tuple[str, object], ...]) -> CachedReason:
    """The reason ``code`` citing ``section`` with ``items`` (name, value) put in its texts."""
    fi, sv, en = TEMPLATES[code]
    if items:
        words = [(k, _words(v)) for k, v in items]
        fi = fi.format_map({k: w[0] for k, w in words})
        sv = sv.format_map({k: w[1] for k, w in words})
        en = en.format_map({k: w[2] for k, w in words})
    return CachedReason(code, section, fi, sv, en)


def reason(code: str, section: str, **values: object) -> Reason:
    """The reason ``code`` citing ``section``, with ``values`` put into its texts."""
    return build(code, section, tuple(values.items())).model
