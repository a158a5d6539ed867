"""The lobby: people who knock and wait until the owner or a moderator in the call lets them in.

A knock is a ``LobbyKnock`` row, so every server process sees the same waiting list: a host who
joins the call reads it from here, and a decision reaches the knocker's socket by its channel
name (``CallNotifier.knock_ended``), whichever process holds it. A decision is a conditional
update of a waiting row, so two hosts clicking at once decide once: the second finds nothing
waiting. Admit and deny are written to the moderation log.

Someone removed from the call knocks too while their kick's cooldown runs, whatever the room's
lobby setting (``rooms.access``): admitting them lifts the cooldown, denying them uses up their
one request, so a removed person cannot keep ringing the hosts.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rooms.audit import audit_record
from rooms.live import call_notifier
from rooms.models import AuditEntry, LobbyKnock, Participant, Room, RoomKick
from rooms.moderation import MODERATOR_ROLES

Status = LobbyKnock.Status


def knock_create(
    *, room: Room, user, role: str, channel_name: str, after_kick: bool = False
) -> LobbyKnock:
    """Put ``user`` in the lobby of ``room`` and tell the hosts in the call.

    A user has one waiting knock per room: an earlier one still waiting (a second tab, a
    reconnect) is withdrawn first, so the hosts never see the same person twice. ``after_kick``
    says they were removed from the call and wait out a cooldown (the hosts are shown that).
    """
    with transaction.atomic():
        earlier = list(
            LobbyKnock.objects.select_for_update().filter(
                room=room, user=user, status=Status.WAITING
            )
        )
        LobbyKnock.objects.filter(pk__in=[knock.pk for knock in earlier]).update(
            status=Status.LEFT, decided_at=timezone.now()
        )
        knock = LobbyKnock.objects.create(
            room=room, user=user, role=role, channel_name=channel_name, after_kick=after_kick
        )
    knock.user = user
    for old in earlier:
        call_notifier().knock_ended(knock=old, status=Status.LEFT)
    call_notifier().knock_added(knock=knock)
    return knock


def knocks_waiting(*, room: Room) -> list[LobbyKnock]:
    """The room's waiting knocks, oldest first, with their users."""
    return list(
        LobbyKnock.objects.filter(room=room, status=Status.WAITING)
        .select_related("user")
        .order_by("created_at", "id")
    )


def lobby_hosts_present(*, room: Room) -> bool:
    """Whether an owner or moderator is connected to the room's call now (any process)."""
    return Participant.objects.filter(room=room, role__in=MODERATOR_ROLES).connected().exists()


# A host's decisions are logged as moderation; a knock that expires or is withdrawn is not.
_HOST_DECISION_ACTIONS = {
    Status.ADMITTED: AuditEntry.Action.ADMIT,
    Status.DENIED: AuditEntry.Action.DENY,
}


def _end_knock(*, room: Room, knock_id: int, status: str, by=None) -> LobbyKnock | None:
    """Move a waiting knock of ``room`` to ``status``, log a host's decision and tell the call.

    None when the knock was not waiting any more (another host decided, it expired, or the
    knocker left): the conditional update decides once, whoever asks at the same moment.
    """
    action = _HOST_DECISION_ACTIONS.get(status)
    decided = LobbyKnock.objects.filter(pk=knock_id, room=room, status=Status.WAITING).update(
        status=status, decided_at=timezone.now(), decided_by=by if action else None
    )
    if not decided:
        return None
    knock = LobbyKnock.objects.select_related("user", "room").get(pk=knock_id)
    if knock.after_kick:
        _settle_kick(knock=knock, status=status)
    if action:
        audit_record(room=room, action=action, actor=by, target=knock.user)
        call_notifier().knock_ended(knock=knock, status=status, by=by)
    else:
        call_notifier().knock_ended(knock=knock, status=status)
    return knock


def _settle_kick(*, knock: LobbyKnock, status: str) -> None:
    """A host decided on someone removed from the call: in for good, or out until it ends.

    Done before the knocker's socket hears the decision, so its admission finds the kick gone.
    """
    kicks = RoomKick.objects.filter(room_id=knock.room_id, user_id=knock.user_id)
    if status == Status.ADMITTED:
        kicks.delete()
    elif status == Status.DENIED:
        kicks.update(may_knock=False)


def knock_admit(*, room: Room, knock_id: int, by) -> LobbyKnock | None:
    """Let a waiting knocker in: their socket enters the call at once. None if not waiting."""
    return _end_knock(room=room, knock_id=knock_id, status=Status.ADMITTED, by=by)


def knocks_admit_all(*, room: Room, by) -> list[LobbyKnock]:
    """Let every waiting knocker of ``room`` in; the knocks admitted."""
    admitted = []
    for waiting in knocks_waiting(room=room):
        knock = knock_admit(room=room, knock_id=waiting.pk, by=by)
        if knock is not None:
            admitted.append(knock)
    return admitted


def knock_deny(*, room: Room, knock_id: int, by) -> LobbyKnock | None:
    """Turn a waiting knocker away: they are told and their socket closes. None if not waiting."""
    return _end_knock(room=room, knock_id=knock_id, status=Status.DENIED, by=by)


def knock_expire(*, room: Room, knock_id: int) -> LobbyKnock | None:
    """A knock nobody answered in ``LOBBY_KNOCK_TIMEOUT_SECONDS``; None if decided meanwhile."""
    return _end_knock(room=room, knock_id=knock_id, status=Status.EXPIRED)


def knock_withdraw(*, room: Room, knock_id: int) -> LobbyKnock | None:
    """The knocker left the lobby (closed the page, lost the connection); None if decided."""
    return _end_knock(room=room, knock_id=knock_id, status=Status.LEFT)
