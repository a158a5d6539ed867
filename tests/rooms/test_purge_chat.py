"""``manage.py purge_chat`` and the automatic daily purge: chat older than the retention goes."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from rooms import services
from rooms.models import ChatMessage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_purge_yet")]


@pytest.fixture
def chat(make_room):
    """``chat(days_ago, text)``: a stored message written that many days ago."""
    room = make_room("Board")

    def write(days_ago: float, text: str = "hello") -> ChatMessage:
        message = ChatMessage.objects.create(room=room, user=room.owner, text=text)
        created_at = timezone.now() - timedelta(days=days_ago)
        ChatMessage.objects.filter(pk=message.pk).update(created_at=created_at)
        return message

    return write


def texts() -> list[str]:
    return sorted(ChatMessage.objects.values_list("text", flat=True))


def run(*args: str) -> str:
    out = StringIO()
    call_command("purge_chat", *args, stdout=out)
    return out.getvalue()


def test_command_deletes_messages_older_than_the_retention_and_says_how_many(chat, settings):
    settings.CHAT_RETENTION_DAYS = 30
    chat(45, "old")
    chat(31, "older than 30 days")
    chat(29, "recent")
    chat(0, "today")
    output = run()
    assert "Deleted 2 chat messages older than 30 days" in output
    assert texts() == ["recent", "today"]


def test_command_dry_run_counts_and_deletes_nothing(chat, settings):
    settings.CHAT_RETENTION_DAYS = 30
    chat(45, "old")
    chat(1, "recent")
    output = run("--dry-run")
    assert "Would delete 1 chat message older than 30 days" in output
    assert texts() == ["old", "recent"]


def test_command_days_option_overrides_the_setting(chat, settings):
    settings.CHAT_RETENTION_DAYS = 90
    chat(10, "ten days")
    chat(2, "two days")
    assert "Deleted 1 chat message older than 5 days" in run("--days", "5")
    assert texts() == ["two days"]


def test_command_with_retention_zero_keeps_everything_and_says_so(chat, settings):
    settings.CHAT_RETENTION_DAYS = 0
    chat(4000, "ancient")
    output = run()
    assert "CHAT_RETENTION_DAYS is 0" in output and "nothing deleted" in output
    assert texts() == ["ancient"]


@pytest.mark.parametrize("days", ["0", "-3"])
def test_command_refuses_a_days_option_that_is_not_positive(chat, days):
    chat(400, "old")
    with pytest.raises(CommandError, match="--days must be 1 or more"):
        run("--days", days)
    assert texts() == ["old"]


def test_purge_deletes_in_batches_and_counts_every_message(chat, settings, monkeypatch):
    settings.CHAT_RETENTION_DAYS = 30
    monkeypatch.setattr(services, "PURGE_BATCH_SIZE", 2)
    for index in range(5):
        chat(60, f"old {index}")
    chat(1, "recent")
    assert services.chat_messages_purge() == 5
    assert texts() == ["recent"]


def test_sending_a_message_purges_old_chat_at_most_once_a_day(chat, make_room, settings):
    settings.CHAT_RETENTION_DAYS = 30
    room = make_room("Other")
    chat(60, "old")
    services.chat_message_create(room=room, user=room.owner, text="first today")
    assert texts() == ["first today"]
    # Within the day the next message does not purge again: one sender pays, once a day.
    chat(60, "old again")
    services.chat_message_create(room=room, user=room.owner, text="second today")
    assert "old again" in texts()
    # A day later (the marker expired) the next message purges again.
    cache.delete(services.PURGE_CACHE_KEY)
    services.chat_message_create(room=room, user=room.owner, text="tomorrow")
    assert texts() == ["first today", "second today", "tomorrow"]


def test_sending_a_message_keeps_everything_when_retention_is_zero(chat, make_room, settings):
    settings.CHAT_RETENTION_DAYS = 0
    room = make_room("Other")
    chat(4000, "ancient")
    services.chat_message_create(room=room, user=room.owner, text="new")
    assert texts() == ["ancient", "new"]


def test_a_failing_purge_does_not_lose_the_message_being_sent(
    chat, make_room, settings, monkeypatch, caplog
):
    settings.CHAT_RETENTION_DAYS = 30
    room = make_room("Other")

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "chat_messages_purge", broken)
    message = services.chat_message_create(room=room, user=room.owner, text="still here")
    assert ChatMessage.objects.filter(pk=message.pk).exists()
    assert "Automatic purge of old chat and call history failed" in caplog.text
