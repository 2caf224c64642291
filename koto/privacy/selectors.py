"""The data-subject export (GDPR article 15, and article 20's machine-readable copy): what
one organisation holds about one client, built from the personal data catalogue
(`koto.privacy.catalogue`), in the language the client reads, audited as an export.

An organisation answers for the records it holds as their controller: the export has the
client's record (the exporting user has full access to it: their organisation is
responsible for the client, keeps the records for the responsible one under a service
agreement, or holds a full grant; or it is the organisation the client was transferred
from, which holds a read grant of the transfer) and the rows that are the controller's
(`_held_by`): each row the export of the organisation responsible for the client when it
was made, if it or a producer keeping its records holds the row, otherwise of the
organisation holding it. Rows other organisations hold are neither shown nor counted:
that they exist can be news the exporting user may not learn (a referral between two other
authorities); the page tells the client that other authorities answer for their own."""

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, models
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext

from koto.accounts.models import User
from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.models import AccessGrant, Client, FamilyLink, HandedOverRecord
from koto.clients.permissions import can_export_client, can_read_welfare_details
from koto.clients.selectors import (
    client_get_for,
    client_list_for,
    reach_of,
    responsibility_history,
)
from koto.core import clock
from koto.core.errors import NotFound
from koto.organisations.models import Organisation
from koto.organisations.selectors import producers_serving
from koto.privacy.catalogue import FIELD_LABELS, PARTS, WELFARE_FIELDS, Part

LANGUAGE_FIELDS = frozenset(
    {"language", "mother_tongue", "interpreter_language", "interview_language"}
)
COUNTRY_FIELDS = frozenset({"citizenship", "education_country"})
#: The export's languages (the client's documents: Koto's three languages).
LANGUAGES = ("fi", "sv", "en")
#: A client's mother tongue read in one of them, ISO 639-1 or -3.
_MOTHER_TONGUES = {"fi": "fi", "fin": "fi", "sv": "sv", "swe": "sv", "en": "en", "eng": "en"}


@dataclass
class Section:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (field, label)
    rows: list[dict]  # field -> plain value (JSON)
    shown: list[list[tuple[str, str]]]  # per row: (label, value as read)
    withheld: list[str] = field(default_factory=list)  # labels of fields not shown
    # why: "welfare" (health and social details) or "finance" (the whole kind of record)
    withheld_because: str = ""


@dataclass
class SubjectExport:
    client_id: int
    name: str
    identifier: str
    organisation: str
    made_at: dt.datetime
    language: str
    sections: list[Section]
    # the user's organisation's other export of the client (`exports_of`): "own" (what it
    # answers for itself), "kept" (what it keeps for the responsible one), or none
    other: str = ""
    other_organisation: str = ""

    @property
    def empty(self) -> list[str]:
        """The titles of the kinds of record with no rows."""
        return [s.title for s in self.sections if not s.rows and not s.withheld]

    def as_json(self) -> dict:
        return {
            "client_id": self.client_id,
            "organisation": self.organisation,
            "made_at": self.made_at.isoformat(),
            "language": self.language,
            "parts": {
                s.key: {
                    "title": s.title,
                    "fields": {f: label for f, label in s.columns},
                    "rows": s.rows,
                    "withheld": s.withheld,
                    "withheld_because": s.withheld_because,
                }
                for s in self.sections
            },
        }


def default_language(mother_tongue: str, fallback: str | None = None) -> str:
    """The export's language for a client: theirs when it is one of Koto's, otherwise
    `fallback`, or the language the user reads Koto in."""
    lang = _MOTHER_TONGUES.get((mother_tongue or "").lower())
    return lang or fallback or (get_language() or "fi")[:2]


def subject_export_for(
    *,
    user,
    client_id: int,
    fmt: str,
    own: bool = False,
    lang: str | None = None,
    fallback: str | None = None,
) -> SubjectExport:
    """The export of `client_id` as the user's organisation holds it, in `lang` (by default
    the client's own language, `default_language` with `fallback`): for the organisation
    responsible for the client when the user's keeps the record for it, otherwise (or with
    `own`) for the user's own organisation. 404 for a client the user may not see or may not
    export, and with `own` for an organisation that has nothing of its own to answer for
    (`exports_of`)."""
    client = client_get_for(user=user, client_id=client_id, purpose="export", audit=False)
    if not can_export_client(user, client):
        raise NotFound("client")
    lang = lang or default_language(client.mother_tongue, fallback)
    with translation.override(lang):
        return _export(user, client, fmt=fmt, own=own, lang=lang)


def _export(user, client: Client, *, fmt: str, own: bool, lang: str) -> SubjectExport:
    reach = reach_of(user)
    history = responsibility_history(client)
    choices = exports_of(reach, client, history)
    controller = choices[-1] if own else choices[0]
    if own and controller != reach.organisation_id:
        raise NotFound("client")
    welfare = can_read_welfare_details(user)
    present = _present(client.id)
    sections: list[Section] = []
    relatives: set[int] = set()
    # the organisations keeping each responsible one's records under an agreement, in force
    # or ended: what they recorded while the client was its is still its
    producers = {
        org: producers_serving(organisation_id=org) for org in {o for _a, _u, o in history}
    }
    handed: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    # records pass at a change of the responsible organisation: none for a client never moved
    passed = (
        HandedOverRecord.objects.filter(change__client_id=client.id).values_list(
            "record_type", "record_id", "change__to_organisation_id"
        )
        if len(history) > 1
        else ()
    )
    for kind, record_id, to in passed:
        handed[kind][record_id].add(to)
    shown: dict[str, list[int]] = {}  # part key → the ids of its rows in the export
    for part in PARTS:
        if part.perms and not any(user.has_perm_in_org(p) for p in part.perms):
            sections.append(_withheld(part))
            shown[part.key] = []  # nor the rows of its rows
            continue
        if part.parent:
            # a part of another's rows (a plan's goals) holds what its rows' parents do: read
            # by their ids, and not at all when there are none
            parent, lookup = part.parent
            ids = shown[parent]
            held = part.model.objects.filter(**{f"{lookup}__in": ids}) if ids else None
        elif part.model is Client:
            held = Client.objects.filter(pk=client.pk)
        elif part.key not in present:
            held = None  # none of this kind: no query built
        else:
            held = part.model.objects.filter(**{part.client: client.id})
            if part.holders:
                held = held.filter(_held_by(part, controller, history, producers, handed))
        section, objects = _section(part, held, welfare=welfare, lang=lang)
        shown[part.key] = [o.pk for o in objects]
        if part.model is FamilyLink:
            relatives = _hide_unseen_relatives(user, section, objects)
        sections.append(section)
    names = {o.pk: o.name for o in Organisation.objects.filter(pk__in=choices)}
    other = next((o for o in choices if o != controller), None)
    rows = {s.key: len(s.rows) for s in sections if s.rows}
    audit_record(
        actor=user,
        action="export",
        object_type="client",
        object_id=client.id,
        client_id=client.id,
        reason="data_subject_export",
        changes={"format": fmt, "language": lang, "rows": rows, "controller": controller},
        # the relatives named in it, as the client page's family list names them
        listed=sorted(relatives) if relatives else None,
    )
    return SubjectExport(
        client_id=client.id,
        name=f"{client.first_name} {client.last_name}",
        identifier=client.identifier,
        organisation=names[controller],
        made_at=timezone.localtime(clock.now()),
        language=lang,
        sections=sections,
        other="" if other is None else ("own" if other == reach.organisation_id else "kept"),
        other_organisation="" if other is None else names[other],
    )


@functools.cache
def _presence_sql() -> tuple[tuple[str, ...], str]:
    """One statement telling which of the catalogue's kinds read by the client's id have any
    row of a client (`EXISTS` on each kind's client index), and the part keys in its order:
    built once per process from the catalogue."""
    keys, probes = [], []
    quote = connection.ops.quote_name
    for part in PARTS:
        if part.parent or part.model is Client:
            continue
        column = part.model._meta.get_field(part.client).column
        keys.append(part.key)
        probes.append(
            f"EXISTS (SELECT 1 FROM {quote(part.model._meta.db_table)} WHERE {quote(column)} = %s)"
        )
    return tuple(keys), "SELECT " + ", ".join(probes)


def _present(client_id: int) -> set[str]:
    """The keys of the kinds (not read through another kind's rows) that have rows of the
    client: the others are not read at all. Most clients have none of several kinds (names,
    family, referrals, placements, claims), and building each kind's query cost more than
    the one probe: at 200 000 clients a Lahti client's export made 21 queries instead of 34
    (median), in 36–38 ms instead of 58–60 (`docs/performance.md`)."""
    keys, sql = _presence_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [client_id] * len(keys))
        found = cursor.fetchone()
    return {key for key, there in zip(keys, found, strict=True) if there}


def exports_of(reach, client: Client, history: list) -> list[int]:
    """The organisations a user of `reach` makes the export of `client` for, the default
    first: the responsible one when the user's keeps its records (responsible, or its
    producer), then the user's own when it answers for records of its own beside them (it
    was responsible before, or held a grant: Lahti, now serving Hollola, for what it kept
    while the client was Lahti's); otherwise the user's own alone (a full grant, or the organisation the
    client was transferred from)."""
    own = reach.organisation_id
    if client.responsible_organisation_id not in reach.full_org_ids:
        return [own]
    responsible = client.responsible_organisation_id
    if own != responsible and (
        any(org == own for _a, _u, org in history)
        or AccessGrant.objects.filter(client_id=client.id, organisation_id=own).exists()
    ):
        return [responsible, own]
    return [responsible]


def _held_by(
    part: Part, controller: int, history: list, producers: dict, handed: dict[str, dict]
) -> Q:
    """The rows of `part` that are the controller's. A row is the export of the organisation
    responsible for the client when it was made (`history`, from `responsibility_history`)
    if that organisation, a producer keeping its records (`producers`: a row Lahti kept for
    Hollola is Hollola's) or no organisation (the system's timeline events) made it; a row
    another organisation made (an employment authority's, a grant holder's) is that
    organisation's own. A record passed to the organisation taking the client over at a
    transfer (`handed`: record id → the organisations it passed to) is its holder's, whenever
    it was made. The row's other holders (a referral's recipient, the organisation a change
    made responsible, a placement's authority) hold it as themselves."""
    maker = part.holders[0]
    ours = Q(**{f"{maker}__isnull": True}) | Q(
        **{f"{maker}__in": {controller} | producers.get(controller, set())}
    )
    kept = Q(**{maker: controller})
    mine = Q(pk__in=[])
    for after, until, org in history:
        if org == controller:
            rows = ours
        elif controller not in producers[org]:
            rows = kept  # its own rows, kept for no one else
        else:
            continue  # what it kept then was the responsible organisation's
        during = Q(**{f"{part.made}__gt": _bound(part, after)}) if after else Q()
        if until is not None:
            during &= Q(**{f"{part.made}__lte": _bound(part, until)})
        mine |= during & rows
    if part.handed_over and handed.get(part.handed_over[0]):
        kind, lookup = part.handed_over
        passed = handed[kind]
        to_us = [i for i, organisations in passed.items() if controller in organisations]
        # held by the organisation it passed to, or by a producer keeping that one's records
        # (the deadline sweep gives a plan-drafting task to the producer that assessed)
        mine = (mine & ~Q(**{f"{lookup}__in": list(passed)})) | (
            Q(**{f"{lookup}__in": to_us})
            & Q(**{f"{maker}__in": {controller} | producers.get(controller, set())})
        )
    for h in part.holders[1:]:
        mine |= Q(**{h: controller})
    return mine


def _bound(part: Part, at: dt.datetime) -> dt.datetime | dt.date:
    """A change's time as `part.made` compares: a day when it is a date (a meeting held on
    the day of the change is the sender's)."""
    fields, last = _steps(part.model, part.made)
    target = fields[-1].related_model if fields else part.model
    if isinstance(_field(target, last), models.DateTimeField):
        return at
    return at.astimezone(clock.HELSINKI).date()


def _hide_unseen_relatives(user, section: Section, links: list) -> set[int]:
    """A relative another organisation recorded, whom the user may not see, stays a family
    member without a name (as on the client page). The ids of the relatives named."""
    ids = {link.relative_id for link in links}
    visible = set(client_list_for(user=user).filter(id__in=ids).values_list("id", flat=True))
    names = [i for i, (f, _label) in enumerate(section.columns) if f.startswith("relative__")]
    for row, link in enumerate(links):
        if link.relative_id not in visible:
            for i in names:
                section.rows[row][section.columns[i][0]] = None
                section.shown[row][i] = (section.shown[row][i][0], "–")
    return visible


def _withheld(part: Part) -> Section:
    """A kind of record the user's role does not read: named, its fields listed, no rows."""
    return Section(
        key=part.key, title=str(part.title), columns=[], rows=[], shown=[],
        withheld=[_label(part.model, f) for f in part.fields], withheld_because="finance",
    )  # fmt: skip


def _section(part: Part, qs, *, welfare: bool, lang: str) -> tuple[Section, list]:
    """The section of `part` with the rows of `qs` (None: a kind with no rows to read)."""
    hidden = set() if welfare else WELFARE_FIELDS.get(part.model, frozenset())
    names = [f for f in part.fields if f not in hidden]
    related = {_relation_path(part.model, f) for f in names} - {None}
    many = [f for f in names if _is_many(part.model, f)]
    columns = [(f, _label(part.model, f)) for f in names]
    rows, shown = [], []
    objects = []
    if qs is not None:
        qs = qs.order_by(*part.order)
        if related:
            qs = qs.select_related(*sorted(related))
        if many:
            qs = qs.prefetch_related(*many)
        objects = list(qs)
    for obj in objects:
        plain, read = {}, []
        for f, label in columns:
            value = _value(obj, f)
            plain[f] = _plain(value, f, lang)
            read.append((label, _read(part.model, f, value)))
        rows.append(plain)
        shown.append(read)
    section = Section(
        key=part.key,
        title=str(part.title),
        columns=columns,
        rows=rows,
        shown=shown,
        # named only where there are rows: "withheld" of a kind with none would suggest
        # health or social details that do not exist
        withheld=[_label(part.model, f) for f in part.fields if f in hidden] if rows else [],
        withheld_because="welfare" if hidden and rows else "",
    )
    return section, objects


@functools.cache
def _field(model, name: str):
    """The model field `name` names on `model` (`x_id` names the relation `x`), or None."""
    base = name[:-3] if name.endswith("_id") else name
    for candidate in (name, base):
        try:
            return model._meta.get_field(candidate)
        except Exception:  # noqa: BLE001 - FieldDoesNotExist; a property is not a field
            continue
    return None


@functools.cache
def _steps(model, name: str) -> tuple[tuple, str]:
    """The relations a `a__b__c` name walks, and its last part (the model's metadata:
    computed once per process, as `_field`, `_relation_path`, `_is_many` and the labels in
    each language; every export asks them for each field of each row)."""
    *path, last = name.split("__")
    fields = []
    for step in path:
        f = model._meta.get_field(step)
        fields.append(f)
        model = f.related_model
    return tuple(fields), last


@functools.cache
def _relation_path(model, name: str) -> str | None:
    fields, last = _steps(model, name)
    target = fields[-1].related_model if fields else model
    f = _field(target, last)
    path = [x.name for x in fields]
    if f is not None and f.is_relation and not f.many_to_many:
        path.append(f.name)
    return "__".join(path) or None


@functools.cache
def _is_many(model, name: str) -> bool:
    f = _field(model, name)
    return "__" not in name and f is not None and f.many_to_many


def _field_label(f) -> str:
    """A field's label; one left at Django's default (its name) from `FIELD_LABELS`."""
    if str(f.verbose_name) == f.name.replace("_", " "):
        label = FIELD_LABELS.get(f"{f.model.__name__}.{f.name}", FIELD_LABELS.get(f.name))
        if label is not None:
            return str(label)
    return str(f.verbose_name)


def _label(model, name: str) -> str:
    return _label_in(model, name, get_language())


@functools.cache
def _label_in(model, name: str, _lang: str) -> str:
    fields, last = _steps(model, name)
    target = fields[-1].related_model if fields else model
    f = _field(target, last)
    if not fields:
        return capfirst(_field_label(f) if f is not None else last)
    via = _field_label(fields[0])
    return capfirst(via if f is None else f"{via}: {_field_label(f)}")


def _value(obj, name: str):
    fields, last = _steps(type(obj), name)
    for f in fields:
        obj = getattr(obj, f.name)
        if obj is None:
            return None
    f = _field(type(obj), last)
    if f is not None and f.many_to_many:
        return list(getattr(obj, f.name).all())
    if f is not None and f.is_relation:
        return getattr(obj, f.name)
    return getattr(obj, last)


def _plain(value, name: str, lang: str):
    """The value in the machine-readable copy: codes as stored, related rows by name."""
    if value is None or isinstance(value, bool | int | str | dict):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):  # a contact's reasons: their codes
        return [getattr(v, "code", None) or _display_object(v, lang) for v in value]
    if isinstance(value, models.Model):
        return _display_object(value, lang)
    return str(value)


def _display_object(obj, lang: str) -> str:
    """A related row by its name: an organisation's or a service's in the language, a
    user's full name, a reason's label."""
    if isinstance(obj, User):
        return obj.get_full_name() or obj.username
    if hasattr(obj, "label") and callable(obj.label):
        return obj.label(lang)
    return str(getattr(obj, "name", obj))


#: The keys of a referral's shared copy (`referrals.models.shared_copy`) that are not the
#: client's own field names.
_SHARED_KEYS = {"identity_code": "hetu"}


def _shared_parts(copy: dict):
    for key, value in copy.items():
        if isinstance(value, dict):  # the contact details
            yield from _shared_parts(value)
            continue
        if value in (None, "", []):
            continue
        name = _SHARED_KEYS.get(key, key)
        if _field(Client, name) is None:
            yield f"{key}: {value}"
            continue
        if name == "birth_date" and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                pass
        yield f"{_label(Client, name)}: {_read(Client, name, value)}"


@functools.cache
def _choice_names(f, _lang: str) -> dict:
    """A field's choices by their names in the language."""
    return {k: str(v) for k, v in f.flatchoices}


def _read(model, name: str, value) -> str:
    """The value as the client reads it: choices, languages and countries named, dates as
    dates, yes and no."""
    lang = (get_language() or "fi")[:2]
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    fields, last = _steps(model, name)
    target = fields[-1].related_model if fields else model
    f = _field(target, last)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if f is not None and f.choices and not f.is_relation:
        return _choice_names(f, get_language()).get(value, str(value))
    if last in LANGUAGE_FIELDS:
        return codes.language_name(value) or value
    if last in COUNTRY_FIELDS:
        return codes.country_name(value) or value
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "j.n.Y H:i")
    if isinstance(value, dt.date):
        return formats.date_format(value, "j.n.Y")
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=True)
    if isinstance(value, dict):  # the copy of the client's details a referral shared
        return "; ".join(_shared_parts(value))
    if isinstance(value, list):
        return ", ".join(_display_object(v, lang) for v in value)
    if isinstance(value, models.Model):
        return _display_object(value, lang)
    return str(value)
