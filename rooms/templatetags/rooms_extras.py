"""Template filters for the room pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext, npgettext_lazy

register = template.Library()

# Under a minute, timesince says "0 minutes", which reads like a mistake.
JUST_NOW = timedelta(minutes=1)

# The units as "… ago" needs them: German says "vor 2 Tagen", not timesince's "2 Tage", so they
# have their own context rather than Django's words for a plain duration.
AGO_TIME_STRINGS = {
    "year": npgettext_lazy("time ago", "%(num)d year", "%(num)d years", "num"),
    "month": npgettext_lazy("time ago", "%(num)d month", "%(num)d months", "num"),
    "week": npgettext_lazy("time ago", "%(num)d week", "%(num)d weeks", "num"),
    "day": npgettext_lazy("time ago", "%(num)d day", "%(num)d days", "num"),
    "hour": npgettext_lazy("time ago", "%(num)d hour", "%(num)d hours", "num"),
    "minute": npgettext_lazy("time ago", "%(num)d minute", "%(num)d minutes", "num"),
}


@register.filter
def time_ago(moment: datetime | None) -> str:
    """``moment`` in words relative to now: "just now", else "5 minutes ago"."""
    if moment is None:
        return ""
    if timezone.now() - moment < JUST_NOW:
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment, time_strings=AGO_TIME_STRINGS)}
