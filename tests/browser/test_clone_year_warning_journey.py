"""Staff clone last year's call in the admin, in a real browser (issue #15): the clone succeeds and its page
warns of each text still naming last year, until staff fix them."""

import re

import pytest
from playwright.sync_api import expect

from calls.models import Call, CallState, Criterion
from tests.factories import CallFactory, StaffFactory

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_clone_a_call_and_see_the_year_warning(live_server, page, settings):
    settings.LANGUAGE_CODE = "en"
    StaffFactory(email="staff@example.org")
    source = CallFactory(year=2036, title_fr="IEA 2036", title_en="IEA 2036", state=CallState.CLOSED,
                         summary_en="The IEA 2036 call, for projects starting in January 2037.")
    Criterion.objects.filter(call=source, position=1).update(guidance_fr="Voir le guide 2036.")
    base = live_server.url
    sign_in(page, base, "staff@example.org", code=True)

    page.goto(f"{base}/admin/calls/call/")
    page.locator(f"input[name=_selected_action][value='{source.pk}']").check()
    page.select_option("select[name=action]", "clone_call")
    page.locator("button[name=index]").click()
    page.wait_for_url(re.compile(r"/clone/$"))
    expect(page.locator("input[name=year]")).to_have_value("2037")
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/calls/call/\d+/change/$"))
    new = Call.objects.get(year=2037)
    messages = page.locator("ul.messagelist")
    expect(messages.locator(".success")).to_contain_text("is created as a draft")
    warning = messages.locator(".warning")
    expect(warning).to_contain_text("These texts still name 2036, the previous call's year: summary (English), "
                                    "criterion 1: guidance (French).")

    # Fixed in the form: the warning is gone.
    page.fill("#id_summary_en", "The IEA 2037 call, for projects starting in January 2038.")
    page.locator("input[name=_continue]").click()
    page.wait_for_url(re.compile(rf"/admin/calls/call/{new.pk}/change/$"))
    expect(page.locator("ul.messagelist .warning")).to_contain_text("criterion 1: guidance (French).")
    expect(page.locator("ul.messagelist .warning")).not_to_contain_text("summary (English)")
