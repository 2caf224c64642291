"""Plan PDFs for the client: requested by a counsellor, rendered by the task worker."""

from django.db import transaction
from django.tasks import task
from django.utils.translation import gettext as _

from koto.audit.services import audit_record
from koto.clients.models import ClientEvent
from koto.clients.permissions import can_edit_client
from koto.clients.selectors import read_reason
from koto.clients.services import record_event
from koto.core import clock
from koto.core.errors import DomainError, PermissionDenied
from koto.plans.document_build import languages_for, plan_document
from koto.plans.documents import render_plan_pdf
from koto.plans.models import IntegrationPlan, PlanPdf, PlanStatus


def pdf_request(*, actor, plan: IntegrationPlan, languages: list[str] | None = None) -> PlanPdf:
    """Queue a PDF in the client's language with a Finnish copy."""
    if not can_edit_client(actor, plan.client):
        raise PermissionDenied()
    if plan.status == PlanStatus.CANCELLED:  # never agreed: the client holds no such plan
        raise DomainError("plan_cancelled", _("A cancelled plan has no document for the client."))
    langs = languages or languages_for(plan)
    with transaction.atomic():
        pdf = PlanPdf.objects.create(plan=plan, languages=",".join(langs), requested_by=actor)
        record_event(
            plan.client, actor, ClientEvent.Kind.DOCUMENT, {"plan_id": plan.id, "languages": langs}
        )
        audit_record(
            actor=actor, action="export", object_type="plan_pdf", object_id=pdf.id, client_id=plan.client_id,
            changes={"plan_id": plan.id, "languages": langs},
        )  # fmt: skip
        transaction.on_commit(lambda: pdf_render_task.enqueue(pdf_id=pdf.id))
    return pdf


def pdf_render(*, pdf_id: int) -> str:
    pdf = PlanPdf.objects.select_related(
        "plan__client", "plan__organisation", "plan__counsellor"
    ).get(pk=pdf_id)
    try:
        content = render_plan_pdf(plan_document(pdf.plan), pdf.languages.split(","))
    except Exception as e:  # the failure is stored and shown; the worker goes on
        PlanPdf.objects.filter(pk=pdf_id).update(status=PlanPdf.Status.FAILED, error=str(e)[:2000])
        raise
    PlanPdf.objects.filter(pk=pdf_id).update(
        status=PlanPdf.Status.READY, content=content, ready_at=clock.now()
    )
    return PlanPdf.Status.READY


def pdf_get_for_download(*, user, plan: IntegrationPlan, pdf_id: int) -> PlanPdf | None:
    """A ready PDF of a plan the viewer already holds; its download is audited as a read.
    None for a cancelled plan: never agreed, the client holds no such plan."""
    if plan.status == PlanStatus.CANCELLED:
        return None
    pdf = plan.pdfs.filter(pk=pdf_id, status=PlanPdf.Status.READY).first()
    if pdf is not None:
        audit_record(
            actor=user, action="read", object_type="plan_pdf", object_id=pdf.id, client_id=plan.client_id,
            reason=read_reason(plan.client, "download"),
        )  # fmt: skip
    return pdf


@task
def pdf_render_task(pdf_id: int) -> str:
    """Background: render a requested plan PDF (WeasyPrint) and store it."""
    return pdf_render(pdf_id=pdf_id)
