"""Who is calling (docs/api.md#authentication): `X-Auth-Token` to a project with roles."""

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import connections, router
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from catalog.models import ApiToken
from catalog.tokens import hash_secret

# Recording every use would turn each read into a write; once in a while is enough to tell
# a token in use from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=5)


@dataclass(frozen=True)
class Caller:
    project: str | None
    roles: frozenset[str] = field(default_factory=frozenset)

    is_authenticated = True

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def may_read(self) -> bool:
        return bool(self.roles & set(settings.CATALOG_READ_ROLES))

    @property
    def may_write(self) -> bool:
        return bool(self.roles & set(settings.CATALOG_WRITE_ROLES))


# CATALOG_AUTH=none: everyone acts as Glance's unauthenticated context, an admin with no project.
ANONYMOUS_ADMIN = Caller(project=None, roles=frozenset({"admin"}))


def base_url(request) -> str:
    return settings.CATALOG_PUBLIC_ENDPOINT or request.build_absolute_uri("/").rstrip("/")


# Stands for the secret's hash while the lookup is compiled; never sent to the database.
_HASH_PLACEHOLDER = "\x00secret-hash"


@cache
def token_lookup(alias: str) -> tuple[str, tuple]:
    """The SQL and parameters of the token lookup, compiled once per database.

    The ORM would build this query the same way for every request, and building and
    compiling it took about 0.8 ms of each API request's CPU. The database's clock decides
    expiry and staleness, so the only value that differs between requests is the hash.
    """
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=Now() - LAST_USED_PRECISION)
    query = (
        ApiToken.objects.using(alias)
        .filter(secret_hash=_HASH_PLACEHOLDER, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=Now()))
        .annotate(stale=stale)
        .order_by()
        .values_list("pk", "project", "roles", "stale")[:1]
    ).query
    sql, params = query.get_compiler(alias).as_sql()
    if params.count(_HASH_PLACEHOLDER) != 1:
        raise AssertionError(f"the token lookup should take the hash once: {params}")
    return sql, params


def find_token(secret: str) -> tuple | None:
    """(pk, project, roles, stale) of the live token with this secret, or None."""
    alias = router.db_for_read(ApiToken)
    sql, params = token_lookup(alias)
    secret_hash = hash_secret(secret)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [secret_hash if p == _HASH_PLACEHOLDER else p for p in params])
        return cursor.fetchone()


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        if settings.CATALOG_AUTH == "none":
            return ANONYMOUS_ADMIN, None
        secret = request.headers.get("X-Auth-Token")
        if not secret:
            raise exceptions.NotAuthenticated(
                "Authentication required: send a token in X-Auth-Token."
            )
        row = find_token(secret)
        if row is None:
            raise exceptions.AuthenticationFailed("The token is unknown, expired or revoked.")
        pk, project, roles, stale = row
        if stale:
            ApiToken.objects.filter(pk=pk).update(last_used_at=timezone.now())
        return Caller(project=project, roles=frozenset(ApiToken.split_roles(roles))), pk

    def authenticate_header(self, request):
        return f'Keystone uri="{base_url(request)}"'


class CanReadImages(permissions.BasePermission):
    message = "You are not authorized to read images: the token has no reading role."

    def has_permission(self, request, view):
        return isinstance(request.user, Caller) and request.user.may_read


class CanWriteImages(permissions.BasePermission):
    message = "You are not authorized to change images: the token has no writing role."

    def has_permission(self, request, view):
        return isinstance(request.user, Caller) and request.user.may_write
