"""The admin login lockout (django-axes): per username and per address, with a cool-off."""

import io
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
ATTEMPTS = "/admin/axes/accessattempt/"
PASSWORD = "the-right-password"
LIMIT = 5  # CATALOG_LOGIN_FAILURE_LIMIT's default
LOCKED = "logging in is locked"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def curator(db):
    return User.objects.create_superuser("curator", password=PASSWORD)


def log_in(username, password, address="198.51.100.1", **headers):
    """One login through the admin's form, from `address`, in a fresh browser."""
    return Client().post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **headers,
    )


def logged_in(response) -> bool:
    return response.status_code == HTTPStatus.FOUND and response["Location"] == "/admin/"


def fail(times, username="curator", address="198.51.100.1"):
    return [log_in(username, "wrong", address) for _ in range(times)][-1]


def test_failures_below_the_limit_keep_the_usual_form_error(curator):
    response = fail(LIMIT - 1)
    assert response.status_code == HTTPStatus.OK
    assert "Please enter the correct username and password" in response.content.decode()
    assert logged_in(log_in("curator", PASSWORD))


def test_the_limit_th_failure_locks_the_account_even_for_the_right_password(curator):
    response = fail(LIMIT)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert LOCKED in response.content.decode()
    refused = log_in("curator", PASSWORD)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert LOCKED in refused.content.decode()
    assert "sessionid" not in refused.cookies


def test_a_user_attacked_from_many_addresses_is_locked_everywhere(curator):
    for n in range(LIMIT):
        fail(1, address=f"203.0.113.{n + 1}")
    assert log_in("curator", PASSWORD, address="192.0.2.99").status_code == 429
    # Another user at any of those addresses is not locked: no address failed 5 times.
    User.objects.create_superuser("viewer", password=PASSWORD)
    assert logged_in(log_in("viewer", PASSWORD, address="203.0.113.1"))


def test_an_address_trying_many_users_is_locked_for_every_user(curator):
    for n in range(LIMIT):
        # A forwarded-for header, which any client can write, does not change the address.
        log_in(f"guess-{n}", "wrong", "203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert log_in("curator", PASSWORD, address="203.0.113.7").status_code == 429
    assert logged_in(log_in("curator", PASSWORD, address="203.0.113.8"))


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(curator, settings):
    settings.CATALOG_BEHIND_PROXY = True
    for n in range(LIMIT):
        # Every login comes from the proxy; the client's own entries before the proxy's are
        # its word only, and change nothing.
        forwarded = f"192.0.2.{n}, 203.0.113.7"
        log_in(f"guess-{n}", "wrong", "10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    proxied = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert log_in("curator", PASSWORD, "10.0.0.1", **proxied).status_code == 429
    # Another client behind the same proxy is not locked by that one's failures.
    assert logged_in(log_in("curator", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8"))


def test_the_lock_page_is_the_admin_login_saying_until_when(curator):
    with time_machine.travel(START, tick=False):
        fail(LIMIT)
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        response = log_in("curator", PASSWORD)
    html = response.content.decode()
    assert "<title>Login locked | IMS image catalog</title>" in html
    assert 'id="login-form"' in html  # the admin's own login page, not a bare text
    text = " ".join(html.split())
    assert "locked until <strong>2026-03-01 09:15:00 UTC</strong> (10 minutes from now)" in text
    assert "for this account or from this address, even with the right password" in text


def test_the_lock_ends_after_the_cool_off(curator):
    with time_machine.travel(START, tick=False):
        fail(LIMIT)
    with time_machine.travel(START + timedelta(minutes=14, seconds=50), tick=False):
        assert log_in("curator", PASSWORD).status_code == 429
    with time_machine.travel(START + timedelta(minutes=15, seconds=10), tick=False):
        assert logged_in(log_in("curator", PASSWORD))


def test_attempts_while_locked_do_not_extend_the_lock(curator):
    with time_machine.travel(START, tick=False):
        fail(LIMIT)
    with time_machine.travel(START + timedelta(minutes=10), tick=False):
        fail(3)
    with time_machine.travel(START + timedelta(minutes=15, seconds=10), tick=False):
        assert logged_in(log_in("curator", PASSWORD))


def test_the_thresholds_are_settings(settings, curator):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    with time_machine.travel(START, tick=False):
        assert fail(2).status_code == 429
    with time_machine.travel(START + timedelta(seconds=70), tick=False):
        assert logged_in(log_in("curator", PASSWORD))


def staff(group):
    user = User.objects.create_user(group.split()[-1], is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_the_lockout_and_a_curator_clears_it(curator):
    fail(LIMIT)
    viewer = staff("Catalog viewers")
    listing = viewer.get(ATTEMPTS)
    assert listing.status_code == 200
    assert "Locked Out" in listing.content.decode()
    assert "Admin login lockouts" in viewer.get("/admin/").content.decode()
    attempt = AccessAttempt.objects.get()
    assert viewer.get(f"{ATTEMPTS}{attempt.pk}/delete/").status_code == 403

    curators = staff("Catalog curators")
    cleared = curators.post(
        ATTEMPTS, {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"}
    )
    assert cleared.status_code == HTTPStatus.FOUND
    assert not AccessAttempt.objects.exists()
    assert logged_in(log_in("curator", PASSWORD))


def test_axes_reset_clears_every_lock(curator):
    fail(LIMIT)
    output = io.StringIO()
    call_command("axes_reset", stdout=output)
    assert output.getvalue() == "1 attempts removed.\n"
    assert logged_in(log_in("curator", PASSWORD))


def test_the_api_is_untouched_by_a_locked_address(curator, make_token):
    fail(LIMIT, address="127.0.0.1")  # the test client's own address
    _, secret = make_token()
    for _ in range(LIMIT + 1):
        assert Client().get("/v1.1/images", HTTP_X_AUTH_TOKEN="wrong").status_code == 401
    assert Client().get("/v1.1/images", HTTP_X_AUTH_TOKEN=secret).status_code == 200
    assert AccessAttempt.objects.count() == 1  # only the admin login's failures
