"""Browser-test support: Debian's Chromium driven by Playwright on a phone-sized screen.

Used by the `@pytest.mark.browser` tests; nothing here is imported by the application.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: Any = {"width": 390, "height": 844}
TEST_PASSWORD = "pw-123456"  # core.testing.make_user's password

# Playwright's sync API runs an event loop in the test thread; the ORM calls in the test
# body stay synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

browser_marks = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Chromium at /usr/bin/chromium (./scripts/bootstrap.sh --browser)",
    ),
]


@contextmanager
def phone_page(locale: str = "en-US") -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, locale=locale, device_scale_factor=2)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def login(page: Any, url: str, user: Any) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{url}/")


def screenshot(page: Any, tmp_path: Path, name: str) -> None:
    """Save a full-page PNG (in CHAINSTORE_SCREENSHOT_DIR when set, to look at by hand)."""
    folder = Path(os.environ.get("CHAINSTORE_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
