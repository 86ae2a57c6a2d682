import io

import pytest
from django.core.management import CommandError, call_command

from catalog.models import ApiToken, Image
from catalog.tokens import hash_secret

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_token_prints_the_secret_once_and_stores_its_hash():
    out, err = run("create_token", "--project", "p1", "--roles", "reader,admin", "--name", "ci")
    secret = out.strip()
    token = ApiToken.objects.get(name="ci")
    assert token.secret_hash == hash_secret(secret)
    assert (token.project, token.roles) == ("p1", "reader,admin")
    assert "not shown again" in err


def test_create_token_with_a_known_secret_and_expiry():
    out, _ = run(
        "create_token", "--project", "p1", "--token", "known-token-0123456789", "--expires-in", "3"
    )
    assert out.strip() == "known-token-0123456789"
    token = ApiToken.objects.get()
    assert (token.expires_at - token.created_at).days == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "short"], "URL-safe"),
        (["--token=-starts-like-an-option-0123"], "cannot start with -"),
        (["--roles", ","], "at least one role"),
        (["--expires-in", "-1"], "positive"),
    ],
)
def test_create_token_refuses_bad_input_and_writes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_token", "--project", "p1", *args)
    assert not ApiToken.objects.exists()


def test_revoke_token_by_name_and_by_prefix():
    run("create_token", "--project", "p1", "--name", "one", "--token", "aaaabbbb-0123456789xyz")
    run("create_token", "--project", "p1", "--name", "two", "--token", "ccccdddd-0123456789xyz")
    out, _ = run("revoke_token", "one")
    assert "revoked token 'one'" in out
    run("revoke_token", "cccc")
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 2


def test_revoke_token_of_a_revoked_token_says_so_and_changes_nothing():
    run("create_token", "--project", "p1", "--name", "one", "--token", "aaaabbbb-0123456789xyz")
    run("revoke_token", "one")
    first = ApiToken.objects.get(name="one").revoked_at
    out, _ = run("revoke_token", "aaaab")
    assert out.strip() == (
        f"token 'one' was revoked already, at {first.isoformat(timespec='seconds')}; "
        "nothing changed"
    )
    assert ApiToken.objects.get(name="one").revoked_at == first


def test_revoke_token_refuses_an_unknown_token():
    with pytest.raises(CommandError, match="no token is named 'nope'"):
        run("revoke_token", "nope")


def test_setup_demo_is_idempotent(settings):
    settings.DEBUG = True
    first, _ = run("setup_demo")
    count = Image.objects.count()
    Image.objects.filter(name="cirros").update(name="edited by staff")
    ApiToken.objects.update(revoked_at="2020-01-01T00:00:00Z")
    second, _ = run("setup_demo")
    assert "loaded" in first
    assert "loaded" not in second
    assert Image.objects.count() == count > 25
    assert Image.objects.filter(name="edited by staff").exists()
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2
    token = ApiToken.objects.get(name="demo-member")
    assert token.secret_hash == hash_secret("demo-member-token-0123456789")
    assert "X-Auth-Token: demo-member-token-0123456789" in second


def test_setup_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        run("setup_demo")
    assert not ApiToken.objects.exists()
