from django import forms
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from koto.accounts.services import password_change, password_change_check
from koto.core.errors import DomainError
from koto.core.forms import Form
from koto.core.roles import roles_for_kind


class MemberAddForm(Form):
    NEW, EXISTING = "new", "existing"
    user_kind = forms.ChoiceField(
        label=_("Give the role to"),
        choices=[(NEW, _("A new user")), (EXISTING, _("An existing user"))],
        widget=forms.RadioSelect,
        initial=NEW,
        required=False,  # a new user unless chosen
        help_text=_(
            "An existing user (someone of another organisation or unit who already signs in "
            "to Koto) keeps their own password: give only their username and last name."
        ),
    )
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        required=False,
        help_text=_("For an existing user, as recorded in Koto: it confirms whom you mean."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(
        label=_("Initial password (new users only)"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
    )
    role = forms.ChoiceField(label=_("Role"), choices=[])

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        # only the roles this kind of organisation may give (`koto.core.roles.KIND_ROLES`)
        self.fields["role"].choices = roles_for_kind(kind)

    def clean_user_kind(self) -> bool:
        """True for an existing user."""
        return self.cleaned_data.get("user_kind") == self.EXISTING


class TokenAddForm(Form):
    name = forms.CharField(label=_("Name of the system"), max_length=100)


class AuditedAdminPasswordChangeForm(AdminPasswordChangeForm):
    """The admin site's own "Change password" (`/admin/password_change/`, set as
    `admin.site.password_change_form` in `AccountsConfig.ready`): the same rules and the same
    audited write as the "Change password" page (`password_change`); Django's form wrote the
    password unaudited."""

    def clean(self):
        cleaned = super().clean()
        new = cleaned.get("new_password1")
        if new and not self.errors:
            try:
                password_change_check(user=self.user, new_password=new)
            except DomainError as e:
                for msgs in e.fields.values():
                    for msg in msgs:
                        self.add_error("new_password1", msg)
        return cleaned

    def save(self, commit=True):
        return password_change(
            user=self.user, new_password=self.cleaned_data["new_password1"], reason="admin"
        )
