from django import forms
from django.utils.translation import gettext_lazy as _

from koto.core.forms import DateField, Form
from koto.funding.compensation import FIRST_AMOUNT_YEAR, LAST_YEAR
from koto.funding.models import ClaimSection

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClaimForm(Form):
    section = forms.ChoiceField(label=_("Section"), choices=ClaimSection.choices)
    period_start = DateField(label=_("Period starts"), widget=DATE)
    period_end = DateField(label=_("Period ends"), widget=DATE)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)


class LineForm(Form):
    description = forms.CharField(label=_("Cost"), max_length=300)
    amount = forms.DecimalField(label=_("Amount (€)"), max_digits=12, decimal_places=2)
    # required: a cost belongs to the claim of its period (an undated one could go on two)
    occurred_on = DateField(label=_("Date"), widget=DATE)


class AttachmentForm(Form):
    file = forms.FileField(label=_("Attachment"))


class DecisionForm(Form):
    approved_amount = forms.DecimalField(
        label=_("Approved amount (€)"), max_digits=12, decimal_places=2, min_value=0
    )
    decided_on = DateField(label=_("Decided on"), widget=DATE)
    note = forms.CharField(label=_("Decision note"), widget=forms.Textarea, required=False)


class PaidForm(Form):
    paid_on = DateField(label=_("Paid on"), widget=DATE)


class ReconcileForm(Form):
    year = forms.IntegerField(label=_("Year"), min_value=FIRST_AMOUNT_YEAR, max_value=LAST_YEAR)
    file = forms.FileField(
        label=_("KEHA payment statement (CSV)"),
        help_text=_("Columns: hetu, municipality_code, year, month, amount."),
    )


class PeriodForm(Form):
    year = forms.IntegerField(label=_("Year"), min_value=FIRST_AMOUNT_YEAR, max_value=LAST_YEAR)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", _("Whole year")), (1, "Q1"), (2, "Q2"), (3, "Q3"), (4, "Q4")],
    )
