"""Directorate staff run a call in the Django admin, in a real browser: publish and open it, extend it."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from calls.models import Call, CallDeadlineChange, CallState
from iea.audit.models import AuditEntry
from tests.factories import PASSWORD, CallFactory, StaffFactory, totp_code

PARIS = ZoneInfo("Europe/Paris")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_opens_and_extends_a_call(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    staff = StaffFactory(email="staff@example.org")
    call = CallFactory(state=CallState.DRAFT, year=2031, closes_at=dt.datetime(2031, 9, 30, 13, 0, tzinfo=PARIS))
    base = live_server.url
    # The admin's sign-in is allauth's (rate limited), which brings staff back to the admin.
    page.goto(f"{base}/admin/")
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    # Staff have two-factor authentication: allauth asks for the current code.
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_code())
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/admin/$"))

    page.goto(f"{base}/admin/calls/call/")
    page.locator(f"input[name=_selected_action][value='{call.pk}']").check()
    page.select_option("select[name=action]", "open_calls")
    page.locator("button[name=index]").click()
    expect(page.locator("ul.messagelist")).to_contain_text("open")
    call.refresh_from_db()
    assert call.state == CallState.OPEN

    page.goto(f"{base}/admin/calls/call/{call.pk}/change/")
    page.get_by_role("link", name="Extend the deadline").click()
    new_close = dt.datetime(2031, 10, 7, 13, 0, tzinfo=PARIS)
    page.fill("input[name=new_closes_at]", "2031-10-07T13:00")
    # Without a reason the extension is refused and nothing changes.
    page.locator("form").last.locator("[type=submit]").first.click()
    expect(page.locator(".errorlist")).to_be_visible()
    assert Call.objects.get(pk=call.pk).closes_at == call.closes_at
    page.locator("textarea[name=reason]").fill("Network outage on the last day")
    page.locator("form").last.locator("[type=submit]").first.click()
    expect(page.locator("ul.messagelist")).to_be_visible()
    change = CallDeadlineChange.objects.get(call=call)
    assert change.reason == "Network outage on the last day"
    assert change.new_closes_at == new_close
    assert Call.objects.get(pk=call.pk).closes_at == new_close
    assert AuditEntry.objects.filter(action="call.extend", object_id=str(call.pk), actor=staff).count() == 1
