"""The dashboard and impact filters (GET parameters from, to, scope, target_group,
language, age_band, group); shape validation only, each error names its field."""

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from koto.core.forms import Form
from koto.core.widgets import ListSelect
from koto.insights.dimensions import AGE_BAND_LABELS, TARGET_GROUP_LABELS, add_months
from koto.insights.selectors import GROUPINGS, Filters, default_filters

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SCOPE_CODE = re.compile(r"national|(org|region|area):[0-9]{1,18}", re.ASCII)
MAX_MONTHS = 60
# The months a filter may name: the figures start with the reform's data, and a period's
# later months are computed by adding months (which ends at the year 9999).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_month(value: str, field: str) -> dt.date:
    m = MONTH.match(value or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise forms.ValidationError(
            _("Give the month as YYYY-MM (for example 2026-01)."), code=f"{field}_format"
        )
    if not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
        raise forms.ValidationError(
            _("Give a month from %(first)s to %(last)s.")
            % {"first": f"{FIRST_YEAR}-01", "last": f"{LAST_YEAR}-12"},
            code=f"{field}_range",
        )
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


class FilterForm(Form):
    scope = forms.CharField(label=pgettext_lazy("dashboard", "Area"), required=False, max_length=30)
    target_group = forms.ChoiceField(label=gettext_lazy("Target group"), required=False)
    language = forms.CharField(
        label=gettext_lazy("Language"), required=False, max_length=3,
        help_text=gettext_lazy("ISO 639 code, e.g. ar, uk, so"),
    )  # fmt: skip
    age_band = forms.ChoiceField(label=gettext_lazy("Age band"), required=False)

    # The scope the page shows, once known: the scope choices (a callable, read when the
    # page renders) add it when the list lacks it (`selectors.scope_choices_for`).
    scope_shown = None

    def show_scope(self, scope) -> None:
        """The page shows `scope`: the select names it by the code the lists use (an address
        may have written it otherwise, "org:02" for "org:2")."""
        self.scope_shown = scope
        # also when none was asked for: a national viewer's default is the whole country,
        # not the first option (its own organisation), which a "Show" would then send
        if self.is_bound and self.data.get("scope") != scope.code:
            self.data = self.data.copy()
            self.data["scope"] = scope.code

    def __init__(self, data=None, *, scopes, grouping: bool = False):
        d = default_filters()
        if data is not None and not (data.get("from") and data.get("to")):
            # the period shown is in the form, not only in the table rows: the first visit
            # (no filters) shows the default months, as does a month left empty
            data = data.copy()
            data["from"] = data.get("from") or d.month_from.strftime("%Y-%m")
            data["to"] = data.get("to") or d.month_to.strftime("%Y-%m")
        super().__init__(data)
        self.fields["from"] = forms.CharField(
            label=_("From month"), required=False, initial=d.month_from.strftime("%Y-%m"),
            help_text=_("As YYYY-MM, e.g. 2026-03."),
            widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        )  # fmt: skip
        self.fields["to"] = forms.CharField(
            label=_("To month"), required=False, initial=d.month_to.strftime("%Y-%m"),
            help_text=_("As YYYY-MM, e.g. 2026-03."),
            widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        )  # fmt: skip
        self.order_fields(["scope", "from", "to", "target_group", "language", "age_band"])
        # A select of the viewer's scopes (a national viewer's: hundreds, in groups); another
        # value answers 404 in the selector.
        self.fields["scope"].widget = ListSelect(choices=scopes)
        self.fields["target_group"].choices = [("", _("All"))] + [
            (k, str(v)) for k, v in TARGET_GROUP_LABELS.items()
        ]
        self.fields["age_band"].choices = [("", _("All"))] + [
            (k, str(v)) for k, v in AGE_BAND_LABELS.items()
        ]
        if grouping:
            self.fields["group"] = forms.ChoiceField(
                label=_("Compare by"), required=False,
                choices=[(k, str(v)) for k, v in GROUPINGS.items()],
            )  # fmt: skip
            del self.fields["language"]
            del self.fields["age_band"]

    def clean_scope(self):
        """The form of an area's code (`org:12`, `region:5`, `area:3`, `national`): another
        is refused naming the field (until 2026-12-08 it answered 404, as an area the viewer
        may not open still does)."""
        value = (self.cleaned_data.get("scope") or "").strip()
        if value and not SCOPE_CODE.fullmatch(value):
            raise forms.ValidationError(
                _("Choose an area from the list (a code such as org:12 or national).")
            )
        return value

    def clean_language(self):
        value = (self.cleaned_data.get("language") or "").strip().lower()
        if value and not re.fullmatch(r"[a-z]{2,3}", value):
            raise forms.ValidationError(_("Give a language code of two or three letters."))
        return value

    def clean(self):
        data = super().clean()
        d = default_filters()
        start = end = None
        try:
            start = (
                parse_month(self.data.get("from"), "from")
                if self.data.get("from")
                else d.month_from
            )
        except forms.ValidationError as e:
            self.add_error("from", e)
        try:
            end = parse_month(self.data.get("to"), "to") if self.data.get("to") else d.month_to
        except forms.ValidationError as e:
            self.add_error("to", e)
        if start and end:
            if end < start:
                self.add_error("to", _("The last month is before the first."))
            elif add_months(start, MAX_MONTHS - 1) < end:
                self.add_error(
                    "to", _("Choose at most %(n)s months at a time.") % {"n": MAX_MONTHS}
                )
        data["month_from"], data["month_to"] = start, end
        return data

    def filters(self) -> Filters:
        c = self.cleaned_data
        return Filters(
            month_from=c["month_from"],
            month_to=c["month_to"],
            target_group=c.get("target_group") or "",
            language=c.get("language") or "",
            age_band=c.get("age_band") or "",
        )
