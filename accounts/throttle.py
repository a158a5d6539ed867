"""Login throttling with django-axes: who is locked out, for how long, and the page they see.

Failed logins are stored by axes in the database, so the counts hold across every server
process. Two counters run side by side (``AXES_LOCKOUT_PARAMETERS`` in meet/settings.py):

- one account from one address: ``LOGIN_FAILURE_LIMIT`` failures lock that pair out, so a
  guesser is stopped while the owner, elsewhere, can still log in;
- one address across all accounts: ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures lock the address
  out, which stops spraying one password over many usernames. It is higher than the per-account
  limit because many people may share one address (an office, a school).

Either lockout lasts ``LOGIN_COOLOFF_MINUTES`` after the last failure.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, ngettext


def client_address(request) -> str | None:
    """The client's IP address, as daphne put it in REMOTE_ADDR.

    ./run passes ``--proxy-headers`` to daphne only with ``DJANGO_BEHIND_PROXY`` on, so
    X-Forwarded-For is believed only then; a client cannot pick its own address here.
    """
    return request.META.get("REMOTE_ADDR")


def login_failure_limit(request, credentials=None) -> int:
    """Failures of one account from one address before a lockout (``LOGIN_FAILURE_LIMIT``)."""
    return settings.LOGIN_FAILURE_LIMIT


def login_cool_off(request=None) -> timedelta:
    """How long a lockout lasts after the last failure (``LOGIN_COOLOFF_MINUTES``)."""
    return timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a separate, higher limit for a whole address.

    Axes compares one failure count against one limit. This handler reports the per-address
    count scaled to that limit, so the single comparison ``failures >= LOGIN_FAILURE_LIMIT``
    holds exactly when the account-and-address pair reached ``LOGIN_FAILURE_LIMIT`` or the
    address reached ``LOGIN_ADDRESS_FAILURE_LIMIT``.
    """

    def get_failures(self, request, credentials=None) -> int:
        per_pair, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit = settings.LOGIN_FAILURE_LIMIT
        address_limit = max(1, settings.LOGIN_ADDRESS_FAILURE_LIMIT)
        # floor(n * limit / address_limit) >= limit exactly when n >= address_limit.
        return max(per_pair, per_address * limit // address_limit)


def _minutes(delta: timedelta) -> str:
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def login_locked_out(request, original_response=None, credentials=None):
    """The page for a locked-out login: 429, when to retry, and a Retry-After header.

    Axes calls this (``AXES_LOCKOUT_CALLABLE``) on the login and admin login pages. The
    lockout restarts with each failure, so it ends one cool-off after this very attempt.
    """
    cool_off = get_cool_off(request) or login_cool_off(request)
    retry_at = timezone.localtime(timezone.now() + cool_off)
    message = gettext(
        "Logging in is paused after too many wrong passwords. Try again in %(wait)s (after "
        "%(time)s %(zone)s); each new attempt before then starts the wait again."
    ) % {"wait": _minutes(cool_off), "time": f"{retry_at:%H:%M}", "zone": retry_at.tzname()}
    response = render(request, "accounts/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return response
