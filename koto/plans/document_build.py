"""The plan as the client's document: from the records to `documents.PlanDocument`."""

from koto.core import clock
from koto.law import plan_review_due
from koto.law.params import ParameterMissing
from koto.organisations.models import OrganisationKind
from koto.plans.documents import ActionLine, GoalLine, PlanDocument, document_languages
from koto.plans.models import IntegrationPlan
from koto.plans.selectors import plan_with_contents


def _next_review(base):
    """The next statutory review, or None for a plan agreed under the old Act (its
    parameter period has no review interval)."""
    try:
        return plan_review_due(base).due_on
    except ParameterMissing:
        return None


def plan_document(plan: IntegrationPlan) -> PlanDocument:
    full = plan_with_contents(plan)
    client = plan.client
    counsellor = full.counsellor
    reviews = [r.reviewed_on for r in full.reviews.all()]
    base = max([full.agreed_on, *reviews]) if full.agreed_on else None
    return PlanDocument(
        client_name=client.full_name,
        client_birth_date=client.birth_date,
        client_identifier=client.identifier,
        organisation_name=full.organisation.name_fi,
        counsellor_name=counsellor.get_full_name() or counsellor.username,
        counsellor_contact=counsellor.email,
        kind=full.kind,
        status=full.status if full.status in ("draft", "active", "ended") else "ended",
        starts_on=full.starts_on,
        ends_on=full.ends_on,
        # the 6-month review is the municipality's (section 3): none promised on the
        # employment authority's plans, which it reviews at its meetings with the jobseeker
        next_review_on=_next_review(base)
        if base
        and full.status == "active"
        and full.organisation.kind == OrganisationKind.MUNICIPALITY
        else None,
        goals=tuple(
            GoalLine(
                area=g.area,
                description=g.description,
                actions=tuple(
                    ActionLine(
                        what=a.what,
                        responsible=a.responsible,
                        responsible_name=(
                            a.responsible_organisation.name_fi
                            if a.responsible_organisation
                            else (
                                full.counsellor.get_full_name()
                                if a.responsible == "counsellor"
                                else client.full_name
                            )
                        ),
                        planned_on=a.planned_on,
                        done_on=a.done_on,
                        service=a.service_name,
                    )
                    for a in g.actions.all()
                ),
            )
            for g in full.goals.all()
        ),
        acknowledged_on=full.acknowledged_on,
        acknowledgement_method=full.acknowledgement_method,
        interpreter_language=full.acknowledgement_interpreter_language,
        generated_on=clock.today(),
    )


def languages_for(plan: IntegrationPlan) -> list[str]:
    # no language recorded: English with the Finnish copy, as for a language without texts
    return document_languages(plan.client.mother_tongue or "")
