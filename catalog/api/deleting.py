"""`DELETE /v1.1/images/{id}`: who may delete which image, then the admin's own soft delete.

The rules are Glance v1's: an admin deletes any image it may name (not a Windows one), anyone
else with a writing role only its own project's images; a protected or pending_delete image
is refused. The write is `image_soft_delete`, as in the admin, and the image's History in the
admin records it under the API's system user (catalog/history.py) with the token's name.
"""

import logging
import uuid

from django.db import transaction
from rest_framework.exceptions import NotFound, PermissionDenied

from catalog.history import log_api_change
from catalog.models import ApiToken, Image
from catalog.services import image_soft_delete

logger = logging.getLogger("catalog.api")

PROTECTED_MESSAGE = "Forbidden to delete a protected image."
PENDING_DELETE_MESSAGE = "Forbidden to delete a pending_delete image."


def api_delete(*, caller, pk: uuid.UUID, token_pk: int | None) -> Image:
    """Soft-delete image `pk` for `caller` (auth.Caller), or raise the API's 403 or 404."""
    with transaction.atomic():
        # Locked until the write, so nobody changes the image between the checks and it.
        image = (
            Image.objects.for_caller(caller, named=True).filter(pk=pk).select_for_update().first()
        )
        # An admin may name a deleted image (HEAD shows it), but it cannot be deleted again.
        if image is None or image.deleted:
            raise NotFound(f"No image found with ID {pk}")
        if not caller.is_admin and image.owner != caller.project:
            raise PermissionDenied(
                f"You are not authorized to delete image {pk}: it belongs to another project."
            )
        if image.protected:
            raise PermissionDenied(PROTECTED_MESSAGE)
        if image.status == Image.Status.PENDING_DELETE:
            raise PermissionDenied(PENDING_DELETE_MESSAGE)
        status = image.status
        image_soft_delete(image=image)
        token = token_description(token_pk)
        log_api_change(
            image,
            f"Deleted through the API with {token}: status: “{status}” → “deleted”; "
            "properties and members kept.",
        )
    # The request id is every line's own field (catalog/api/request_id.py).
    logger.info("image %s deleted through the API with %s", pk, token)
    return image


def token_description(token_pk: int | None) -> str:
    """The token's name as History and the log show it."""
    if token_pk is None:
        return "no token (CATALOG_AUTH=none)"
    name = ApiToken.objects.filter(pk=token_pk).values_list("name", flat=True).first()
    return f"the token “{name}”"
