"""The admin's History of changes made outside the admin, by API tokens.

Django's History (the admin's LogEntry) needs a user for every entry, and a token is not one.
Every API write is therefore recorded under one system user, `API_USERNAME`, and the entry's
message names the token. That user is created on first use, inactive and without a usable
password, so it can never log in. Its username holds a space, which Django's username rules
refuse, so no staff account can be created under that name (in the admin or with
`createsuperuser`) and be mistaken for it. Deleting that user would delete its History too
(LogEntry cascades), so it is left alone.
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models

API_USERNAME = "API token"


def api_user():
    """The system user that API writes are recorded under."""
    user, _ = get_user_model().objects.get_or_create(
        username=API_USERNAME,
        defaults={"password": make_password(None), "is_active": False},
    )
    return user


def log_api_change(obj: models.Model, message: str) -> None:
    """Add `message` to `obj`'s History, as a change made through the API."""
    LogEntry.objects.log_actions(
        user_id=api_user().pk,
        queryset=[obj],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )
