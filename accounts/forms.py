"""Forms for signing up; login and password change use Django's own forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.names import clean_name


class SignupForm(UserCreationForm):
    """Username and password (twice), with an optional display name and email.

    Names follow accounts/names.py: normalised, no direction or invisible tricks; the model's
    clean() also refuses a username that looks like an existing one.
    """

    display_name = forms.CharField(
        max_length=80,
        required=False,
        label=_("Display name"),
        # Not stripped here: clean_name tells a name of only spaces apart from an empty one.
        strip=False,
        help_text=_("What others see in a call. Leave empty to use your username."),
    )
    email = forms.EmailField(
        required=False, label=_("Email"), help_text=_("Optional; only for password help.")
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "email")

    def clean_username(self) -> str | None:
        username = self.cleaned_data.get("username") or ""
        # The name rules first, so a bidi trick gets its own message rather than a lookup.
        self.cleaned_data["username"] = clean_name(username, label=_("Usernames"))
        return super().clean_username()

    def clean_display_name(self) -> str:
        return clean_name(self.cleaned_data["display_name"], label=_("Display names"))
