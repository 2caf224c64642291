"""Dashboards and the impact evaluation as JSON: the same figures as the pages, hidden
counts outside the caller's own organisation given as the string "<5"."""

from ninja import Query, Router

from koto.core.errors import PermissionDenied, ValidationFailed
from koto.insights import selectors
from koto.insights.forms import FilterForm

router = Router(tags=["insights"])

SCOPE_Q = Query(None, description="org:<id>, region:<id>, area:<id> or national")
FROM_Q = Query(None, alias="from", description="first month (YYYY-MM)")
TO_Q = Query(None, alias="to", description="last month (YYYY-MM)")


def _form(request, params: dict, *, grouping: bool = False) -> FilterForm:
    if not selectors.can_view_insights(request.auth):  # refused before the filters are read
        raise PermissionDenied
    # No choices: nothing is rendered, and the selector refuses a scope the caller may not open.
    form = FilterForm({k: v for k, v in params.items() if v is not None}, scopes=(),
                      grouping=grouping)  # fmt: skip
    if not form.is_valid():
        raise ValidationFailed({k: [str(m) for m in v] for k, v in form.errors.items()})
    return form


def _value(c):
    if isinstance(c, selectors.Share):
        ci = c.interval
        return {
            "share": None if c.hidden else round(c.value, 4),
            "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)],
            # a hidden share's counts are not given: they would tell what it hides
            "numerator": None if c.hidden else c.k.as_json(),
            "denominator": None if c.hidden else c.n.as_json(),
        }
    return c.as_json()


@router.get("/scopes", summary="The scopes the caller may open")
def scopes(request):
    """The caller's own scopes first; a national caller (who may open any scope) also every
    welfare region, employment area and municipality, as its dashboard page lists them."""
    own = selectors.scopes_for(user=request.auth)
    found = list(own)
    if any(s.level == "national" for s in own):
        found += [s for _label, group in selectors.national_scope_groups() for s in group]
    return [{"code": s.code, "label": s.label, "level": s.level, "own": s.own} for s in found]


@router.get("/dashboard", summary="Dashboard figures for a scope and period")
def dashboard(
    request,
    scope: str | None = SCOPE_Q,
    month_from: str | None = FROM_Q,
    month_to: str | None = TO_Q,
    target_group: str | None = None,
    language: str | None = None,
    age_band: str | None = None,
):
    form = _form(request, {"scope": scope, "from": month_from, "to": month_to,
                           "target_group": target_group, "language": language,
                           "age_band": age_band})  # fmt: skip
    d = selectors.dashboard_for(
        user=request.auth, scope_code=form.cleaned_data.get("scope"), filters=form.filters()
    )
    return {
        "scope": {"code": d.scope.code, "label": d.scope.label, "own": d.scope.own},
        "filters": d.filters.as_query(),
        "refreshed_at": d.refreshed_at,
        "full_refreshed_at": d.full_refreshed_at,
        # the nightly full recount is late: some figures may lag (docs/insights.md)
        "full_refresh_overdue": d.full_overdue,
        "suppressed_below": selectors.SUPPRESS_BELOW if not d.scope.own else None,
        # a total hidden because a hidden count could be worked out from it
        "hidden_total": selectors.COMPLEMENTARY if not d.scope.own else None,
        "tables": [
            {
                "id": t.id,
                "title": t.title,
                "key_label": t.key_label,
                "columns": t.columns,
                # what qualifies the table, as under it on the page ("" when nothing)
                "note": t.note,
                "rows": [
                    {"key": key, "label": label, "values": [_value(c) for c in cells]}
                    for key, label, cells in t.rows
                ],
            }
            for t in d.tables
        ],
    }


@router.get("/impact", summary="Impact evaluation: cohorts, groups, Kaplan–Meier")
def impact(
    request,
    scope: str | None = SCOPE_Q,
    month_from: str | None = FROM_Q,
    month_to: str | None = TO_Q,
    target_group: str | None = None,
    group: str | None = Query(None, description="plan_kind, target_group or services"),
):
    form = _form(request, {"scope": scope, "from": month_from, "to": month_to,
                           "target_group": target_group, "group": group}, grouping=True)  # fmt: skip
    c = form.cleaned_data
    i = selectors.impact_for(
        user=request.auth, scope_code=c.get("scope"), month_from=c["month_from"],
        month_to=c["month_to"], grouping=c.get("group") or "plan_kind",
        target_group=c.get("target_group") or "",
    )  # fmt: skip

    def rows(items):
        return [
            {"key": r.key, "label": r.label, "plans": r.plans.as_json(),
             "by_months": {str(t): _value(s) for t, s in r.shares.items()}}
            for r in items
        ]  # fmt: skip

    def points(items):
        return [
            {"months": p.months, "followed": p.at_risk.as_json(),
             "reached": None if p.reached is None else round(p.reached, 4),
             "ci95": None if p.low is None else [round(p.low, 4), round(p.high, 4)]}
            for p in items
        ]  # fmt: skip

    return {
        "observational": True,
        "scope": {"code": i.scope.code, "label": i.scope.label, "own": i.scope.own},
        "from": i.month_from.strftime("%Y-%m"),
        "to": i.month_to.strftime("%Y-%m"),
        "grouping": i.grouping,
        "refreshed_at": i.refreshed_at,
        "full_refreshed_at": i.full_refreshed_at,
        "full_refresh_overdue": i.full_overdue,
        "cohorts": rows(i.cohorts),
        "groups": rows(i.groups),
        "kaplan_meier": points(i.curve),
        "kaplan_meier_by_group": {k: points(v) for k, v in i.group_curves.items()},
    }
