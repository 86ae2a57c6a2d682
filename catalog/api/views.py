"""The legacy image API (docs/api.md): listings, HEAD, delete, version discovery, health."""

import sys
import uuid
from http import HTTPStatus

from django.conf import settings
from django.db import connection, router
from django.http import HttpResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import compiled
from catalog.compiled import Param
from catalog.database import deadline_within
from catalog.models import Image

from . import schema
from .auth import CanWriteImages, base_url
from .deleting import api_delete
from .errors import error_response
from .filters import ImageFilter, ImageFilterBackend
from .headers import head_headers
from .middleware import DATABASE_ERRORS, database_unavailable, is_api_path
from .pagination import MarkerPagination
from .serialization import BRIEF_COLUMNS, DETAIL_COLUMNS, detail_entries

VERSIONS = ("v1.1", "v1.0")
# docs/api.md#version-discovery: IMS's list, the v2 API first (its newest CURRENT).
V2_VERSIONS = {"v2.2": "CURRENT", "v2.1": "SUPPORTED", "v2.0": "SUPPORTED"}


class ImageListView(GenericAPIView):
    """`GET /v1.1/images/detail` and `GET /v1.1/images`."""

    http_method_names = ["get"]  # HEAD on a listing is a 405, not a GET without body
    queryset = Image.objects.all()
    filter_backends = [ImageFilterBackend]
    filterset_class = ImageFilter
    pagination_class = MarkerPagination
    columns = DETAIL_COLUMNS

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # After the token, before the filters: the order the errors are answered in.
        paginator = self.paginator
        assert isinstance(paginator, MarkerPagination)
        paginator.read_parameters(request)

    def get(self, request, version):
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.entries(rows))

    def entries(self, rows):
        return detail_entries(rows)


@extend_schema_view(get=extend_schema(**schema.DETAIL))
class ImageDetailView(ImageListView):
    pass


@extend_schema_view(get=extend_schema(**schema.BRIEF))
class ImageBriefView(ImageListView):
    columns = BRIEF_COLUMNS

    def entries(self, rows):
        return rows


def image_pk(image_id: str) -> uuid.UUID:
    """The id of an image path; one that is not a UUID names no image (404)."""
    try:
        return uuid.UUID(image_id)
    except ValueError:
        raise NotFound(f"No image found with ID {image_id[:100]}") from None


def empty_response() -> HttpResponse:
    """200 with an empty body that is not typed as JSON: python-glanceclient parses a
    JSON-typed body, and fails on an empty one (HEAD and DELETE answer so)."""
    response = HttpResponse(content_type="text/html; charset=UTF-8")
    response["Content-Length"] = "0"
    return response


class ImageView(APIView):
    """`HEAD /v1.1/images/{id}`: the metadata as headers; `DELETE`: a soft delete. `GET` would
    download the image data, which this catalog does not hold: 404 (openstacksdk's find_image
    relies on it)."""

    http_method_names = ["get", "head", "delete"]

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [CanWriteImages()]
        return super().get_permissions()

    @extend_schema(**schema.IMAGE_GET)
    def get(self, request, version, image_id):
        raise NotFound("This catalog holds image metadata only; use HEAD for an image.")

    @extend_schema(**schema.IMAGE_DELETE)
    def delete(self, request, version, image_id):
        api_delete(
            caller=request.user,
            pk=image_pk(image_id),
            token_pk=request.auth,
        )
        return empty_response()

    @extend_schema(**schema.IMAGE_HEAD)
    def head(self, request, version, image_id):
        caller = request.user
        pk = image_pk(image_id)

        def build():
            images = Image.objects.for_caller(caller, named=True)
            marker = Param("image", pk, Image._meta.pk)
            return images.filter(pk=marker).values_list(*DETAIL_COLUMNS.values())

        key = ("head", Image.objects.policy_key(caller, named=True))
        values = {"project": caller.project, "image": pk}
        found = compiled.rows(key, build, values, router.db_for_read(Image))
        entry = detail_entries([dict(zip(DETAIL_COLUMNS, row, strict=True)) for row in found])
        if not entry:
            raise NotFound(f"No image found with ID {pk}")
        response = empty_response()
        for name, value in head_headers(entry[0]).items():
            response[name] = value
        return response


def version_document(request, versions) -> dict:
    """The entries of `versions`: a v2 one links `/v2/`, a v1 one `/v1/` (the prefix
    python-glanceclient uses)."""
    base = base_url(request)
    entries = []
    for version in versions:
        status = V2_VERSIONS.get(version, "DEPRECATED")
        href = f"{base}/{version.split('.')[0]}/"
        entries.append({"id": version, "status": status, "links": [{"rel": "self", "href": href}]})
    return {"versions": entries}


class VersionsView(APIView):
    """`GET /versions` (200): the version list (docs/api.md#version-discovery)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    http_method_names = ["get"]
    status = HTTPStatus.OK

    @extend_schema(**schema.VERSIONS)
    def get(self, request):
        return Response(version_document(request, (*V2_VERSIONS, *VERSIONS)), status=self.status)


@extend_schema_view(get=extend_schema(**schema.ROOT_VERSIONS))
class RootView(VersionsView):
    """`GET /`: the same list, as 300 Multiple Choices."""

    status = HTTPStatus.MULTIPLE_CHOICES


class VersionView(APIView):
    """`GET /v1.1` (and `/v1`, `/v1.0`): that version's entry; `GET /v2`: the v2 entries.
    No token needed."""

    authentication_classes = []
    permission_classes = [AllowAny]
    http_method_names = ["get"]

    @extend_schema(**schema.VERSION)
    def get(self, request, version):
        if version == "v2":
            return Response(version_document(request, V2_VERSIONS))
        return Response(version_document(request, ["v1.0" if version == "v1" else version]))


class UnknownPathView(APIView):
    """Any other path under the version prefixes: 404 in the legacy error format."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        raise NotFound("The resource could not be found.")

    post = put = patch = delete = head = options = get


@csrf_exempt  # a POST gets the API's 405, not Django's CSRF page
def healthz(request):
    """200 when the database answers, 503 when it does not (for load balancers; no token)."""
    if request.method not in ("GET", "HEAD"):
        return error_response(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"Method {request.method[:20]} not allowed.",
            {"Allow": "GET, HEAD"},
        )
    # A probe that waits is as bad as one that fails: the load balancer gives up first.
    with deadline_within(settings.CATALOG_HEALTHZ_TIMEOUT), connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # an unreachable database raises: the middleware's 503
    return HttpResponse(b'{"status": "ok"}', content_type="application/json; charset=UTF-8")


def bad_request(request, exception):
    """A 400 that Django itself answers (a suspicious request refused by a middleware) is in
    the API's error format on API paths too."""
    if not is_api_path(request.path):
        return defaults.bad_request(request, exception)
    return error_response(HTTPStatus.BAD_REQUEST, "The request is malformed.")


def page_not_found(request, exception):
    """Any unknown path outside the admin answers in the API's error format, not HTML."""
    if request.path.startswith("/admin/"):
        return defaults.page_not_found(request, exception)
    return error_response(HTTPStatus.NOT_FOUND, "The resource could not be found.")


def server_error(request):
    """Django's last resort, for an exception outside any view (in a middleware, say): a
    database error is still the 503 the middleware answers for one inside a view."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_ERRORS):
        return database_unavailable(request, exception)
    return defaults.server_error(request)
