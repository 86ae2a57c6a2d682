"""The read vocabulary for images, shared by the API, the admin and the commands."""

from django.db import models
from django.db.models import Exists, OuterRef, Q


class ImageQuerySet(models.QuerySet):
    def not_windows(self):
        """legacy-api.md §2: the API never returns Windows images (they stay in the catalog)."""
        return self.filter(is_windows=False)

    def listed(self):
        """What a listing shows when no changes-since is given (legacy-api.md §4)."""
        return self.filter(deleted=False).exclude(
            status__in=[self.model.Status.KILLED, self.model.Status.PENDING_DELETE]
        )

    def visible_to(self, *, project, is_admin=False, is_public=True):
        """legacy-api.md §2, Glance v1's visibility table.

        `is_public` is True (also when the parameter is absent), False, or None (`none`);
        only an admin's `is_public` changes anything.
        """
        if is_admin and is_public is None:
            return self
        if is_admin and is_public is False:
            return self.filter(is_public=False)
        if project is None:
            return self.filter(is_public=True)
        from .models import ImageMember

        shared = ImageMember.objects.filter(image=OuterRef("pk"), member_id=project)
        return self.filter(Q(is_public=True) | Q(owner=project) | Q(Exists(shared)))
