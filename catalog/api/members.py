"""Glance v1's membership reads: whom an image is shared with, and what a project is given.

Read-only: memberships are changed in the admin, so these paths answer GET alone (405 with
`Allow: GET` otherwise). Which images a caller may ask about is the one read policy's
`named` branch, as for HEAD; a membership of any status counts, as it does for visibility.
"""

from collections.abc import Iterable

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Image, ImageMember

from . import schema
from .filters import can_be_stored
from .views import image_pk


def shared_image(caller, image_id: str) -> Image:
    """The image whose members `caller` asks for: 404 when the caller may not name it, 403
    when it may but is neither the image's owner nor an admin (as in Glance v1, a member
    project does not learn who else the image is shared with)."""
    pk = image_pk(image_id)
    image = Image.objects.for_caller(caller, named=True).filter(pk=pk).only("owner").first()
    if image is None:
        raise NotFound(f"No image found with ID {pk}")
    if not caller.is_admin and image.owner != caller.project:
        raise PermissionDenied(
            f"You are not authorized to see the members of image {pk}: "
            "only its owner project and admins may."
        )
    return image


def member_entry(member_id: str, can_share: bool) -> dict:
    return {"member_id": member_id, "can_share": can_share}


class ImageMembersView(APIView):
    """`GET /v1/images/{id}/members`: the projects the image is shared with."""

    http_method_names = ["get"]

    @extend_schema(**schema.IMAGE_MEMBERS)
    def get(self, request, version, image_id):
        image = shared_image(request.user, image_id)
        members = ImageMember.objects.filter(image=image).values_list("member_id", "can_share")
        return Response({"members": [member_entry(*member) for member in members]})


class ImageMemberView(APIView):
    """`GET /v1/images/{id}/members/{member_id}`: one membership, 404 when there is none."""

    http_method_names = ["get"]

    @extend_schema(**schema.IMAGE_MEMBER)
    def get(self, request, version, image_id, member_id):
        image = shared_image(request.user, image_id)
        can_share = None
        if can_be_stored(member_id):
            can_share = (
                ImageMember.objects.filter(image=image, member_id=member_id)
                .values_list("can_share", flat=True)
                .first()
            )
        if can_share is None:
            raise NotFound(f"Project {member_id[:100]} is not a member of image {image.pk}.")
        return Response({"member": member_entry(member_id, can_share)})


class SharedImagesView(APIView):
    """`GET /v1/shared-images/{project}`: the images shared with a project, deleted and
    Windows ones left out. Anyone but an admin asks only about its own project."""

    http_method_names = ["get"]

    @extend_schema(**schema.SHARED_IMAGES)
    def get(self, request, version, project):
        caller = request.user
        if not caller.is_admin and project != caller.project:
            raise PermissionDenied(
                f"You are not authorized to see the images shared with project {project[:100]}: "
                "a token may ask only about its own project."
            )
        shared: Iterable = []
        if can_be_stored(project):
            images = Image.objects.for_caller(caller, named=True).filter(deleted=False)
            shared = (
                ImageMember.objects.filter(member_id=project, image__in=images)
                .order_by("image_id")
                .values_list("image_id", "can_share")
            )
        return Response(
            {
                "shared_images": [
                    {"image_id": str(image_id), "can_share": can_share}
                    for image_id, can_share in shared
                ]
            }
        )
