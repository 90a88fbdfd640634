"""The co-signer declines in a real browser (issue #15): the partner, through the link, declines to co-sign
the year-1 report with a comment (refused at first without one, nothing lost); the PI then finds the comment
on the report's page and on the award's page, and the form open again."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from funding.domain.reports import cosign_token, report_save, report_submit
from funding.models import CosignInvitation, ReportState
from tests.funding.factories import award_factory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_cosigner_declines_with_a_comment_and_the_pi_sees_it(live_server, browser, settings):
    settings.LANGUAGE_CODE = "en"
    base = live_server.url
    award = award_factory()
    pi_user = award.proposal.pi
    report = award.reports.get(period="year1")
    now = timezone.now()
    report_save(report_id=report.pk, user=pi_user, scientific_review="Two missions and a workshop.",
                spending={"mobility": Decimal(3200)}, cofunding_received=None, cofunding_currency="", now=now)
    report_submit(report_id=report.pk, user=pi_user, now=now)
    token = cosign_token(CosignInvitation.objects.get(report=report, revoked_at__isnull=True))

    context = browser.new_context(locale="en-GB", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    partner = context.new_page()
    partner.goto(f"{base}/awards/cosign/{token}/")
    expect(partner.locator("main")).to_contain_text("Two missions and a workshop.")
    expect(partner.get_by_role("link", name="Create an account")).to_have_count(0)
    decline = partner.locator("#cosign-decline")
    decline.get_by_label("Your name").fill("Ana Souza")
    decline.get_by_role("button", name="Decline to co-sign").click()
    expect(partner.locator("#cosign-decline")).to_contain_text("Say why you do not co-sign")
    expect(partner.locator("#cosign-decline").get_by_label("Your name")).to_have_value("Ana Souza")
    assert serious_accessibility_violations(partner) == []
    partner.locator("#cosign-decline").get_by_label("Why you do not co-sign").fill(
        "The workshop in Recife is missing from the spending.")
    partner.locator("#cosign-decline").get_by_role("button", name="Decline to co-sign").click()
    expect(partner.locator("main")).to_contain_text("You declined to co-sign this report on")
    report.refresh_from_db()
    assert report.state == ReportState.COSIGN_DECLINED
    context.close()

    pi = browser.new_context(locale="en-GB", timezone_id="Europe/Paris").new_page()
    pi.set_default_timeout(15_000)
    sign_in(pi, base, pi_user.email)
    pi.goto(f"{base}/awards/{award.pk}/")
    expect(pi.locator("#reports")).to_contain_text("The partner's comment: The workshop in Recife is missing")
    pi.locator("#reports").get_by_role("link", name="Write the report").first.click()
    expect(pi.locator("#cosign-declined")).to_contain_text("The partner declined to co-sign")
    expect(pi.locator("#cosign-declined")).to_contain_text("The workshop in Recife is missing from the spending.")
    expect(pi.locator("button[name=action][value=submit]")).to_be_visible()
    assert serious_accessibility_violations(pi) == []
