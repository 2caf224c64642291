"""Who sees a client: responsible organisation, agreement, access grant, break-glass;
everyone else gets 404 on every client URL and API path."""

import datetime as dt

import pytest
from django.urls import get_resolver, reverse

from koto.api.urls import api
from koto.audit.models import AuditEvent
from koto.clients import selectors, services
from koto.clients.models import AccessGrant
from koto.core.errors import NotFound
from koto.core.roles import Role
from koto.organisations.models import AgreementScope, ServiceAgreement
from tests.factories import OrganisationFactory, make_client, member


def client_urls() -> dict[str, int]:
    """Every client page: URL name -> number of path parameters (client_id first)."""
    found = {}
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) == "clients":
            for p in pattern.url_patterns:
                if "client_id" in str(p.pattern):
                    found[f"clients:{p.name}"] = len(p.pattern.converters)
    return found


def client_url_names() -> list[str]:
    return sorted(client_urls())


def url_for(name: str, client_id: int) -> str:
    return reverse(name, args=[client_id] + [1] * (client_urls()[name] - 1))


def api_client_paths() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        if "{client_id}" in path:
            for method in ops:
                out.append((method, path))
    return out


def test_client_urls_are_enumerated():
    assert {"clients:detail", "clients:edit", "clients:audit"} <= set(client_url_names())
    assert ("get", "/api/v1/clients/{client_id}") in api_client_paths()


@pytest.mark.parametrize("name", client_url_names())
def test_client_page__other_organisation__404(web, counsellor, outsider, name):
    # given a client of Lahti
    client = make_client(counsellor)
    # when a Tampere counsellor opens any client page
    response = web(outsider).get(url_for(name, client.id))
    # then
    if name == "clients:break_glass":
        assert response.status_code == 200  # the emergency form itself reveals nothing
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("method", "path"), api_client_paths())
def test_client_api__other_organisation__404(web, counsellor, outsider, method, path):
    client = make_client(counsellor)
    http = web(outsider)
    url = path.replace("{client_id}", str(client.id))
    response = (
        getattr(http, method)(url, data="{}", content_type="application/json")
        if method != "get"
        else http.get(url)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("name", client_url_names())
def test_client_page__anonymous__redirects_to_login(client, counsellor, name):
    c = make_client(counsellor)
    response = client.get(url_for(name, c.id))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("method", "path"), api_client_paths())
def test_client_api__anonymous__401(client, counsellor, method, path):
    c = make_client(counsellor)
    url = path.replace("{client_id}", str(c.id))
    response = getattr(client, method)(url, content_type="application/json")
    assert response.status_code == 401


def test_search__other_organisation__finds_nothing(counsellor, outsider):
    c = make_client(counsellor, last_name="Haddad")
    page = selectors.client_search_for(user=outsider, query="Haddad")
    assert page.items == []
    page = selectors.client_search_for(user=outsider, query=c.hetu)
    assert page.items == []


def test_visibility__service_agreement__producer_sees_purchaser_clients(org, counsellor):
    # given Hollola's client and an agreement: Lahti produces integration services for Hollola
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    hollola_worker = member(hollola, Role.INTEGRATION_COUNSELLOR)
    c = make_client(hollola_worker)
    ServiceAgreement.objects.create(
        producer=org,
        purchaser=hollola,
        scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )
    # then Lahti's counsellor sees and may edit; Hollola does not see Lahti's clients
    seen = selectors.client_get_for(user=counsellor, client_id=c.id)
    assert seen.access == "full"
    lahti_client = make_client(counsellor)
    with pytest.raises(NotFound):
        selectors.client_get_for(user=hollola_worker, client_id=lahti_client.id)


def test_visibility__expired_agreement__404(org, counsellor):
    hollola = OrganisationFactory(code="098")
    c = make_client(member(hollola))
    ServiceAgreement.objects.create(
        producer=org,
        purchaser=hollola,
        scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2020, 12, 31),
    )
    with pytest.raises(NotFound):
        selectors.client_get_for(user=counsellor, client_id=c.id)


def test_visibility__read_grant__read_only(counsellor, outsider, other_org):
    c = make_client(counsellor)
    AccessGrant.objects.create(
        client=c,
        organisation=other_org,
        scope="read",
        source="referral",
        valid_from=dt.date(2020, 1, 1),
    )
    seen = selectors.client_get_for(user=outsider, client_id=c.id)
    assert seen.access == "read"
    with pytest.raises(services.PermissionDenied):
        services.client_update(actor=outsider, client=seen, data={"phone": "123"})


def test_break_glass__needs_reason_and_is_audited(counsellor, outsider):
    c = make_client(counsellor)
    with pytest.raises(services.ValidationFailed) as e:
        services.break_glass_open(actor=outsider, client_id=c.id, reason="short")
    assert "reason" in e.value.fields
    services.break_glass_open(
        actor=outsider, client_id=c.id, reason="Client at our office in acute crisis"
    )
    seen = selectors.client_get_for(user=outsider, client_id=c.id)
    assert seen.access == "read"
    assert (
        AuditEvent.objects.filter(action="break_glass", client_id=c.id, actor=outsider).count() == 1
    )


def test_break_glass__view_flow(web, counsellor, outsider):
    c = make_client(counsellor)
    http = web(outsider)
    assert http.get(reverse("clients:detail", args=[c.id])).status_code == 404
    response = http.post(
        reverse("clients:break_glass", args=[c.id]),
        {"reason": "Acute situation at the service point"},
    )
    assert response.status_code == 302
    assert http.get(reverse("clients:detail", args=[c.id])).status_code == 200


def test_role_without_client_view__404(org, counsellor):
    admin = member(org, Role.ORG_ADMIN)
    c = make_client(counsellor)
    with pytest.raises(NotFound):
        selectors.client_get_for(user=admin, client_id=c.id)
