"""docs/api.md#version-discovery: version discovery, without a token."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


def entry(version, base="http://testserver", status="DEPRECATED"):
    return {
        "id": version,
        "status": status,
        "links": [{"rel": "self", "href": f"{base}/{version.split('.')[0]}/"}],
    }


# IMS's list: the v2 API first, its newest version CURRENT, v1.1 and v1.0 DEPRECATED.
V2_ENTRIES = [
    entry("v2.2", status="CURRENT"),
    entry("v2.1", status="SUPPORTED"),
    entry("v2.0", status="SUPPORTED"),
]
ALL_ENTRIES = [*V2_ENTRIES, entry("v1.1"), entry("v1.0")]


def test_root_is_300_multiple_choices_with_the_version_list(anonymous_api):
    response = anonymous_api.get("/")
    assert response.status_code == HTTPStatus.MULTIPLE_CHOICES
    assert response.json() == {"versions": ALL_ENTRIES}
    assert response["Content-Type"] == "application/json; charset=UTF-8"


def test_versions_is_200_with_the_same_list(anonymous_api):
    response = anonymous_api.get("/versions")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"versions": ALL_ENTRIES}


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/v1.1", "v1.1"),
        ("/v1.1/", "v1.1"),
        ("/v1.0", "v1.0"),
        ("/v1.0/", "v1.0"),
        ("/v1", "v1.0"),
        ("/v1/", "v1.0"),
    ],
)
def test_each_prefix_answers_its_own_version_document(anonymous_api, path, version):
    response = anonymous_api.get(path)
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"versions": [entry(version)]}


@pytest.mark.parametrize("path", ["/v2", "/v2/"])
def test_v2_answers_its_own_versions(anonymous_api, path):
    response = anonymous_api.get(path)
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"versions": V2_ENTRIES}


def test_links_use_the_configured_public_endpoint(anonymous_api, settings):
    settings.CATALOG_PUBLIC_ENDPOINT = "https://images.example.com"
    hrefs = [v["links"][0]["href"] for v in anonymous_api.get("/versions").json()["versions"]]
    assert set(hrefs) == {"https://images.example.com/v2/", "https://images.example.com/v1/"}


def test_links_follow_the_host_the_request_came_in_on(anonymous_api, settings):
    settings.ALLOWED_HOSTS = ["catalog.internal"]
    response = anonymous_api.get("/versions", HTTP_HOST="catalog.internal")
    assert response.json()["versions"][-1]["links"][0]["href"] == "http://catalog.internal/v1/"


@pytest.mark.parametrize(
    "path", ["/v3/images", "/nothing", "/v1.2/images/detail", "/v2/nothing", "/v2.1/images"]
)
def test_unknown_paths_outside_the_prefixes_are_404_in_the_error_format(anonymous_api, path):
    response = anonymous_api.get(path)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == 404
    assert response["X-Openstack-Request-Id"].startswith("req-")


def test_unknown_admin_paths_keep_the_admin_404_page(admin_client):
    response = admin_client.get("/admin/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "application/json" not in response["Content-Type"]
