"""Every write to the catalog goes through these functions.

The admin, the management commands and the tests call them, so the rules that span rows
(the Windows flag follows the properties, a write bumps the version, a protected image is
never deleted, an import is all or nothing) live in one place. Validation of what a person or
a file typed happens before, at the boundary (forms, `catalog_file`); the database constraints
are the last guard.
"""

import hashlib
import re
import secrets
import string
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from .catalog_file import CatalogEntry
from .models import ApiToken, Image, ImageMember, ImageProperty, properties_say_windows
from .validators import control_character_problem

# SQLite allows a limited number of variables per statement; keep IN lists below it.
_CHUNK = 500


class CatalogError(Exception):
    """A write that the catalog's rules refuse; the message is meant for a person."""


class ImageProtectedError(CatalogError):
    def __init__(self, image: Image):
        super().__init__(f"Image {image} is protected and cannot be deleted; unprotect it first.")
        self.image = image


class ImageChangedError(CatalogError):
    """Someone else saved the image after the caller read it (optimistic locking)."""

    def __init__(self, current: Image | None):
        if current is None:
            message = "The image no longer exists."
        else:
            message = f"Image {current} was changed by someone else meanwhile."
        super().__init__(message)
        self.current = current


class TokenError(CatalogError):
    pass


# ------------------------------------------------------------------------------
# Images
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberData:
    member_id: str
    can_share: bool = False
    status: str = ImageMember.Status.PENDING


def _replace_properties(image: Image, properties: Mapping[str, str]) -> None:
    current = {prop.key: prop for prop in ImageProperty.objects.filter(image=image)}
    gone = [prop.pk for key, prop in current.items() if key not in properties]
    ImageProperty.objects.filter(pk__in=gone).delete()
    changed = []
    for key, value in properties.items():
        prop = current.get(key)
        if prop is not None and prop.value != value:
            prop.value = value
            changed.append(prop)
    ImageProperty.objects.bulk_update(changed, ["value"])
    ImageProperty.objects.bulk_create(
        ImageProperty(image=image, key=key, value=value)
        for key, value in properties.items()
        if key not in current
    )


def _replace_members(image: Image, members: Sequence[MemberData]) -> None:
    current = {member.member_id: member for member in ImageMember.objects.filter(image=image)}
    wanted = {member.member_id: member for member in members}
    ImageMember.objects.filter(
        pk__in=[m.pk for member_id, m in current.items() if member_id not in wanted]
    ).delete()
    changed = []
    for member_id, data in wanted.items():
        member = current.get(member_id)
        if member is not None and (member.can_share, member.status) != (
            data.can_share,
            data.status,
        ):
            member.can_share, member.status = data.can_share, data.status
            changed.append(member)
    ImageMember.objects.bulk_update(changed, ["can_share", "status"])
    ImageMember.objects.bulk_create(
        ImageMember(image=image, member_id=m.member_id, can_share=m.can_share, status=m.status)
        for member_id, m in wanted.items()
        if member_id not in current
    )


@transaction.atomic
def image_create(
    *,
    fields: Mapping | None = None,
    properties: Mapping[str, str] | None = None,
    members: Sequence[MemberData] = (),
    now: datetime | None = None,
) -> Image:
    """Create an image; `created_at`/`updated_at` default to now but may be given."""
    now = now or timezone.now()
    properties = dict(properties or {})
    image = Image(**{"created_at": now, "updated_at": now, **(fields or {})})
    image.is_windows = properties_say_windows(properties)
    image.save(force_insert=True)
    _replace_properties(image, properties)
    _replace_members(image, members)
    return image


@transaction.atomic
def image_update(
    *,
    image: Image,
    fields: Mapping | None = None,
    properties: Mapping[str, str] | None = None,
    members: Sequence[MemberData] | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Image:
    """Change an image; `properties`/`members` of None leave them as they are.

    The write only happens if the image is still at `expected_version` (by default the
    version `image` was read at); otherwise ImageChangedError, and nothing is written.
    """
    changes = {"updated_at": now or timezone.now(), **(fields or {})}
    if properties is not None:
        changes["is_windows"] = properties_say_windows(properties)
    version = image.version if expected_version is None else expected_version
    written = Image.objects.filter(pk=image.pk, version=version).update(
        **changes, version=F("version") + 1
    )
    if not written:
        raise ImageChangedError(Image.objects.filter(pk=image.pk).first())
    for name, value in changes.items():
        setattr(image, name, value)
    image.version = version + 1
    if properties is not None:
        _replace_properties(image, properties)
    if members is not None:
        _replace_members(image, members)
    return image


def image_soft_delete(*, image: Image, now: datetime | None = None) -> Image:
    """Mark deleted, keep the row and its properties; changes-since listings still see it."""
    if image.protected:
        raise ImageProtectedError(image)
    if image.deleted:
        return image
    now = now or timezone.now()
    return image_update(
        image=image,
        fields={"status": Image.Status.DELETED, "deleted": True, "deleted_at": now},
        now=now,
    )


def image_restore(*, image: Image, now: datetime | None = None) -> Image:
    """Undo a soft delete. The image comes back `active` (the status before is not kept)."""
    if not image.deleted:
        return image
    return image_update(
        image=image,
        fields={"status": Image.Status.ACTIVE, "deleted": False, "deleted_at": None},
        now=now,
    )


# Fields that many images can be given at once: no rule depends on the image's other values.
BULK_FIELDS = frozenset({"is_public", "protected", "status"})


@transaction.atomic
def images_bulk_update(
    *, images: QuerySet[Image], fields: Mapping, now: datetime | None = None
) -> list[Image]:
    """Give many images the same values for simple fields (visibility, protection, status).

    Only the images whose values differ are written; each gets `updated_at` = now and a new
    version, so an editor who loaded one earlier is refused rather than overwriting it. A
    status change leaves deleted images alone (image_restore brings those back) and cannot
    delete (image_soft_delete does). Returns the written images with their values from before.
    """
    unknown = set(fields) - BULK_FIELDS
    if unknown:
        raise CatalogError(f"cannot set {', '.join(sorted(unknown))} on many images at once")
    if fields.get("status") == Image.Status.DELETED:
        raise CatalogError("images are deleted with image_soft_delete, not by their status")
    now = now or timezone.now()
    ids = list(images.values_list("pk", flat=True))
    written = []
    for start in range(0, len(ids), _CHUNK):
        targets = Image.objects.filter(pk__in=ids[start : start + _CHUNK]).exclude(**fields)
        if "status" in fields:
            targets = targets.filter(deleted=False)
        chunk = list(targets.select_for_update().only("pk", "name", *fields))
        Image.objects.filter(pk__in=[image.pk for image in chunk]).update(
            **fields, updated_at=now, version=F("version") + 1
        )
        written += chunk
    return written


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _existing_ids(ids: Sequence) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(Image.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def images_import(
    *,
    entries: Sequence[CatalogEntry],
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Iterable | None = None,
) -> ImportResult:
    """Insert new ids and update existing ones, all in one transaction.

    The file is the truth for the images it names: their fields, properties and members are
    replaced by what it says, and its timestamps are kept as they are.
    `progress`, if given, wraps the entries (a progress bar).
    """
    now = now or timezone.now()
    rows = [entry.image_fields(now=now) for entry in entries]
    existing = _existing_ids([row["id"] for row in rows])
    result = ImportResult(created=len(rows) - len(existing), updated=len(existing))
    if dry_run:
        return result

    with transaction.atomic():
        new_images: list[Image] = []
        old_images: list[Image] = []
        properties: list[ImageProperty] = []
        members: list[ImageMember] = []
        for entry, row in zip(progress or entries, rows, strict=True):
            image = Image(**row, is_windows=properties_say_windows(entry.properties))
            (old_images if image.pk in existing else new_images).append(image)
            properties += [
                ImageProperty(image=image, key=key, value=value)
                for key, value in entry.properties.items()
            ]
            members += [ImageMember(image=image, **member.model_dump()) for member in entry.members]
        old_ids = [image.pk for image in old_images]
        for start in range(0, len(old_ids), _CHUNK):
            chunk = old_ids[start : start + _CHUNK]
            ImageProperty.objects.filter(image_id__in=chunk).delete()
            ImageMember.objects.filter(image_id__in=chunk).delete()
            Image.objects.filter(pk__in=chunk).update(version=F("version") + 1)
        if old_images:
            columns = [field for field in rows[0] if field != "id"] + ["is_windows"]
            Image.objects.bulk_update(old_images, columns, batch_size=_CHUNK)
        Image.objects.bulk_create(new_images, batch_size=_CHUNK)
        ImageProperty.objects.bulk_create(properties, batch_size=_CHUNK)
        ImageMember.objects.bulk_create(members, batch_size=_CHUNK)
    return result


# ------------------------------------------------------------------------------
# API tokens
# ------------------------------------------------------------------------------

PREFIX_LENGTH = 8
# URL-safe characters, at least 20 (operations.md), and not a leading "-": a secret that
# starts like an option cannot be passed as `glance --os-auth-token $TOKEN` or to most other
# command lines.
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{19,254}$")
SECRET_BYTES = 32
ROLE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ALPHANUMERIC = string.ascii_letters + string.digits


def generate_secret() -> str:
    """A random secret of 256 bits that begins with a letter or a digit.

    token_urlsafe's text begins with `-` once in 64 secrets; a letter or digit in front keeps
    every bit of it and lets the secret be passed on any command line.
    """
    return secrets.choice(_ALPHANUMERIC) + secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    # Secrets are long and random, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(secret.encode()).hexdigest()


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
    roles = [role.strip() for role in roles if role.strip()]
    if not roles:
        raise TokenError("a token needs at least one role, e.g. --roles member")
    bad = [role for role in roles if not ROLE_PATTERN.match(role)]
    if bad:
        raise TokenError(f"invalid role {bad[0]!r}: use letters, digits and . _ -")
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
        roles=",".join(dict.fromkeys(roles)),
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
