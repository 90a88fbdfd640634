"""Playwright in headless Chromium — Debian's package, never a browser Playwright downloads.

``CHROMIUM`` names the binary (default /usr/bin/chromium). A missing browser is an error, not a skip:
CI must not pass without running these tests.
"""

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(f"Chromium not found at {path}: install Debian's 'chromium' package or set CHROMIUM.")
    return path


# Every refusal of the Content-Security-Policy, during whatever the journey does (typing in the editor, the
# review form's autosave, the panel filter's swap), is a console error that fails the test (``page`` below).
CSP_REFUSALS = """document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI || "inline"} ${e.sourceFile || ""}:${e.lineNumber || ""}`);
});"""


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris", accept_downloads=True)
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    page.close()
    assert [error for error in errors if error.startswith("CSP violation")] == []
