from django import forms
from django.utils.translation import gettext_lazy as _

from koto.clients.forms import DateInput
from koto.core.forms import DateField, Form, VersionField
from koto.organisations.selectors import all_organisations
from koto.plans.models import (
    AckMethod,
    ExtensionReason,
    GoalArea,
    IntegrationPlan,
    Outcome,
    Responsible,
)


class PlanForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IntegrationPlan.Kind.choices)
    starts_on = DateField(label=_("Starts on"), widget=DateInput(), required=False)
    ends_on = DateField(label=_("Ends on"), widget=DateInput(), required=False)
    version = VersionField(required=False)  # required when editing (`editing=True`)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = editing


class GoalForm(Form):
    area = forms.ChoiceField(label=_("Area"), choices=GoalArea.choices)
    description = forms.CharField(label=_("Goal"), widget=forms.Textarea(attrs={"rows": 2}))


class ActionForm(Form):
    what = forms.CharField(label=_("What will be done"), max_length=300)
    responsible = forms.ChoiceField(label=_("Who is responsible"), choices=Responsible.choices)
    responsible_organisation = forms.ModelChoiceField(
        label=_("Responsible organisation"), queryset=None, required=False
    )
    planned_on = DateField(label=_("Planned for"), widget=DateInput(), required=False)
    service_name = forms.CharField(label=_("Linked service"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_organisation"].queryset = all_organisations()


class DoneForm(Form):
    done_on = DateField(label=_("Done on"), widget=DateInput())


class ActivateForm(Form):
    agreed_on = DateField(label=_("Agreed with the client on"), widget=DateInput())
    version = VersionField()


class AcknowledgeForm(Form):
    acknowledged_on = DateField(label=_("Acknowledged on"), widget=DateInput())
    method = forms.ChoiceField(label=_("How"), choices=AckMethod.choices)
    interpreter_language = forms.CharField(
        label=_("Interpreting language (ISO 639)"), max_length=3, required=False
    )
    version = VersionField()


class CancelForm(Form):
    """Cancelling a draft: nothing to fill in but the version the page showed."""

    version = VersionField()


class ExtendForm(Form):
    months = forms.IntegerField(label=_("Extension in months"), min_value=1, max_value=24)
    reason = forms.ChoiceField(label=_("Reason"), choices=ExtensionReason.choices)
    reason_note = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 2}))
    decided_on = DateField(label=_("Decided on"), widget=DateInput())
    version = VersionField()


class ReviewForm(Form):
    reviewed_on = DateField(label=_("Reviewed on"), widget=DateInput())
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}))
    welfare_region_took_part = forms.BooleanField(
        label=_("The welfare region took part"), required=False
    )


class EndForm(Form):
    ended_on = DateField(label=_("Ended on"), widget=DateInput())
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    outcome_note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    handover_summary = forms.CharField(
        label=_("Summary for the employment plan"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    version = VersionField()
