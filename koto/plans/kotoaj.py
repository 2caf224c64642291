"""Export of assessments and integration plans for Koto-AJ, KEHA's national integration
client information system (kotoutumisen asiakastietojärjestelmä).

A municipality moving to Koto-AJ, or feeding it, gets the records made while the clients were
its own (after a transfer, each record with the municipality whose client the client was
when it was made: `_whose`) as JSON Lines plus a manifest. A record of a client who was a jobseeker when it began (an assessment's start,
a plan's start) belongs to the employment authority's system: counted in the manifest,
never written. Koto-AJ's field list and interfaces are not
public, so this is Koto's own documented file format mapped to the national concepts and
code lists (docs/kotoaj-mapping.md). Every coded value is `{codeset, code, label_fi}`; the
health and social details of an assessment never leave Koto (only the flag does).

Records are read in chunks (`.iterator()`), and each chunk is written to the audit trail
before its lines reach the file, so nothing is on disk that the audit trail does not name.
"""

import datetime as dt
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pycountry
from django.conf import settings
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils.translation import override

from koto.assessments.models import Assessment
from koto.assessments.scales import Level, Skill, cefr
from koto.audit.models import AuditEvent
from koto.audit.services import audit_record, audit_record_many
from koto.clients import codes
from koto.clients.models import (
    Client,
    ClientFactChange,
    HandedOverRecord,
    LawFact,
    ResponsibilityChange,
)
from koto.core import clock
from koto.organisations.models import Organisation, OrganisationKind
from koto.plans.models import (
    AckMethod,
    Action,
    ExtensionReason,
    Goal,
    GoalArea,
    IntegrationPlan,
    Outcome,
    PlanStatus,
    Responsible,
    Review,
)

FORMAT_NAME = "koto-kotoaj-export"
# 2 (2026-12-07): the language level below the scale is `level: null` with `below_scale:
# true` (was the invented code "0"); organisations carry `municipality` coded against the
# yearly municipality list; records are placed by the client's jobseeker status when the
# record began; a client's changed identity selects their records.
FORMAT_VERSION = 2
ASSESSMENTS_FILE = "assessments.jsonl"
PLANS_FILE = "plans.jsonl"
MANIFEST_FILE = "manifest.json"
AUDIT_OBJECT_TYPE = "kotoaj_export"
CHUNK = 500

# Fields that exist in Koto but are deliberately not in the export (see the mapping doc).
EXCLUDED_FIELDS = (
    "assessment.welfare_needs_details",
    "assessment.trigger_note",
    "assessment.goals",
    "assessment.family_situation",
    "assessment.childcare_needed",
    "assessment.housing",
    "assessment.conclusion",
    "assessment.measures",
    "plan.reviews.notes",
    "plan.counsellor",
)


class KotoAjExportError(Exception):
    """The export cannot start; `option` names the command-line option at fault."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


# ---------------------------------------------------------------------------------------------
# Code lists
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeSet:
    id: str
    name: str
    version: str
    owner: str
    counterpart: str  # the national concept or code list this set stands for
    label: Callable[[str], str]  # the Finnish label; called inside override("fi")
    from_catalogue: bool = False  # labels come from Koto's translation catalogue


def _choice_label(choices) -> Callable[[str], str]:
    def label(code: str) -> str:
        try:
            return str(choices(code).label)
        except ValueError:
            return ""

    return label


def _table_label(table: dict[str, str]) -> Callable[[str], str]:
    return lambda code: table.get(code, "")


def _municipality_label(code: str) -> str:
    """The municipality's Finnish name as Koto's organisation register holds it (the list
    of `koto/organisations/reference`, Statistics Finland's codes)."""
    name = (
        Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY, municipality_code=code)
        .values_list("name_fi", flat=True)
        .first()
    )
    return name or ""


# Labels of national lists that Koto has no translation catalogue entry for. They are data
# (the lists' own Finnish names, as Koto reads them), not user-interface strings.
MONITORING_THEMES_FI = {
    "employment": "Työllisyys",
    "education": "Koulutus",
    "wellbeing": "Hyvinvointi ja terveys",
    "participation": "Osallisuus",
    "two_way": "Kaksisuuntainen kotoutuminen ja väestösuhteet",
    "housing": "Asuminen",
}
URA_PLAN_TYPES_FI = {
    "01": "Työllistymissuunnitelma",
    "03": "Aktivointisuunnitelma",
    "04": "Kotoutumissuunnitelma",
}
URA_PLAN_TYPE_INTEGRATION = "04"
# Koto's paraphrase of the URA task codes named in the vocabulary; the official labels are
# KEHA's and must be checked against its specification.
URA_TASKS_FI = {
    "025": "Kotoutumiskoulutusta vastaava koulutus",
    "030": "Tarvitsee muun viranomaisen palveluja",
    "034": "Terveystarkastus",
    "035": "Osallistuu osaamisen ja kotoutumisen palvelutarpeen arviointiin",
    "036": "Hakeutuu omaehtoisena opiskeluna toteutettavaan kotoutumiskoulutukseen",
    "076": "Muu omaa kotoutumista edistävä toiminta",
}
CEFR_FI = {level: level for level in ("A1", "A2", "B1", "B2", "C1", "C2")}
BELOW_SCALE = Level.NONE  # Koto's "no skill yet", below A1.1

_PYCOUNTRY = f"pycountry {getattr(pycountry, '__version__', '')}".strip()

CODESETS: dict[str, CodeSet] = {
    cs.id: cs
    for cs in (
        CodeSet(
            "koto.assessment_kind", "Arvioinnin laji (perus / monialainen)", "koto-1", "Koto",
            "basic or multi-sectoral assessment (681/2023)", _choice_label(Assessment.Kind), True,
        ),
        CodeSet(
            "koto.assessment_trigger", "Arvioinnin käynnistäjä", "koto-1", "Koto",
            "how the assessment started (681/2023 9 §)", _choice_label(Assessment.Trigger), True,
        ),
        CodeSet(
            "koto.assessment_status", "Arvioinnin tila", "koto-1", "Koto",
            "assessment status", _choice_label(Assessment.Status), True,
        ),
        CodeSet(
            "koto.literacy", "Luku- ja kirjoitustaito", "koto-1", "Koto",
            "literacy (no national list known)", _choice_label(Assessment.Literacy), True,
        ),
        CodeSet(
            "koto.language_skill", "Kielitaidon osa-alue", "koto-1", "Koto",
            "skill of the national scale (listening, reading, speaking, writing)",
            _choice_label(Skill), True,
        ),
        CodeSet(
            "oph.language_proficiency", "Kehittyvän kielitaidon tasojen kuvausasteikko",
            "A1.1–C2.2 (13 levels)", "Opetushallitus",
            "national scale of developing language proficiency", _choice_label(Level), True,
        ),
        CodeSet(
            "stat.municipality", "Kunnat", "the export's year", "Tilastokeskus",
            "municipality codes, yearly version (3 digits)", _municipality_label,
        ),
        CodeSet(
            "cefr", "Eurooppalainen viitekehys (CEFR)", "levels A1–C2", "Council of Europe",
            "CEFR level derived from the national scale", _table_label(CEFR_FI),
        ),
        CodeSet(
            "stat.education_level_2016", "Koulutusaste 2016, taso 1 (= ISCED 2011)", "2016",
            "Tilastokeskus", "national education level 2016 (ISCED 2011 level)",
            _choice_label(Assessment.EducationLevel), True,
        ),
        CodeSet(
            "iso3166-1", "Valtiot ja maat (ISO 3166-1 alpha-2)", f"ISO 3166-1 ({_PYCOUNTRY})",
            "ISO / Tilastokeskus", "states and countries", codes.country_name,
        ),
        CodeSet(
            "iso639-1", "Kielet (ISO 639-1)", f"ISO 639-1 ({_PYCOUNTRY})", "ISO",
            "language, two-letter code", codes.language_name,
        ),
        CodeSet(
            "iso639-3", "Kielet (ISO 639-3)", f"ISO 639-3 ({_PYCOUNTRY})", "ISO",
            "language without a two-letter code", codes.language_name,
        ),
        CodeSet(
            "ura.plan_type", "URA suunnitelmatyyppi", "legacy URA", "KEHA",
            "plan type: 04 = integration plan", _table_label(URA_PLAN_TYPES_FI),
        ),
        CodeSet(
            "ura.task", "URA tehtäväkoodi", "legacy URA; Koto's reading, not confirmed by KEHA",
            "KEHA", "plan task", _table_label(URA_TASKS_FI),
        ),
        CodeSet(
            "koto.monitoring_theme", "Kotoutumisen seurannan teema", "koto-1 (TEM's six themes)",
            "Koto / TEM", "national monitoring theme", _table_label(MONITORING_THEMES_FI),
        ),
        CodeSet(
            "koto.plan_kind", "Suunnitelman laji (perus / monialainen)", "koto-1", "Koto",
            "basic or multi-sectoral plan (681/2023)", _choice_label(IntegrationPlan.Kind), True,
        ),
        CodeSet(
            "koto.plan_status", "Suunnitelman tila", "koto-1", "Koto", "plan status",
            _choice_label(PlanStatus), True,
        ),
        CodeSet(
            "koto.goal_area", "Tavoitteen alue", "koto-1", "Koto",
            "goal area (each carries a monitoring theme)", _choice_label(GoalArea), True,
        ),
        CodeSet(
            "koto.responsible", "Toimenpiteen vastuutaho", "koto-1", "Koto",
            "who carries out the action", _choice_label(Responsible), True,
        ),
        CodeSet(
            "koto.extension_reason", "Jatkamisen peruste", "koto-1", "Koto",
            "special reason for extending the plan (681/2023)", _choice_label(ExtensionReason),
            True,
        ),
        CodeSet(
            "koto.ack_method", "Tiedoksisaannin tapa", "koto-1", "Koto",
            "how the client acknowledged the plan", _choice_label(AckMethod), True,
        ),
        CodeSet(
            "koto.outcome", "Suunnitelman päättymisen tulos", "koto-1", "Koto",
            "outcome when the plan ended", _choice_label(Outcome), True,
        ),
    )
}  # fmt: skip


class _Coder:
    """Writes coded values and remembers the Finnish labels (one lookup per code per run),
    and which of Koto's own labels have no Finnish translation yet."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], dict] = {}
        self.untranslated: set[str] = set()

    def __call__(self, codeset: str, code: str | None) -> dict | None:
        if code in (None, ""):
            return None
        key = (codeset, code)
        if key not in self._cache:
            cs = CODESETS[codeset]
            label = cs.label(code)
            if cs.from_catalogue:
                with override("en"):
                    source = cs.label(code)
                if label == source and label != code:
                    self.untranslated.add(f"{codeset}:{code}")
            self._cache[key] = {"codeset": codeset, "code": code, "label_fi": label}
        return self._cache[key]

    def language(self, code: str | None) -> dict | None:
        if not code:
            return None
        return self("iso639-1" if len(code) == 2 else "iso639-3", code)


# ---------------------------------------------------------------------------------------------
# URA task codes for plan actions (Koto's reading; the table is in docs/kotoaj-mapping.md)
# ---------------------------------------------------------------------------------------------

# (rule, URA task code, alternatives): an alternative is a tuple of word groups, and it
# matches when the action's "what" and linked service (fi / sv / en, case-folded) hold a
# word of every group. The first rule that matches wins; then the responsible party decides.
_INTEGRATION_TRAINING = ("kotoutumiskoulutu", "integration training", "integrationsutbildning")
_APPLIES = ("hakeutu", "hakee ", "hakeminen", "haetaan", "hakemus", "apply", "applies",
            "applying", "application", "söker", "ansök")  # fmt: skip
_SELF_MOTIVATED = ("omaehtoi", "self-motivated", "frivillig")
_STUDIES = ("opiskel", "opinno", "opinto", "opintoi", "studies", "studying", "studier")
URA_TASK_KEYWORD_RULES: tuple[tuple[str, str, tuple[tuple[tuple[str, ...], ...], ...]], ...] = (
    ("assessment", "035", ((("palvelutarpeen arvio", "osaamisen arvio", "alkukartoitus",
                             "needs assessment", "kartläggning", "bedömning av kompetens"),),)),
    ("health_check", "034", ((("terveystarkast", "health check", "hälsokontroll",
                               "hälsoundersökning"),),)),
    # studies that stand for integration training, said so (also when applying to them)
    ("integration_equivalent_training", "025", (
        (("kotoutumiskoulutusta vastaava", "kotoutumiskoulutusta vastaavaan", "vastaava koulutus",
          "vastaavaa koulutusta", "vastaavaan koulutukseen", "integration-equivalent",
          "equivalent to integration training", "motsvarande integrationsutbildning"),),
    )),
    # applying to integration training (a non-jobseeker studies it as self-motivated
    # studies; 037, the labour-market form, is for jobseekers, whose plans are not here)
    ("applies_to_integration_training", "036", ((_APPLIES, _INTEGRATION_TRAINING),)),
    # self-motivated studies otherwise stand for integration training
    ("integration_equivalent_training", "025", ((_SELF_MOTIVATED, _STUDIES),)),
    ("integration_training", "036", ((_INTEGRATION_TRAINING,),)),
)  # fmt: skip
URA_TASK_BY_RESPONSIBLE = {
    Responsible.CLIENT: ("own_activity", "076"),
}
# 030 "needs another authority's services": only when the other organisation is one
_AUTHORITY_KINDS = frozenset(
    {
        OrganisationKind.MUNICIPALITY,
        OrganisationKind.EMPLOYMENT_AUTHORITY,
        OrganisationKind.WELFARE_REGION,
        OrganisationKind.REGIONAL_STATE_AUTHORITY,
        OrganisationKind.KEHA,
        OrganisationKind.KELA,
        OrganisationKind.MIGRI,
    }
)


def ura_task_for(
    *, what: str, service_name: str, responsible: str, responsible_kind: str | None = None
) -> tuple[str, str] | None:
    """(rule, URA task code) for a plan action, or None when no code fits (e.g. a task of
    the counsellor's own, or of an NGO: not an authority's service)."""
    text = f"{what} {service_name}".casefold()
    for rule, code, alternatives in URA_TASK_KEYWORD_RULES:
        if any(all(any(w in text for w in group) for group in alt) for alt in alternatives):
            return rule, code
    if responsible == Responsible.OTHER_ORGANISATION:
        return ("other_authority", "030") if responsible_kind in _AUTHORITY_KINDS else None
    return URA_TASK_BY_RESPONSIBLE.get(responsible)


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


def _date(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _at(t: dt.datetime | None) -> str | None:
    return t.astimezone(clock.HELSINKI).isoformat(timespec="seconds") if t else None


def _text(s: str) -> str | None:
    return s or None


def _organisation(o: Organisation | None, code: "_Coder | None" = None) -> dict | None:
    if o is None:
        return None
    block = {"code": o.code, "name_fi": o.name_fi, "municipality_code": o.municipality_code or None}
    if code is not None:
        block["municipality"] = code("stat.municipality", o.municipality_code)
    return block


def _client(c: Client) -> dict:
    """Koto-AJ is the municipality's own register (joint controller with KEHA): the client
    is identified, not pseudonymised."""
    return {
        "id": c.id,
        "hetu": c.hetu or None,
        "temporary_id": c.temporary_id or None,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "birth_date": _date(c.birth_date),
        "migri_number": _text(c.migri_number),
        "unhcr_number": _text(c.unhcr_number),
    }


def assessment_record(a: Assessment, code: _Coder) -> dict:
    skills = sorted(a.skills.all(), key=lambda s: (s.language, s.skill))
    return {
        "record_type": "assessment",
        "id": a.id,
        "version": a.version,
        "created_at": _at(a.created_at),
        "updated_at": _at(a.updated_at),
        "client": _client(a.client),
        "recorded_by": _organisation(a.organisation, code),
        "kind": code("koto.assessment_kind", a.kind),
        "law_proposed_multisectoral": a.law_proposed_multisectoral,
        "trigger": code("koto.assessment_trigger", a.trigger),
        "status": code("koto.assessment_status", a.status),
        "started_on": _date(a.started_on),
        "interview_on": _date(a.interview_on),
        "interview_language": code.language(a.interview_language),
        "interpreter_used": a.interpreter_used,
        "literacy": code("koto.literacy", a.literacy),
        "language_skills": [
            {
                "language": code.language(s.language),
                "skill": code("koto.language_skill", s.skill),
                # below A1.1 ("no skill yet") is no level of the national scale
                "level": None
                if s.level == BELOW_SCALE
                else code("oph.language_proficiency", s.level),
                "below_scale": s.level == BELOW_SCALE,
                "cefr": code("cefr", cefr(s.level)),
            }
            for s in skills
        ],
        "education_level": code("stat.education_level_2016", a.education_level),
        "education_field": _text(a.education_field),
        "education_years": a.education_years,
        "education_country": code("iso3166-1", a.education_country),
        "recognition_needed": a.recognition_needed,
        "occupation": _text(a.occupation),
        "work_years": a.work_years,
        # Only the flag: the details are the welfare region's and never leave Koto.
        "welfare_needs_flag": a.welfare_needs_flag,
        "plan_needed": a.plan_needed,
        "completed_on": _date(a.completed_on),
    }


def _action(x: Action, code: _Coder) -> dict:
    other = x.responsible_organisation
    task = ura_task_for(
        what=x.what,
        service_name=x.service_name,
        responsible=x.responsible,
        responsible_kind=other.kind if other is not None else None,
    )
    return {
        "id": x.id,
        "what": x.what,
        "responsible": code("koto.responsible", x.responsible),
        "responsible_organisation": _organisation(x.responsible_organisation, code),
        "planned_on": _date(x.planned_on),
        "done_on": _date(x.done_on),
        "service_name": _text(x.service_name),
        "ura_task": code("ura.task", task[1]) if task else None,
        "ura_task_rule": task[0] if task else None,
    }


def plan_record(p: IntegrationPlan, code: _Coder) -> dict:
    acknowledgement = None
    if p.acknowledged_on:
        acknowledgement = {
            "acknowledged_on": _date(p.acknowledged_on),
            "method": code("koto.ack_method", p.acknowledgement_method),
            "interpreter_language": code.language(p.acknowledgement_interpreter_language),
        }
    return {
        "record_type": "integration_plan",
        "id": p.id,
        "version": p.version,
        "created_at": _at(p.created_at),
        "updated_at": _at(p.updated_at),
        "client": _client(p.client),
        "recorded_by": _organisation(p.organisation, code),
        "plan_type": code("ura.plan_type", URA_PLAN_TYPE_INTEGRATION),
        "kind": code("koto.plan_kind", p.kind),
        "status": code("koto.plan_status", p.status),
        "assessment_id": p.assessment_id,
        "is_first": p.is_first,
        "months_used_before": p.months_used_before,
        "first_plan_started_on": _date(p.first_plan_started_on),
        "starts_on": _date(p.starts_on),
        "ends_on": _date(p.ends_on),
        "end_limit_on": _date(p.end_limit_on),
        "agreed_on": _date(p.agreed_on),
        "extensions": [
            {
                "months": e.months,
                "reason": code("koto.extension_reason", e.reason),
                "reason_note": e.reason_note,
                "previous_ends_on": _date(e.previous_ends_on),
                "new_ends_on": _date(e.new_ends_on),
                "decided_on": _date(e.decided_on),
            }
            for e in p.extensions.all()
        ],
        "goals": [
            {
                "id": g.id,
                "area": code("koto.goal_area", g.area),
                "theme": code("koto.monitoring_theme", g.theme),
                "description": g.description,
                "actions": [_action(x, code) for x in g.actions.all()],
            }
            for g in p.goals.all()
        ],
        "reviews": [
            {
                "reviewed_on": _date(r.reviewed_on),
                "welfare_region_took_part": r.welfare_region_took_part,
            }
            for r in sorted(p.reviews.all(), key=lambda r: (r.reviewed_on, r.id))
        ],
        "acknowledgement": acknowledgement,
        "ended_on": _date(p.ended_on),
        "outcome": code("koto.outcome", p.outcome),
        "outcome_note": _text(p.outcome_note),
        "handover_summary": _text(p.handover_summary),
    }


# ---------------------------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------------------------


def _changed_since(start: dt.datetime) -> Q:
    return Q(created_at__gte=start) | Q(updated_at__gte=start)


def _plans_with_parts_changed_since(start: dt.datetime) -> Q:
    """Adding a goal or an action, marking an action done or reviewing a plan does not touch
    the plan row; the audit trail (every write leaves one event) says which parts changed."""
    events = AuditEvent.objects.filter(at__gte=start, object_id__regex=r"^[0-9]+$")

    def ids(object_type: str) -> QuerySet:
        return (
            events.filter(object_type=object_type)
            .annotate(oid=Cast("object_id", BigIntegerField()))
            .values("oid")
        )

    return (
        Q(id__in=Goal.objects.filter(id__in=ids("plan_goal")).values("plan_id"))
        | Q(id__in=Action.objects.filter(id__in=ids("plan_action")).values("goal__plan_id"))
        | Q(id__in=Review.objects.filter(id__in=ids("plan_review")).values("plan_id"))
    )


def _client_changed_since(start: dt.datetime) -> Q:
    """The client's own details (a name, an identity code given, a Migri number) or their
    law facts changed: every record carries the client block, so it is written again."""
    return Q(client__updated_at__gte=start) | Q(
        client_id__in=ClientFactChange.objects.filter(recorded_at__gte=start).values("client_id")
    )


def _with_jobseeker_then(qs: QuerySet, date_field: str) -> QuerySet:
    """`qs` annotated with `jobseeker_then`: whether the client was an unemployed jobseeker
    on the record's day (`date_field`), from the dated fact history for a past day, as
    `koto.clients.law.facts_on` reads it, else (today, later, or no day yet) the current
    flag. KEHA's rule places the record by it, so a plan begun before the client became a
    jobseeker stays the municipality's (and its end goes to Koto-AJ), and one begun as a
    jobseeker never does.

    A day before the first recorded change: a first change dated after the client was
    entered is a change (before it the flag was the other way); one dated at entry or
    earlier is how the client came in (a plan begun on 30 October for a client entered as
    a jobseeker on 2 November was a jobseeker's). No history at all (loaded data): the
    current flag. Where `facts_on` would say False for want of history, this fails closed:
    a jobseeker's record must not leave by default."""
    changes = ClientFactChange.objects.filter(
        client_id=OuterRef("client_id"), fact=LawFact.UNEMPLOYED_JOBSEEKER
    )
    then = changes.filter(valid_from__lte=OuterRef(date_field)).order_by("-valid_from", "-id")
    first = changes.order_by("valid_from", "id")
    current = F("client__unemployed_jobseeker")
    qs = qs.annotate(
        _js_then=Subquery(then.values("value")[:1]),
        _js_first=Subquery(first.values("value")[:1]),
        _js_first_from=Subquery(first.values("valid_from")[:1]),
    )
    return qs.annotate(
        jobseeker_then=Case(
            # the employment authority's own record is a jobseeker's (it serves unemployed
            # jobseekers) and lives in its system, whatever the facts recorded say
            When(organisation__kind=OrganisationKind.EMPLOYMENT_AUTHORITY, then=Value(True)),
            When(**{f"{date_field}__isnull": True}, then=current),
            When(**{f"{date_field}__gte": clock.today()}, then=current),
            When(_js_then__isnull=False, then=F("_js_then")),
            When(_js_first__isnull=True, then=current),
            When(
                _js_first_from__gt=TruncDate("client__created_at", tzinfo=clock.HELSINKI),
                then=Case(When(_js_first=True, then=Value(False)), default=Value(True)),
            ),
            default=F("_js_first"),
            output_field=BooleanField(),
        )
    )


def _whose(qs: QuerySet, organisation: Organisation, record_type: str) -> QuerySet:
    """The records of `qs` that are `organisation`'s to export: those of its clients, and of
    clients it held before a transfer (`ResponsibilityChange`), each record the export of
    the organisation responsible for the client when the record was made (`created_at`);
    a record handed over at a transfer (`HandedOverRecord`: an open assessment or plan
    goes with the client) the export of the organisation holding it now. A record made by
    a producer under a service agreement is the export of the organisation it was made
    for, as before.

    So after a transfer the receiver's export no longer carries the sender's earlier
    records (until 2026-12-08 it did, as every record went by the client's responsible
    organisation now), and the sender's still does: a record it made and had not exported
    yet is not lost when the client moves."""
    changes = ResponsibilityChange.objects.filter(client_id=OuterRef("client_id"))
    handed_over = HandedOverRecord.objects.filter(
        record_type=record_type,
        record_id=OuterRef("id"),
        change__to_organisation_id=OuterRef("organisation_id"),
    )
    # a change at the very instant the record was made came after it (the sender's record)
    then = changes.filter(at__lt=OuterRef("created_at")).order_by("-at", "-id")
    first = changes.order_by("at", "id")
    involved = ResponsibilityChange.objects.filter(
        Q(from_organisation=organisation) | Q(to_organisation=organisation)
    ).values("client_id")
    qs = qs.filter(Q(client__responsible_organisation=organisation) | Q(client_id__in=involved))
    return qs.annotate(
        exporter=Case(
            When(Exists(handed_over), then=F("organisation_id")),
            default=Coalesce(
                Subquery(then.values("to_organisation_id")[:1]),
                Subquery(first.values("from_organisation_id")[:1]),
                F("client__responsible_organisation_id"),
                output_field=BigIntegerField(),
            ),
            output_field=BigIntegerField(),
        )
    ).filter(exporter=organisation.id)


def _client_changed_for(organisation: Organisation, start: dt.datetime) -> Q:
    """`_client_changed_since` for the organisation's clients; for a former client, only
    when it transferred them since `start` (the hand-over changes the client row): what the
    receiver changes later is not sent again with the sender's old records."""
    moved_away = ResponsibilityChange.objects.filter(
        client_id=OuterRef("client_id"), from_organisation=organisation, at__gte=start
    )
    return _client_changed_since(start) & (
        Q(client__responsible_organisation=organisation) | Q(Exists(moved_away))
    )


def _assessments(organisation: Organisation, start: dt.datetime) -> QuerySet[Assessment]:
    qs = _whose(Assessment.objects.all(), organisation, "assessment").filter(
        _changed_since(start) | _client_changed_for(organisation, start)
    )
    return _with_jobseeker_then(qs, "started_on")


def _plans(organisation: Organisation, start: dt.datetime) -> QuerySet[IntegrationPlan]:
    qs = _whose(IntegrationPlan.objects.all(), organisation, "plan").filter(
        _changed_since(start)
        | _plans_with_parts_changed_since(start)
        | _client_changed_for(organisation, start)
    )
    return _with_jobseeker_then(qs, "starts_on")


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _chunks(iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Line and paragraph separators and NEL are valid inside a JSON string, but many readers
# (Python's str.splitlines among them) end a line at them: written escaped, a record is
# exactly one line of the file whatever its text holds.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"})


def _json_line(record: dict) -> str:
    return (
        json.dumps(record, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS) + "\n"
    )


def _open_private(path: Path):
    """A new binary file readable by its owner only (the export holds identity codes)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _write_jsonl(
    *, path: Path, rows: Iterator, to_record, code: _Coder, actor, export_id: str, reason: str
) -> dict:
    """Write one record per line. Each chunk is audited before its lines are written."""
    digest, count, size = hashlib.sha256(), 0, 0
    with _open_private(path) as f:
        for chunk in _chunks(rows, CHUNK):
            records = [to_record(row, code) for row in chunk]
            audit_record_many(
                actor=actor,
                action="export",
                object_type=AUDIT_OBJECT_TYPE,
                reason=reason,
                items=[
                    {
                        "object_id": f"{r['record_type']}:{r['id']}",
                        "client_id": r["client"]["id"],
                        "changes": {"export_id": export_id, "file": path.name},
                    }
                    for r in records
                ],
            )
            data = "".join(_json_line(r) for r in records).encode("utf-8")
            digest.update(data)
            f.write(data)
            count += len(records)
            size += len(data)
    return {"records": count, "bytes": size, "sha256": digest.hexdigest()}


def default_out_dir(organisation: Organisation) -> Path:
    stamp = clock.now().astimezone(clock.HELSINKI).strftime("%Y%m%dT%H%M%S")
    code = re.sub(r"[^A-Za-z0-9_-]", "_", organisation.code)
    return Path(settings.BASE_DIR) / "var" / "exports" / f"kotoaj-{code}-{stamp}"


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise KotoAjExportError("--out", f"{out_dir} exists and is not a directory.")
    existing = [n for n in (ASSESSMENTS_FILE, PLANS_FILE, MANIFEST_FILE) if (out_dir / n).exists()]
    if existing:
        raise KotoAjExportError(
            "--out", f"{out_dir} already holds an export ({', '.join(existing)}); choose another."
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise KotoAjExportError("--out", f"cannot create {out_dir}: {e.strerror}") from e
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise KotoAjExportError("--out", f"cannot write in {out_dir}: permission denied.")


def export_kotoaj(*, organisation: Organisation, since: dt.date, out_dir: Path, actor=None) -> dict:
    """Write `assessments.jsonl`, `plans.jsonl` and `manifest.json` for the records of
    `organisation`'s non-jobseeker clients made while they were its own (`_whose`), created
    or updated on or after `since` (Helsinki time); audit every exported record and the
    export itself; return the manifest."""
    if organisation.kind != OrganisationKind.MUNICIPALITY:
        raise KotoAjExportError(
            "--organisation",
            f"{organisation.code} is not a municipality: Koto-AJ is the municipalities' "
            "register (an employment authority's records go to its own system).",
        )
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=clock.HELSINKI)
    export_id = uuid.uuid4().hex
    generated_at = clock.now()
    reason = f"Koto-AJ export {export_id}: organisation {organisation.code}, since {since}"

    assessments = _assessments(organisation, start)
    plans = _plans(organisation, start)
    skipped_assessments = assessments.filter(jobseeker_then=True)
    skipped_plans = plans.filter(jobseeker_then=True)
    skipped = {
        "reason": "the client was a jobseeker when the record began, or the employment "
        "authority made it: it belongs to the employment authority's system",
        "assessments": skipped_assessments.count(),
        "plans": skipped_plans.count(),
        "clients": Client.objects.filter(
            Q(id__in=skipped_assessments.values("client_id"))
            | Q(id__in=skipped_plans.values("client_id"))
        ).count(),
    }
    assessment_rows = (
        assessments.filter(jobseeker_then=False)
        .select_related("client", "organisation")
        .prefetch_related("skills")
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )
    plan_rows = (
        plans.filter(jobseeker_then=False)
        .select_related("client", "organisation")
        .prefetch_related(
            "extensions",
            "reviews",
            Prefetch("goals", queryset=Goal.objects.order_by("position", "id")),
            Prefetch(
                "goals__actions",
                # by planned date, undated last, on every database alike
                queryset=Action.objects.select_related("responsible_organisation").order_by(
                    F("planned_on").asc(nulls_last=True), "id"
                ),
            ),
        )
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )

    code = _Coder()
    files: dict[str, dict] = {}
    common = {"code": code, "actor": actor, "export_id": export_id, "reason": reason}
    try:
        with override("fi"):
            files[ASSESSMENTS_FILE] = _write_jsonl(
                path=out_dir / ASSESSMENTS_FILE,
                rows=assessment_rows,
                to_record=assessment_record,
                **common,
            )
            files[PLANS_FILE] = _write_jsonl(
                path=out_dir / PLANS_FILE, rows=plan_rows, to_record=plan_record, **common
            )
        manifest = {
            "format": {"name": FORMAT_NAME, "version": FORMAT_VERSION},
            "export_id": export_id,
            "organisation": _organisation(organisation),
            "since": since.isoformat(),
            "generated_at": _at(generated_at),
            "files": files,
            "skipped_jobseekers": skipped,
            "excluded_fields": list(EXCLUDED_FIELDS),
            "code_lists": [
                {
                    "codeset": cs.id,
                    "name": cs.name,
                    # the municipality list's version is the year the export was made in
                    "version": str(generated_at.astimezone(clock.HELSINKI).year)
                    if cs.id == "stat.municipality"
                    else cs.version,
                    "owner": cs.owner,
                    "counterpart": cs.counterpart,
                }
                for cs in CODESETS.values()
            ],
            "labels_missing_fi": sorted(code.untranslated),
        }
        # Written last and renamed into place: a directory without a manifest is incomplete.
        tmp = out_dir / f".{MANIFEST_FILE}.{export_id}"
        with _open_private(tmp) as f:
            f.write((json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        tmp.replace(out_dir / MANIFEST_FILE)
    except Exception as e:
        audit_record(
            actor=actor,
            action="export",
            object_type=AUDIT_OBJECT_TYPE,
            object_id=export_id,
            reason=reason,
            changes={"status": "failed", "error": type(e).__name__, "files": files},
        )
        raise
    audit_record(
        actor=actor,
        action="export",
        object_type=AUDIT_OBJECT_TYPE,
        object_id=export_id,
        reason=reason,
        changes={
            "status": "done",
            "organisation": organisation.code,
            "since": since.isoformat(),
            "files": files,
            "skipped_jobseekers": skipped,
        },
    )
    return manifest
