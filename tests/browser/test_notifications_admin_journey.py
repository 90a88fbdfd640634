"""Staff find the mail that is late in the admin (#13: minutes, not hours), in French and in English, on a
desktop and on a phone-sized window. Screenshots go to var/screens/ to be looked at.

Below 1600 px the filters are a bar of menus above the list (static/js/admin-filters.js): closed when the
page opens, one open at a time, Escape closes, the chosen value beside the filter's name, every column of
the list in view at 1366 px. On a wider window they stay a column beside the list, open."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from iea.notifications.models import Notification, NotificationState
from tests.factories import PASSWORD, ProposalFactory, StaffFactory, totp_code

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"
LABELS = {"en": "Not sent 5 minutes after their due time, or stuck while being sent",
          "fr": "Non envoyés 5 minutes après leur échéance, ou bloqués en cours d'envoi"}


def _row(proposal, *, email: str, due_at: dt.datetime) -> Notification:
    return Notification.objects.create(kind="withdrawn", target=proposal, email=email, language="fr",
                                       due_at=due_at, created_at=due_at, state=NotificationState.PENDING)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("size", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_staff_filter_the_late_mail_in_the_admin(live_server, browser, language, size):
    staff = StaffFactory(email="staff@example.org", language=language)
    proposal = ProposalFactory()
    now = timezone.now()
    late = _row(proposal, email="late.receipt.for.a-very-long-address@universidade.example.br",
                due_at=now - dt.timedelta(minutes=7))
    _row(proposal, email="on-time@example.org", due_at=now - dt.timedelta(minutes=1))
    context = browser.new_context(locale=f"{language}-{'FR' if language == 'fr' else 'GB'}",
                                  viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/admin/notifications/notification/")
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_code())
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/admin/notifications/notification/"))

    follow_up = "Par suivi" if language == "fr" else "By follow-up"
    expect(page.locator("#changelist-filter.filter-bar")).to_contain_text(follow_up)
    expect(page.locator("#changelist-filter details[open]")).to_have_count(0)
    link = page.get_by_role("link", name=LABELS[language])
    expect(link).to_be_hidden()
    page.locator("#changelist-filter summary", has_text=follow_up).click()
    link.click()
    page.wait_for_url(re.compile(r"attention=late"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(late.email)
    expect(page.locator("#changelist-filter summary", has_text=follow_up).locator(".filter-chosen")).to_have_text(
        LABELS[language])

    # One menu open at a time; Escape closes it and gives the focus back to its name.
    summaries = page.locator("#changelist-filter summary")
    summaries.nth(1).click()
    summaries.nth(2).click()
    expect(page.locator("#changelist-filter details[open]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#changelist-filter details[open]")).to_have_count(0)
    expect(summaries.nth(2)).to_be_focused()
    wrap = page.locator("#result_list").locator("xpath=ancestor::div[contains(@class, 'table-wrap')]")
    if size[0] >= 1280:
        assert wrap.evaluate("box => box.scrollWidth <= box.clientWidth + 1"), "a column of the list is out of view"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    assert serious_accessibility_violations(page) == []
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"admin-notifications-late-{language}-{size[0]}.png"), full_page=True)
    context.close()


def test_on_a_wide_window_the_filters_stay_beside_the_list(live_server, browser):
    staff = StaffFactory(email="staff@example.org", language="en")
    _row(ProposalFactory(), email="on-time@example.org", due_at=timezone.now())
    context = browser.new_context(locale="en-GB", viewport={"width": 1700, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, staff.email, code=True)
    page.goto(f"{live_server.url}/admin/notifications/notification/")

    filters = page.locator("#changelist-filter")
    expect(filters).not_to_have_class(re.compile("filter-bar"))
    expect(page.get_by_role("link", name=LABELS["en"])).to_be_visible()
    assert filters.bounding_box()["x"] > page.locator("#result_list").bounding_box()["x"] + 300
    context.close()
