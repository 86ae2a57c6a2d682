"""/docs/ (Swagger UI) and /redoc/: the OpenAPI document for people, from the project's own
static files (drf-spectacular-sidecar), never a CDN. tests/test_browser_docs.py renders them."""

import re
from http import HTTPStatus
from pathlib import Path

import drf_spectacular_sidecar
import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

SIDECAR = Path(drf_spectacular_sidecar.__file__).parent
ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def assets_of(page: str) -> list[str]:
    return ASSET.findall(page)


@pytest.mark.parametrize("path", ["/docs/", "/redoc/"])
def test_the_pages_load_only_the_projects_own_static_files(client, path):
    response = client.get(path)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "://" not in page  # no CDN, no web fonts
    static = [url for url in assets_of(page) if url != "/docs/?script="]
    assert static
    for url in static:
        assert url.startswith("/static/drf_spectacular_sidecar/")
        found = finders.find(url.removeprefix("/static/"))
        assert found, url
        assert Path(found).is_relative_to(SIDECAR), url


def test_swagger_ui_starts_from_a_script_of_its_own_pointing_at_the_document(client):
    page = client.get("/docs/").content.decode()
    assert "<script>" not in page  # nothing inline: the start-up script is a file
    assert '<script src="/docs/?script="></script>' in page
    script = client.get("/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert 'url: "/openapi.json"' in script.content.decode()


def test_the_docs_address_without_its_slash_redirects(client):
    response = client.get("/docs")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "/docs/"


@pytest.mark.parametrize("path", ["/docs/", "/redoc/"])
def test_a_bad_request_for_the_pages_is_answered_as_a_page_not_as_the_api(client, path):
    assert client.get(path, {"lang": "é"}).status_code == HTTPStatus.OK
    response = client.get(f"{path}?lang=%FF")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith("text/html")


def test_production_serves_the_assets_hashed_compressed_and_typed(production_server):
    """Collected by `python -m imsproject.serve`, served by whitenoise, with nosniff on: a
    script served with the wrong type would be refused by the browser."""
    response = production_server.request("GET", "/docs/")
    assert response.status == HTTPStatus.OK
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in assets_of(response.body.decode()):
        if url == "/docs/?script=":
            continue
        assert re.search(r"\.[0-9a-f]{12}\.(js|css|png)$", url), url  # the manifest's name
        asset = production_server.request("GET", url, {"Accept-Encoding": "gzip"})
        assert asset.status == HTTPStatus.OK, url
        assert asset.headers["Content-Type"].startswith(types[Path(url).suffix]), url
        if url.endswith(".js"):
            assert asset.headers["Content-Encoding"] == "gzip"
    script = production_server.request("GET", "/docs/?script=")
    assert script.status == HTTPStatus.OK
    assert script.headers["Content-Type"] == "application/javascript"
