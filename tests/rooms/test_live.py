"""rooms.live: what the rooms services tell a call in progress, whoever carries the call."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rooms import live, moderation
from rooms.models import REASON_KICKED, REASON_ROOM_ENDED, Participant


class RecordingNotifier:
    """A CallNotifier that keeps every fact it hears, as (name, facts)."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, dict]] = []

    def __getattr__(self, name: str):
        return lambda **facts: self.heard.append((name, facts))


@pytest.fixture
def notifier():
    registered = live.call_notifier()
    recording = RecordingNotifier()
    live.call_notifier_register(recording)
    yield recording
    live.call_notifier_register(registered)


@pytest.fixture
def call(make_room, make_user):
    room = make_room("Board")
    bo = make_user("bo")
    row = Participant.objects.create(
        room=room, user=bo, peer_id="peer-bo", channel_name="x", last_seen=timezone.now()
    )
    return room, row


def test_a_kick_is_written_first_and_then_announced_once(notifier, call):
    room, row = call
    moderation.participant_kick(participant=row, by=room.owner, reason="noise")
    moderation.participant_kick(participant=row, by=room.owner, reason="noise")
    row.refresh_from_db()
    assert row.leave_reason == REASON_KICKED
    kicks = [facts for name, facts in notifier.heard if name == "participant_kicked"]
    # Both removals are told to the socket; only the one that ended the row says so.
    assert [(facts["reason"], facts["banned"], facts["ended"]) for facts in kicks] == [
        ("noise", False, True),
        ("noise", False, False),
    ]


def test_lock_end_and_role_changes_are_announced_as_facts(notifier, call):
    room, row = call
    moderation.room_lock(room=room, by=room.owner, locked=True)
    moderation.room_person_standing_set(room=room, user=row.user, role="moderator")
    moderation.room_end(room=room, by=room.owner)
    names = [name for name, _facts in notifier.heard]
    assert names == ["room_locked", "role_changed", "call_ended"]
    assert notifier.heard[0][1]["room"].is_locked is True
    assert notifier.heard[1][1]["participant"].role == "moderator"
    row.refresh_from_db()
    assert row.leave_reason == REASON_ROOM_ENDED


def test_without_a_live_call_layer_the_writes_still_stand(call, monkeypatch):
    room, row = call
    monkeypatch.setattr(live, "_notifier", live._NobodyListening())
    moderation.participant_kick(participant=row, by=room.owner)
    row.refresh_from_db()
    assert row.left_at is not None
