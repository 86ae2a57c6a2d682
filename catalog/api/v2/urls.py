"""docs/api.md#v2-routes: the v2 paths; each also answers with a trailing slash, as v1's do."""

from django.urls import re_path

from .. import views as v1_views
from . import views

IMAGE = r"(?P<image_id>[^/]+)"

urlpatterns = [
    re_path(r"^v2/?$", views.VersionView.as_view(), name="v2-version"),
    re_path(r"^v2/images/?$", views.ImageListView.as_view(), name="v2-images"),
    re_path(rf"^v2/images/{IMAGE}/?$", views.ImageView.as_view(), name="v2-image"),
    re_path(rf"^v2/images/{IMAGE}/file/?$", views.ImageFileView.as_view(), name="v2-file"),
    re_path(r"^v2/schemas/images/?$", views.ImagesSchemaView.as_view(), name="v2-schema-images"),
    re_path(r"^v2/schemas/image/?$", views.ImageSchemaView.as_view(), name="v2-schema-image"),
    re_path(r"^v2(?:/.*)?$", v1_views.UnknownPathView.as_view()),
]
