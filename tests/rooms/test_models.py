"""The participant rules: open rows and connected rows, written once in rooms.models."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from rooms.models import Participant


def test_connected_is_open_and_seen_within_the_stale_limit(make_room, make_user, settings):
    room = make_room("Board")
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PRESENCE_STALE_SECONDS + 1)

    def row(peer_id, **fields):
        return Participant.objects.create(
            room=room, user=make_user(peer_id), peer_id=peer_id, **{"last_seen": now, **fields}
        )

    row("live")
    row("ghost", last_seen=stale)
    row("gone", left_at=now)
    peers = Participant.objects.filter(room=room)
    assert set(peers.open().values_list("peer_id", flat=True)) == {"live", "ghost"}
    assert list(peers.connected().values_list("peer_id", flat=True)) == ["live"]
