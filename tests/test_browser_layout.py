"""The admin's pages fit the screens staff use: in Debian's Chromium at 1280x800 and 1440x900,
with the navigation sidebar open and closed, no list or form is wider than its room; every
column, box and count is there and right for a known catalog. Each page is saved as a
screenshot in test-artifacts/ (the README's staff guide lists them).
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from catalog.services import MemberData, image_create, image_soft_delete
from catalog.tokens import token_create, token_revoke

from .browser import PASSWORD, logged_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = [
    pytest.param((1280, 800), True, id="1280x800-sidebar-open"),
    pytest.param((1280, 800), False, id="1280x800-sidebar-closed"),
    pytest.param((1440, 900), True, id="1440x900-sidebar-open"),
    pytest.param((1440, 900), False, id="1440x900-sidebar-closed"),
]
OWNER = "23f4cb75768d4febb39542ef6fe169f3"
LONG_NAME = "Windows Server 2019 Datacenter 64bit with SQL Server 2019 Standard, gold image"
NOW = datetime(2026, 3, 1, tzinfo=UTC)

# What does not fit its room: the page wider than the window, a scrolling box (Django puts
# the change list in one) wider than itself, an element reaching past the window's right
# edge, or a text box whose value is wider than the box.
OVERFLOWS = """() => {
  const problems = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) {
    problems.push(`the page is ${page.scrollWidth} px wide in ${page.clientWidth}`);
  }
  for (const element of document.querySelectorAll("#content *")) {
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
      (element.className && typeof element.className === "string" ? "." + element.className : "");
    const wider = element.scrollWidth > element.clientWidth + 1;
    if (["auto", "scroll"].includes(style.overflowX) && wider) {
      problems.push(`${name} scrolls: ${element.scrollWidth} px in ${element.clientWidth}`);
    }
    if (box.width > 0 && style.visibility !== "hidden" && box.right > page.clientWidth + 1) {
      problems.push(`${name} reaches ${Math.round(box.right)} px of ${page.clientWidth}`);
    }
    if (element.matches("input[type=text], input:not([type])") && element.value && wider) {
      problems.push(`${name} shows part of its value: ${element.scrollWidth} px`);
    }
  }
  return problems;
}"""


def known_catalog():
    """Images with the widest values a column meets, and counts the overview must show."""
    images = [
        image_create(
            fields={
                "name": LONG_NAME,
                "status": "pending_delete",
                "disk_format": "zvhd2",
                "container_format": "compressed",
                "size": 1023 * 1024**3 + 900 * 1024**2,  # 1023.9 GiB, the widest size
                "checksum": "64d7c1cd2b6f60c92c14662941cb7913",
                "owner": OWNER,
                "protected": True,
                "created_at": datetime(2025, 11, 3, tzinfo=UTC),
                "updated_at": datetime(2025, 12, 24, 23, 59, tzinfo=UTC),
            },
            properties={
                "__os_type": "Windows",
                "__os_version": "Windows Server 2019 Datacenter 64bit",
                "__platform": "Windows",
            },
            members=[MemberData("6a7f0c2e3b9d4e1f8a5b6c7d8e9f0a1b")],
        ),
        image_create(
            fields={
                "name": "cirros",
                "status": "active",
                "disk_format": "qcow2",
                "container_format": "bare",
                "size": 13_167_616,
                "is_public": True,
                "owner": "project-admin",
                "created_at": datetime(2026, 1, 15, tzinfo=UTC),
                "updated_at": datetime(2026, 1, 15, tzinfo=UTC),
            },
            properties={"__os_type": "Linux"},
        ),
    ]
    for n in range(3):
        images.append(
            image_create(
                fields={
                    "name": f"ubuntu-22.04-{n}",
                    "status": "active",
                    "disk_format": "raw",
                    "owner": OWNER,
                    "created_at": datetime(2026, 2, 1 + n, tzinfo=UTC),
                    "updated_at": datetime(2026, 2, 1 + n, tzinfo=UTC),
                },
                properties={"__os_type": "Linux"},
            )
        )
    image_soft_delete(image=images[-1], now=timezone.now() - timedelta(days=2))
    return images


def known_tokens():
    token_create(project=OWNER, roles=["reader", "member"], name="nightly-smoke-tests")
    token_create(project="project-admin", roles=["admin"], name="ops", expires_in_days=7)
    old, _ = token_create(project=OWNER, roles=["member"], name="retired-ci-runner-2025")
    token_revoke(token=old)


@pytest.fixture
def staff(live_server):
    User.objects.create_superuser("curator", password=PASSWORD)
    return live_server.url


def open_screen(browser, base_url, size, sidebar_open, **options):
    width, height = size
    page = logged_in(
        browser,
        base_url,
        username="curator",
        viewport={"width": width, "height": height},
        sidebar_open=sidebar_open,
        **options,
    )
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    return page, missing


def assert_fits(page, what):
    assert page.evaluate(OVERFLOWS) == [], what


def shot(page, name, size, sidebar_open):
    width, height = size
    screenshot(
        page, f"admin-{name}-{width}x{height}-sidebar-{'open' if sidebar_open else 'closed'}.png"
    )


@pytest.mark.parametrize(("size", "sidebar_open"), SCREENS)
def test_every_page_fits_the_screen(browser, staff, size, sidebar_open, tmp_path):
    images = known_catalog()
    known_tokens()
    page, missing = open_screen(browser, staff, size, sidebar_open)

    # The image list: every column, the owner shortened, the name on at most two lines.
    page.goto("/admin/catalog/image/?deleted=all")
    assert (page.locator(".main.shifted").count() == 1) is sidebar_open
    assert_fits(page, "the image list")
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert [" ".join(h.replace("\u00ad", "").split()).lower() for h in headers[1:]] == [
        "name",
        "id",
        "status",
        "disk / container",
        "size",
        "visibility",
        "owner",
        "protected",
        "os type",
        "updated",
    ]
    row = page.locator("#result_list tbody tr", has_text="Windows Server 2019")
    owner = row.locator("td.field-owner_display a")
    assert (owner.inner_text(), owner.get_attribute("title")) == ("23f4cb75…", OWNER)
    name = row.locator("th.field-name_display span")
    line = float(name.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert name.bounding_box()["height"] <= 2 * line + 1
    assert name.get_attribute("title") == LONG_NAME
    assert "1023.9 GiB" in row.inner_text()
    assert "2025-12-24" in row.locator("td.field-updated_display").inner_text()
    shot(page, "image-list", size, sidebar_open)
    owner.click()
    page.wait_for_url(re.compile(f"owner={OWNER}"))
    assert page.input_value("input[name=owner]") == OWNER  # whole in the filter

    # The change form: the boxes show their whole values; no caption repeats a property.
    page.goto(f"/admin/catalog/image/{images[0].pk}/change/")
    assert_fits(page, "the change form")
    # (assert_fits has checked that each box shows its whole value)
    assert page.input_value("#id_checksum") == "64d7c1cd2b6f60c92c14662941cb7913"
    assert page.input_value("#id_owner") == OWNER
    assert page.input_value("#id_members-0-member_id") == "6a7f0c2e3b9d4e1f8a5b6c7d8e9f0a1b"
    assert page.input_value("#id_properties-1-value") == "Windows Server 2019 Datacenter 64bit"
    assert (
        page.locator("#properties-group td.original p").evaluate_all(
            "ps => ps.filter(p => p.getBoundingClientRect().height > 0).length"
        )
        == 0
    )
    value = page.locator("input[name='properties-0-value']")
    assert value.get_attribute("list") == "ims-values-__os_type"  # the suggestions are kept
    shot(page, "image-change-form", size, sidebar_open)

    # The token list: every column, a status for each token.
    page.goto("/admin/catalog/apitoken/")
    assert_fits(page, "the token list")
    statuses = {
        row.locator("th").inner_text(): row.locator("td.field-status").inner_text()
        for row in page.locator("#result_list tbody tr").all()
    }
    assert statuses == {
        "nightly-smoke-tests": "active",
        "ops": "expires in 7 days",
        "retired-ci-runner-2025": "revoked",
    }
    shot(page, "token-list", size, sidebar_open)

    # The import preview: every field error of every entry.
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps(
            {
                "images": [
                    {"name": "fine"},
                    {"id": "not-a-uuid", "name": "bad", "size": -1, "is_public": "yes"},
                    {"name": "also bad", "checksum": "ABC", "min_ram": -5},
                ]
            }
        )
    )
    page.goto("/admin/catalog/image/import/")
    page.set_input_files("input[type=file]", str(catalog))
    page.click("input[name=preview]")
    errors = page.locator("#catalog-errors li").all_inner_texts()
    assert errors == [
        "entry 2 (id not-a-uuid): id: not a UUID: 'not-a-uuid'",
        "entry 2 (id not-a-uuid): size: Input should be greater than or equal to 0",
        "entry 2 (id not-a-uuid): is_public: Input should be a valid boolean",
        "entry 3 (no id): checksum: String should match pattern '^[0-9a-f]{32}$'",
        "entry 3 (no id): min_ram: Input should be greater than or equal to 0",
    ]
    assert_fits(page, "the import preview")
    shot(page, "import-preview", size, sidebar_open)

    # The overview: the known catalog's counts.
    page.goto("/admin/")
    page.click("#catalog-at-a-glance a")
    page.wait_for_url("**/admin/catalog/image/overview/")
    assert page.title() == "Catalog overview | IMS image catalog"
    assert_fits(page, "the overview")
    counts = {
        element.get_attribute("data-count"): element.inner_text()
        for element in page.locator("[data-count]").all()
    }
    assert counts == {"total": "5", "hidden-windows": "1", "recent-deletes": "1"}
    status = dict(
        row.locator("th, td.count").all_inner_texts()
        for row in page.locator("#overview-status tbody tr").all()
    )
    assert status == {"active": "3", "deleted": "1", "pending_delete": "1"}
    owners = page.locator("#overview-owners tbody tr").all_inner_texts()
    assert [" ".join(o.split()) for o in owners] == ["23f4cb75… 4", "project-… 1"]
    assert page.locator("#chart-per-month rect.bar").count() == 4  # 2025-11 to 2026-02
    shot(page, "overview", size, sidebar_open)

    assert missing == []  # the favicon included: nothing the pages ask for is missing


def contrast(page, selector):
    """The contrast ratio (WCAG's formula) of an element's SVG fill against the page."""
    return page.locator(selector).first.evaluate(
        """element => {
          const rgb = text => text.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
          const luminance = ([r, g, b]) => {
            const channel = c => {
              c /= 255;
              return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
            };
            return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
          };
          const fill = luminance(rgb(getComputedStyle(element).fill));
          const background = luminance(rgb(getComputedStyle(document.body).backgroundColor));
          const [light, dark] = fill > background ? [fill, background] : [background, fill];
          return (light + 0.05) / (dark + 0.05);
        }"""
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_overview_charts_read_in_light_and_dark(browser, staff, scheme):
    known_catalog()
    page, _ = open_screen(browser, staff, (1440, 900), True, color_scheme=scheme)
    page.goto("/admin/catalog/image/overview/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(18, 18, 18)") is (scheme == "dark")  # Django's dark theme
    assert contrast(page, "#chart-per-month rect.bar") >= 3
    assert contrast(page, "#chart-per-month text") >= 4.5
    assert contrast(page, ".catalog-share rect.bar") >= 3
    screenshot(page, f"admin-overview-{scheme}-1440x900.png")


def test_the_secret_page_copies_the_secret(browser, staff):
    page, _ = open_screen(browser, staff, (1280, 800), True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=staff)
    page.goto("/admin/catalog/apitoken/add/")
    page.fill("#id_project", "project-a")
    page.fill("#id_roles", "member")
    page.click("input[name=_save]")
    secret = page.inner_text("#new-token-secret-value")
    page.click("#copy-token-secret")
    page.wait_for_selector("#copy-token-status:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert_fits(page, "the secret page")


def test_the_favicon_is_the_catalogs_own(browser, staff):
    page, missing = open_screen(browser, staff, (1280, 800), True)
    href = page.get_attribute("link[rel=icon]", "href")
    assert href.startswith("/static/catalog/favicon")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert page.inner_text("#site-name") == "IMS image catalog"  # the branding is kept
    assert page.title() == "Catalog administration | IMS image catalog"
    page.goto("/admin/catalog/")
    assert missing == []
