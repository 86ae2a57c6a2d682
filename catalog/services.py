"""The writes to images: every change to an image, its properties or its members goes
through these functions, but the bulk paths named below.

The admin, the management commands and the tests call them, so the rules that span rows
(the Windows flag follows the properties, a write bumps the version, a protected image is
never deleted, an import is all or nothing) live in one place. Validation of what a person or
a file typed happens before, at the boundary (forms, `catalog_file`); the database constraints
are the last guard.

Writes that go elsewhere, on purpose:

* Generated catalogs (`seed_images`) are written by catalog.bulk_load, with COPY or batched
  INSERTs and no model instance per row, for the sake of a million images; so is the deletion
  of the whole catalog before one (`--replace`). Its rows carry the same derived columns
  (models.columns_from_properties) and meet the same constraints.
* An import (`images_import`) stages a file's rows with the same bulk writers and moves them
  into the catalog with a few set-based statements (catalog.staging), one transaction for the
  whole file; the rules it keeps are the same: derived columns, version bumps, the tally.
* API tokens have their own module, catalog.tokens; the API's authentication notes a token's
  `last_used_at` itself, with one UPDATE on the request's path.
* The admin records what it changed in Django's own history (LogEntry).
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from . import bulk_load, tally
from .catalog_file import CatalogEntry, CatalogFileError, Problems
from .database import ROWS_PER_STATEMENT
from .models import Image, ImageMember, ImageProperty, columns_from_properties
from .staging import Staging


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
    derived = columns_from_properties(properties)
    image = Image(**{"created_at": now, "updated_at": now, **(fields or {}), **derived})
    image.save(force_insert=True)
    _replace_properties(image, properties)
    _replace_members(image, members)
    tally.record(after=[tally.row_of(image, properties=properties, has_members=bool(members))])
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
        changes.update(columns_from_properties(properties))
    version = image.version if expected_version is None else expected_version
    # Read before the write, for the tally; a write in between would fail the version check.
    before = tally.rows([image.pk])
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
    tally.record(
        before=before,
        after=[
            tally.row_after(
                row,
                changes,
                properties=properties,
                has_members=None if members is None else bool(members),
            )
            for row in before
        ],
    )
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
    for start in range(0, len(ids), ROWS_PER_STATEMENT):
        chunk_ids = ids[start : start + ROWS_PER_STATEMENT]
        targets = Image.objects.filter(pk__in=chunk_ids).exclude(**fields)
        if "status" in fields:
            targets = targets.filter(deleted=False)
        chunk = list(targets.select_for_update().only("pk", "name", *fields))
        before = tally.rows([image.pk for image in chunk])
        Image.objects.filter(pk__in=[image.pk for image in chunk]).update(
            **fields, updated_at=now, version=F("version") + 1
        )
        tally.record(before=before, after=[tally.row_after(row, fields) for row in before])
        written += chunk
    return written


@dataclass
class ImportResult:
    created: int = 0
    # Images that were in the catalog already: replaced, or to be replaced on a dry run.
    updated: int = 0
    # Their ids, when asked for (a small file's: the admin records each image's history).
    updated_ids: set = field(default_factory=set)


def images_import(
    *,
    entries: Iterable[CatalogEntry],
    dry_run: bool = False,
    now: datetime | None = None,
    problems: Problems | None = None,
    keep_ids: bool = False,
) -> ImportResult:
    """Insert new ids and update existing ones, all or nothing.

    The file is the truth for the images it names: their fields, properties and members are
    replaced by what it says, and its timestamps are kept as they are. `entries` may be a
    stream (catalog_file.read_entries): they go into staging tables a batch at a time
    (catalog.staging), so memory holds one batch whatever the file's size, and move into the
    catalog in one transaction at the end. The stream's reader notes what is wrong in
    `problems`; once it holds any, nothing more is staged, the rest is still read (every
    problem is reported at once), and CatalogFileError ends the import with the catalog
    untouched. A dry run does everything, the move included, and rolls it back.
    `keep_ids` gathers the updated images' ids in the result (memory grows with them).
    """
    now = now or timezone.now()
    result = ImportResult()
    change: Counter[tuple[str, str]] = Counter()
    with Staging() as staging, closing(bulk_load.batches(entries)) as batches:
        for batch in batches:
            if problems:
                continue
            images = [entry.bulk_row(now=now) for entry in batch]
            staging.write(images)
            change.update(tally.change(after=[tally.bulk_row_of(image) for image in images]))
        if problems:
            raise CatalogFileError(problems.report())
        with transaction.atomic():
            for ids in staging.existing_ids():
                result.updated += len(ids)
                if keep_ids:
                    result.updated_ids.update(uuid.UUID(str(pk)) for pk in ids)
                change.update(tally.change(before=tally.rows(ids)))
            result.created = staging.count() - result.updated
            staging.move()
            tally.add(change)
            if dry_run:
                transaction.set_rollback(True)
    return result
