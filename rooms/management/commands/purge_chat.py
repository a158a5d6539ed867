"""``manage.py purge_chat [--dry-run] [--days N]``: delete chat older than the retention.

The server also purges once a day on its own (``rooms.services.history_purge_if_due``);
this command is for a first purge of a large history, a one-off shorter window, or a check
of what the automatic purge would delete.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rooms.services import chat_messages_purge


class Command(BaseCommand):
    help = "Delete chat messages older than CHAT_RETENTION_DAYS (or --days) and print the count."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the messages that would be deleted, and delete nothing.",
        )
        parser.add_argument(
            "--days",
            type=int,
            help="Delete messages older than this many days instead of CHAT_RETENTION_DAYS.",
        )

    def handle(self, *args, dry_run: bool = False, days: int | None = None, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more.")
        if days is None:
            days = settings.CHAT_RETENTION_DAYS
            if days <= 0:
                self.stdout.write(
                    "CHAT_RETENTION_DAYS is 0: chat is kept forever; nothing deleted. "
                    "Use --days to purge anyway."
                )
                return
        count = chat_messages_purge(older_than_days=days, dry_run=dry_run)
        noun = "chat message" if count == 1 else "chat messages"
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(self.style.SUCCESS(f"{verb} {count} {noun} older than {days} days."))
