"""Writes about accounts: creating a user from the signup form's cleaned data."""

from __future__ import annotations

from accounts.models import User


def user_create(*, username: str, password: str, display_name: str = "", email: str = "") -> User:
    """Create an active, non-staff user with a hashed password.

    The signup form has already validated the username's uniqueness and the password's
    strength; this is the single place that turns that into a stored account.
    """
    return User.objects.create_user(
        username=username,
        password=password,
        display_name=display_name.strip(),
        email=email.strip(),
    )
