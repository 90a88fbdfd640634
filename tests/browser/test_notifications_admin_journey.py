"""Staff find the mail that is late in the admin (#13: minutes, not hours), in French and in English, on a
desktop and on a phone-sized window. Screenshots go to var/screens/ to be looked at."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from iea.notifications.models import Notification, NotificationState
from tests.factories import PASSWORD, ProposalFactory, StaffFactory, totp_code

from .helpers import serious_accessibility_violations

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

    expect(page.locator("#changelist-filter")).to_contain_text("Par suivi" if language == "fr" else "By follow-up")
    page.get_by_role("link", name=LABELS[language]).click()
    page.wait_for_url(re.compile(r"attention=late"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(late.email)
    assert serious_accessibility_violations(page) == []
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"admin-notifications-late-{language}-{size[0]}.png"), full_page=True)
    context.close()
