"""The law as code: the same JSON as `python -m koto.law evaluate`."""

from django.http import HttpResponse
from ninja import Router

from koto.core.errors import DomainError
from koto.law import Decision, Facts, FactsError, parse_facts
from koto.law.engine import evaluate_json

router = Router(tags=["law"])


def facts_error(exc: FactsError) -> DomainError:
    """A FactsError as the API's error shape, every bad field named."""
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        fields.setdefault(err.get("field") or "body", []).append(err["message"])
    return DomainError("invalid_facts", exc.message, fields=fields)


@router.post(
    "/evaluate",
    response=Decision,
    summary="Evaluate the rules for given facts",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": Facts.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        }
    },
)
def law_evaluate(request):
    """Facts as in `docs/law.md` (the same JSON as the command line); answers the decision,
    or 422 naming the bad field."""
    try:
        body = evaluate_json(parse_facts(request.body))
    except FactsError as exc:  # also a date outside every parameter period ("no rules after")
        raise facts_error(exc) from None
    return HttpResponse(body, content_type="application/json")
