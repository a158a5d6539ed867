"""Forms for signing up; login and password change use Django's own forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignupForm(UserCreationForm):
    """Username and password (twice), with an optional display name and email."""

    display_name = forms.CharField(
        max_length=80,
        required=False,
        help_text="What others see in a call. Leave empty to use your username.",
    )
    email = forms.EmailField(required=False, help_text="Optional; only for password help.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "email")

    def clean_display_name(self) -> str:
        return self.cleaned_data["display_name"].strip()
