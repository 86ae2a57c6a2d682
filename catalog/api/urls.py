from django.urls import include, path, re_path

from . import members, views

# docs/api.md#routes: Glance routed v1, v1.0 and v1.1 to one API; real clients use /v1/.
VERSION = r"(?P<version>v1(?:\.[01])?)"

urlpatterns = [
    path("", views.RootView.as_view(), name="root"),
    path("versions", views.VersionsView.as_view(), name="versions"),
    path("healthz", views.healthz, name="healthz"),
    re_path(rf"^{VERSION}/?$", views.VersionView.as_view(), name="version"),
    re_path(rf"^{VERSION}/images/detail/?$", views.ImageDetailView.as_view(), name="detail"),
    re_path(rf"^{VERSION}/images/?$", views.ImageBriefView.as_view(), name="brief"),
    re_path(rf"^{VERSION}/images/(?P<image_id>[^/]+)/?$", views.ImageView.as_view(), name="image"),
    re_path(
        rf"^{VERSION}/images/(?P<image_id>[^/]+)/members/?$",
        members.ImageMembersView.as_view(),
        name="members",
    ),
    re_path(
        rf"^{VERSION}/images/(?P<image_id>[^/]+)/members/(?P<member_id>[^/]+)/?$",
        members.ImageMemberView.as_view(),
        name="member",
    ),
    re_path(
        rf"^{VERSION}/shared-images/(?P<project>[^/]+)/?$",
        members.SharedImagesView.as_view(),
        name="shared-images",
    ),
    re_path(rf"^{VERSION}/.*$", views.UnknownPathView.as_view()),
    path("", include("catalog.api.v2.urls")),
]
