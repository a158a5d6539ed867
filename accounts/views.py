"""Signup; login, logout and password change are Django's views with our templates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import SignupForm
from accounts.services import user_create
from accounts.signup import (
    SIGNUP_CLOSED,
    SIGNUP_INVITE,
    signup_invite_is_valid,
    signup_policy,
    signup_rate_limit_hit,
)
from accounts.throttle import client_address


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


SIGNUP_REFUSALS = {
    "closed": (
        _("Signing up is closed"),
        _(
            "On this server, accounts are created by the administrator. Ask them for one, "
            "then log in."
        ),
    ),
    "invite": (
        _("Signing up needs an invite link"),
        _(
            "Signing up needs an invite link to a room on this server. Open the link you were "
            "sent (ask the room's owner for a fresh one if it stopped working), or log in if "
            "you already have an account."
        ),
    ),
    "rate_limited": (
        _("Too many accounts"),
        _("Too many accounts were created from your address. Try again in %(retry_in)s."),
    ),
}


def _refused(request, *, reason: str, status: int, retry_in: str = ""):
    title, message = SIGNUP_REFUSALS[reason]
    return render(
        request,
        "accounts/signup_refused.html",
        {
            "title": title,
            "message": message % {"retry_in": retry_in},
            "refusal": f"signup_{reason}",
        },
        status=status,
    )


@sensitive_post_parameters("password1", "password2")
def signup(request):
    """Create an account and log it in at once, then go where the visitor was heading.

    ``SIGNUP=closed`` shows why there is no form and refuses posts with 403; ``SIGNUP=invite``
    does the same unless the visitor came with a room's current invite link. Each address may
    create ``SIGNUP_RATE_LIMIT_REQUESTS`` accounts per window; more get 429.
    """
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or "home")
    policy = signup_policy()
    refused_status = 403 if request.method == "POST" else 200
    if policy == SIGNUP_CLOSED:
        return _refused(request, reason="closed", status=refused_status)
    if policy == SIGNUP_INVITE and not signup_invite_is_valid(
        next_url=next_url, invite=request.POST.get("invite") or request.GET.get("invite")
    ):
        return _refused(request, reason="invite", status=refused_status)

    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Only accounts actually created count, so typing mistakes never lock anyone out.
        limit = signup_rate_limit_hit(address=client_address(request))
        if not limit.allowed:
            minutes = max(1, -(-limit.retry_after // 60))
            response = _refused(
                request,
                reason="rate_limited",
                status=429,
                retry_in=ngettext("%(count)d minute", "%(count)d minutes", minutes)
                % {"count": minutes},
            )
            response["Retry-After"] = str(limit.retry_after)
            return response
        user = user_create(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
            email=form.cleaned_data["email"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            gettext("Welcome, %(name)s! Your account is ready.") % {"name": user.shown_name},
        )
        return redirect(next_url or "home")
    return render(
        request,
        "accounts/signup.html",
        {
            "form": form,
            "next": next_url or "",
            "invite": request.POST.get("invite") or request.GET.get("invite") or "",
        },
    )
