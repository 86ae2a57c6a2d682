"""The v2 image API (docs/api.md#v2): the listing, one image, its data, and the schemas."""

import uuid
from http import HTTPStatus

from django.db import router
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import compiled
from catalog.compiled import Param
from catalog.models import Image
from catalog.querysets import V2Scope

from .. import views as v1_views
from . import openapi, schemas
from .paging import EXPRESSIONS, LinkPagination
from .parameters import ListingParameters
from .serialization import image


class ImageListView(GenericAPIView):
    """`GET /v2/images`."""

    http_method_names = ["get"]
    pagination_class = LinkPagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # After the token, before any query: the order the errors are answered in. Another
        # method is a 405, whatever its parameters.
        if request.method.lower() in self.http_method_names:
            self.parameters = ListingParameters.read(request.query_params)

    @extend_schema(**openapi.LISTING)
    def get(self, request):
        selection = self.parameters.selection(request.user)
        # A filters.Selection, which LinkPagination pages (not a queryset).
        return self.get_paginated_response(self.paginate_queryset(selection))  # type: ignore[arg-type]


def shown_image(caller, image_id: str) -> dict:
    """The image `image_id` names, if `caller` may see it by id; 404 otherwise. Glance
    compares ids as text, so only the canonical spelling of the UUID finds it."""
    message = f"No image found with ID {image_id[:100]}"
    try:
        pk = uuid.UUID(image_id)
    except ValueError:
        raise NotFound(message) from None
    if str(pk) != image_id:
        raise NotFound(message)

    def build():
        images = Image.objects.for_caller(caller, v2=V2Scope(), named=True)
        return images.filter(pk=Param("image", pk, Image._meta.pk)).values_list(*EXPRESSIONS)

    key = ("v2-image", Image.objects.policy_key(caller, v2=V2Scope(), named=True))
    values = {"project": caller.project, "image": pk}
    found = compiled.rows(key, build, values, router.db_for_read(Image))
    if not found:
        raise NotFound(message)
    return image(found[0])


class ImageView(APIView):
    """`GET /v2/images/{id}`: one image, a killed one too, never a deleted one."""

    http_method_names = ["get"]

    @extend_schema(**openapi.IMAGE)
    def get(self, request, image_id):
        return Response(shown_image(request.user, image_id))


class ImageFileView(APIView):
    """`GET /v2/images/{id}/file`: the catalog holds no image data, and Glance answers an
    image without data with 204 No Content."""

    http_method_names = ["get"]

    @extend_schema(**openapi.IMAGE_FILE)
    def get(self, request, image_id):
        shown_image(request.user, image_id)
        response = HttpResponse(status=HTTPStatus.NO_CONTENT)
        del response["Content-Type"]
        return response


class ImagesSchemaView(APIView):
    """`GET /v2/schemas/images`: the listing's JSON schema."""

    http_method_names = ["get"]

    @extend_schema(**openapi.IMAGES_SCHEMA)
    def get(self, request):
        return Response(schemas.IMAGES)


class ImageSchemaView(APIView):
    """`GET /v2/schemas/image`: an image's JSON schema, which glanceclient validates with."""

    http_method_names = ["get"]

    @extend_schema(**openapi.IMAGE_SCHEMA)
    def get(self, request):
        return Response(schemas.IMAGE)


class VersionView(v1_views.VersionView):
    """`GET /v2`: the v2 entries of the version list, no token needed."""

    @extend_schema(**openapi.VERSION)
    def get(self, request, version: str = "v2"):
        return super().get(request, "v2")
