"""What an API request does not pay for: work done once, not per request (README, "Speed")."""

from datetime import timedelta
from http import HTTPStatus
from unittest import mock

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import ApiToken

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

DETAIL = "/v1.1/images/detail"


def compiled_models(client, path):
    """The models whose queries Django compiled while answering one request."""
    compiled = []
    original = SQLCompiler.as_sql

    def spy(compiler, *args, **kwargs):
        compiled.append(compiler.query.model)
        return original(compiler, *args, **kwargs)

    with mock.patch.object(SQLCompiler, "as_sql", spy):
        assert client.get(path).status_code == HTTPStatus.OK
    return compiled


def test_the_token_lookup_is_compiled_once_not_per_request(make_token):
    _, secret = make_token()
    client = ApiClient(secret)
    client.get(DETAIL)  # records the token's first use
    assert ApiToken not in compiled_models(client, DETAIL)
    assert ApiToken not in compiled_models(client, DETAIL)


def test_a_token_used_again_soon_is_not_written_again(make_token):
    token, secret = make_token()
    client = ApiClient(secret)
    client.get(DETAIL)
    token.refresh_from_db()
    first_use = token.last_used_at
    with CaptureQueriesContext(connection) as queries:
        client.get(DETAIL)
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first_use


def test_a_token_unused_for_a_while_records_its_use_again(make_token):
    token, secret = make_token()
    long_ago = timezone.now() - timedelta(minutes=6)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    ApiClient(secret).get(DETAIL)
    token.refresh_from_db()
    assert token.last_used_at > long_ago + timedelta(minutes=5)


@pytest.mark.parametrize("change", ["revoked_at", "expires_at"])
def test_the_compiled_lookup_still_refuses_revoked_and_expired_tokens(make_token, change):
    token, secret = make_token()
    client = ApiClient(secret)
    assert client.get(DETAIL).status_code == HTTPStatus.OK
    ApiToken.objects.filter(pk=token.pk).update(**{change: timezone.now() - timedelta(seconds=1)})
    assert client.get(DETAIL).status_code == HTTPStatus.UNAUTHORIZED


def test_kept_connections_are_not_checked_with_a_round_trip_before_each_request():
    # A read that finds its kept connection dead is retried instead (test_api_errors.py,
    # test_server_database_outages.py).
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is False


def test_an_api_response_sets_no_cookie_and_varies_on_nothing(member_api):
    response = member_api.get(DETAIL)
    assert response.status_code == HTTPStatus.OK
    assert not response.cookies
    assert "Vary" not in response
