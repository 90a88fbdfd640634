"""After the decision, in a real browser: the PI accepts an award (on a phone-sized window); another PI
declines theirs with a reason and the unit's manager receives it by mail; staff select a proposal of the
reserve list from the decisions page, within the envelope, and its PI is mailed; the unit manager corrects
and deletes a spending line, and a date in the future is refused with its reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from funding.domain.spending import spending_record
from funding.models import Award, AwardState, SpendingLine
from reviews.models import Decision
from tests.factories import StaffFactory, UserFactory
from tests.funding.factories import award_factory
from tests.funding.unit_factories import unit_award

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_page(browser, *, phone: bool = False):
    options = {"viewport": {"width": 390, "height": 844}} if phone else {}
    page = browser.new_context(locale="en-GB", timezone_id="Europe/Paris", **options).new_page()
    page.set_default_timeout(15_000)
    return page


def test_the_pi_accepts_an_award_on_a_phone(live_server, browser, settings):
    settings.LANGUAGE_CODE = "en"
    award = award_factory(accepted=False)
    page = new_page(browser, phone=True)
    sign_in(page, live_server.url, award.proposal.pi.email)
    page.goto(f"{live_server.url}/awards/{award.pk}/")
    answer = page.locator("#acceptance")
    expect(answer).to_contain_text("Accept or decline the award by")
    expect(page.locator("#tranche-gate")).to_contain_text("The PI has not accepted the award yet")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Accept the award").click()
    expect(page.locator(".messages")).to_contain_text("You accepted the award of €12,000.00.")
    expect(page.locator("#acceptance")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("accepted on")
    assert Award.objects.get(pk=award.pk).state == AwardState.ACTIVE


def test_the_pi_declines_and_the_unit_manager_is_mailed(live_server, browser, settings):
    settings.LANGUAGE_CODE = "en"
    award = award_factory(accepted=False)
    award.unit.managers.add(UserFactory(email="gestion@unit.example.fr"))
    page = new_page(browser)
    sign_in(page, live_server.url, award.proposal.pi.email)
    page.goto(f"{live_server.url}/awards/{award.pk}/")
    page.get_by_role("link", name="Decline the award").click()
    page.get_by_role("button", name="Decline the award").click()
    expect(page.locator("#err-reason")).to_contain_text("Say why you decline the award.")
    page.fill("#id_reason", "I am moving to a post abroad; the partner agrees.")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Decline the award").click()
    expect(page.locator(".messages")).to_contain_text("You declined the award.")
    expect(page.locator("#acceptance")).to_contain_text("I am moving to a post abroad")
    assert Award.objects.get(pk=award.pk).state == AwardState.DECLINED
    [to_unit] = [m for m in mail.outbox if m.to == ["gestion@unit.example.fr"]]
    assert "declined the award for" in to_unit.body
    assert "I am moving to a post abroad; the partner agrees." in to_unit.body


def test_staff_promote_a_reserve_from_the_decisions_page(live_server, browser, settings):
    from tests.funding.test_reserve import mailed_call

    settings.LANGUAGE_CODE = "en"
    staff = StaffFactory(email="staff-reserve@example.org")
    call, _selected, (reserve, _other) = mailed_call(staff)
    mail.outbox.clear()
    page = new_page(browser)
    sign_in(page, live_server.url, staff.email, code=True)
    page.goto(live_server.url + reverse("admin:reviews_decisions", args=[call.pk]))
    row = page.locator(f"#p{reserve.pk}")
    row.get_by_label("Select from the reserve list, amount (€)").fill("13000")
    row.get_by_role("button", name="Select and mail the PI").click()
    expect(page.locator("ul.messagelist")).to_contain_text(f"{reserve.reference} is selected for €13,000.00")
    expect(page.locator(f"#p{reserve.pk}")).to_contain_text("award: Awaiting the PI")
    expect(page.locator("#budget")).to_contain_text("€27,000.00")
    assert Decision.objects.get(proposal=reserve).outcome == "selected"
    [to_pi] = [m for m in mail.outbox if m.to == [reserve.pi.email]]
    assert "is now selected for funding" in to_pi.subject


def test_the_unit_manager_corrects_and_deletes_spending_and_a_future_date_is_refused(live_server, browser, settings):
    settings.LANGUAGE_CODE = "en"
    ua = unit_award()
    first, second = (
        spending_record(award_id=ua.award.pk, user=ua.manager, date=ua.award.start_date, category="mobility",
                        amount=Decimal(amount), description=text, now=timezone.now())
        for amount, text in (("250.40", "Train Paris–Lyon"), ("99", "Duplicate"))
    )
    page = new_page(browser, phone=True)
    sign_in(page, live_server.url, ua.manager.email)
    page.goto(f"{live_server.url}/awards/unit/{ua.award.pk}/")
    page.get_by_role("link", name="Correct or delete the expense of €250.40").click()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.fill("#id_date", tomorrow.isoformat())
    page.fill("#id_amount", "300")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.locator("#err-date")).to_contain_text("is in the future: record an expense once it is paid.")
    expect(page.locator("#id_amount")).to_have_value("300")
    assert SpendingLine.objects.get(pk=first.pk).amount == Decimal("250.40")
    page.fill("#id_date", ua.award.start_date.isoformat())
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Save the correction").click()
    expect(page.locator(".messages")).to_contain_text("was corrected")
    expect(page.locator("#spending-lines")).to_contain_text("€300.00")
    assert SpendingLine.objects.get(pk=first.pk).amount == Decimal(300)
    page.get_by_role("link", name="Correct or delete the expense of €99.00").click()
    page.get_by_role("button", name="Delete the expense").click()
    expect(page.locator(".messages")).to_contain_text("The expense of €99.00")
    expect(page.locator("#spending-lines")).not_to_contain_text("Duplicate")
    assert not SpendingLine.objects.filter(pk=second.pk).exists()
