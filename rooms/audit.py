"""The moderation log: one ``AuditEntry`` row per moderation action, written by the service
that performs it.

Each service in ``rooms.moderation`` and ``rooms.services`` that kicks, mutes, bans, unbans,
locks, ends, closes, reopens, changes a role, makes a new invite link or changes who may enter
calls ``audit_record`` once its own write is done, so the owner's settings page and the admin
read the same history whichever door the action came through (the call, the settings page,
the admin). The lobby records ``ADMIT`` and ``DENY`` through this same function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms.models import AuditEntry, LobbyPolicy, Room

if TYPE_CHECKING:
    from accounts.models import User

Action = AuditEntry.Action

_NAME_MAX_LENGTH = AuditEntry._meta.get_field("actor_name").max_length
_DETAIL_MAX_LENGTH = AuditEntry._meta.get_field("detail").max_length

# The lobby policies in a few words, for a log line ("no lobby → guests wait").
LOBBY_SHORT_LABELS = {
    LobbyPolicy.OFF: "no lobby",
    LobbyPolicy.GUESTS: "guests wait",
    LobbyPolicy.NON_MEMBERS: "everyone but members waits",
}


def audit_record(
    *,
    room: Room,
    action: str,
    actor: User | None = None,
    target: User | None = None,
    detail: str = "",
) -> AuditEntry:
    """Record that ``actor`` did ``action`` (an ``AuditEntry.Action``) to ``target`` in ``room``.

    ``actor`` is None for what nobody in particular did (a system task); an anonymous user
    counts as None too. The names shown (``shown_name``: the display name, else the username)
    are copied into the row, so it still reads right after a rename or a deleted account.
    ``detail`` says what changed or why (a ban's reason, "member → moderator") and is cut to
    fit its column rather than refused: losing the end of a long reason must never undo the
    action being recorded.

    The lobby calls this with ``Action.ADMIT`` or ``Action.DENY``, the host as ``actor`` and
    the knocker as ``target``.
    """
    actor = _real_user(actor)
    target = _real_user(target)
    return AuditEntry.objects.create(
        room=room,
        action=Action(action),
        actor=actor,
        actor_name=_name_of(actor),
        target=target,
        target_name=_name_of(target),
        detail=detail.strip()[:_DETAIL_MAX_LENGTH],
    )


def lobby_short_label(policy: str) -> str:
    """A lobby policy in a few words, for a log line; an unknown value is shown as stored."""
    return LOBBY_SHORT_LABELS.get(policy, policy)


def _real_user(user: User | None) -> User | None:
    # AnonymousUser has no primary key and cannot be stored as a foreign key.
    return user if user is not None and getattr(user, "pk", None) is not None else None


def _name_of(user: User | None) -> str:
    if user is None:
        return ""
    name = getattr(user, "shown_name", "") or user.username
    return name[:_NAME_MAX_LENGTH]
