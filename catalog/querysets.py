"""The read vocabulary for images, shared by the API, the admin and the commands."""

from django.db import models


class ImageQuerySet(models.QuerySet):
    def not_windows(self):
        """legacy-api.md §2: the API never returns Windows images (they stay in the catalog)."""
        return self.filter(is_windows=False)

    def listed(self):
        """What a listing shows when no changes-since is given (legacy-api.md §4)."""
        return self.filter(deleted=False).exclude(
            status__in=[self.model.Status.KILLED, self.model.Status.PENDING_DELETE]
        )
