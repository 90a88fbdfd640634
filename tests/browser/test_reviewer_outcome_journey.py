"""Issue #20 in a real browser, for the reviewer: the proposals they review downloaded as one ZIP for offline
reading (in French, on a desktop), and the outcome and the panel's consensus of a proposal they reviewed,
once the decision mails went out (in English, on a phone)."""

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from funding.domain.decisions import decision_set, decisions_announce
from proposals.models import Proposal, ProposalState
from reviews.models import Assignment, PanelRecommendation
from tests.factories import StaffFactory, UserFactory, activate_totp
from tests.reviews.factories import AssignmentFactory, ReviewerFactory, eligible_proposal
from tests.reviews.staff_factories import closed_call, make_review, make_reviewer, ranked_proposal

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screens"
PHONE = {"width": 390, "height": 844}


def new_page(browser, *, locale: str, viewport=None):
    context = browser.new_context(locale=locale, timezone_id="Europe/Paris", accept_downloads=True,
                                  viewport=viewport or {"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    context.add_init_script(CSP_REFUSALS)
    return context, context.new_page()


def test_a_reviewer_downloads_the_proposals_as_one_zip_in_french(live_server, browser, settings, tmp_path):
    settings.LANGUAGE_CODE = "fr"
    reviewer = ReviewerFactory(user=UserFactory(email="rita@example.org", full_name="Rita Experte", language="fr"))
    accepted = [AssignmentFactory(proposal=eligible_proposal(), reviewer=reviewer) for _ in range(2)]
    AssignmentFactory(proposal=eligible_proposal(), reviewer=reviewer, state="invited")
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, locale="fr-FR")
    try:
        sign_in(page, base, reviewer.user.email, code=True)
        page.goto(f"{base}/review/")
        button = page.locator("#download-all")
        expect(button).to_have_text("Tout télécharger pour lire hors ligne (2 propositions, ZIP)")
        assert serious_accessibility_violations(page) == []
        page.screenshot(path=str(SHOTS / "reviewer-offline-fr-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)
        expect(button).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        page.screenshot(path=str(SHOTS / "reviewer-offline-fr-390.png"), full_page=True)
        with page.expect_download() as download_info:
            button.click()
        download = download_info.value
        assert download.suggested_filename == f"iea-reviews-{timezone.localdate().isoformat()}.zip"
        target = tmp_path / download.suggested_filename
        download.save_as(str(target))
        archive = zipfile.ZipFile(target)
        references = sorted(a.proposal.reference for a in accepted)
        assert archive.namelist() == [*(f"{ref}.pdf" for ref in references), "README.txt"]
        readme = archive.read("README.txt").decode()
        assert "Téléchargé par Rita Experte le" in readme
        for ref in references:
            with pikepdf.open(io.BytesIO(archive.read(f"{ref}.pdf"))) as document:
                assert len(document.pages) >= 2  # the proposal, then the letter's page
        # Decided since: nothing left to take away — a page that says so, not an empty ZIP.
        Proposal.objects.filter(pk__in=[a.proposal_id for a in accepted]).update(state=ProposalState.SELECTED)
        page.goto(f"{base}/review/")
        expect(page.locator("#download-all")).to_have_count(0)
        page.goto(f"{base}/review/download.zip")
        expect(page.locator("#offline-empty")).to_contain_text("il n'y a donc rien à télécharger")
        assert serious_accessibility_violations(page) == []
        page.screenshot(path=str(SHOTS / "reviewer-offline-empty-fr-390.png"), full_page=True)
    finally:
        context.close()


def test_a_reviewer_reads_the_outcome_after_the_decisions_on_a_phone(live_server, browser, settings):
    settings.LANGUAGE_CODE = "en"
    staff = StaffFactory(email="staff@example.org")
    call = closed_call(outcome_to_reviewers=True)
    proposal = ranked_proposal(call, reviews=1, acronym="TIDES", title="Tidal flats under pressure")
    PanelRecommendation.objects.filter(proposal=proposal).update(
        consensus="A convincing partnership; the field missions are well planned.")
    reviewer = make_reviewer(proposal.institute, name="Rita Reviewer", email="rita@example.org")
    activate_totp(reviewer.user)
    make_review(proposal, reviewer, scores=[4] * 6)
    decision_set(proposal_id=proposal.pk, user=staff, outcome="selected", amount=Decimal(12000), now=timezone.now(),
                 override_reason="")
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, locale="en-GB", viewport=PHONE)
    try:
        sign_in(page, base, reviewer.user.email, code=True)
        page.goto(f"{base}/review/")
        expect(page.locator("[data-outcome]")).to_have_count(0)  # not before the decision mails
        decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
        page.reload()
        mine = Assignment.objects.get(proposal=proposal, reviewer=reviewer)
        row = page.locator(f"#my-reviews tr[data-assignment='{mine.pk}']")
        expect(row.locator("[data-outcome=selected]")).to_have_text("Selected")
        row.get_by_text("The panel's consensus").click()
        expect(row.locator("details.consensus")).to_contain_text("the field missions are well planned")
        expect(row).not_to_contain_text("12,000")
        assert serious_accessibility_violations(page) == []
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        page.screenshot(path=str(SHOTS / "reviewer-outcome-en-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(SHOTS / "reviewer-outcome-en-1280.png"), full_page=True)
    finally:
        context.close()
