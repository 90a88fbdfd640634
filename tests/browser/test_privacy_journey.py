"""Personal data in Chromium: a PI downloads their data and asks for the erasure of their account; staff
process the requests in the admin (one refused for retention, one erased, who can then no longer sign in);
staff anonymise a call's proposals past retention from the call list."""

import json
import re

import pytest
from playwright.sync_api import expect

from iea.site.privacy.models import AnonymisedProposal, ErasureRequest, ErasureState
from proposals.models import Proposal
from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.privacy.factories import close, filed, past_call, years_ago

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ask_for_erasure(page, base: str) -> None:
    page.goto(f"{base}/accounts/privacy/")
    button = page.get_by_role("button", name="Ask for the erasure of my account")
    # Without the confirmation the browser holds the form back (the box is required) and nothing is recorded.
    before = ErasureRequest.objects.count()
    button.click()
    confirm = page.get_by_label("I understand that my account will be erased")
    assert confirm.evaluate("box => box.validity.valueMissing") is True
    assert ErasureRequest.objects.count() == before
    page.get_by_label("Why (optional)").fill("I am leaving research.")
    page.get_by_label("I understand that my account will be erased").check()
    page.get_by_role("button", name="Ask for the erasure of my account").click()
    expect(page.get_by_role("status").first).to_contain_text("Your request is recorded.")
    expect(page.locator("#erasure-title ~ .message")).to_have_text("Your request is waiting for the directorate.")


def test_a_pi_downloads_their_data_then_staff_process_the_erasure_requests(live_server, page, browser, settings):
    settings.LANGUAGE_CODE = "en"
    base = live_server.url
    recent = past_call(closed=years_ago(1), year=2025)
    kept = filed(recent, n=1, pi=UserFactory(email="pi.kept@cnrs.example.fr", full_name="Kept Person"))
    close(recent)
    UserFactory(email="leaving@cnrs.example.fr", full_name="Leaving Person")
    staff = StaffFactory(email="staff@example.org")

    # The PI: their page lists the proposal and how long it is kept; the download holds their data.
    sign_in(page, base, "pi.kept@cnrs.example.fr")
    page.get_by_role("link", name="My data").click()
    expect(page.locator("#retention")).to_contain_text(kept.reference)
    expect(page.locator("#retention")).to_contain_text("Until")
    assert serious_accessibility_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data (JSON)").click()
    download = download_info.value
    assert re.fullmatch(r"iea-personal-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as saved:
        data = json.load(saved)
    assert data["account"]["email"] == "pi.kept@cnrs.example.fr"
    assert [p["reference"] for p in data["proposals"]] == [kept.reference]
    ask_for_erasure(page, base)

    # A second person asks too, in their own browser.
    other = browser.new_context(locale="en-GB", timezone_id="Europe/Paris")
    other_page = other.new_page()
    sign_in(other_page, base, "leaving@cnrs.example.fr")
    ask_for_erasure(other_page, base)
    other.close()
    assert ErasureRequest.objects.filter(state=ErasureState.PENDING).count() == 2

    # Staff process both: the page says beforehand what will happen to each.
    staff_page = browser.new_context(locale="en-GB", timezone_id="Europe/Paris").new_page()
    sign_in(staff_page, base, staff.email, code=True)
    staff_page.goto(f"{base}/admin/privacy/erasurerequest/")
    staff_page.locator("#action-toggle").check()
    staff_page.select_option("select[name=action]", "process_requests")
    staff_page.locator("button[name=index]").click()
    expect(staff_page.locator("#content")).to_contain_text("leaving@cnrs.example.fr — will be erased")
    expect(staff_page.locator("#content")).to_contain_text("pi.kept@cnrs.example.fr — will be refused")
    staff_page.get_by_role("button", name="Process the requests").click()
    expect(staff_page.locator("ul.messagelist")).to_contain_text(
        re.compile(r"leaving@cnrs\.example\.fr: the account is erased\.", re.IGNORECASE))
    expect(staff_page.locator("ul.messagelist")).to_contain_text(
        re.compile(r"pi\.kept@cnrs\.example\.fr: refused, retention forbids it", re.IGNORECASE))
    staff_page.context.close()

    # The PI whose proposal is kept reads why, and keeps their account.
    page.goto(f"{base}/accounts/privacy/")
    expect(page.locator("#erasure-requests")).to_contain_text("Refused")
    expect(page.locator("#erasure-requests")).to_contain_text(kept.reference)
    assert Proposal.objects.get(pk=kept.pk).pi.email == "pi.kept@cnrs.example.fr"

    # The erased person can no longer sign in.
    gone = browser.new_context(locale="en-GB").new_page()
    gone.goto(f"{base}/accounts/login/")
    gone.fill("input[name=login]", "leaving@cnrs.example.fr")
    gone.fill("input[name=password]", PASSWORD)
    gone.locator("form button[type=submit]").last.click()
    expect(gone.locator("form.form")).to_contain_text("not correct")
    assert "/accounts/login/" in gone.url
    gone.context.close()


def test_staff_anonymise_a_call_past_retention(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    old = past_call(closed=years_ago(7), retention_years=5, year=2019)
    proposal = filed(old, n=3)
    close(old)
    staff = StaffFactory(email="staff@example.org")

    sign_in(page, live_server.url, staff.email, code=True)
    page.goto(f"{live_server.url}/admin/calls/call/")
    page.locator(f"input[name=_selected_action][value='{old.pk}']").check()
    page.select_option("select[name=action]", "anonymise_past_retention")
    page.locator("button[name=index]").click()
    expect(page.locator("#content")).to_contain_text(f"1 proposal — {proposal.reference}")
    assert not AnonymisedProposal.objects.exists()
    page.get_by_role("button", name="Anonymise").click()
    expect(page.locator("ul.messagelist")).to_contain_text("1 proposal anonymised.")

    proposal.refresh_from_db()
    assert AnonymisedProposal.objects.filter(proposal=proposal).count() == 1
    assert "Ana Souza" not in proposal.partner_name
