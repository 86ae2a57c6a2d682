from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import ApiToken
from catalog.tokens import (
    SECRET_PATTERN,
    TokenError,
    hash_secret,
    token_create,
    token_find,
    token_revoke,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def test_the_secret_is_never_stored():
    token, secret = token_create(project="p1", roles=["member"], name="ci")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(secret not in str(value) for value in stored.values())
    assert stored["secret_hash"] == hash_secret(secret)
    assert stored["prefix"] == secret[:8]
    assert len(secret) >= 40


def test_each_token_gets_its_own_random_secret():
    _, first = token_create(project="p1")
    _, second = token_create(project="p1")
    assert first != second


def test_a_generated_secret_never_starts_with_a_dash(monkeypatch):
    # token_urlsafe's text starts with "-" once in 64 draws: make it every time.
    monkeypatch.setattr(
        "catalog.tokens.secrets.token_urlsafe", lambda nbytes: "-" + "A" * (nbytes * 4 // 3)
    )
    token, secret = token_create(project="p1")
    assert secret[0].isalnum()
    assert secret[1:] == "-" + "A" * 42
    assert SECRET_PATTERN.match(secret)
    assert token.secret_hash == hash_secret(secret)
    assert token.prefix == secret[:8]


def test_a_known_secret_can_be_set():
    token, secret = token_create(project="p1", secret="known-secret-for-tests-01", name="env")
    assert secret == "known-secret-for-tests-01"
    assert token.secret_hash == hash_secret(secret)


@pytest.mark.parametrize(
    "secret",
    [
        "short-secret",
        "has spaces in it 1234567",
        "has/slash/0123456789abcdef",
        "",
        "-starts-like-an-option-0123456789",
    ],
)
def test_a_bad_known_secret_is_refused(secret):
    with pytest.raises(TokenError, match="URL-safe"):
        token_create(project="p1", secret=secret)
    assert not ApiToken.objects.exists()


def test_roles_and_expiry_are_stored():
    token, _ = token_create(
        project="p1", roles=["reader", "admin", "reader"], expires_in_days=7, now=NOW
    )
    assert token.roles == "reader,admin"
    assert token.role_list == ["reader", "admin"]
    assert token.expires_at == NOW + timedelta(days=7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"project": ""}, "project"),
        ({"project": "p", "roles": []}, "at least one role"),
        ({"project": "p", "roles": ["bad role"]}, "is not a role name"),
        ({"project": "p", "expires_in_days": 0}, "positive"),
    ],
)
def test_invalid_token_requests_are_refused(kwargs, message):
    with pytest.raises(TokenError, match=message):
        token_create(**kwargs)


def test_names_are_unique():
    token_create(project="p1", name="ci")
    with pytest.raises(TokenError, match="exists already"):
        token_create(project="p2", name="ci")


def test_revoke_keeps_the_first_revocation_time():
    token, _ = token_create(project="p1")
    token_revoke(token=token, now=NOW)
    token_revoke(token=token, now=NOW + timedelta(days=1))
    token.refresh_from_db()
    assert token.revoked_at == NOW


def test_find_by_name_prefix_or_whole_secret():
    token, secret = token_create(project="p1", name="ci", secret="abcdefgh-rest-of-secret-1")
    assert token_find("ci") == token
    assert token_find("abcd") == token
    assert token_find("abcdefgh") == token
    assert token_find(secret) == token
    with pytest.raises(TokenError, match="no token"):
        token_find("abcdefgh-wrong-rest-000")
    with pytest.raises(TokenError, match="no token"):
        token_find("abc")  # too short to be a prefix


def test_find_refuses_an_ambiguous_prefix():
    token_create(project="p1", name="one", secret="samepref-0000000000000001")
    token_create(project="p1", name="two", secret="samepref-0000000000000002")
    with pytest.raises(TokenError, match="several tokens"):
        token_find("samepref")
