from django import forms
from django.utils.translation import gettext_lazy as _

from koto.core.forms import Form
from koto.core.roles import roles_for_kind


class MemberAddForm(Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
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


class TokenAddForm(Form):
    name = forms.CharField(label=_("Name of the system"), max_length=100)
