"""Which way a call carries media: a peer-to-peer mesh, or Janus's VideoRoom (the SFU).

The rule (issue #11): a room's ``media_mode`` is ``mesh``, ``sfu`` or ``auto``. Without Janus
configured (``JANUS_URLS`` empty) every call is a mesh. An ``sfu`` room's calls use the SFU from
the first person. An ``auto`` room's call moves to the SFU when someone arrives who would make it
larger than ``SFU_THRESHOLD``, and stays there until the room empties: a call that shrinks again
does not flip back (each switch costs everyone a renegotiation, and people come and go).

The decision is taken under the room's row lock in ``presence.participant_join``, so two people
joining at once in two processes cannot pick two different Janus rooms. The live call's SFU is
kept on the room's row (``sfu_node``, ``sfu_room``, ``sfu_secret``): every process reads the
same answer, and the admin shows it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from rooms.models import MediaMode, Room, participant_connected_q

MESH = "mesh"
SFU = "sfu"
# VideoRoom ids stay below 2**53 so that any JavaScript tool reading Janus's logs or admin
# output sees them exactly; meet's browsers never see them at all.
_ROOM_ID_LIMIT = 2**53 - 1


@dataclass(frozen=True)
class CallMedia:
    """How the live call carries media, and where its SFU room is when it has one.

    ``switched`` is set when this join moved a running mesh call to the SFU: everyone already
    in the call is then told (``media-mode``). ``retired`` is an earlier call's SFU room left
    behind (its last peer's process died before destroying it): the new call destroys it.
    """

    mode: str = MESH
    node: str = ""
    room: int | None = None
    secret: str = ""
    switched: bool = False
    retired: CallMedia | None = None

    @property
    def on_sfu(self) -> bool:
        return self.mode == SFU


def sfu_configured() -> bool:
    return bool(settings.JANUS_URLS)


def wants_sfu(*, room_mode: str, call_size: int, threshold: int, already_on_sfu: bool) -> bool:
    """Whether a call of ``call_size`` people (the newcomer counted) belongs on the SFU."""
    if already_on_sfu or room_mode == MediaMode.SFU:
        return True
    return room_mode == MediaMode.AUTO and call_size > threshold


# Nodes this process found dead (the Janus connection pool marks them); they take no new calls.
_unhealthy_nodes: set[str] = set()


def node_health_set(*, node: str, healthy: bool) -> None:
    if healthy:
        _unhealthy_nodes.discard(node)
    else:
        _unhealthy_nodes.add(node)


def sfu_node_choose(*, exclude_room_id: int) -> str:
    """The least loaded healthy Janus node: the one with the fewest live SFU calls."""
    nodes = [node for node in settings.JANUS_URLS if node not in _unhealthy_nodes]
    if not nodes:
        # Every node is thought dead: try them anyway rather than refuse the call.
        nodes = list(settings.JANUS_URLS)
    loads = dict(
        Room.objects.filter(sfu_node__in=nodes)
        .exclude(pk=exclude_room_id)
        .filter(participant_connected_q("participants__"))
        .values_list("sfu_node")
        .annotate(calls=Count("id", distinct=True))
    )
    return min(nodes, key=lambda node: (loads.get(node, 0), nodes.index(node)))


def call_media_settle(
    *,
    room_id: int,
    room_mode: str,
    current: CallMedia,
    others_connected: int,
) -> CallMedia:
    """Decide the call's media as one more person joins; write a change to the room's row.

    Runs inside ``participant_join``'s transaction, with the room's row locked; ``current`` is
    what that row said under the lock.
    """
    retired = None
    if others_connected == 0 and current.node:
        # Nobody is connected: whatever SFU room an earlier call had is over.
        retired = current
        current = CallMedia()
    if not sfu_configured():
        if retired:
            Room.objects.filter(pk=room_id).update(sfu_node="", sfu_room=None, sfu_secret="")
        return CallMedia(retired=retired)
    on_sfu = bool(current.node)
    if not wants_sfu(
        room_mode=room_mode,
        call_size=others_connected + 1,
        threshold=settings.SFU_THRESHOLD,
        already_on_sfu=on_sfu,
    ):
        if retired:
            Room.objects.filter(pk=room_id).update(sfu_node="", sfu_room=None, sfu_secret="")
        return CallMedia(retired=retired)
    if on_sfu:
        return CallMedia(mode=SFU, node=current.node, room=current.room, secret=current.secret)
    chosen = CallMedia(
        mode=SFU,
        node=sfu_node_choose(exclude_room_id=room_id),
        room=secrets.randbelow(_ROOM_ID_LIMIT) + 1,
        secret=secrets.token_hex(16),
        switched=others_connected > 0,
        retired=retired,
    )
    Room.objects.filter(pk=room_id).update(
        sfu_node=chosen.node, sfu_room=chosen.room, sfu_secret=chosen.secret
    )
    return chosen


def call_media_release_if_empty(*, room_id: int) -> CallMedia | None:
    """After a peer left: if nobody is connected any more, clear the call's SFU and return it.

    The caller destroys the Janus room it returns. It runs under the room's row lock, the same
    one ``participant_join`` takes: a newcomer is either seen connected here (and the call keeps
    its SFU) or joins after the row was cleared (and starts a new call). Of two processes whose
    last peers leave at once, only the first finds a room to destroy.
    """
    with transaction.atomic():
        room = (
            Room.objects.select_for_update()
            .filter(pk=room_id)
            .values("sfu_node", "sfu_room", "sfu_secret")
            .first()
        )
        if room is None or not room["sfu_node"]:
            return None
        still_connected = Room.objects.filter(pk=room_id).filter(
            participant_connected_q("participants__")
        )
        if still_connected.exists():
            return None
        Room.objects.filter(pk=room_id).update(sfu_node="", sfu_room=None, sfu_secret="")
    return CallMedia(
        mode=SFU, node=room["sfu_node"], room=room["sfu_room"], secret=room["sfu_secret"]
    )
