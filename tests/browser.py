"""Debian's Chromium for the browser tests: where it is, how it starts here, and a page.

The flags keep Chromium from reaching for Google's hosts (this machine has no network but
the package registries) and let it run as root in a container."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_page(**context_options: Any) -> Iterator[Any]:
    """A page in a fresh headless Chromium (context options such as viewport and locale),
    with the page's JavaScript errors collected in `page.js_errors`. Skips the test when
    Chromium is not installed (CI installs it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(**context_options).new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.js_errors = errors
            yield page
        finally:
            browser.close()
            # The connection a test opened while Playwright's loop ran is left open otherwise,
            # and PostgreSQL then refuses to drop the test database at the end of the run.
            connections.close_all()
