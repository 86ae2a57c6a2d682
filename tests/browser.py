"""Debian's Chromium (/usr/bin/chromium), driven by Playwright, for the browser tests.

The `browser` fixture (conftest.py) starts one per test module. Without /usr/bin/chromium the
browser tests skip, except under CI (the CI variable set), where a missing browser is a failure.
Screenshots land in test-artifacts/ (git ignores it).
"""

import contextlib
import os
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


@contextlib.contextmanager
def chromium():
    """A Chromium for as long as the block runs, gone (with its event loop) when it ends."""
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


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)
