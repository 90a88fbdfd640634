"""Reminders in a real browser: a PI follows the link of the reminder mail to the proposal; staff find a
message that failed in the admin's outbox and send it again."""

import datetime as dt
import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone
from playwright.sync_api import expect

from iea.audit.models import AuditEntry
from iea.notifications.domain import dispatch
from iea.notifications.models import Notification, NotificationState
from tests.factories import CallFactory, ProposalFactory, StaffFactory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class RefusingBackend(LocmemBackend):
    """An SMTP server that is down."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_the_pi_follows_the_reminder_to_the_proposal(live_server, page, settings):
    settings.SITE_URL = live_server.url
    proposal = ProposalFactory(call=CallFactory(closes_at=timezone.now() + dt.timedelta(days=10)), complete=True)
    dispatch(now=timezone.now())
    [reminder] = mail.outbox
    link = re.search(r"http://\S+/proposals/\d+/edit/", reminder.body).group(0)

    sign_in(page, live_server.url, proposal.pi.email)
    page.goto(link)
    expect(page.locator("h1")).to_contain_text(proposal.reference)
    expect(page.get_by_text("Support letter").first).to_be_visible()
    assert serious_accessibility_violations(page) == []


def test_staff_resend_a_failed_message_from_the_outbox(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 1}
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    proposal = ProposalFactory(call=CallFactory(closes_at=timezone.now() + dt.timedelta(days=10)), complete=True)
    dispatch(now=timezone.now())
    failed = Notification.objects.get(kind="draft_reminder")
    assert failed.state == NotificationState.FAILED
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the SMTP server is back
    staff = StaffFactory(email="staff@example.org")

    sign_in(page, live_server.url, staff.email, code=True)
    page.goto(f"{live_server.url}/admin/notifications/notification/?attention=failed")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(proposal.pi.email)
    row.locator("th a, td a").first.click()
    expect(page.locator("body")).to_contain_text("SMTPServerDisconnected")
    page.get_by_role("button", name="Send again").click()

    expect(page.locator("ul.messagelist")).to_contain_text("queued again")
    resend = Notification.objects.get(resend_of=failed)
    assert resend.state == NotificationState.SENT
    assert [m.to for m in mail.outbox] == [[proposal.pi.email]]
    assert AuditEntry.objects.filter(action="notification.resend", actor=staff).count() == 1
    # The failure no longer needs attention once resent.
    page.goto(f"{live_server.url}/admin/notifications/notification/?attention=failed")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)
