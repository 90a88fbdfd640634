"""Call announcements in a real browser: a researcher subscribes on their Notifications page, staff publish
a call, the dispatcher mails the announcement, the page lists it, and the mail's link unsubscribes
without signing in."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from calls.domain import call_publish
from calls.models import CallState
from iea.accounts.models import User
from iea.notifications.domain import dispatch
from tests.factories import CallFactory, StaffFactory, UserFactory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_researcher_subscribes_gets_the_announcement_and_unsubscribes_from_the_mail(
        live_server, browser, page, settings):
    settings.SITE_URL = live_server.url
    base = live_server.url
    user = UserFactory(email="reader@example.org", full_name="Rita Reader")
    staff = StaffFactory(email="staff@example.org")
    call = CallFactory(state=CallState.DRAFT, title_en="IEA 2031", opens_at=timezone.now() + dt.timedelta(days=10),
                       closes_at=timezone.now() + dt.timedelta(days=40))

    sign_in(page, base, user.email)
    page.get_by_role("link", name="Notifications").click()
    page.wait_for_url(f"{base}/accounts/notifications/")
    expect(page.get_by_text("No message yet.")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Send me call announcements").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("You will receive the announcements of new calls.")
    expect(page.get_by_label("Send me call announcements")).to_be_checked()

    call_publish(call_id=call.pk, user=staff, now=timezone.now())
    dispatch(now=timezone.now())
    [announcement] = mail.outbox
    assert announcement.to == ["reader@example.org"]
    assert announcement.subject.startswith("IEA 2031 is published")

    page.reload()
    rows = page.locator("#my-notifications tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Call announcement")
    expect(rows).to_contain_text(announcement.subject)
    expect(rows.locator(".badge")).to_have_text("Sent")
    assert serious_accessibility_violations(page) == []

    # The link of the mail, opened where nobody is signed in.
    link = re.search(r"http://\S+/notifications/unsubscribe/\S+/", announcement.body).group(0)
    assert announcement.extra_headers["List-Unsubscribe"] == f"<{link}>"
    reader_context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris")
    reader = reader_context.new_page()
    reader.goto(link)
    expect(reader.locator("main")).to_contain_text("Stop sending call announcements to reader@example.org?")
    assert serious_accessibility_violations(reader) == []
    assert User.objects.get(pk=user.pk).call_announcements is True  # opening the link is not enough
    reader.get_by_role("button", name="Unsubscribe").click()
    expect(reader.locator("main")).to_contain_text("reader@example.org will no longer receive call announcements.")
    assert serious_accessibility_violations(reader) == []
    reader_context.close()
    assert User.objects.get(pk=user.pk).call_announcements is False

    page.reload()
    expect(page.get_by_label("Send me call announcements")).not_to_be_checked()
    assert page.console_errors == []
