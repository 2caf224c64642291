"""Dashboards and the impact evaluation: parse the filters, call one selector, render."""

import datetime as dt
import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from koto.core.errors import NotFound, PermissionDenied
from koto.insights import charts, exports, selectors, services
from koto.insights.forms import FilterForm
from koto.insights.selectors import can_view_insights


def _form(request, *, grouping: bool = False) -> FilterForm:
    if not can_view_insights(request.user):
        raise DjangoPermissionDenied

    # The scope list is read when the page renders, once (a national viewer's: three
    # queries), never for an export.
    @functools.cache
    def scopes():
        return selectors.scope_choices_for(user=request.user, current=form.scope_shown)

    form = FilterForm(request.GET, grouping=grouping, scopes=scopes)
    return form


def _dashboard(request, form: FilterForm):
    try:
        return selectors.dashboard_for(
            user=request.user, scope_code=form.cleaned_data.get("scope"), filters=form.filters()
        )
    except NotFound as e:
        raise Http404 from e
    except PermissionDenied as e:
        raise DjangoPermissionDenied from e


def _axis_label(key: str, label: str) -> str:
    """A month's label under a chart's axis: the month alone (the table beside says that
    the running one is counted so far; the longer label ran past the chart's edge)."""
    try:
        return dt.date.fromisoformat(key).strftime("%m/%Y")
    except ValueError:
        return label


def _chart(table) -> str:
    if table.chart == "lines":
        series = [
            (col, [None if cells[i].value is None else cells[i].value for _k, _l, cells in table.rows])
            for i, col in enumerate(table.columns)
        ]  # fmt: skip
        xs = [_axis_label(k, label) for k, label, _c in table.rows]
        return charts.line_chart(f"c-{table.id}", table.title, xs, series)
    if table.chart == "hbars":
        first = table.rows[0][2] if table.rows else []
        col = len(first) - 1 if first and isinstance(first[-1], selectors.Share) else 0
        percent = col != 0
        rows = []
        for _k, label, cells in table.rows:
            c = cells[col]
            rows.append((label, c.value if percent else c.shown, c.display))
        return charts.bar_chart(f"c-{table.id}", table.title, rows, percent=percent)
    series = [
        (col, [cells[i].shown for _k, _l, cells in table.rows])
        for i, col in enumerate(table.columns)
    ]
    xs = [_axis_label(k, label) for k, label, _c in table.rows]
    return charts.column_chart(f"c-{table.id}", table.title, xs, series)


@login_required
def dashboard(request):
    form = _form(request)
    if not form.is_valid():
        return render(request, "insights/dashboard.html", {"form": form, "d": None}, status=400)
    d = _dashboard(request, form)
    form.show_scope(d.scope)
    tables = [(t, _chart(t)) for t in d.tables]
    return render(
        request,
        "insights/dashboard.html",
        {"form": form, "d": d, "tables": tables, "query": request.GET.urlencode()},
    )


@login_required
def export(request, file_format: str):
    form = _form(request)
    if not form.is_valid():
        return render(request, "insights/dashboard.html", {"form": form, "d": None}, status=400)
    d = _dashboard(request, form)
    name = f"koto_{d.scope.code.replace(':', '-')}_{d.filters.month_from:%Y-%m}_{d.filters.month_to:%Y-%m}"
    write = exports.dashboard_csv if file_format == "csv" else exports.dashboard_xlsx
    response = _file(write(d), name, file_format)
    services.dashboard_exported(
        actor=request.user, scope_code=d.scope.code, filters=d.filters.as_query(),
        file_format=file_format,
    )  # fmt: skip
    return response


def _impact(request, form: FilterForm):
    c = form.cleaned_data
    try:
        return selectors.impact_for(
            user=request.user, scope_code=c.get("scope"), month_from=c["month_from"],
            month_to=c["month_to"], grouping=c.get("group") or "plan_kind",
            target_group=c.get("target_group") or "",
        )  # fmt: skip
    except NotFound as e:
        raise Http404 from e
    except PermissionDenied as e:
        raise DjangoPermissionDenied from e


def _file(body, name: str, file_format: str) -> HttpResponse:
    if file_format == "csv":
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


@login_required
def impact_export(request, file_format: str):
    """The impact evaluation's tables as a file, with what the page says around them."""
    form = _form(request, grouping=True)
    if not form.is_valid():
        return render(request, "insights/impact.html", {"form": form, "i": None}, status=400)
    i = _impact(request, form)
    write = exports.impact_csv if file_format == "csv" else exports.impact_xlsx
    name = f"koto_impact_{i.scope.code.replace(':', '-')}_{i.month_from:%Y-%m}_{i.month_to:%Y-%m}"
    response = _file(write(i), name, file_format)
    services.dashboard_exported(
        actor=request.user, scope_code=i.scope.code, file_format=file_format, what="impact",
        filters={"from": f"{i.month_from:%Y-%m}", "to": f"{i.month_to:%Y-%m}",
                 "group": i.grouping, "target_group": i.target_group},
    )  # fmt: skip
    return response


@login_required
def impact(request):
    form = _form(request, grouping=True)
    if not form.is_valid():
        return render(request, "insights/impact.html", {"form": form, "i": None}, status=400)
    i = _impact(request, form)
    form.show_scope(i.scope)
    xs = [str(p.months) for p in i.curve]
    curve = charts.line_chart(
        "c-km", _("Share employed or studying by months since the plan started (Kaplan–Meier)"), xs, [(_("All plans"), [p.reached for p in i.curve])],
        bands=[(p.low, p.high) for p in i.curve],
    )  # fmt: skip
    group_xs = [str(m) for m in range(0, 37, 3)]
    group_series = [
        (label, [p.reached for p in pts] + [None] * (len(group_xs) - len(pts)))
        for label, pts in i.group_curves.items()
    ]
    groups_chart = charts.line_chart(
        "c-km-groups",
        _("Share employed or studying by group (Kaplan–Meier)"),
        group_xs,
        group_series,
    )
    # the table beside the chart holds every point drawn (it showed 6, 12 and 24 months of
    # thirteen, while the chart's description sends the reader to the table for the numbers)
    group_table = [
        (label, list(pts) + [None] * (len(group_xs) - len(pts)))
        for label, pts in i.group_curves.items()
    ]
    return render(
        request,
        "insights/impact.html",
        {"form": form, "i": i, "curve": curve, "groups_chart": groups_chart,
         "group_xs": group_xs, "group_table": group_table, "query": request.GET.urlencode()},
    )  # fmt: skip
