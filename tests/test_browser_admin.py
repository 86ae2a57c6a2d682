"""The admin's main flows in a real Chromium: Debian's package, driven by Playwright
(tests/browser.py). Without /usr/bin/chromium these tests skip, except under CI (the CI
variable set), where a missing browser is a failure. test_browser_layout.py checks that the
pages fit the screen and saves their screenshots.
"""

import json
import re

import pytest
from django.contrib.auth.models import User

from catalog.models import Image

from .browser import PASSWORD, logged_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server):
    User.objects.create_superuser("curator", password=PASSWORD)
    page = logged_in(
        browser, live_server.url, username="curator", viewport={"width": 1680, "height": 1000}
    )
    yield page
    page.context.close()


def rows(page):
    return page.locator("#result_list tbody th a").all_inner_texts()


def test_log_in_search_and_filter(page, image_factory):
    image_factory(name="cirros", properties={"__os_type": "Linux"}, size=13_167_616)
    image_factory(name="ubuntu-22.04", owner="project-b", properties={"__os_type": "Linux"})
    image_factory(name="windows-2019", is_public=False, properties={"__os_type": "Windows"})
    assert page.inner_text("#site-name") == "IMS image catalog"

    page.click("#content-main a:text-is('Images')")
    assert page.title() == "Select image to change | IMS image catalog"
    page.fill("#searchbar", "cirros")
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r"q=cirros"))
    assert rows(page) == ["cirros"]
    assert "12.6 MiB" in page.inner_text("#result_list")

    page.goto("/admin/catalog/image/")
    page.click("#changelist-filter >> text=Windows")
    page.wait_for_url(re.compile(r"os_type=Windows"))
    assert rows(page)[0] == "windows-2019"
    assert "private" in page.inner_text("#result_list")

    page.goto("/admin/catalog/image/")
    page.fill("input[name=owner]", "project-b")
    page.press("input[name=owner]", "Enter")
    page.wait_for_url(re.compile(r"owner=project-b"))
    assert rows(page)[0] == "ubuntu-22.04"


def test_edit_an_image_and_add_a_property(page, image_factory):
    image = image_factory(name="cirros", properties={"app": "web"})
    page.goto("/admin/catalog/image/")
    page.click("#result_list >> text=cirros")
    page.fill("#id_name", "cirros 0.6")
    page.click("text=Add another property")
    key = page.locator("input[name='properties-1-key']")
    key.fill("__os_type")
    value = page.locator("input[name='properties-1-value']")
    assert value.get_attribute("list") == "ims-values-__os_type"  # suggestions follow the key
    value.fill("Linux")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    image.refresh_from_db()
    assert image.name == "cirros 0.6"
    assert dict(image.properties.values_list("key", "value")) == {
        "app": "web",
        "__os_type": "Linux",
    }

    page.goto(f"/admin/catalog/image/{image.pk}/history/")
    assert "property __os_type added" in page.inner_text("#change-history")


def test_soft_delete_and_restore(page, image_factory):
    image = image_factory(name="cirros")
    page.goto(f"/admin/catalog/image/{image.pk}/change/")
    page.click("a.deletelink")
    assert "Deleting keeps the image" in page.inner_text("#content")
    page.click("input[value='Yes, delete it']")
    page.wait_for_selector(".messagelist .success")
    assert Image.objects.get(pk=image.pk).deleted

    page.click("#changelist-filter >> text=Deleted only")
    page.wait_for_url(re.compile(r"deleted=yes"))
    page.check(f"input.action-select[value='{image.pk}']")
    page.select_option("select[name=action]", "restore_selected")
    page.click("button[name=index]")
    page.wait_for_selector("text=1 image restored")
    assert not Image.objects.get(pk=image.pk).deleted


def test_a_protected_image_refuses_deletion_in_the_browser(page, image_factory):
    image = image_factory(name="guarded", protected=True)
    page.goto(f"/admin/catalog/image/{image.pk}/delete/")
    assert "is protected, so it cannot be deleted" in page.inner_text("#content")
    assert page.locator("input[value='Yes, delete it']").count() == 0


def test_import_a_file(page, tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps({"images": [{"name": "imported-1"}, {"name": "imported-2", "status": "active"}]})
    )
    page.goto("/admin/catalog/image/")
    page.click("text=Import a catalog file")
    page.set_input_files("input[type=file]", str(catalog))
    page.click("input[name=preview]")
    assert "creates 2 and updates 0 images" in " ".join(page.inner_text("#catalog-counts").split())
    page.click("#catalog-confirm input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "2 created, 0 updated" in page.inner_text(".messagelist")
    assert sorted(Image.objects.values_list("name", flat=True)) == ["imported-1", "imported-2"]


def test_wrong_passwords_lock_the_login(browser, live_server, settings):
    User.objects.create_superuser("curator", password=PASSWORD)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/admin/")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.fill("#id_username", "curator")
        page.fill("#id_password", f"wrong-{attempt}")
        page.click("input[type=submit]")
        page.wait_for_selector(".errornote")
    message = " ".join(page.inner_text("#login-locked").split())
    assert "logging in is locked until" in message
    assert re.search(r"\(1[45] minutes from now\)", message)  # 15 minutes from the last failure
    screenshot(page, "admin-login-locked.png")

    page.fill("#id_username", "curator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#login-locked")
    assert "even with the right password" in page.inner_text("#login-locked")
    context.close()
