"""Call history (participant rows) past PARTICIPANT_RETENTION_DAYS and moderation log entries
past AUDIT_RETENTION_DAYS go, with chat, daily."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from rooms import services
from rooms.audit import audit_record
from rooms.models import AuditEntry, ChatMessage, Participant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_purge_yet")]


@pytest.fixture
def call_history(make_room):
    """``call_history(ended_days_ago)``: a participant row; ``None`` for a call still going on."""
    room = make_room("History")
    count = iter(range(1000))

    def make(ended_days_ago: float | None, joined_days_ago: float = 400) -> Participant:
        now = timezone.now()
        participant = Participant.objects.create(
            room=room,
            user=room.owner,
            peer_id=f"peer-{next(count)}",
            role="owner",
            last_seen=now,
        )
        Participant.objects.filter(pk=participant.pk).update(
            joined_at=now - timedelta(days=joined_days_ago),
            left_at=None if ended_days_ago is None else now - timedelta(days=ended_days_ago),
        )
        return participant

    return make


def remaining() -> set[int]:
    return set(Participant.objects.values_list("pk", flat=True))


def test_history_of_calls_ended_past_the_retention_is_deleted(call_history, settings):
    settings.PARTICIPANT_RETENTION_DAYS = 30
    old = call_history(ended_days_ago=31)
    recent = call_history(ended_days_ago=29)
    assert services.participants_purge() == 1
    assert remaining() == {recent.pk}
    assert not Participant.objects.filter(pk=old.pk).exists()


def test_a_call_still_going_on_is_never_purged_however_old(call_history, settings):
    settings.PARTICIPANT_RETENTION_DAYS = 1
    live = call_history(ended_days_ago=None, joined_days_ago=500)
    assert services.participants_purge() == 0
    assert remaining() == {live.pk}


def test_retention_zero_keeps_call_history_forever(call_history, settings):
    settings.PARTICIPANT_RETENTION_DAYS = 0
    kept = call_history(ended_days_ago=3000)
    assert services.participants_purge() == 0
    assert remaining() == {kept.pk}


def test_command_purges_chat_and_history_and_dry_run_deletes_nothing(call_history, settings):
    settings.PARTICIPANT_RETENTION_DAYS = 30
    settings.CHAT_RETENTION_DAYS = 90
    call_history(ended_days_ago=40)
    room = Participant.objects.first().room
    message = ChatMessage.objects.create(room=room, user=room.owner, text="old")
    ChatMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(days=100)
    )

    out = StringIO()
    call_command("purge_history", "--dry-run", stdout=out)
    assert "Would delete 1 chat messages older than 90 days." in out.getvalue()
    assert "Would delete 1 call history rows older than 30 days." in out.getvalue()
    assert Participant.objects.count() == 1 and ChatMessage.objects.count() == 1

    out = StringIO()
    call_command("purge_history", stdout=out)
    assert "Deleted 1 chat messages" in out.getvalue()
    assert "Deleted 1 call history rows" in out.getvalue()
    assert Participant.objects.count() == 0 and ChatMessage.objects.count() == 0


def test_the_daily_automatic_purge_takes_call_history_too(call_history, settings):
    settings.PARTICIPANT_RETENTION_DAYS = 30
    call_history(ended_days_ago=45)
    room = Participant.objects.first().room
    services.chat_message_create(room=room, user=room.owner, text="first today")
    assert Participant.objects.count() == 0
    # Once a day: a second, older row made now survives the next message of the day.
    call_history(ended_days_ago=45)
    services.chat_message_create(room=room, user=room.owner, text="second today")
    assert Participant.objects.count() == 1


# --- The moderation log -----------------------------------------------------------------------


@pytest.fixture
def audit_entry(make_room):
    """``audit_entry(days_ago)``: a moderation log entry written that many days ago."""
    room = make_room("Audited")

    def make(days_ago: float) -> AuditEntry:
        entry = audit_record(room=room, action=AuditEntry.Action.LOCK, actor=room.owner)
        AuditEntry.objects.filter(pk=entry.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
        return entry

    return make


def audit_remaining() -> set[int]:
    return set(AuditEntry.objects.values_list("pk", flat=True))


def test_moderation_log_entries_past_the_retention_are_deleted(audit_entry, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    audit_entry(days_ago=366)
    recent = audit_entry(days_ago=364)
    assert services.audit_entries_purge(dry_run=True) == 1
    assert len(audit_remaining()) == 2
    assert services.audit_entries_purge() == 1
    assert audit_remaining() == {recent.pk}


def test_retention_zero_keeps_the_moderation_log_forever(audit_entry, settings):
    settings.AUDIT_RETENTION_DAYS = 0
    kept = audit_entry(days_ago=5000)
    assert services.audit_entries_purge() == 0
    assert audit_remaining() == {kept.pk}


def test_command_purges_the_moderation_log_and_says_so(audit_entry, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    audit_entry(days_ago=31)
    out = StringIO()
    call_command("purge_history", "--dry-run", stdout=out)
    assert "Would delete 1 moderation log entries older than 30 days." in out.getvalue()
    assert AuditEntry.objects.count() == 1
    out = StringIO()
    call_command("purge_history", stdout=out)
    assert "Deleted 1 moderation log entries older than 30 days." in out.getvalue()
    assert AuditEntry.objects.count() == 0
    settings.AUDIT_RETENTION_DAYS = 0
    out = StringIO()
    call_command("purge_history", stdout=out)
    assert "Moderation log entries: kept forever (retention 0)." in out.getvalue()


def test_the_daily_automatic_purge_takes_the_moderation_log_too(audit_entry, settings):
    # Chat and call history kept forever: the log's own retention is enough to make it run.
    settings.CHAT_RETENTION_DAYS = 0
    settings.PARTICIPANT_RETENTION_DAYS = 0
    settings.AUDIT_RETENTION_DAYS = 30
    audit_entry(days_ago=45)
    room = AuditEntry.objects.get().room
    services.chat_message_create(room=room, user=room.owner, text="first today")
    assert AuditEntry.objects.count() == 0
