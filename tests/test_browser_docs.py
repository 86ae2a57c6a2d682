"""/docs/ (Swagger UI) and /redoc/ render the API in Chromium with no network but the service.

Each page is loaded from the development live server and from the production server
(`python -m imsproject.serve`: collected, hashed static files served by whitenoise). Every
request to another host is refused and recorded: the pages must need none.
"""

from urllib.parse import urlsplit

import pytest

from .browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
DETAIL = "/{version}/images/detail"
HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}


def operations(page) -> int:
    """How many operations the served OpenAPI document has, each a block in Swagger UI."""
    document = page.request.get("/openapi.json", headers={"Accept": "application/json"}).json()
    return sum(
        1 for path in document["paths"].values() for method in path if method in HTTP_METHODS
    )


@pytest.fixture(params=["development", "production"])
def base_url(request, live_server):
    if request.param == "development":
        return live_server.url
    return request.getfixturevalue("production_server").base_url


@pytest.fixture
def offline(browser, base_url):
    """A page whose every request beyond the service is refused; `.outside` lists them and
    `.failed` lists the service's answers that were not 200."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    outside, failed = [], []

    def only_the_service(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_service)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("response", lambda r: r.status == 200 or failed.append((r.status, r.url)))
    page.outside, page.failed = outside, failed
    yield page
    context.close()


def static_scripts(page):
    return [
        urlsplit(script.get_attribute("src")).path
        for script in page.locator("script[src]").all()
        if script.get_attribute("src").startswith("/static/")
    ]


def test_swagger_ui_renders_every_operation_offline(offline, request):
    offline.goto("/docs/")
    detail = offline.locator(f".opblock-summary-path[data-path='{DETAIL}']")
    detail.wait_for()
    assert offline.locator(".opblock").count() == operations(offline)
    assert "IMS image catalog" in offline.inner_text(".info .title")
    # The scripts work, not only the first paint: opening the operation lists its parameters.
    detail.click()
    offline.locator(".parameters").wait_for()
    assert "changes-since" in offline.inner_text(".parameters")
    assert any("swagger-ui-bundle" in path for path in static_scripts(offline))
    assert offline.outside == []
    assert offline.failed == []
    screenshot(offline, f"docs-swagger-ui-{request.node.callspec.id}.png")


def test_redoc_renders_the_listing_operation_offline(offline):
    offline.goto("/redoc/")
    offline.locator("h2", has_text="List images with details (IMS v1.1, Glance v1)").wait_for()
    assert "changes-since" in offline.inner_text("body")
    assert any("redoc.standalone" in path for path in static_scripts(offline))
    assert offline.outside == []
    assert offline.failed == []
