"""``manage.py purge_history [--dry-run]``: delete chat, call history and moderation log entries
past their retention.

What ``meet-purge.timer`` (deploy/systemd) runs daily. The server also purges once a day on its
own (``rooms.services.history_purge_if_due``), but only when someone chats; this command does
not wait for that. ``purge_chat --days N`` purges chat alone with a one-off window.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from rooms.services import audit_entries_purge, chat_messages_purge, participants_purge


class Command(BaseCommand):
    help = (
        "Delete chat older than CHAT_RETENTION_DAYS, call history (participant rows) older "
        "than PARTICIPANT_RETENTION_DAYS and moderation log entries older than "
        "AUDIT_RETENTION_DAYS; print the counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        verb = "Would delete" if dry_run else "Deleted"
        for label, days, purge in (
            ("chat messages", settings.CHAT_RETENTION_DAYS, chat_messages_purge),
            ("call history rows", settings.PARTICIPANT_RETENTION_DAYS, participants_purge),
            ("moderation log entries", settings.AUDIT_RETENTION_DAYS, audit_entries_purge),
        ):
            if days <= 0:
                self.stdout.write(f"{label.capitalize()}: kept forever (retention 0).")
                continue
            count = purge(dry_run=dry_run)
            self.stdout.write(self.style.SUCCESS(f"{verb} {count} {label} older than {days} days."))
