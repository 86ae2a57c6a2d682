"""Who is calling (legacy-api.md §2): `X-Auth-Token` to a project with roles."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from catalog.models import ApiToken
from catalog.services import hash_secret

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


# CATALOG_AUTH=none: everyone acts as Glance's unauthenticated context, an admin with no project.
ANONYMOUS_ADMIN = Caller(project=None, roles=frozenset({"admin"}))


def base_url(request) -> str:
    return settings.CATALOG_PUBLIC_ENDPOINT or request.build_absolute_uri("/").rstrip("/")


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        if settings.CATALOG_AUTH == "none":
            return ANONYMOUS_ADMIN, None
        secret = request.headers.get("X-Auth-Token")
        if not secret:
            raise exceptions.NotAuthenticated(
                "Authentication required: send a token in X-Auth-Token."
            )
        now = timezone.now()
        token = (
            ApiToken.objects.filter(secret_hash=hash_secret(secret), revoked_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .only("pk", "project", "roles", "last_used_at")
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown, expired or revoked.")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return Caller(project=token.project, roles=frozenset(token.role_list)), token

    def authenticate_header(self, request):
        return f'Keystone uri="{base_url(request)}"'


class CanReadImages(permissions.BasePermission):
    message = "You are not authorized to read images: the token has no reading role."

    def has_permission(self, request, view):
        return isinstance(request.user, Caller) and request.user.may_read
