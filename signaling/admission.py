"""Admission of a signaling socket: the access rule, the seat count and the ``welcome`` frame.

One synchronous function so the consumer makes a single trip to the database thread on connect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext, ngettext

from rooms.access import FORBIDDEN, room_access_for
from rooms.guests import guest_invite_token, room_visitor
from rooms.lobby import knock_create, knocks_waiting
from rooms.models import LobbyKnock, Room
from rooms.moderation import MODERATOR_ROLES, can_moderate
from rooms.selectors import (
    chat_messages_latest_cached,
    room_with_access_facts,
    user_and_room_with_access_facts,
)
from rooms.services import room_membership_from_invite
from signaling.auth import deferred_user_id, scope_user
from signaling.presence import (
    BannedMeanwhile,
    JoinResult,
    RoomFull,
    TooManyConnections,
    participant_join,
    room_connected_participants,
)
from signaling.resume import resume_token_make, resume_token_peer_id
from signaling.wire import (
    ROOM_FULL,
    TOO_MANY_CONNECTIONS,
    chat_json,
    knock_json,
    media_json,
    peer_json,
    refusal_close_code,
    welcome_frame,
)


@dataclass(frozen=True)
class Admission:
    """A refusal (``error`` code, message and close code), a joined peer's welcome, or a knock.

    A knocker (``knock``) waits in the lobby; ``hosts`` are the peer ids of the owner and
    moderators in the call now, so its socket can say whether someone is there to let it in.
    """

    refusal: str | None = None
    knock: LobbyKnock | None = None
    hosts: frozenset[str] = frozenset()
    message: str = ""
    join: JoinResult | None = None
    room: Room | None = None
    welcome: dict[str, Any] = field(default_factory=dict)
    roster: dict[str, str] = field(default_factory=dict)

    @property
    def close_code(self) -> int:
        return refusal_close_code(self.refusal)


def _too_many_message() -> str:
    limit = settings.MAX_SOCKETS_PER_USER
    return ngettext(
        "You are already in this room in %(count)d window or tab. Close one to join here.",
        "You are already in this room in %(count)d windows or tabs. Close one to join here.",
        limit,
    ) % {"count": limit}


def _knocks_waiting(room: Room) -> list[LobbyKnock]:
    """The knocks a host's welcome lists, read only when the access read saw any waiting.

    A knock made after that read is still heard: its announcement goes to the room's group,
    which this socket joined before the admission began.
    """
    if not getattr(room, "access_lobby_waiting", True):
        return []
    return knocks_waiting(room=room)


def socket_admit(
    *,
    user,
    room: Room | None,
    channel_name: str,
    invite_token: str | None = None,
    resume_token: str | None = None,
    admitted: bool = False,
) -> Admission:
    """Admit ``user`` to ``room`` over a socket, or say why not.

    The same access rule as the room page decides (``room_access_for``); then a seat is taken
    (``room_full`` when none is left, though never for the owner or a moderator;
    ``too_many_connections`` when the user already has ``MAX_SOCKETS_PER_USER`` sockets here;
    ``forbidden`` when a ban landed meanwhile) and a valid ``resume_token`` keeps the earlier
    peer id.
    Someone the rule sends to the lobby knocks instead (``Admission.knock``), unless a host has
    just let them in (``admitted``, set by the knocker's own socket on the host's decision).
    The caller joins the room's group before calling, so every peer that joins after the
    roster below was read is announced to it.
    """
    access = room_access_for(user=user, room=room, invite_token=invite_token)
    if not access.allowed:
        return Admission(refusal=access.refusal, message=access.message)
    if access.knock and not admitted:
        connected = room_connected_participants(room=room)
        knock = knock_create(
            room=room,
            user=user,
            role=str(access.role),
            channel_name=channel_name,
            after_kick=access.after_kick,
        )
        hosts = frozenset(other.peer_id for other in connected if other.role in MODERATOR_ROLES)
        return Admission(knock=knock, room=room, hosts=hosts)
    resume_peer_id = (
        resume_token_peer_id(token=resume_token, user_id=user.pk, room_id=room.pk)
        if resume_token
        else None
    )
    try:
        join = participant_join(
            room=room,
            user=user,
            role=str(access.role),
            channel_name=channel_name,
            resume_peer_id=resume_peer_id,
        )
    except BannedMeanwhile:
        # The ban was committed after the access check above; asking again gives its message.
        banned = room_access_for(user=user, room=room, invite_token=invite_token)
        return Admission(
            refusal=banned.refusal or FORBIDDEN,
            message=banned.message or gettext("You have been banned from this room."),
        )
    except TooManyConnections:
        return Admission(refusal=TOO_MANY_CONNECTIONS, message=_too_many_message())
    except RoomFull:
        return Admission(refusal=ROOM_FULL, message=gettext("This room is full."))
    if access.via_invite:
        room_membership_from_invite(room=room, user=user)
    me = join.participant
    others = [other for other in join.others if other.peer_id != me.peer_id]
    welcome = welcome_frame(
        me=me,
        resumed=join.resumed,
        resume_token=resume_token_make(user_id=user.pk, room_id=room.pk, peer_id=me.peer_id),
        room=room,
        peers=[peer_json(other) for other in others],
        chat=[chat_json(message) for message in chat_messages_latest_cached(room=room)],
        lobby=[knock_json(knock) for knock in _knocks_waiting(room)]
        if can_moderate(role=me.role)
        else None,
        media=media_json(mode=join.media.mode),
    )
    roster = {other.peer_id: other.channel_name for other in others}
    return Admission(join=join, room=room, welcome=welcome, roster=roster)


def socket_admit_visitor(
    *,
    scope,
    slug: str,
    channel_name: str,
    query_invite: str | None = None,
    resume_token: str | None = None,
):
    """The whole admission in one database call: who the visitor is, the room, the verdict.

    Returns ``(user, invite_token, admission)``: the user (a guest's identity for a guest,
    read from the session; anonymous otherwise), the invite token that counted (a guest's is the
    one it entered with) and ``socket_admit``'s answer. The room is read together with the
    visitor's ban, kick and membership (``room_with_access_facts``), so the rule asks nothing
    more, and a logged-in visitor's user row comes in the same statement
    (``user_and_room_with_access_facts``; issue #14: at most four round trips a join).
    """
    session = scope.get("session")
    user_id = deferred_user_id(scope)
    if user_id is not None:
        # The session names its user's row: read it in the room's statement (issue #14).
        user_row, room = user_and_room_with_access_facts(user_id=user_id, slug=slug)
        user = scope_user(scope, user_row=user_row)
        if user is not user_row:
            # Channels' rule refused the row (an inactive user, a changed password) or there
            # was none: the facts read were about someone this visitor is not.
            user = room_visitor(user=user, session=session)
            room = room_with_access_facts(slug=slug, user=user)
    else:
        user = room_visitor(user=scope_user(scope), session=session)
        room = room_with_access_facts(slug=slug, user=user)
    invite_token = query_invite
    if getattr(user, "is_guest", False) and room is not None:
        invite_token = guest_invite_token(session=session, room=room)
    admission = socket_admit(
        user=user,
        room=room,
        channel_name=channel_name,
        invite_token=invite_token,
        resume_token=resume_token,
    )
    return user, invite_token, admission
