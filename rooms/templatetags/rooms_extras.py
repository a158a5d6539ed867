"""Template filters for the room pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext

register = template.Library()

# Under a minute, timesince says "0 minutes", which reads like a mistake.
JUST_NOW = timedelta(minutes=1)


@register.filter
def time_ago(moment: datetime | None) -> str:
    """``moment`` in words relative to now: "just now", else "5 minutes ago"."""
    if moment is None:
        return ""
    if timezone.now() - moment < JUST_NOW:
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment)}
