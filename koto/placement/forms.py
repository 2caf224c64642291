"""Placement forms: shape only; the rules are in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from koto.clients.forms import DateInput
from koto.clients.models import Gender, ResidenceBasis
from koto.core.forms import DateField, Form, VersionField
from koto.organisations.selectors import municipalities
from koto.placement.models import (
    HousingForm,
    PlaceCategory,
    PlacementPerson,
    PlacementSource,
)


class PlacesForm(Form):
    places_quota_refugee = forms.IntegerField(
        label=_("Places for quota refugees"), min_value=0, initial=0
    )
    places_international_protection = forms.IntegerField(
        label=_("Places for other beneficiaries of international protection"),
        min_value=0,
        initial=0,
    )
    places_unaccompanied_minor = forms.IntegerField(
        label=_("Places for unaccompanied minors"), min_value=0, initial=0
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    version = VersionField()

    def places(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k.startswith("places_")}


class AgreementCreateForm(PlacesForm):
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=None)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    field_order = ["municipality", "year"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities()
        del self.fields["version"]  # a new agreement has none


class AgreementReviseForm(PlacesForm):
    revised_on = DateField(label=_("Revised on"), widget=DateInput())
    field_order = ["revised_on"]


class SignForm(Form):
    signed_on = DateField(label=_("Signed on"), widget=DateInput())
    version = VersionField()


class ConsultationForm(Form):
    consulted_on = DateField(label=_("Welfare region consulted on"), widget=DateInput())
    statement = forms.CharField(
        label=_("The welfare region's statement"), widget=forms.Textarea(attrs={"rows": 4})
    )


class ProposeForm(Form):
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=None)
    year = forms.IntegerField(label=_("Year of the places"), min_value=2000, max_value=2100)
    category = forms.ChoiceField(label=_("Category"), choices=PlaceCategory.choices)
    source = forms.ChoiceField(label=_("Coming from"), choices=PlacementSource.choices)
    source_detail = forms.CharField(
        label=_("Reception centre or quota selection"), max_length=200, required=False
    )
    evident_welfare_needs = forms.BooleanField(
        label=_("Evident social or health care needs"),
        required=False,
        help_text=_("The welfare region must give its statement before the municipality accepts."),
    )
    welfare_needs_note = forms.CharField(
        label=_("About the needs"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    confirm_duplicate = forms.BooleanField(
        label=_("Another person of the same name and birth date: propose all the same"),
        required=False,
        help_text=_("Only when told that a person is already in another placement."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities()


class PersonForm(Form):
    first_name = forms.CharField(label=_("First names"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    birth_date = DateField(label=_("Birth date"), widget=DateInput())
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    residence_basis = forms.ChoiceField(
        label=_("Residence basis"), choices=[("", "–"), *ResidenceBasis.choices]
    )
    first_permit_on = DateField(
        label=_("Residence permit granted on"), widget=DateInput(), required=False
    )
    mother_tongue = forms.CharField(
        label=_("Mother tongue (ISO 639)"), max_length=3, required=False
    )
    relation = forms.ChoiceField(
        label=_("Relation to the main person"),
        choices=[("", "–"), *PlacementPerson.Role.choices],
        required=False,
    )


PersonFormSet = forms.formset_factory(PersonForm, extra=4, min_num=1, validate_min=True)


class DecideForm(Form):
    decided_on = DateField(label=_("Answered on"), widget=DateInput())
    version = VersionField()


class DeclineForm(DecideForm):
    reason = forms.CharField(
        label=_("Reason for declining"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ReserveHousingForm(Form):
    address = forms.CharField(label=_("Housing address"), max_length=200)
    housing_on = DateField(label=_("Housing available from"), widget=DateInput())
    version = VersionField()


class SupportedHousingForm(Form):
    note = forms.CharField(
        label=_("Why supported housing is needed"), widget=forms.Textarea(attrs={"rows": 3})
    )
    version = VersionField()


class ArriveForm(Form):
    arrived_on = DateField(label=_("Arrived on"), widget=DateInput())
    confirm_duplicate = forms.BooleanField(
        label=_("Not the clients of the same name: make new clients all the same"),
        required=False,
        help_text=_("Only when told that the municipality already has a similar client."),
    )
    version = VersionField()


class CancelForm(Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"), widget=forms.Textarea(attrs={"rows": 3})
    )
    cancelled_on = DateField(label=_("Cancelled on"), widget=DateInput())
    version = VersionField()


class HealthCheckForm(Form):
    done_on = DateField(label=_("Health check done on"), widget=DateInput())


class MinorCareForm(Form):
    housing_form = forms.ChoiceField(
        label=_("Form of housing"),
        choices=[("", "–"), *HousingForm.choices],
        required=False,
    )
    representative_name = forms.CharField(label=_("Representative"), max_length=200, required=False)
    representative_contact = forms.CharField(
        label=_("Representative's contact details"), max_length=200, required=False
    )
    representative_from = DateField(
        label=_("Representative from"), widget=DateInput(), required=False
    )
    representative_to = DateField(
        label=_("Representative until"),
        widget=DateInput(),
        required=False,
        help_text=_("Empty: the day before the 18th birthday."),
    )
    after_care_plan_on = DateField(
        label=_("Adulthood-support plan made on"), widget=DateInput(), required=False
    )
    after_care_plan_ends_on = DateField(
        label=_("Adulthood-support plan ends on"), widget=DateInput(), required=False
    )
    version = VersionField()
