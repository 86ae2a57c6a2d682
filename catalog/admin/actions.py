"""Change list actions that set the same values on many images, and "export selected"."""

import tempfile
from collections import defaultdict

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.http import FileResponse
from django.utils import timezone

from ..catalog_file import write_catalog
from ..changes import describe_fields
from ..database import LOG_ENTRIES_PER_STATEMENT, ROWS_PER_FETCH
from ..models import Image
from ..services import images_bulk_update


def plural(count: int, noun: str = "image") -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def log_changes(request, images, message: str) -> None:
    """One history entry per image, written in batches (an action may touch many images)."""
    images = list(images)
    for start in range(0, len(images), LOG_ENTRIES_PER_STATEMENT):
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=images[start : start + LOG_ENTRIES_PER_STATEMENT],
            action_flag=CHANGE,
            change_message=message,
        )


class BulkActionsMixin(admin.ModelAdmin):
    """The image admin's bulk changes; a ModelAdmin itself, since it calls the admin's own."""

    def _set_on_selected(self, request, queryset, fields, done, skipped):
        selected = queryset.count()
        written = images_bulk_update(images=queryset, fields=fields)
        by_before = defaultdict(list)
        for image in written:
            by_before[tuple(getattr(image, name) for name in fields)].append(image)
        for values, images in by_before.items():
            old = dict(zip(fields, values, strict=True))
            changes = "; ".join(describe_fields(old, fields))
            log_changes(request, images, f"{done.capitalize()}: {changes}.")
        message = f"{plural(len(written))} {done}."
        if selected > len(written):
            message += f" {plural(selected - len(written))} {skipped}."
        self.message_user(request, message)

    @admin.action(description="Make selected images public", permissions=["change"])
    def make_public(self, request, queryset):
        self._set_on_selected(request, queryset, {"is_public": True}, "made public", "already were")

    @admin.action(description="Make selected images private", permissions=["change"])
    def make_private(self, request, queryset):
        self._set_on_selected(
            request, queryset, {"is_public": False}, "made private", "already were"
        )

    @admin.action(description="Mark selected images active", permissions=["change"])
    def mark_active(self, request, queryset):
        self._set_on_selected(
            request,
            queryset,
            {"status": Image.Status.ACTIVE},
            "marked active",
            "already were, or are deleted (restore those instead)",
        )

    @admin.action(description="Export selected images as a catalog file", permissions=["view"])
    def export_selected(self, request, queryset):
        images = (
            queryset.order_by("created_at", "id")
            .prefetch_related("properties", "members")
            .iterator(chunk_size=ROWS_PER_FETCH)
        )
        # Small exports stay in memory, large ones spill to a temporary file; the response
        # closes it once sent.
        stream = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        write_catalog(images, lambda text: stream.write(text.encode()))
        stream.seek(0)
        name = f"catalog-{timezone.now():%Y%m%d-%H%M%S}.json"
        return FileResponse(
            stream, as_attachment=True, filename=name, content_type="application/json"
        )
