"""Shape-only forms for the client screens; the rules are in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from koto.clients import codes
from koto.clients.models import ConsentScope, Gender, LawFact, Meeting, Relation, ResidenceBasis
from koto.core.forms import MULTIPLE_CHOICE_HELP, DateField, Form, VersionField
from koto.core.widgets import ListSelect, ListSelectMultiple
from koto.organisations.selectors import all_organisations, municipality_names


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _blank(choices):
    return [("", "—"), *choices]


class ClientForm(Form):
    first_name = forms.CharField(label=_("First names"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    transliterated_names = forms.CharField(
        label=_("Other forms of the name"),
        help_text=_(
            "One per line: first names, then the last name as the last word; a last name of "
            "several words first, with a comma: “Al Hassan, Ali”."
        ),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    birth_date = DateField(label=_("Birth date"), widget=DateInput())
    hetu = forms.CharField(
        label=_("Personal identity code"),
        max_length=11,
        required=False,
        help_text=_("Leave empty if the client has none: a temporary identifier is given."),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    citizenship = forms.ChoiceField(label=_("Citizenship"), required=False, widget=ListSelect)
    mother_tongue = forms.ChoiceField(label=_("Mother tongue"), required=False, widget=ListSelect)
    other_languages = forms.MultipleChoiceField(
        label=_("Other languages"), required=False, widget=ListSelectMultiple(attrs={"size": 4}),
        help_text=MULTIPLE_CHOICE_HELP,
    )  # fmt: skip
    interpreter_needed = forms.BooleanField(label=_("Needs an interpreter"), required=False)
    interpreter_language = forms.ChoiceField(
        label=_("Interpreting language"), required=False, widget=ListSelect
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    street_address = forms.CharField(label=_("Street address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    post_office = forms.CharField(label=_("Post office"), max_length=100, required=False)
    residence_basis = forms.ChoiceField(label=_("Residence basis"), required=False)
    first_permit_on = DateField(
        label=_("First residence permit or registration"), required=False, widget=DateInput()
    )
    home_municipality_code = forms.ChoiceField(
        label=_("Municipality of residence"), required=False, widget=ListSelect
    )
    home_municipality_on = DateField(
        label=_("Municipality of residence since"), required=False, widget=DateInput()
    )
    migri_number = forms.CharField(label=_("Migri customer number"), max_length=20, required=False)
    unhcr_number = forms.CharField(
        label=_("UNHCR registration number"), max_length=30, required=False
    )
    unemployed_jobseeker = forms.BooleanField(
        label=LawFact.UNEMPLOYED_JOBSEEKER.label, required=False
    )
    social_assistance_long_term = forms.BooleanField(
        label=LawFact.SOCIAL_ASSISTANCE_LONG_TERM.label, required=False
    )
    child_home_care_allowance = forms.BooleanField(
        label=LawFact.CHILD_HOME_CARE_ALLOWANCE.label, required=False
    )
    arrived_as_unaccompanied_minor = forms.BooleanField(
        label=LawFact.ARRIVED_AS_UNACCOMPANIED_MINOR.label, required=False
    )
    trafficking_victim = forms.BooleanField(label=LawFact.TRAFFICKING_VICTIM.label, required=False)
    other_need_identified = forms.BooleanField(
        label=LawFact.OTHER_NEED_IDENTIFIED.label, required=False
    )
    welfare_service_needs = forms.BooleanField(
        label=LawFact.WELFARE_SERVICE_NEEDS.label, required=False
    )
    facts_valid_from = DateField(
        label=_("Situation changes valid from"),
        required=False,
        widget=DateInput(),
        help_text=_(
            "Leave empty for today. A municipality of residence cleared (the client left "
            "Finland) ends the day before this date."
        ),
    )
    municipality_corrected = forms.BooleanField(
        label=_("The municipality of residence was recorded wrongly (a correction, not a move)"),
        required=False,
        help_text=_(
            "The municipality given replaces the one recorded from the same day on, for State "
            "compensation too. For a move, give the day of the move instead."
        ),
    )
    version = VersionField(required=False)  # required when editing (`editing=True`)
    confirm_duplicate = forms.BooleanField(
        label=_("I checked: this is a different person"), required=False
    )

    FACT_FIELDS = tuple(LawFact.values)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = editing
        langs = codes.language_choices(also=self._languages_given())
        self.fields["citizenship"].choices = _blank(codes.country_choices(stateless=True))
        self.fields["mother_tongue"].choices = _blank(langs)
        self.fields["interpreter_language"].choices = _blank(langs)
        self.fields["other_languages"].choices = langs
        self.fields["residence_basis"].choices = _blank(ResidenceBasis.choices)
        self.fields["home_municipality_code"].choices = _blank(
            [(code, f"{name} ({code})") for _id, code, name in municipality_names()]
        )

    def _languages_given(self) -> set[str]:
        """The languages on the record or in the posted form: a code the list leaves out
        (Hazaragi, `haz`, set through the API or an import) is offered too, so saving the
        form does not clear it."""
        given: set[str] = set()
        for source in (self.initial, self.data):
            for name in ("mother_tongue", "interpreter_language", "other_languages"):
                value = source.getlist(name) if hasattr(source, "getlist") else source.get(name)
                if isinstance(value, str):
                    value = [value]
                given.update(v for v in value or () if isinstance(v, str) and v)
        return given

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        for key in ("version", "confirm_duplicate", "facts_valid_from", "municipality_corrected"):
            d.pop(key, None)
        lines = [
            ln.strip() for ln in (d.get("transliterated_names") or "").splitlines() if ln.strip()
        ]
        d["transliterated_names"] = lines
        d["hetu"] = d.get("hetu") or None
        return d


class BreakGlassForm(Form):
    reason = forms.CharField(
        label=_("Why do you need access to this client?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
    )


class SearchForm(Form):
    q = forms.CharField(
        label=_("Name, identity code or temporary id"), required=False, max_length=100
    )


class ConsentForm(Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, widget=ListSelect)
    scope = forms.ChoiceField(label=_("Scope"), choices=ConsentScope.choices)
    given_on = DateField(label=_("Given on"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = all_organisations()


class CounsellorForm(Form):
    counsellor = forms.ChoiceField(
        label=_("Counsellor"), required=False,
        help_text=_("The client's own open tasks go to the new counsellor; a plan's tasks stay "
                    "with the plan's counsellor."),
    )  # fmt: skip
    version = VersionField()

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(u.id): u for u in candidates}
        self.fields["counsellor"].choices = [
            ("", _("Nobody")),
            *((key, u.get_full_name() or u.username) for key, u in self.candidates.items()),
        ]

    def chosen(self):
        return self.candidates.get(self.cleaned_data["counsellor"] or "")


class WithdrawConsentForm(Form):
    withdrawn_on = DateField(label=_("Withdrawn on"), widget=DateInput())


class FamilyLinkForm(Form):
    relative = forms.CharField(
        label=_("Relative"),
        max_length=40,
        help_text=_("Personal identity code or temporary identifier of a client you can see."),
    )
    relation = forms.ChoiceField(label=_("The relative is the client's"), choices=Relation.choices)


class MeetingForm(Form):
    held_on = DateField(label=_("Date"), widget=DateInput())
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    interpreter_mode = forms.ChoiceField(
        label=_("Interpreting"), choices=Meeting.InterpreterMode.choices, required=False
    )
    interpreter_language = forms.ChoiceField(
        label=_("Interpreting language"), required=False, widget=ListSelect
    )
    interpreter_provider = forms.CharField(
        label=_("Interpreting provider"), max_length=200, required=False
    )
    interpreter_minutes = forms.IntegerField(
        label=_("Interpreting minutes"), min_value=0, max_value=1440, required=False
    )
    interpreter_cost = forms.DecimalField(
        label=_("Interpreting cost (€)"),
        min_value=0,
        max_digits=9,
        decimal_places=2,
        required=False,
    )
    client_no_show = forms.BooleanField(label=_("The client did not come"), required=False)
    no_show_reason_accepted = forms.BooleanField(
        label=_("Acceptable reason for not coming"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interpreter_language"].choices = _blank(codes.language_choices())
