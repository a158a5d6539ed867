"""Template filters of the room pages (rooms/templatetags/rooms_extras.py)."""

from datetime import timedelta

from django.utils import timezone

from rooms.templatetags.rooms_extras import time_ago


def test_time_ago_says_just_now_under_a_minute_instead_of_zero_minutes():
    assert time_ago(timezone.now() - timedelta(seconds=20)) == "just now"


def test_time_ago_names_older_moments_with_ago():
    assert time_ago(timezone.now() - timedelta(minutes=5, seconds=3)) == "5\xa0minutes ago"
    assert time_ago(None) == ""
