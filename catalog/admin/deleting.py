"""Deleting an image is a soft delete, and a deleted image can be restored.

Django's delete page, its bulk delete and the "soft delete" action all end in
image_soft_delete: the row stays, with its properties and members. Nobody (superusers
included) removes an image row through the admin; deleting is a change of the image, so it
takes the permission to change images.
"""

from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from ..services import ImageChangedError, image_restore, image_soft_delete
from .actions import plural


class SoftDeleteMixin(admin.ModelAdmin):
    """The image admin's deleting half; a ModelAdmin itself, since it calls the admin's own."""

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.deleted:
            return False
        return self.has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's bulk delete is replaced by soft_delete_selected.
        actions.pop("delete_selected", None)
        return actions

    def get_deleted_objects(self, objs, request):
        # Nothing but the images is touched (they keep their properties and members), and
        # protected images refuse: the delete page says so instead of asking to confirm.
        protected = [f"{image} is protected" for image in objs if image.protected]
        return [str(image) for image in objs], {}, set(), protected

    def log_deletions(self, request, queryset):
        # delete_model records the soft delete as a change, once it has happened.
        pass

    def delete_model(self, request, obj):
        status = obj.status
        image_soft_delete(image=obj)
        self.log_change(
            request,
            obj,
            f"Deleted (soft delete): status: “{status}” → “deleted”; properties and members kept.",
        )

    def delete_queryset(self, request, queryset):
        # A protected image raises ImageProtectedError, and the admin's transaction undoes
        # the images deleted before it.
        for image in queryset:
            self.delete_model(request, image)

    def response_delete(self, request, obj_display, obj_id):
        self.message_user(
            request,
            f"“{obj_display}” was deleted. It is kept: the Deleted filter shows it, and "
            "Restore brings it back.",
            messages.SUCCESS,
        )
        url = add_preserved_filters(
            {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts},
            reverse("admin:catalog_image_changelist"),
        )
        return HttpResponseRedirect(url)

    def _restore(self, request, image) -> bool:
        if not image.deleted:
            return False
        image_restore(image=image)
        self.log_change(request, image, "Restored: status: “deleted” → “active”.")
        return True

    @method_decorator(require_POST)
    def restore_view(self, request, object_id):
        with transaction.atomic():
            image = self.get_object(request, unquote(object_id))
            if image is None:
                # The change page's own answer to a missing object; private, so not in the stubs.
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
            if not self.has_change_permission(request, image):
                raise PermissionDenied
            restored = self._restore(request, image)
        if restored:
            self.message_user(request, f"“{image}” was restored; it is active again.")
        else:
            self.message_user(request, f"“{image}” is not deleted.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:catalog_image_change", args=[image.pk]))

    def get_urls(self):
        restore = self.admin_site.admin_view(self.restore_view)
        return [
            path("<path:object_id>/restore/", restore, name="catalog_image_restore"),
            *super().get_urls(),
        ]

    @admin.action(
        description="Delete selected images (soft: they can be restored)", permissions=["change"]
    )
    def soft_delete_selected(self, request, queryset):
        deleted, protected, moved = [], [], []
        for image in queryset.filter(deleted=False):
            if image.protected:
                protected.append(image)
                continue
            try:
                with transaction.atomic():
                    self.delete_model(request, image)
            except ImageChangedError:
                moved.append(image)
            else:
                deleted.append(image)
        if deleted:
            self.message_user(
                request,
                f"{plural(len(deleted))} deleted. The Deleted filter shows them, and Restore "
                "brings them back.",
            )
        if protected:
            names = ", ".join(f"“{image}”" for image in protected)
            self.message_user(
                request,
                f"Not deleted, because protected: {names}. Clear “protected” first.",
                messages.ERROR,
            )
        if moved:
            names = ", ".join(f"“{image}”" for image in moved)
            self.message_user(
                request, f"Not deleted, changed meanwhile: {names}. Try again.", messages.ERROR
            )
        if not (deleted or protected or moved):
            self.message_user(request, "The selected images were deleted already.", messages.INFO)

    @admin.action(description="Restore selected deleted images", permissions=["change"])
    def restore_selected(self, request, queryset):
        restored = moved = 0
        for image in queryset.filter(deleted=True):
            try:
                with transaction.atomic():
                    restored += self._restore(request, image)
            except ImageChangedError:
                moved += 1
        if restored:
            self.message_user(request, f"{plural(restored)} restored; they are active again.")
        if moved:
            self.message_user(
                request, f"{plural(moved)} changed meanwhile; try again.", messages.ERROR
            )
        if not (restored or moved):
            self.message_user(
                request,
                "None of the selected images is deleted (the Deleted filter shows those).",
                messages.WARNING,
            )
