"""Loading Finland's authorities from the reference files in `reference/`.

The files are copies of the project's shared reference data; `reference/SOURCES.md` names
the source of every value (Statistics Finland classifications, decree 1373/2018, TEM).
Loading is idempotent: rows are matched by code and updated in place.
"""

import csv
import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from koto.audit.services import audit_record
from koto.core import clock
from koto.organisations.models import EmploymentArea, Organisation, OrganisationKind

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
SOURCE_MUNICIPALITIES = (
    "Statistics Finland kunta1000k_2025 (CC BY 4.0); see reference/SOURCES.md §1"
)
SOURCE_WELFARE = "Statistics Finland hyvinvointialue_1_20211013; see reference/SOURCES.md §2"
SOURCE_ELY = "Government decree 1373/2018 §1; see reference/SOURCES.md §4"
SOURCE_VITALITY = "TEM 27.11.2025 and Väylävirasto Velho data; see reference/SOURCES.md §5"
SOURCE_NATIONAL = "Integration Act 681/2023; see docs/glossary.md"

NATIONAL = [
    ("keha", OrganisationKind.KEHA, "KEHA-keskus", "UF-centret", "KEHA Centre"),
    (
        "kela",
        OrganisationKind.KELA,
        "Kansaneläkelaitos (Kela)",
        "Folkpensionsanstalten (FPA)",
        "Social Insurance Institution of Finland (Kela)",
    ),
    (
        "migri",
        OrganisationKind.MIGRI,
        "Maahanmuuttovirasto (Migri)",
        "Migrationsverket (Migri)",
        "Finnish Immigration Service (Migri)",
    ),
]


def welfare_region_code(code: str) -> str:
    return f"hva-{code}"


def ely_code(code: str) -> str:
    return f"ely-{code}"


def vitality_centre_code(code: str) -> str:
    return f"evk-{code}"


def employment_area_code(name: str) -> str:
    return f"ta-{slugify(name)}"


@functools.cache
def single_municipality_region_names() -> frozenset[str]:
    """The names, in every language, of the welfare regions of one municipality (the City
    of Helsinki organises its health and social services itself: it is a region of its own,
    with no member municipalities)."""
    return frozenset(
        row[key]
        for row in _rows("welfare_regions.csv")
        if row["municipality_count"] == "1"
        for key in ("name_fi", "name_sv", "name_en")
        if row[key]
    )


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _differing(instance, fields: dict) -> list[str]:
    """The names of `fields` whose value differs from the stored row's (a related row
    compared by id)."""
    names = []
    for name, value in fields.items():
        model_field = type(instance)._meta.get_field(name)
        given = value.pk if model_field.is_relation and value is not None else value
        if getattr(instance, model_field.attname) != given:
            names.append(name)
    return names


@dataclass
class LoadResult:
    municipalities: int = 0
    welfare_regions: int = 0
    regional_state_authorities: int = 0
    employment_areas: int = 0
    national: int = 0
    # what the load changed: organisations created (codes), and changed (code: fields)
    created: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in (
            "municipalities", "welfare_regions", "regional_state_authorities",
            "employment_areas", "national")}  # fmt: skip

    def note_changed(self, code: str, names) -> None:
        # an organisation created in this load is named once, as created
        if names and code not in self.created:
            self.changed.setdefault(code, []).extend(names)

    def upsert(self, code: str, **fields) -> Organisation:
        """The organisation of `code` with `fields`: created, or updated where they differ
        (not saved when nothing does)."""
        org = Organisation.objects.filter(code=code).first()
        if org is None:
            self.created.append(code)
            return Organisation.objects.create(code=code, **fields)
        differ = _differing(org, fields)
        if differ:
            for name in differ:
                setattr(org, name, fields[name])
            org.updated_at = clock.now()
            org.save(update_fields=[*differ, "updated_at"])
            self.note_changed(code, differ)
        return org


def _set_related(result: LoadResult, code: str, name: str, manager, rows) -> None:
    """A many-to-many relation set to `rows`, noted as changed when it was not already."""
    if {r.pk for r in manager.all()} != {r.pk for r in rows}:
        manager.set(rows)
        result.note_changed(code, [name])


@transaction.atomic
def load_reference_data() -> LoadResult:
    """Load or refresh the organisations, recording one audit event of what changed: the
    organisations define who may act and see what (kinds, regions, validity), and the load
    changed them unrecorded."""
    result = LoadResult()
    _load(result)
    audit_record(
        actor=None,
        action="update",
        object_type="reference_data",
        object_id="organisations",
        changes={"counts": result.counts(), "created": result.created, "changed": result.changed},
    )
    return result


def _load(result: LoadResult) -> None:
    for code, kind, fi, sv, en in NATIONAL:
        result.upsert(code, kind=kind, name_fi=fi, name_sv=sv, name_en=en, source=SOURCE_NATIONAL)
        result.national += 1

    welfare = {}
    for row in _rows("welfare_regions.csv"):
        welfare[row["code"]] = result.upsert(
            welfare_region_code(row["code"]),
            kind=OrganisationKind.WELFARE_REGION,
            name_fi=row["name_fi"],
            name_sv=row["name_sv"],
            name_en=row["name_en"],
            source=SOURCE_WELFARE,
        )
        result.welfare_regions += 1

    vitality_by_region: dict[str, Organisation] = {}
    vitality_by_code: dict[str, Organisation] = {}
    for row in _rows("vitality_centres_2026.csv"):
        org = result.upsert(
            vitality_centre_code(row["code"]),
            kind=OrganisationKind.REGIONAL_STATE_AUTHORITY,
            name_fi=row["name_fi"],
            name_sv=row["name_sv"],
            name_en=row["name_fi"],
            valid_from=dt.date.fromisoformat(row["valid_from"]),
            valid_to=None,
            source=SOURCE_VITALITY,
        )
        vitality_by_code[row["code"]] = org
        for region in row["region_codes"].split(";"):
            vitality_by_region[region] = org
        result.regional_state_authorities += 1

    for row in _rows("ely_centres.csv"):
        org = result.upsert(
            ely_code(row["code"]),
            kind=OrganisationKind.REGIONAL_STATE_AUTHORITY,
            name_fi=row["name_fi"],
            name_sv=row["name_sv"],
            name_en=row["name_fi"],
            valid_to=dt.date.fromisoformat(row["valid_until"]),
            source=SOURCE_ELY,
        )
        successors = [
            vitality_by_code[c] for c in row["successor_2026_codes"].split(";") if c in vitality_by_code
        ]  # fmt: skip
        _set_related(result, org.code, "successors", org.successors, successors)
        result.regional_state_authorities += 1

    municipalities = {}
    for row in _rows("municipalities.csv"):
        municipalities[row["code"]] = result.upsert(
            row["code"],
            kind=OrganisationKind.MUNICIPALITY,
            name_fi=row["name_fi"],
            name_sv=row["name_sv"],
            name_en=row["name_en"],
            municipality_code=row["code"],
            welfare_region=welfare.get(row["welfare_region_code"]),
            region_code=row["region_code"],
            regional_state_authority=vitality_by_region.get(row["region_code"]),
            source=SOURCE_MUNICIPALITIES,
        )
        result.municipalities += 1

    for row in _rows("employment_areas.csv"):
        authority = result.upsert(
            employment_area_code(row["area_name"]),
            kind=OrganisationKind.EMPLOYMENT_AUTHORITY,
            name_fi=row["area_name"],
            name_sv="",
            name_en=row["area_name"],
            source=f"TEM / municipal sources {row['source_ref']}; see reference/SOURCES.md §6",
        )
        area_fields = {
            "responsible_municipality": municipalities.get(row["responsible_municipality_code"]),
            "status": row["status"],
            "source": row["source_ref"],
        }
        area = EmploymentArea.objects.filter(authority=authority).first()
        if area is None:
            area = EmploymentArea.objects.create(authority=authority, **area_fields)
            result.note_changed(authority.code, ["employment_area"])
        else:
            differ = _differing(area, area_fields)
            if differ:
                for name in differ:
                    setattr(area, name, area_fields[name])
                area.updated_at = clock.now()
                area.save(update_fields=[*differ, "updated_at"])
                result.note_changed(authority.code, [f"employment_area.{n}" for n in differ])
        members = [
            municipalities[c]
            for c in row["member_municipality_codes"].split(";")
            if c in municipalities
        ]
        _set_related(result, authority.code, "employment_area.members", area.members, members)
        result.employment_areas += 1
