import pytest
from django.core.management import CommandError, call_command

from koto.audit.models import AuditEvent
from koto.audit.services import audit_record
from koto.audit.verification import verify_chain
from koto.clients import selectors
from koto.core.roles import Role
from tests.factories import make_client, member


def test_audit_chain__intact__verifies(counsellor):
    make_client(counsellor)
    audit_record(actor=counsellor, action="read", object_type="client", object_id=1)
    report = verify_chain()
    assert report.ok is True
    assert report.checked == AuditEvent.objects.count()


def test_audit_verify__edited_record__names_first_broken_link(counsellor, capsys):
    for _ in range(3):
        make_client(counsellor)
    victim = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(id=victim.id).update(reason="tampered")
    with pytest.raises(CommandError) as e:
        call_command("audit_verify")
    assert f"BROKEN at audit event {victim.id}" in str(e.value)
    assert "edited" in str(e.value)


def test_audit_verify__deleted_record__detected(counsellor):
    for _ in range(3):
        make_client(counsellor)
    victim = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(id=victim.id).delete()
    report = verify_chain()
    assert report.broken_at == victim.id
    assert "missing" in report.problem


def test_audit_verify__ok_output(counsellor, capsys):
    make_client(counsellor)
    call_command("audit_verify")
    assert "chain intact" in capsys.readouterr().out


def test_client_read__audited_with_actor_and_organisation(counsellor):
    c = make_client(counsellor)
    selectors.client_get_for(user=counsellor, client_id=c.id, purpose="view")
    event = AuditEvent.objects.filter(action="read", client_id=c.id).get()
    assert event.actor == counsellor
    assert event.organisation_id == counsellor.active_membership.organisation_id
    assert event.reason == "view"


def test_client_detail_page__audited_as_web_read(web, counsellor):
    c = make_client(counsellor)
    web(counsellor).get(f"/clients/{c.id}/")
    event = AuditEvent.objects.filter(action="read", client_id=c.id).get()
    assert event.channel == "web"


def test_api_read__audited_as_api_read(web, counsellor):
    c = make_client(counsellor)
    web(counsellor).get(f"/api/v1/clients/{c.id}")
    event = AuditEvent.objects.filter(action="read", client_id=c.id).get()
    assert event.channel == "api"


def test_auditor_screen__lists_viewers(web, org, counsellor):
    auditor = member(org, Role.AUDITOR)
    c = make_client(counsellor)
    web(counsellor).get(f"/clients/{c.id}/")
    http = web(auditor)
    response = http.get(f"/clients/{c.id}/audit/")
    assert response.status_code == 200
    assert counsellor.username in response.content.decode()


def test_auditor_screen__counsellor__404(web, counsellor):
    c = make_client(counsellor)
    assert web(counsellor).get(f"/clients/{c.id}/audit/").status_code == 404
