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


MEMBER_STATUSES = ("accepted", "pending", "rejected", "all")
VISIBILITIES = ("public", "private", "shared", "community", "all")


@dataclass(frozen=True)
class V2Scope:
    """What a Glance v2 listing asks for on top of who the caller is (docs/api.md#v2-visibility):
    the images shared with the caller's project whose membership has `member_status`
    (`accepted` by default, or `pending`, `rejected`, `all`), narrowed to one `visibility`
    (`public`, `private`, `shared`, `community`; None or `all` keeps every one)."""

    member_status: str = "accepted"
    visibility: str | None = None


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

    def listed_v2(self):
        """What a v2 listing shows (docs/api.md#v2-visibility): Glance v2 hides deleted and
        killed images, and lists every other status, pending_delete included."""
        from .models import ImageStatus  # models imports this module

        return self.filter(deleted=False).exclude(status=ImageStatus.KILLED)

    def for_caller(self, caller, *, changes_since=None, is_public=True, named=False, v2=None):
        """The one read policy of the API: which images `caller` (auth.Caller) sees.

        A listing (docs/api.md#visibility, docs/api.md#deleted-images): never a Windows image;
        deleted, killed and pending_delete images only with `changes_since`; visibility by
        Glance v1's table, where only an admin's `is_public` (True, also when absent; False;
        None for `none`) changes anything.

        `named`: the images the caller may name by id instead, as a marker or in HEAD
        (docs/api.md#paging, docs/api.md#head). An admin names any image but a Windows one,
        deleted ones included; anyone else names what they may see, a deleted image only with
        `changes_since`.

        `v2` (a V2Scope): Glance v2's rules instead (docs/api.md#v2-visibility). A listing:
        never a Windows, deleted or killed image; an admin sees every project's images; anyone
        else the public ones, their project's own, and those shared with it whose membership
        has the scope's status; then only the scope's visibility. With `named`, the images
        GET /v2/images/{id} shows: never a deleted one, to anyone; an admin any other; anyone
        else the public ones, their own, and those shared with them in any membership status.
        (A v2 marker is named as a v1 one is, without `v2`: an admin's may be deleted.)
        """
        images = self.not_windows()
        if v2 is not None:
            if named:
                images = images.filter(deleted=False)
                visible = None if caller.is_admin else visibility(project=caller.project)
            else:
                images = images.listed_v2()
                visible = v2_visibility(project=caller.project, is_admin=caller.is_admin, scope=v2)
            return images.filter(visible) if visible is not None else images
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
    def policy_key(caller, *, changes_since=None, is_public=True, named=False, v2=None) -> tuple:
        """What decides the SQL of `for_caller` with these arguments, for `catalog.compiled`:
        everything but the caller's project, which reaches the query as `Param("project")`."""
        key = (
            caller.is_admin,
            caller.project is None,
            changes_since is None,
            is_public if caller.is_admin and not named else None,
            named,
        )
        return key if v2 is None else (*key, "v2", v2)


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


def v2_visibility(*, project, is_admin, scope: V2Scope) -> Q | None:
    """docs/api.md#v2-visibility: Glance v2's visibility (None: every image).

    The catalog stores `is_public` and members; Glance v2's visibility follows from them:
    public when `is_public`, otherwise shared when the image has members, else private.
    """
    from .models import ImageMember

    who = None
    if not is_admin and project is None:
        who = Q(is_public=True)
    elif not is_admin:
        project = Param("project", project, CharField())
        memberships = ImageMember.objects.filter(image=OuterRef("pk"), member_id=project)
        if scope.member_status != "all":
            memberships = memberships.filter(status=scope.member_status)
        who = Q(is_public=True) | Q(owner=project) | Q(Exists(memberships))
    has_members = Exists(ImageMember.objects.filter(image=OuterRef("pk")))
    narrowed = {
        "public": Q(is_public=True),
        "private": Q(is_public=False) & ~Q(has_members),
        "shared": Q(is_public=False) & Q(has_members),
        # Glance's community images, visible to every project: the catalog has none.
        "community": Q(pk__isnull=True),
    }.get(scope.visibility or "")
    if who is None or narrowed is None:
        return who if narrowed is None else narrowed
    return who & narrowed
