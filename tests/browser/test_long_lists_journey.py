"""The long lists of issue #18 in a real browser, in English and French, on a desktop and a phone: the reviewer
pages through *My reviews*, the unit manager through the unit's awards, and the PI picks a unit by typing part of
its name (and, without JavaScript, through the search page). The lists show two rows a page here, so that three
rows make three pages; the page size is a constant of each view."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from funding.views import unit as unit_views
from reviews.models import AssignmentState
from reviews.views import reviewer as reviewer_views
from tests.factories import ProposalFactory, UnitFactory, UserFactory
from tests.funding.unit_factories import unit_award
from tests.reviews.factories import AssignmentFactory, ReviewerFactory, eligible_proposal
from tests.reviews.test_reviewer_views import fill_and_submit

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
WORDS = {
    "en": {"next": "Next page", "previous": "Previous page", "page": "Page {} of {}", "found": "2 units found.",
           "filled": "UMR 5175 is filled in as your unit: save to keep it.", "save": "Save", "search": "Search",
           "choose": "Choose", "reviews": "Pages of my reviews", "awards": "Pages of the awards"},
    "fr": {"next": "Page suivante", "previous": "Page précédente", "page": "Page {} sur {}",
           "found": "2 unités trouvées.", "filled": "UMR 5175 est indiquée comme votre unité\u00a0: enregistrez pour la conserver.",
           "save": "Enregistrer", "search": "Rechercher", "choose": "Choisir", "reviews": "Pages de mes évaluations",
           "awards": "Pages des financements"},
}
CASES = [("en", DESKTOP), ("en", PHONE), ("fr", DESKTOP), ("fr", PHONE)]
CASE_IDS = ["en-desktop", "en-phone", "fr-desktop", "fr-phone"]


@pytest.fixture
def open_page(browser):
    contexts = []

    def open_page(language, viewport, *, javascript=True):
        context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                      viewport=viewport, java_script_enabled=javascript)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.console_errors = errors
        return page

    yield open_page
    for context in contexts:
        context.close()


def fits(page, viewport):
    """Nothing sticks out sideways: the page scrolls down only."""
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def pager(page, words, label):
    return page.get_by_role("navigation", name=words[label])


@pytest.mark.parametrize(("language", "viewport"), CASES, ids=CASE_IDS)
def test_the_reviewer_pages_through_my_reviews_what_is_due_first(live_server, open_page, monkeypatch, language,
                                                                 viewport):
    monkeypatch.setattr(reviewer_views, "ASSIGNMENTS_PER_PAGE", 2)
    words = WORDS[language]
    reviewer = ReviewerFactory(user=UserFactory(email="rev@example.org", full_name="Rita Reviewer", language=language))
    now = timezone.now()

    def assigned(acronym, days, state=AssignmentState.ACCEPTED):
        proposal = eligible_proposal(unit__main_institute=reviewer.institute, acronym=acronym)
        return AssignmentFactory(reviewer=reviewer, proposal=proposal, state=state, due_at=now + dt.timedelta(days=days))

    fill_and_submit(assigned("DONE", -300))
    assigned("LATER", 30)
    assigned("LATE", -2)
    assigned("SOON", 4, AssignmentState.INVITED)
    assigned("CLOSED", -60, AssignmentState.CLOSED)
    page = open_page(language, viewport)
    base = live_server.url
    sign_in(page, base, "rev@example.org", code=True)
    page.goto(f"{base}/review/")

    def rows():
        return [row.locator("strong").first.inner_text() for row in page.locator("#my-reviews tbody tr").all()]

    assert rows() == ["LATE", "SOON"]
    expect(pager(page, words, "reviews")).to_contain_text(words["page"].format(1, 3))
    fits(page, viewport)
    assert serious_accessibility_violations(page) == []
    pager(page, words, "reviews").get_by_role("link", name=words["next"]).click()
    page.wait_for_url(re.compile(r"\?page=2$"))
    assert rows() == ["LATER", "CLOSED"]
    pager(page, words, "reviews").get_by_role("link", name=words["next"]).click()
    page.wait_for_url(re.compile(r"\?page=3$"))
    assert rows() == ["DONE"]
    expect(pager(page, words, "reviews")).to_contain_text(words["page"].format(3, 3))
    expect(pager(page, words, "reviews").get_by_role("link", name=words["next"])).to_have_count(0)
    fits(page, viewport)
    assert serious_accessibility_violations(page) == []
    pager(page, words, "reviews").get_by_role("link", name=words["previous"]).click()
    page.wait_for_url(re.compile(r"\?page=2$"))
    assert rows() == ["LATER", "CLOSED"]


@pytest.mark.parametrize(("language", "viewport"), CASES, ids=CASE_IDS)
def test_the_unit_manager_pages_through_the_awards_newest_first(live_server, open_page, monkeypatch, language,
                                                                viewport):
    monkeypatch.setattr(unit_views, "AWARDS_PER_PAGE", 2)
    words = WORDS[language]
    manager = UserFactory(email="manager@example.org", full_name="Manon Manager", language=language)
    now = timezone.now()
    oldest = unit_award(manager=manager, now=now - dt.timedelta(days=700), acronym="OLDEST")
    unit_award(manager=manager, staff=oldest.staff, now=now - dt.timedelta(days=100), acronym="NEWEST", unit=oldest.unit)
    unit_award(manager=manager, staff=oldest.staff, now=now - dt.timedelta(days=400), acronym="MIDDLE")
    page = open_page(language, viewport)
    base = live_server.url
    sign_in(page, base, "manager@example.org")
    page.goto(f"{base}/awards/unit/")

    def rows():
        return [row.locator("a").first.inner_text() for row in page.locator("#unit-awards tbody tr").all()]

    assert rows() == ["NEWEST", "MIDDLE"]
    expect(pager(page, words, "awards")).to_contain_text(words["page"].format(1, 2))
    fits(page, viewport)
    assert serious_accessibility_violations(page) == []
    pager(page, words, "awards").get_by_role("link", name=words["next"]).click()
    page.wait_for_url(re.compile(r"\?page=2$"))
    assert rows() == ["OLDEST"]
    # Two units across the pages: the last page keeps the unit column.
    expect(page.locator("#unit-awards tbody tr").first).to_contain_text(oldest.unit.code)
    fits(page, viewport)
    assert serious_accessibility_violations(page) == []
    page.locator("#unit-awards tbody tr a").first.click()
    page.wait_for_url(re.compile(rf"/awards/unit/{oldest.award.pk}/$"))


@pytest.fixture
def units():
    return {
        "cefe": UnitFactory(unit_type="UMR", number="5175", acronym="CEFE",
                            name="Centre d'Écologie Fonctionnelle et Évolutive", city="Montpellier"),
        "ecolab": UnitFactory(unit_type="UMR", number="5245", acronym="ECOLAB",
                              name="Laboratoire écologie fonctionnelle et environnement", city="Toulouse"),
        "other": UnitFactory(unit_type="UPR", number="4301", acronym="CBM", name="Centre de biophysique moléculaire",
                             city="Orléans"),
    }


@pytest.mark.parametrize(("language", "viewport"), CASES, ids=CASE_IDS)
def test_the_pi_picks_a_unit_by_typing_part_of_its_name(live_server, open_page, units, language, viewport):
    words = WORDS[language]
    pi = UserFactory(email="pi@example.org", full_name="Paula Investigator", language=language)
    proposal = ProposalFactory(pi=pi, complete=True, unit=units["other"])
    page = open_page(language, viewport)
    base = live_server.url
    sign_in(page, base, "pi@example.org")
    page.goto(f"{base}/proposals/{proposal.pk}/edit/")
    field = page.locator("#id_unit_code")
    expect(field).to_have_attribute("role", "combobox")
    expect(field).to_have_attribute("aria-expanded", "false")

    field.fill("")
    field.press_sequentially("ecologie")
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(page.locator("#unit-search-status")).to_have_text(words["found"])
    fits(page, viewport)
    assert serious_accessibility_violations(page) == []
    # Typing does not autosave a half-typed name: the unit is unchanged until one is chosen.
    proposal.refresh_from_db()
    assert proposal.unit_id == units["other"].pk

    # Choosing autosaves the unit, as typing a code and leaving the field does.
    with page.expect_response(lambda response: response.url.endswith(f"/proposals/{proposal.pk}/autosave/")) as saved:
        if viewport is PHONE:
            listbox.get_by_role("option", name=re.compile("CEFE")).click()
        else:
            field.press("ArrowDown")
            expect(field).to_have_attribute("aria-activedescendant", f"unit-option-{units['cefe'].pk}")
            expect(listbox.get_by_role("option", name=re.compile("CEFE"))).to_have_attribute("aria-selected", "true")
            field.press("Enter")
        expect(field).to_have_value("UMR 5175")
        expect(listbox).to_be_hidden()
        expect(field).to_have_attribute("aria-expanded", "false")
    assert saved.value.status == 200
    proposal.refresh_from_db()
    assert proposal.unit_id == units["cefe"].pk
    # The institutes offered follow the unit chosen (the autosave's answer), as when a code was typed.
    expect(page.locator("#id_evaluating_institute")).to_contain_text(units["cefe"].main_institute.usage_name)

    # Escape closes the list without choosing.
    field.fill("")
    field.press_sequentially("toulouse")
    expect(listbox.get_by_role("option")).to_have_count(1)
    field.press("Escape")
    expect(listbox).to_be_hidden()
    assert page.console_errors == []


@pytest.mark.parametrize(("language", "viewport"), [("fr", PHONE), ("en", DESKTOP)], ids=["fr-phone", "en-desktop"])
def test_without_javascript_the_pi_chooses_the_unit_on_the_search_page(live_server, open_page, units, language,
                                                                        viewport):
    words = WORDS[language]
    pi = UserFactory(email="pi@example.org", full_name="Paula Investigator", language=language)
    proposal = ProposalFactory(pi=pi, complete=True, unit=units["other"])
    page = open_page(language, viewport, javascript=False)
    base = live_server.url
    sign_in(page, base, "pi@example.org")
    page.goto(f"{base}/proposals/{proposal.pk}/edit/")
    page.locator("#field-unit_code").get_by_role("link").click()
    page.wait_for_url(re.compile(r"/units/\?next="))
    page.get_by_role("searchbox").fill("ÉCOLOGIE")
    page.get_by_role("button", name=words["search"]).click()
    expect(page.locator("#units-found tbody tr")).to_have_count(2)
    # axe and the width need a script: the same results, in a browser with JavaScript on.
    checked = open_page(language, viewport)
    sign_in(checked, base, "pi@example.org")
    checked.goto(page.url)
    expect(checked.locator("#units-found tbody tr")).to_have_count(2)
    fits(checked, viewport)
    assert serious_accessibility_violations(checked) == []
    page.locator("#units-found tbody tr", has_text="CEFE").get_by_role("link", name=re.compile(words["choose"])).click()
    page.wait_for_url(re.compile(rf"/proposals/{proposal.pk}/edit/\?unit_code=UMR\+5175$"))
    expect(page.locator(".messages")).to_contain_text(words["filled"])
    expect(page.locator("#id_unit_code")).to_have_value("UMR 5175")
    page.get_by_role("button", name=words["save"], exact=True).click()
    page.wait_for_url(re.compile(rf"/proposals/{proposal.pk}/edit/$"))
    proposal.refresh_from_db()
    assert proposal.unit_id == units["cefe"].pk
