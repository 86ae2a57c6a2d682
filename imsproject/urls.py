from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    # The split view serves its start-up script as a file of its own, not inline in the page.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="openapi"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="openapi", template_name="docs/redoc.html"),
        name="redoc",
    ),
    path("", include("catalog.api.urls")),
]

handler400 = "catalog.api.views.bad_request"
handler404 = "catalog.api.views.page_not_found"
handler500 = "catalog.api.views.server_error"
