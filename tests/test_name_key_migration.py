"""`clients.0016` computes again the name keys of names holding a hyphen or an apostrophe
(hyphens now spaces, apostrophes dropped), and the clients' sort keys with them."""

import pytest

from koto.clients import selectors
from koto.clients.models import Client, ClientName
from tests.factories import make_client
from tests.migrations import latest, migrate


@pytest.mark.django_db(transaction=True)
def test_upgrade__hyphenated_and_apostrophe_names__found_by_their_words(counsellor):
    hyphen = make_client(counsellor, first_name="Mohammed", last_name="Al-Hassan")
    apostrophe = make_client(counsellor, first_name="Aminata", last_name="N'Diaye")
    plain = make_client(counsellor, first_name="Ali", last_name="Rahimi")
    # as the earlier keys were: the punctuation kept
    for c in (hyphen, apostrophe):
        ClientName.objects.filter(client=c).update(
            key_last_first=f"{c.last_name} {c.first_name}".lower(),
            key_first_last=f"{c.first_name} {c.last_name}".lower(),
        )
        Client.objects.filter(id=c.id).update(sort_key=f"{c.last_name} {c.first_name}".lower())
    untouched = list(ClientName.objects.filter(client=plain).values_list("key_last_first"))
    migrate(("clients", "0015_timeline_events"))
    try:
        migrate(("clients", "0016_name_keys_punctuation"))
    finally:
        migrate(*latest())

    assert ClientName.objects.get(client=hyphen, kind="official").key_last_first == (
        "al hassan mohammed"
    )
    assert Client.objects.get(id=apostrophe.id).sort_key == "ndiaye aminata"
    assert list(ClientName.objects.filter(client=plain).values_list("key_last_first")) == (
        untouched
    )
    for query, found in (("al hassan", hyphen), ("al-has", hyphen), ("ndiaye", apostrophe),
                         ("n'diaye", apostrophe), ("mohammed al", hyphen)):  # fmt: skip
        page = selectors.client_search_for(user=counsellor, query=query)
        assert [c.id for c in page.items] == [found.id], query
