"""What rooms tells a call in progress, without knowing how calls are carried.

``rooms`` sits below ``signaling``: it decides and writes (a kick, a lock, an ended call) and
then announces the fact here. ``signaling`` implements ``CallNotifier`` and registers it in
``SignalingConfig.ready()``; it turns each fact into channel-layer events for the sockets of
that room, in whichever process holds them. Without a registered notifier (a management
command, a project without signaling) the facts are written and nobody live hears of them.
This is Galène's shape: ``group`` defines the interface that ``rtpconn`` implements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from accounts.models import User
    from rooms.models import LobbyKnock, Participant, Room


class CallNotifier(Protocol):
    """The facts about a room that its call in progress must hear."""

    def participant_kicked(
        self, *, participant: Participant, by: User | None, reason: str, banned: bool, ended: bool
    ) -> None:
        """``participant`` was removed; ``ended`` is True when this removal ended its row."""

    def participant_mute_requested(self, *, participant: Participant, by: User | None) -> None:
        """A moderator asked ``participant`` to turn its microphone off."""

    def room_locked(self, *, room: Room) -> None:
        """The room's lock changed; ``room.is_locked`` is the new value."""

    def call_ended(self, *, room: Room, by: User | None) -> None:
        """The call was ended for everyone (its rows are already ended)."""

    def role_changed(self, *, participant: Participant) -> None:
        """``participant.role`` is the participant's new role in the call."""

    def knock_added(self, *, knock: LobbyKnock) -> None:
        """Someone knocks in the room's lobby; the hosts in the call should see them."""

    def knock_ended(self, *, knock: LobbyKnock, status: str, by: User | None = None) -> None:
        """A knock stopped waiting (``status``: admitted, denied, expired, left); an admitted or
        denied knocker is told on its own socket."""


class _NobodyListening:
    """The notifier before (or without) a live-call layer: the database writes are the effect."""

    def participant_kicked(self, **facts) -> None:
        pass

    def participant_mute_requested(self, **facts) -> None:
        pass

    def room_locked(self, **facts) -> None:
        pass

    def call_ended(self, **facts) -> None:
        pass

    def role_changed(self, **facts) -> None:
        pass

    def knock_added(self, **facts) -> None:
        pass

    def knock_ended(self, **facts) -> None:
        pass


_notifier: CallNotifier = _NobodyListening()


def call_notifier_register(notifier: CallNotifier) -> None:
    """Make ``notifier`` the one that hears every room's facts (the live-call layer's ready())."""
    global _notifier
    _notifier = notifier


def call_notifier() -> CallNotifier:
    """The registered notifier, or one that tells nobody."""
    return _notifier
