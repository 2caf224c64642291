"""Imported contacts of known clients: keys without the identity code.

Up to now a row without `external_id` was keyed by a plain SHA-256 of its content, which
held the client's identity code as written in the file. The rest of the content is on the
contact itself and a hetu is one of a few million codes of plausible birth dates, so the
key named the person to anyone with a copy of the table, also after the client was
anonymised. The importer now puts Koto's id of the client in the hash
(`koto.guidance.importing`). This migration re-keys the contacts it can verify: it rebuilds
the old content from the contact, its reasons and its client's identity code or temporary
id, and when that gives the stored key (the file was imported without `--source`), stores
the new key with the same occurrence number. A key it cannot verify (imported with
`--source`, or the client's identifier changed since) stays; the importer still counts it
as "already present" when the same file comes again. The hash is copied here, not imported,
so this migration stays as it ran."""

import hashlib
from collections import defaultdict

from django.db import migrations

CLIENT_SLOT = 5
CHUNK = 2000


def _digest(values: list[str]) -> str:
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:40]


def rekey(apps, schema_editor):
    Contact = apps.get_model("guidance", "Contact")
    ContactReason = apps.get_model("guidance", "ContactReason")
    Client = apps.get_model("clients", "Client")
    rows = (
        Contact.objects.filter(import_key__startswith="h:", client__isnull=False)
        .order_by("id")
        .values_list(
            "id",
            "organisation_id",
            "import_key",
            "client_id",
            "contacted_on",
            "channel",
            "language",
            "partner_type",
            "minutes",
            "interpreter_used",
            "outcome",
            "referred_to",
        )  # fmt: skip
    )
    taken: set[tuple[int, str]] = set()
    last = 0
    while True:
        chunk = list(rows.filter(id__gt=last)[:CHUNK])
        if not chunk:
            break
        last = chunk[-1][0]
        ids = [r[0] for r in chunk]
        reasons = defaultdict(list)
        for contact_id, code in ContactReason.objects.filter(contact_id__in=ids).values_list(
            "contact_id", "reason__code"
        ):
            reasons[contact_id].append(code)
        identifiers = {
            cid: [i for i in (hetu, temp) if i]
            for cid, hetu, temp in Client.objects.filter(id__in={r[3] for r in chunk}).values_list(
                "id", "hetu", "temporary_id"
            )
        }
        changed = []
        for (
            pk, org_id, key, client_id, on, channel, language, partner_type, minutes,
            interpreter, outcome, referred_to,
        ) in chunk:  # fmt: skip
            try:
                _, stored, n = key.split(":")
            except ValueError:
                continue
            content = [
                on.isoformat(), channel, language, ";".join(sorted(reasons[pk])), "False", "",
                partner_type, str(minutes or ""), str(bool(interpreter)), outcome, referred_to,
            ]  # fmt: skip
            for identifier in identifiers.get(client_id, []):
                content[CLIENT_SLOT] = identifier
                if _digest(content) == stored:
                    content[CLIENT_SLOT] = f"client:{client_id}"
                    new = f"h:{_digest(content)}:{n}"
                    if (org_id, new) not in taken:
                        taken.add((org_id, new))
                        changed.append(Contact(id=pk, import_key=new))
                    break
        Contact.objects.bulk_update(changed, ["import_key"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("guidance", "0003_contact_logged_at_brin"),
        ("clients", "0016_name_keys_punctuation"),
    ]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
