"""Guest identities: people in a call without an account, held by their browser session.

A guest is a ``User`` row with ``is_guest`` set, so chat, kicks, bans and the admin treat them
like anyone else. Nobody can log in as a guest: the password is unusable, the username has a
colon, which signup's username rules refuse (so no account can ever share or take it), and the
login form refuses guests outright. The session never holds an auth login for a guest, only
the guest's id under ``GUEST_SESSION_KEY``: every page behind ``login_required`` (creating
rooms, settings, the admin) stays closed to them.

One session has one guest identity for its life: entering another room, or the same room
under a new name, reuses it. That is what makes a ban on the guest also a ban on the browser
session it came from.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from accounts.models import User
from accounts.names import clean_name

GUEST_SESSION_KEY = "meet.guest_id"
# "guest:" then random letters; the colon is what no signup username can contain.
GUEST_USERNAME_PREFIX = "guest:"
GUEST_NAME_MAX_LENGTH = 80


def guest_display_name_clean(value: str) -> str:
    """The name a guest gave, under the same rules as display names; ``ValidationError`` else."""
    name = clean_name(value or "", label=gettext("Names"))
    if not name:
        raise ValidationError(gettext("Enter the name the others will see."))
    if len(name) > GUEST_NAME_MAX_LENGTH:
        raise ValidationError(
            gettext("Names can be at most %(limit)d characters (this one has %(length)d).")
            % {"limit": GUEST_NAME_MAX_LENGTH, "length": len(name)}
        )
    return name


def guest_from_session(session) -> User | None:
    """The session's guest, or None (no guest, or its row was deleted)."""
    guest_id = session.get(GUEST_SESSION_KEY) if session is not None else None
    if not guest_id:
        return None
    return User.objects.filter(pk=guest_id, is_guest=True, is_active=True).first()


def guest_for_session(session, *, display_name: str) -> User:
    """The session's guest under ``display_name``, made on first use and renamed after."""
    guest = guest_from_session(session)
    if guest is None:
        guest = User(
            username=f"{GUEST_USERNAME_PREFIX}{secrets.token_urlsafe(9)}",
            display_name=display_name,
            is_guest=True,
        )
        guest.set_unusable_password()
        guest.save()
        session[GUEST_SESSION_KEY] = guest.pk
    elif guest.display_name != display_name:
        guest.display_name = display_name
        guest.save(update_fields=["display_name"])
    return guest
