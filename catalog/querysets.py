"""The read vocabulary for images, shared by the API, the admin and the commands."""

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import CharField, Exists, OuterRef, Q

from .compiled import Param


@dataclass(frozen=True)
class ReadScope:
    """Whom a listing answers, kept so paging can ask the same policy which images the caller
    may name as a marker (filters.Selection)."""

    caller: object
    changes_since: datetime | None


class ImageQuerySet(models.QuerySet):
    def not_windows(self):
        """docs/api.md#windows-images: the API never returns them (they stay in the catalog)."""
        return self.filter(is_windows=False)

    def listed(self):
        """What a listing shows when no changes-since is given (docs/api.md#deleted-images)."""
        from .models import ImageStatus  # models imports this module

        return self.filter(deleted=False).exclude(
            status__in=[ImageStatus.KILLED, ImageStatus.PENDING_DELETE]
        )

    def for_caller(self, caller, *, changes_since=None, is_public=True, named=False):
        """The one read policy of the API: which images `caller` (auth.Caller) sees.

        A listing (docs/api.md#visibility, docs/api.md#deleted-images): never a Windows image;
        deleted, killed and pending_delete images only with `changes_since`; visibility by
        Glance v1's table, where only an admin's `is_public` (True, also when absent; False;
        None for `none`) changes anything.

        `named`: the images the caller may name by id instead, as a marker or in HEAD
        (docs/api.md#paging, docs/api.md#head). An admin names any image but a Windows one,
        deleted ones included; anyone else names what they may see, a deleted image only with
        `changes_since`.
        """
        images = self.not_windows()
        if named:
            if caller.is_admin:
                return images
            visible = visibility(project=caller.project)
            if changes_since is None:
                images = images.filter(deleted=False)
        else:
            visible = visibility(
                project=caller.project, is_admin=caller.is_admin, is_public=is_public
            )
            if changes_since is None:
                images = images.listed()
        if visible is not None:
            images = images.filter(visible)
        return images

    @staticmethod
    def policy_key(caller, *, changes_since=None, is_public=True, named=False) -> tuple:
        """What decides the SQL of `for_caller` with these arguments, for `catalog.compiled`:
        everything but the caller's project, which reaches the query as `Param("project")`."""
        return (
            caller.is_admin,
            caller.project is None,
            changes_since is None,
            is_public if caller.is_admin and not named else None,
            named,
        )


def visibility(*, project, is_admin=False, is_public=True) -> Q | None:
    """docs/api.md#visibility, Glance v1's visibility table (None: every image)."""
    if is_admin and is_public is None:
        return None
    if is_admin and is_public is False:
        return Q(is_public=False)
    if project is None:
        return Q(is_public=True)
    from .models import ImageMember

    # A Param: one compiled listing serves every project (catalog.compiled).
    project = Param("project", project, CharField())
    shared = ImageMember.objects.filter(image=OuterRef("pk"), member_id=project)
    return Q(is_public=True) | Q(owner=project) | Q(Exists(shared))
