"""API tokens: their secrets, their roles, and every write to them.

A token is created by token_create, revoked by token_revoke and put back to a known state by
token_reset (the demo's tokens); the admin, the commands and the tests call these. One write
happens elsewhere: the API's authentication notes `last_used_at` itself (catalog.api.auth),
with one UPDATE on the request's path, once in a while.
"""

import hashlib
import re
import secrets
import string
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from .models import ApiToken
from .validators import control_character_problem

PREFIX_LENGTH = 8
# URL-safe characters, at least 20 (docs/operations.md#create_token), and not a leading "-":
# a secret that starts like an option cannot be passed as `glance --os-auth-token $TOKEN` or
# to most other command lines.
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{19,254}$")
SECRET_BYTES = 32
ROLE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ALPHANUMERIC = string.ascii_letters + string.digits


class TokenError(Exception):
    """A token request the rules refuse; the message is one line, meant for a person."""


def generate_secret() -> str:
    """A random secret of 256 bits that begins with a letter or a digit.

    token_urlsafe's text begins with `-` once in 64 secrets; a letter or digit in front keeps
    every bit of it and lets the secret be passed on any command line.
    """
    return secrets.choice(_ALPHANUMERIC) + secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    # Secrets are long and random, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_roles(roles: Iterable[str]) -> list[str]:
    """The roles as stored: stripped, each once, in the order given; TokenError if none or
    one is not a role name."""
    roles = [role.strip() for role in roles if role.strip()]
    if not roles:
        raise TokenError("a token needs at least one role, e.g. member")
    wrong = [role for role in roles if not ROLE_PATTERN.match(role)]
    if wrong:
        raise TokenError(f"{wrong[0]!r} is not a role name: use letters, digits and . _ -")
    return list(dict.fromkeys(roles))


def token_create(
    *,
    project: str,
    roles: Sequence[str] = ("member",),
    name: str | None = None,
    expires_in_days: int | None = None,
    secret: str | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it with its secret, which is not stored and cannot be shown again."""
    now = now or timezone.now()
    project = project.strip()
    if not project or len(project) > 255:
        raise TokenError("project must be 1 to 255 characters")
    _refuse_control_characters("project", project)
    roles = parse_roles(roles)
    if expires_in_days is not None and expires_in_days <= 0:
        raise TokenError("expires-in must be a positive number of days")
    if secret is None:
        secret = generate_secret()
    elif not SECRET_PATTERN.match(secret):
        raise TokenError(
            "a token secret must be 20 to 255 URL-safe characters (A-Z a-z 0-9 _ -) "
            "and cannot start with -"
        )
    secret_hash = hash_secret(secret)
    if ApiToken.objects.filter(secret_hash=secret_hash).exists():
        raise TokenError("a token with that secret exists already")
    name = (name or f"{project[:60]}-{secret[:PREFIX_LENGTH]}").strip()
    if not name or len(name) > 100:
        raise TokenError("name must be 1 to 100 characters")
    _refuse_control_characters("name", name)
    if ApiToken.objects.filter(name=name).exists():
        raise TokenError(f"a token named {name!r} exists already")
    token = ApiToken.objects.create(
        name=name,
        project=project,
        roles=",".join(roles),
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=secret_hash,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return token, secret


def _refuse_control_characters(field: str, text: str) -> None:
    problem = control_character_problem(text)
    if problem is not None:
        raise TokenError(f"{field} {problem}")


def token_revoke(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke at once; revoking twice keeps the first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_reset(*, name: str, project: str, roles: Sequence[str], secret: str) -> None:
    """Make the token `name` exist with exactly this project, roles and secret, live and
    without expiry, whatever was done to it since (the demo's well-known tokens)."""
    if not ApiToken.objects.filter(name=name).exists():
        token_create(project=project, roles=roles, name=name, secret=secret)
    ApiToken.objects.filter(name=name).update(
        project=project,
        roles=",".join(parse_roles(roles)),
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=hash_secret(secret),
        revoked_at=None,
        expires_at=None,
    )


def token_find(name_or_prefix: str) -> ApiToken:
    """The token with that name, or the one whose secret starts with that prefix."""
    by_name = ApiToken.objects.filter(name=name_or_prefix).first()
    if by_name is not None:
        return by_name
    if len(name_or_prefix) > PREFIX_LENGTH:
        matches = list(ApiToken.objects.filter(secret_hash=hash_secret(name_or_prefix)))
    elif len(name_or_prefix) >= 4:
        matches = list(ApiToken.objects.filter(prefix__startswith=name_or_prefix))
    else:
        matches = []
    if not matches:
        raise TokenError(f"no token is named {name_or_prefix!r} or starts with it")
    if len(matches) > 1:
        names = ", ".join(sorted(token.name for token in matches))
        raise TokenError(f"{name_or_prefix!r} matches several tokens ({names}); give a name")
    return matches[0]
