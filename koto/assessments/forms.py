from django import forms
from django.utils.translation import gettext_lazy as _

from koto.assessments.models import Assessment, Measure
from koto.assessments.scales import Level, Skill, TargetLanguage
from koto.clients import codes
from koto.clients.forms import DateInput
from koto.core.forms import DateField, Form, VersionField


def _blank(choices):
    return [("", "—"), *choices]


class StartForm(Form):
    trigger = forms.ChoiceField(label=_("Started by"), choices=Assessment.Trigger.choices)
    trigger_note = forms.CharField(label=_("Who made contact"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Assessment.Kind.choices)
    started_on = DateField(label=_("Started on"), widget=DateInput())


SKILL_FIELDS = [(lang, skill) for lang in TargetLanguage.values for skill in Skill.values]


class InterviewForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Assessment.Kind.choices)
    interview_on = DateField(label=_("Initial interview on"), widget=DateInput(), required=False)
    interview_language = forms.ChoiceField(label=_("Interview language"), required=False)
    interpreter_used = forms.BooleanField(label=_("Interpreter used"), required=False)
    literacy = forms.ChoiceField(label=_("Literacy"), choices=Assessment.Literacy.choices)
    education_level = forms.ChoiceField(
        label=_("Education level"), choices=Assessment.EducationLevel.choices
    )
    education_field = forms.CharField(label=_("Field of education"), max_length=200, required=False)
    education_years = forms.IntegerField(
        label=_("Years of education"), min_value=0, max_value=40, required=False
    )
    education_country = forms.ChoiceField(label=_("Country of education"), required=False)
    recognition_needed = forms.BooleanField(
        label=_("Recognition of qualifications needed"), required=False
    )
    occupation = forms.CharField(label=_("Occupation"), max_length=200, required=False)
    work_years = forms.IntegerField(
        label=_("Years of work experience"), min_value=0, max_value=60, required=False
    )
    goals = forms.CharField(
        label=_("Client's goals"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    family_situation = forms.CharField(
        label=_("Family and childcare situation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    childcare_needed = forms.BooleanField(label=_("Needs childcare"), required=False)
    housing = forms.CharField(
        label=_("Housing"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    welfare_needs_flag = forms.BooleanField(label=_("Health or social needs"), required=False)
    welfare_needs_details = forms.CharField(
        label=_("Health and social needs (welfare region only)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    version = VersionField()

    def __init__(self, *args, welfare_reader: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # a language stored without a two-letter code (Tigre "tig", recorded through the
        # API) is offered too: it was missing, the browser sent the blank first choice and
        # the save cleared the interview language
        stored = (self.initial.get("interview_language") or "",)
        self.fields["interview_language"].choices = _blank(codes.language_choices(also=stored))
        self.fields["education_country"].choices = _blank(codes.country_choices())
        if not welfare_reader:
            del self.fields["welfare_needs_details"]
        for lang, skill in SKILL_FIELDS:
            self.fields[f"skill_{lang}_{skill}"] = forms.ChoiceField(
                label=f"{TargetLanguage(lang).label}: {Skill(skill).label}",
                choices=_blank(Level.choices),
                required=False,
            )

    def skill_fields(self):
        return [self[f"skill_{lang}_{skill}"] for lang, skill in SKILL_FIELDS]

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        d.pop("version", None)
        skills = []
        for lang, skill in SKILL_FIELDS:
            level = d.pop(f"skill_{lang}_{skill}", "")
            if level:
                skills.append({"language": lang, "skill": skill, "level": level})
        d["skills"] = skills
        return d


class CompleteForm(Form):
    plan_needed = forms.TypedChoiceField(
        label=_("Is an integration plan needed?"),
        choices=[("true", _("Yes")), ("false", _("No"))],
        coerce=lambda v: v == "true",
        widget=forms.RadioSelect,
    )
    completed_on = DateField(label=_("Completed on"), widget=DateInput())
    conclusion = forms.CharField(
        label=_("Conclusion"),
        help_text=_("The client's service needs and the services proposed."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )
    # The version the page was opened at: an interview changed since is a conflict, not a
    # conclusion drawn on what the counsellor never saw. Not required, as the API's is not.
    version = VersionField(required=False)


class MeasureForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Measure.Kind.choices)
    description = forms.CharField(label=_("Description"), max_length=300)
    planned_on = DateField(label=_("Planned on"), widget=DateInput(), required=False)


class MeasureResultForm(Form):
    done_on = DateField(label=_("Done on"), widget=DateInput())
    result = forms.CharField(label=_("Result"), max_length=300)
