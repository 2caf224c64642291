from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from koto.assessments.scales import Level, Skill, TargetLanguage
from koto.clients import codes
from koto.clients.forms import DateInput
from koto.core.forms import MULTIPLE_CHOICE_HELP, DateField, Form, VersionField
from koto.core.widgets import ListSelect
from koto.guidance.models import Theme
from koto.offerings.models import (
    MAX_CAPACITY,
    MAX_HOURS,
    CivicTopic,
    Enrolment,
    ServiceKind,
    Track,
)
from koto.organisations.selectors import municipality_names


def _blank(choices):
    return [("", "—"), *choices]


class ServiceForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ServiceKind.choices)
    theme = forms.ChoiceField(
        label=_("Monitoring theme"),
        choices=_blank(Theme.choices),
        required=False,
        help_text=_(
            "For another service: the national monitoring theme it serves (the dashboards "
            "count it there). A programme service has its own."
        ),
    )
    name_fi = forms.CharField(label=_("Name in Finnish"), max_length=200)
    name_sv = forms.CharField(label=_("Name in Swedish"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Name in English"), max_length=200, required=False)
    description_fi = forms.CharField(
        label=_("Description in Finnish"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    description_sv = forms.CharField(
        label=_("Description in Swedish"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    description_en = forms.CharField(
        label=_("Description in English"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    language = forms.ChoiceField(label=_("Language of instruction"), required=False)
    hours = forms.IntegerField(label=_("Hours"), min_value=1, max_value=MAX_HOURS, required=False)
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        choices=CivicTopic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    track = forms.ChoiceField(label=_("Track"), choices=_blank(Track.choices), required=False)
    target_level = forms.ChoiceField(
        label=_("Target level"),
        choices=_blank([c for c in Level.choices if c[0] != Level.NONE]),
        required=False,
    )
    on_the_job_learning = forms.BooleanField(label=_("On-the-job learning"), required=False)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=MAX_CAPACITY)
    starts_on = DateField(label=_("Starts on"), widget=DateInput(), required=False)
    ends_on = DateField(label=_("Ends on"), widget=DateInput(), required=False)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    remote = forms.BooleanField(label=_("Remote"), required=False)
    served_municipalities = forms.MultipleChoiceField(
        label=_("Serves municipalities"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=MULTIPLE_CHOICE_HELP,
    )
    active = forms.BooleanField(label=_("Open for enrolment"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = _blank(codes.language_choices())
        self.fields["served_municipalities"].choices = [
            (str(pk), name) for pk, _code, name in municipality_names()
        ]


class EnrolForm(Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=None, widget=ListSelect)

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services


class EnrolByIdentifierForm(Form):
    identifier = forms.CharField(
        label=_("Personal identity code or temporary identifier"), max_length=40
    )


class TransitionForm(Form):
    on = DateField(label=_("Date"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class AttendanceForm(Form):
    on = DateField(label=_("Date (or any day of the month)"), widget=DateInput())
    hours = forms.DecimalField(label=_("Hours"), min_value=0, max_digits=6, decimal_places=2)
    monthly = forms.BooleanField(label=_("Hours for the whole month"), required=False)


class EnrolmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(service)s, started %(date)s") % {
            "service": obj.service.name,
            "date": formats.date_format(obj.started_on, "SHORT_DATE_FORMAT"),
        }


class LanguageResultForm(Form):
    taken_on = DateField(label=_("Taken on"), widget=DateInput())
    language = forms.ChoiceField(label=_("Language"), choices=TargetLanguage.choices)
    enrolment = EnrolmentChoiceField(
        label=_("Language test"),
        queryset=None,
        required=False,
        empty_label="—",
        help_text=_("The client's enrolment in the test taken, if it is recorded."),
    )

    def __init__(self, *args, enrolments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrolment"].queryset = (
            enrolments if enrolments is not None else Enrolment.objects.none()
        )
        for skill, label in Skill.choices:
            self.fields[f"level_{skill}"] = forms.ChoiceField(
                label=label, choices=_blank(Level.choices), required=False
            )

    def results(self) -> list[dict]:
        d = self.cleaned_data
        return [
            {"language": d["language"], "skill": skill, "level": d[f"level_{skill}"]}
            for skill in Skill.values
            if d.get(f"level_{skill}")
        ]


class ServiceEditForm(ServiceForm):
    version = VersionField()
