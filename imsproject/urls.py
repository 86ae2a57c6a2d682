from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("", include("catalog.api.urls")),
]

handler400 = "catalog.api.views.bad_request"
handler404 = "catalog.api.views.page_not_found"
handler500 = "catalog.api.views.server_error"
