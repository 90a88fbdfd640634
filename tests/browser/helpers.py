import re

from axe_playwright_python.sync_playwright import Axe

from tests.crawl.crawler import AXE_OPTIONS
from tests.factories import PASSWORD, totp_code

from .conftest import CSP_REFUSALS

_axe = Axe()


def sign_in(page, base_url: str, email: str, password: str = PASSWORD, *, code: bool = False) -> None:
    """Sign in through allauth; ``code`` answers the two-factor step (reviewers, officers, staff)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").last.click()
    if code:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.fill("input[name=code]", totp_code())
        page.locator("input[name=code]").press("Enter")
        page.wait_for_url(lambda url: "/accounts/" not in url)
    else:
        page.wait_for_url(lambda url: "/accounts/login/" not in url)


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's violations of impact 'serious' or 'critical' on the current page, described."""
    results = _axe.run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def journey_context(browser, language: str, viewport: dict):
    """A browser context for one person of a journey (French or English, Paris time, this window size) that reports
    every refusal of the Content-Security-Policy as a console error: returns (context, page, console errors)."""
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=viewport)
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return context, page, errors
