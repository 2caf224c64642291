import copy

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from koto.core import clock
from koto.core.forms import Form, VersionField
from koto.core.roles import Perm, kinds_with
from koto.organisations.selectors import all_organisations
from koto.referrals.models import AccessScope, ReferralKind


class ReferralForm(Form):
    kind = forms.ChoiceField(label=_("Type of referral"), choices=ReferralKind.choices)
    to_organisation = forms.ModelChoiceField(
        label=_("Receiving organisation"),
        queryset=None,
        required=False,
        help_text=_("Leave empty for a recipient not on Koto."),
    )
    external_name = forms.CharField(
        label=_("Recipient not on Koto"),
        max_length=200,
        required=False,
        help_text=_("The organisation or unit, when it does not use Koto."),
    )
    external_contact = forms.CharField(
        label=_("Recipient's address and contact details"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    scope = forms.ChoiceField(
        label=_("Access to the client's records once accepted"),
        choices=AccessScope.choices,
        initial=AccessScope.NONE,
        help_text=_(
            "The receiving organisation gets this access only when it accepts. A transfer "
            "gives it the whole record instead: this choice does not apply to one."
        ),
    )
    message = forms.CharField(
        label=_("Message to the recipient"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Why you refer the client and what you ask of the recipient."),
    )
    include_identity_code = forms.BooleanField(
        label=_("Include the personal identity code"), required=False
    )
    include_contact_details = forms.BooleanField(
        label=_("Include the client's contact details"), required=False
    )
    # offered only once a contact asking for an assessment (9 §) was refused because the
    # law routes it to another authority (`offer_confirmation`)
    confirm_recipient = forms.BooleanField(
        label=_("Send the contact to this organisation all the same"), required=False
    )

    def __init__(
        self,
        *args,
        exclude_organisation_id: int | None = None,
        offer_confirm: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if not offer_confirm:
            self.fields.pop("confirm_recipient")
        today = clock.today()
        qs = all_organisations().filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=today),
            kind__in=kinds_with(Perm.REFERRAL_MANAGE),
        )
        if exclude_organisation_id:
            qs = qs.exclude(id=exclude_organisation_id)
        self.fields["to_organisation"].queryset = qs

    def offer_confirmation(self) -> None:
        """Show the box that sends a 9 § contact to the chosen authority all the same."""
        if "confirm_recipient" not in self.fields:
            self.fields["confirm_recipient"] = copy.deepcopy(self.base_fields["confirm_recipient"])


class AcceptForm(Form):
    note = forms.CharField(
        label=_("Note (optional)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    version = VersionField()


class ReasonForm(Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    version = VersionField()


class CompleteForm(Form):
    note = forms.CharField(
        label=_("What was done (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    version = VersionField()


class ReopenForm(Form):
    comment = forms.CharField(
        label=_("Why the referral is reopened"), widget=forms.Textarea(attrs={"rows": 3})
    )
    version = VersionField()
