"""The reviewer profile in a real browser: a reviewer uploads their HAL BibTeX export and sees their publications
with the co-authors (in French); an officer opens a pool member's profile from the pool page and uploads the
member's ORCID works export (in English). On a desktop and on a phone, with axe, nothing wider than the screen."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from calls.models import Institute
from reviews.models import Panel, Publication, Reviewer
from tests.factories import CallFactory, UserFactory, activate_totp

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).parent.parent / "reviews" / "fixtures" / "publications"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screens"


@pytest.fixture
def pool():
    institute = Institute.objects.create(code="INEE", legal_name="Institut écologie et environnement",
                                         usage_name="CNRS Écologie & Environnement")
    panel = Panel.objects.create(call=CallFactory(), institute=institute)
    reviewer = Reviewer.objects.create(
        user=UserFactory(email="helene@lab.example.org", full_name="Hélène Lefèvre", language="fr"),
        institute=institute, keywords="écologie marine", sections="29")
    activate_totp(reviewer.user)
    return panel, reviewer


def _page(browser, language, size):
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=SIZES[size])
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    return context, page


def _check(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"profile-{name}.png"), full_page=True)
    assert serious_accessibility_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "wider than the screen"
    assert [error for error in page.errors if error.startswith("CSP violation")] == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_reviewer_uploads_their_hal_bibtex_and_sees_their_publications(live_server, browser, pool, size, settings):
    settings.PUBLICATION_IMPORT_ONLINE = True  # the import by identifier is shown too (its buttons need identifiers)
    _panel, reviewer = pool
    context, page = _page(browser, "fr", size)
    sign_in(page, live_server.url, reviewer.user.email, code=True)
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("link", name="Mon profil d'expert·e").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil d'expert·e")
    expect(page.get_by_role("button", name="Depuis ORCID")).to_be_disabled()

    page.set_input_files("input[name=file]", str(FIXTURES / "hal.bib"))
    page.get_by_role("button", name="Importer", exact=True).click()

    expect(page.locator(".messages")).to_contain_text(
        "Publications importées — nouvelles\u00a0: 2\u00a0; mises à jour\u00a0: 0\u00a0; inchangées\u00a0: 0\u00a0; "
        "ignorées (doublons ou sans titre)\u00a0: 2.")
    table = page.locator("#publications")
    expect(table).to_contain_text("Dynamique des réseaux trophiques côtiers sous stress thermique")
    expect(table).to_contain_text("João Da Silva")
    expect(table).to_contain_text("Anne-Marie Le Goff")
    expect(table).to_contain_text("Journal of Marine Ecology")
    _check(page, f"reviewer-fr-{size}")

    # A file that is not an export: said in French, nothing added.
    page.set_input_files("input[name=file]", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                     "buffer": b"mes notes"}])
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.locator("#field-file")).to_contain_text("Ce fichier n'est ni un export HAL")
    assert Publication.objects.filter(user=reviewer.user).count() == 2
    context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_officer_uploads_an_orcid_export_for_a_pool_member(live_server, browser, pool, size):
    panel, reviewer = pool
    officer = UserFactory(email="olga@example.org", full_name="Olga Officer", language="en")
    activate_totp(officer)
    panel.officers.add(officer)
    context, page = _page(browser, "en", size)
    sign_in(page, live_server.url, officer.email, code=True)
    page.goto(f"{live_server.url}/panels/{panel.pk}/reviewers/")
    page.get_by_role("link", name="Hélène Lefèvre").click()
    expect(page.get_by_role("heading", level=2, name="Reviewer profile: Hélène Lefèvre")).to_be_visible()

    page.fill("input[name=orcid]", "https://orcid.org/0000-0002-1825-0097")
    page.get_by_role("button", name="Save the identifiers").click()
    expect(page.locator(".messages")).to_contain_text("The identifiers are saved.")
    expect(page.locator("input[name=orcid]")).to_have_value("0000-0002-1825-0097")

    page.set_input_files("input[name=file]", str(FIXTURES / "orcid-works-bulk.json"))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(
        "Publications imported — new: 2; updated: 0; unchanged: 0; skipped (duplicates or without a title): 0.")
    expect(page.locator("#publications")).to_contain_text("Anne-Marie Le Goff (ORCID 0000-0001-5109-3700)")
    expect(page.locator("#publications")).to_contain_text("Chinedu Okafor")
    _check(page, f"officer-en-{size}")
    assert set(Publication.objects.values_list("imported_by__email", flat=True)) == {"olga@example.org"}
    context.close()
