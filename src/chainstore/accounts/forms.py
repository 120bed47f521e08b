"""Forms: input parsing only (types, required, the two new passwords match); rules live in
the services, whose refusals the views attach to the field they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chainstore.accounts.models import ROLE_CHOICES
from chainstore.core.errors import DomainError
from chainstore.sites.models import Site


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def attach_error(form: forms.Form, error: DomainError, message: str) -> None:
    """Show a service refusal next to the field it is about (else at the top of the form)."""
    field = error.details.get("field")
    aliases = {"password": ("password", "new_password1"), "sites": ("sites",)}
    for name in aliases.get(str(field), (str(field),)):
        if name in form.fields:
            form.add_error(name, message)
            return
    form.add_error(None, message)


class ScopeFields(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    all_sites = forms.BooleanField(label=_("All sites"), required=False)
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("Hold Ctrl (or ⌘) to pick several sites."),
    )

    def __init__(self, *args: Any, sites: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sites is not None:
            field = self.fields["sites"]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = sites
        self.fields["sites"].widget.attrs["size"] = "8"
        self.fields["all_sites"].widget.attrs["x-model"] = "all"
        _style(self)


class UserCreateForm(ScopeFields):
    username = forms.CharField(label=_("Username"), max_length=150)
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["username", "name", "email", "role", "all_sites", "sites", "password"]


class RoleSitesForm(ScopeFields):
    pass


class NewPasswordFields(forms.Form):
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("Repeat the new password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two passwords do not match."))
        return data


class ResetPasswordForm(NewPasswordFields):
    pass


class ChangePasswordForm(NewPasswordFields):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    field_order = ["old_password", "new_password1", "new_password2"]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What will use it, e.g. “ERP sync” or “POS store 12”."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
