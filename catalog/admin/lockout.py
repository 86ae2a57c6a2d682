"""The admin login lockout (django-axes): whose failures count, and what a locked login sees.

Axes counts failed logins per username and per address (settings: AXES_LOCKOUT_PARAMETERS)
and refuses a locked login before the password is checked. Its own admin pages list the
failed attempts (deleting one clears its lock) and the successful logins.
"""

from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.shortcuts import render

# Axes writes no failure log unless told to (AXES_ENABLE_ACCESS_FAILURE_LOG): no empty page.
admin.site.unregister(AccessFailureLog)


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address failures are counted by.

    The socket's peer, unless the service runs behind a proxy (CATALOG_BEHIND_PROXY): then
    every connection comes from the proxy, and the client is the address the proxy appended
    last to X-Forwarded-For. Only that last entry is the proxy's own word; anything before it
    came from the client, who could name any address to dodge its lock.
    """
    if settings.CATALOG_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR")


def locked_until(request, credentials) -> datetime | None:
    """When the lock on this login ends, if it is locked.

    Each parameter (the username, the address) locks on its own while its failures within
    the cool-off add up to the limit. Old failures drop out as the cool-off passes them, so
    a lock ends a cool-off after the newest failure that still completes the limit.
    """
    cool_off = get_cool_off(request)
    ends = []
    for attempts in AxesProxyHandler.get_implementation().get_user_attempts(request, credentials):
        counted = 0
        newest_first = attempts.order_by("-attempt_time")
        for failures, attempt_time in newest_first.values_list(
            "failures_since_start", "attempt_time"
        ):
            counted += failures
            if counted >= settings.AXES_FAILURE_LIMIT:
                ends.append(attempt_time + cool_off)
                break
    return max(ends, default=None)


def lockout_response(request, original_response, credentials):
    """AXES_LOCKOUT_CALLABLE: the admin's login page, saying the login is locked and until when."""
    username = (credentials or {}).get("username") or ""
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "app_path": request.get_full_path(),
        "next": request.POST.get("next", ""),
        "form": AdminAuthenticationForm(request, initial={"username": username}),
        "locked_until": locked_until(request, credentials),
    }
    return render(
        request, "admin/login_locked.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
