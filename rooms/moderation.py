"""Actions that touch a call in progress: kick, ask to mute, lock, end, ban, edit, change a role.

The Django admin, the owner's settings page and the in-room controls call these same services.
Each one records its effect in the database first (through ``rooms.services`` where a plain write
exists) and then announces the fact through ``rooms.live``; the live-call layer (``signaling``)
tells the affected sockets, in whichever server process holds them. Nothing here knows the wire
format.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rooms.access import room_role_for
from rooms.audit import Action, audit_record, lobby_short_label
from rooms.live import call_notifier
from rooms.models import (
    REASON_KICKED,
    REASON_ROOM_ENDED,
    Participant,
    Room,
    RoomBan,
    RoomKick,
    RoomMembership,
)
from rooms.services import (
    participant_leave,
    room_close,
    room_membership_remove,
    room_membership_set,
    room_set_locked,
    room_update,
)

if TYPE_CHECKING:
    from accounts.models import User

MODERATOR_ROLES = frozenset({Participant.Role.OWNER, Participant.Role.MODERATOR})
# Why in-room moderation was refused (``ModerationRefused.reason``); the live-call layer says so
# to the client in its own words (signaling.wire maps these to error codes).
REFUSED_SELF = "self"
REFUSED_OWNER = "owner"


class ModerationRefused(Exception):
    """The moderator may not do this to this participant (``reason`` says why).

    ``message`` is a lazy translation: the live-call layer renders it in its socket's language.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def can_moderate(*, role: str) -> bool:
    """Whether a participant with ``role`` may kick, mute, lock and end."""
    return role in MODERATOR_ROLES


def moderation_check_target(*, actor: Participant, target: Participant) -> None:
    """Refuse in-room moderation of oneself or of the room's owner by anyone else.

    The admin is not bound by this: staff act on any participant from there.
    """
    if target.pk == actor.pk or target.peer_id == actor.peer_id:
        raise ModerationRefused(REFUSED_SELF, _("You cannot do this to yourself."))
    if target.role == Participant.Role.OWNER and actor.role != Participant.Role.OWNER:
        raise ModerationRefused(REFUSED_OWNER, _("The room's owner cannot be moderated."))


def participant_kick(
    *, participant: Participant, by, reason: str = "", banned: bool = False
) -> None:
    """Remove a participant now: its row ends (reason ``kicked``) and the call is told
    (``CallNotifier.participant_kicked``: the socket hears it was kicked and is closed, the
    others that it left).

    The socket is reached by its channel name, so the caller (an admin request, another
    process's consumer) need not be where the socket is. Unless the removal is part of a ban
    (``banned``, which keeps them out for good and says so in the frame), the user may not
    come back for ``KICK_COOLDOWN_SECONDS``: without that a removed person clicks Join and is
    back within seconds. The room's owner gets no cooldown, as they cannot be banned either.

    The moderation log gets a ``kick`` entry, except for a kick that is part of a ban: the ban
    is recorded once, as ``ban``, however many connections it ends.
    """
    if not banned:
        _kick_cooldown_start(participant=participant, by=by, reason=reason)
    ended = participant_leave(participant_id=participant.pk, reason=REASON_KICKED)
    if not banned:
        audit_record(
            room=participant.room,
            action=Action.KICK,
            actor=by,
            target=participant.user,
            detail=reason,
        )
    call_notifier().participant_kicked(
        participant=participant, by=by, reason=reason, banned=banned, ended=ended
    )


def participant_ask_mute(*, participant: Participant, by) -> None:
    """Ask a participant to turn its microphone off; the call is told and the client obeys."""
    audit_record(room=participant.room, action=Action.MUTE, actor=by, target=participant.user)
    call_notifier().participant_mute_requested(participant=participant, by=by)


def room_lock(*, room: Room, by, locked: bool) -> Room:
    """Lock or unlock the room and tell everyone in it (``CallNotifier.room_locked``).

    The moderation log records a change of lock (``lock`` or ``unlock``); locking a room that
    is already locked, as a second moderator's click does, is announced but not logged again.
    """
    # The stored value, not the instance's: a consumer's room was loaded when it connected.
    was_locked = Room.objects.filter(pk=room.pk).values_list("is_locked", flat=True).get()
    room = room_set_locked(room=room, locked=locked)
    if room.is_locked != was_locked:
        action = Action.LOCK if room.is_locked else Action.UNLOCK
        audit_record(room=room, action=action, actor=by)
    call_notifier().room_locked(room=room)
    return room


def room_edit(*, room: Room, by: User | None = None, **fields) -> Room:
    """Save the owner's settings form: editable fields and the lock.

    The other fields go through ``rooms.services.room_update`` (its ``TypeError`` and
    ``ValidationError`` apply, and nothing is saved or announced then). A change of lock goes
    through ``room_lock``, so the call in progress hears of it as when a moderator locks from
    inside the call; an unchanged lock is not announced again. A change to who may enter
    (``guests_allowed``, ``lobby``, ``lobby_when_locked``) is recorded in the moderation log,
    old value → new; saving the form with them unchanged records nothing.
    """
    locked = fields.pop("is_locked", None)
    # Values are compared with the stored ones, not the instance's: a ModelForm has already
    # copied the submitted values onto the instance by the time it calls this.
    stored = Room.objects.filter(pk=room.pk).values(*_ENTRY_RULE_FIELDS, "is_locked").get()
    room = room_update(room=room, **fields)
    _entry_rule_changes_record(room=room, by=by, before=stored)
    if locked is not None and bool(locked) != stored["is_locked"]:
        room = room_lock(room=room, locked=bool(locked), by=by)
    return room


# The settings that decide who gets in without a host's say, logged when they change.
_ENTRY_RULE_FIELDS = ("guests_allowed", "lobby", "lobby_when_locked")


def _entry_rule_changes_record(*, room: Room, by: User | None, before: dict) -> None:
    if room.guests_allowed != before["guests_allowed"]:
        audit_record(
            room=room,
            action=Action.GUESTS,
            actor=by,
            detail=f"{_guests_words(before['guests_allowed'])} → "
            f"{_guests_words(room.guests_allowed)}",
        )
    if room.lobby != before["lobby"]:
        audit_record(
            room=room,
            action=Action.LOBBY,
            actor=by,
            detail=f"{lobby_short_label(before['lobby'])} → {lobby_short_label(room.lobby)}",
        )
    if room.lobby_when_locked != before["lobby_when_locked"]:
        audit_record(
            room=room,
            action=Action.LOBBY,
            actor=by,
            detail=f"while locked: {_locked_words(before['lobby_when_locked'])} → "
            f"{_locked_words(room.lobby_when_locked)}",
        )


def _guests_words(allowed: bool) -> str:
    return "guests allowed" if allowed else "no guests"


def _locked_words(lobby_when_locked: bool) -> str:
    return "newcomers wait in the lobby" if lobby_when_locked else "newcomers turned away"


def _kick_cooldown_start(*, participant: Participant, by, reason: str) -> None:
    cooldown = settings.KICK_COOLDOWN_SECONDS
    if cooldown <= 0 or participant.user_id == participant.room.owner_id:
        return
    RoomKick.objects.update_or_create(
        room_id=participant.room_id,
        user_id=participant.user_id,
        defaults={
            "until": timezone.now() + timedelta(seconds=cooldown),
            "reason": reason.strip(),
            "may_knock": True,
            "kicked_by": by,
        },
    )


def room_end(*, room: Room, by) -> Room:
    """End the call for everyone (each peer is told, then closed); the room stays open.

    Used by the in-call "end for everyone" and the admin's "end call" action; ``by`` is the user
    doing it, shown to the peers. The room and its link stay as they were, so the next meeting
    starts there as usual: closing a room is the owner's (or staff's) separate decision,
    ``room_close_and_end_call``, so a moderator cannot close a room behind its owner's back.

    The moderation log gets an ``end`` entry when there was a call to end; ending the call of
    an empty room (the admin's action on many rooms at once) changes nothing and logs nothing.
    """
    ended = _live_participants(room=room).update(
        left_at=timezone.now(), leave_reason=REASON_ROOM_ENDED
    )
    if ended:
        audit_record(room=room, action=Action.END, actor=by)
    call_notifier().call_ended(room=room, by=by)
    return room


def room_close_and_end_call(*, room: Room, by) -> Room:
    """Close the room and end any call in it (``room_end``).

    The owner's "Close room" on the settings page and the admin's "close" action use it. A
    closed room answers "not found" (4404 to sockets) to everyone but staff, and is listed to
    its owner, who can reopen it (``rooms.services.room_reopen``). The moderation log gets a
    ``close`` entry, followed by ``end`` if a call was in progress (see ``room_end``); closing
    a room that is already closed logs nothing.
    """
    was_open = room.closed_at is None
    room = room_close(room=room)
    if was_open:
        audit_record(room=room, action=Action.CLOSE, actor=by)
    return room_end(room=room, by=by)


def room_ban_user(*, room: Room, user: User, by: User | None = None, reason: str = "") -> RoomBan:
    """Ban ``user`` from ``room`` and remove them from any call there right now.

    The user stops being a member or moderator of the room. The owner cannot be banned from
    their own room (the access rule ignores such a ban, so it would only mislead); that raises
    ``ValidationError``. Banning again updates the reason. Each connection the user has in the
    room is kicked as ``participant_kick`` does, the kick saying it is a ban (``banned``)
    and the reason, if one was given. The moderation log gets one ``ban`` entry with the
    reason as its detail.
    """
    if room.owner_id == user.pk:
        raise ValidationError(_("The owner of a room cannot be banned from it."))
    with transaction.atomic():
        # The room row's lock is the one participant_join holds while it admits a socket: a
        # socket admitted concurrently either sees this ban or is committed before the kick
        # below lists the live participants, so it cannot slip past the ban.
        Room.objects.select_for_update().filter(pk=room.pk).first()
        ban, _created = RoomBan.objects.update_or_create(
            room=room, user=user, defaults={"reason": reason.strip(), "banned_by": by}
        )
        # A ban ends membership too, so lifting it later does not quietly restore old rights.
        RoomMembership.objects.filter(room=room, user=user).delete()
        audit_record(room=room, action=Action.BAN, actor=by, target=user, detail=ban.reason)
    for participant in _live_participants(room=room, user=user).select_related("room"):
        participant_kick(participant=participant, by=by, reason=reason.strip(), banned=True)
    return ban


def room_person_standing_set(
    *, room: Room, user: User, role: str | None, by: User | None = None
) -> None:
    """Make ``user`` a member or moderator of ``room`` (``role``), or no member at all (None).

    Someone in the call right now gets the new role at once: their connections are told, and so
    are the others, so moderation controls appear or go without a reconnect. Removing a member
    does not end their call (a ban does); it only takes back rights held through membership.
    A real change is recorded in the moderation log as ``role`` ("member → moderator", "no
    longer a member"); setting the role someone already has records nothing.
    """
    previous = (
        RoomMembership.objects.filter(room=room, user=user).values_list("role", flat=True).first()
    )
    if role is None:
        room_membership_remove(room=room, user=user)
    else:
        room_membership_set(room=room, user=user, role=role)
    membership_change_record(room=room, user=user, before=previous, after=role, by=by)
    participant_roles_refresh(room=room, user=user)


def membership_change_record(
    *, room: Room, user: User, before: str | None, after: str | None, by: User | None
) -> None:
    """Log a change of ``user``'s membership role in ``room`` (None: no membership), if any.

    ``room_person_standing_set`` calls it, and so does the admin's membership inline, whose
    rows are saved by the admin itself.
    """
    if before == after:
        return
    if after is None and before == RoomMembership.Role.MEMBER:
        detail = "no longer a member"
    elif after is None:
        detail = f"{_membership_words(before)} → no longer a member"
    else:
        detail = f"{_membership_words(before)} → {_membership_words(after)}"
    audit_record(room=room, action=Action.ROLE, actor=by, target=user, detail=detail)


def _membership_words(role: str | None) -> str:
    if role is None:
        return "not a member"
    return RoomMembership.Role(role).label.lower()


def participant_roles_refresh(*, room: Room, user: User) -> None:
    """Give ``user``'s live participants in ``room`` the role the access rule grants now.

    Each one whose role changes is saved and announced (``CallNotifier.role_changed``): the
    room hears it, and the participant's own socket checks its moderation rights against it.
    A moderator removed from a private room is a member for the rest of the call (removal
    takes back rights, not the call).
    """
    role = room_role_for(user=user, room=room)
    for participant in _live_participants(room=room, user=user).exclude(role=role):
        participant.role = role
        participant.save(update_fields=["role"])
        call_notifier().role_changed(participant=participant)


def _live_participants(*, room: Room, user: User | None = None):
    """Participant rows of ``room`` (of ``user`` only, if given) whose call has not ended."""
    live = Participant.objects.filter(room=room).open()
    return live if user is None else live.filter(user=user)
