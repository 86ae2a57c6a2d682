"""Driving Debian's Chromium (/usr/bin/chromium) through Playwright; never a downloaded browser.

The `browser` fixture (conftest.py) launches it once per test module. Screenshots land in
test-artifacts/ (git ignores it; every run of the suite writes them again).
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# As root in a container, with no network beyond localhost: no sandbox, no GPU, and none of
# the background connections a fresh profile would try to make.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "a-long-browser-password"


@contextmanager
def chromium():
    """Chromium, or a skip (a failure under CI, where the CI variable is set) without it."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an event loop running in this thread while it is
        # started, and Django refuses database calls from a thread with a running loop unless
        # told that it is safe. It is: the loop only drives the browser.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


def logged_in(browser, base_url, *, username, viewport, sidebar_open=True, **options):
    """A new browser context logged in to the admin as `username` (password PASSWORD), with
    the admin's navigation sidebar open or closed (Django keeps that in localStorage)."""
    context = browser.new_context(base_url=base_url, viewport=viewport, **options)
    state = "true" if sidebar_open else "false"
    context.add_init_script(f"localStorage.setItem('django.admin.navSidebarIsOpen', '{state}')")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    return page


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)
