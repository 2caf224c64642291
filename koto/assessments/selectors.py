"""Reads of assessments, through the client's visibility (another organisation's answers 404)."""

from django.db.models import QuerySet

from koto.assessments.models import Assessment
from koto.audit.services import audit_record
from koto.clients.permissions import can_read_welfare_details
from koto.clients.selectors import client_get_for, read_reason
from koto.core.errors import NotFound


def assessment_get_for(*, user, assessment_id: int, purpose: str = "view") -> Assessment:
    assessment = (
        Assessment.objects.select_related("organisation", "counsellor")
        .filter(pk=assessment_id)
        .first()
    )
    if assessment is None:
        raise NotFound("assessment")
    client = client_get_for(user=user, client_id=assessment.client_id, audit=False)
    assessment.client = client
    if not can_read_welfare_details(user):
        assessment.welfare_needs_details = ""
    audit_record(
        actor=user, action="read", object_type="assessment", object_id=assessment.id,
        client_id=client.id, reason=read_reason(client, purpose),
    )  # fmt: skip
    return assessment


def assessments_of_client(*, client) -> QuerySet[Assessment]:
    """For a client the viewer already holds (from client_get_for)."""
    return (
        Assessment.objects.filter(client=client)
        .select_related("counsellor")
        .order_by("-started_on", "-id")
    )
