"""An award through its tranches in a real browser: staff release tranche 1; a release of tranche 2 before
the year-1 reports are approved is refused; the PI files the year-1 reports, the partner co-signs
through the link, staff approve, and tranche 2 is released."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from funding.models import ReportState, TrancheState
from tests.funding.factories import award_factory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_page(browser):
    page = browser.new_context(locale="en-GB", timezone_id="Europe/Paris").new_page()
    page.set_default_timeout(15_000)
    return page


def release_next_tranche(page, base, award):
    page.goto(f"{base}/admin/funding/award/")
    page.locator(f"input[name=_selected_action][value='{award.pk}']").check()
    page.select_option("select[name=action]", "release_next_tranche")
    page.locator("button[name=index]").click()
    page.locator("input[name=apply]").click()  # the confirmation page lists the tranche first
    return page.locator("ul.messagelist")


def test_award_through_both_tranches(live_server, browser, settings):
    settings.LANGUAGE_CODE = "en"
    base = live_server.url
    award = award_factory()
    staff_email = "staff-funding@example.org"
    from tests.factories import StaffFactory

    StaffFactory(email=staff_email)
    tranche1, tranche2 = award.tranches.order_by("number")

    staff = new_page(browser)
    sign_in(staff, base, staff_email, code=True)
    expect(release_next_tranche(staff, base, award)).to_contain_text("released")
    tranche1.refresh_from_db()
    assert tranche1.state == TrancheState.RELEASED
    # Tranche 2 before the year-1 reports are approved: refused, with the reason.
    expect(release_next_tranche(staff, base, award)).to_contain_text("only after the year 1 reports are approved")
    tranche2.refresh_from_db()
    assert tranche2.state == TrancheState.PLANNED

    pi = new_page(browser)
    sign_in(pi, base, award.proposal.pi.email)
    pi.goto(f"{base}/awards/{award.pk}/")
    expect(pi.locator("main")).to_contain_text("only after the year 1 reports are approved")
    assert serious_accessibility_violations(pi) == []
    pi.goto(f"{base}/awards/{award.pk}/reports/year1/")
    pi.fill("#id_scientific_review", "Two missions, one workshop, a joint paper in preparation.")
    pi.fill("#id_spending_mobility", "3200")
    pi.fill("#id_spending_meetings", "1500")
    pi.fill("#id_cofunding_received", "2000")
    pi.fill("#id_cofunding_currency", "BRL")
    assert serious_accessibility_violations(pi) == []
    pi.locator("button[name=action][value=submit]").click()
    expect(pi.locator(".messages")).to_be_visible()
    report = award.reports.get(period="year1")
    assert report.state == ReportState.SUBMITTED

    cosign_mail = next(m for m in mail.outbox if m.to == [award.proposal.partner_email])
    link = re.search(r"/awards/cosign/\S+/", cosign_mail.body).group(0)
    partner = new_page(browser)
    partner.goto(f"{base}{link}")
    expect(partner.locator("main")).to_contain_text("Two missions, one workshop")
    partner.fill("#id_signer_name", "Ana Souza")
    partner.get_by_role("button", name="I co-sign this report").click()
    expect(partner.locator("main")).to_contain_text("co-signed")
    report.refresh_from_db()
    assert report.state == ReportState.COSIGNED

    staff.goto(f"{base}/awards/reports/")
    staff.goto(f"{base}/awards/reports/{report.pk}/")
    staff.locator("input[name=decision][value=approve]").check()
    staff.get_by_role("button", name="Record the review").click()
    expect(staff.locator(".messages")).to_be_visible()
    report.refresh_from_db()
    assert report.state == ReportState.APPROVED

    expect(release_next_tranche(staff, base, award)).to_contain_text("released")
    tranche2.refresh_from_db()
    assert tranche2.state == TrancheState.RELEASED
    notices = [m.subject for m in mail.outbox if m.to == [award.proposal.pi.email] and "Tranche" in m.subject]
    assert notices == [f"Tranche 1 of {award.proposal.reference} is released",
                       f"Tranche 2 of {award.proposal.reference} is released"]
