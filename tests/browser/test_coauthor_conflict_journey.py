"""Co-author conflicts (#20), the officer's side: the proposal's page shows each co-author conflict with the shared
publication; a match found on a name only ("Dupont, Jean" in the reviewer's HAL export, the PI Jean Dupont) has a
"Not the same person" button, which asks why, dismisses the match, and keeps it in a collapsed list for the record;
a match on an ORCID iD has none. In French on a desktop, in English on a phone."""

import tempfile
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from proposals.models import Proposal, ProposalState, TeamMember
from reviews.domain.conflicts import conflicts_record_detected
from reviews.models import Conflict, ConflictDismissal
from tests.factories import CallFactory, ProposalFactory, UserFactory, activate_totp
from tests.reviews.coauthor_fixtures import IMPORTED_AT, load_publications
from tests.reviews.factories import PanelFactory, ReviewerFactory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "coauthors"  # screenshots to look at, in FR and EN
WORDS = {
    "fr": {"button": "Pas la même personne", "confirm": "Pas la même personne : écarter la correspondance",
           "reason": "Comment savez-vous qu'il ne s'agit pas de la même personne ?", "done": "La correspondance est écartée",
           "dismissed": "1 correspondance écartée (pas la même personne)",
           "cause": "L'expert·e a co-publié avec une personne du même nom"},
    "en": {"button": "Not the same person", "confirm": "Not the same person: dismiss the match",
           "reason": "How do you know it is not the same person?", "done": "The match is dismissed",
           "dismissed": "1 match dismissed as not the same person",
           "cause": "The reviewer co-published with someone of the same name"},
}


@pytest.mark.parametrize(("language", "viewport"), [("fr", {"width": 1280, "height": 900}),
                                                    ("en", {"width": 390, "height": 844})])
def test_the_officer_sees_the_shared_publication_and_dismisses_a_false_name_match(live_server, browser, language,
                                                                                 viewport):
    words = {key: value.replace(" :", "\u00a0:").replace(" ?", "\u00a0?") for key, value in WORDS[language].items()}
    call = CallFactory(year=2027, state="in_review")
    pi = UserFactory(email="jean.dupont@cnrs.example.fr", full_name="Jean Dupont")
    proposal = ProposalFactory(call=call, pi=pi, complete=True)
    Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.ELIGIBLE)
    proposal.refresh_from_db()
    TeamMember.objects.create(proposal=proposal, side="partner", name="Josiah Carberry", orcid="0000-0002-1825-0097")
    institute = proposal.unit.main_institute
    martin = ReviewerFactory(institute=institute, user=UserFactory(email="claire.martin@univ.example.fr",
                                                                  full_name="Claire Martin"))
    load_publications(martin.user, "hal.bib")
    certain = ReviewerFactory(institute=institute, user=UserFactory(email="rui.costa@uni.example.pt",
                                                                   full_name="Rui Costa"))
    load_publications(certain.user, "orcid-works.json")
    for reviewer in (martin, certain):
        conflicts_record_detected(proposal=proposal, reviewer=reviewer, now=IMPORTED_AT)
    assert sorted(Conflict.objects.values_list("cause", flat=True)) == ["coauthor", "coauthor_name"]
    officer = UserFactory(email="olga@cnrs.example.fr", full_name="Olga Officer", language=language)
    activate_totp(officer)
    panel = PanelFactory(call=call, institute=institute)
    panel.officers.add(officer)

    base = live_server.url
    context = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", timezone_id="Europe/Paris",
                                  viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, base, "olga@cnrs.example.fr", code=True)
    proposal_url = f"{base}{reverse('panel:proposal', args=[panel.pk, proposal.pk])}"
    page.goto(proposal_url)
    name_match = page.locator("li[data-conflict=coauthor_name]")
    expect(name_match).to_contain_text(words["cause"])
    expect(name_match).to_contain_text("Storm-driven sediment transport on macrotidal beaches")
    expect(name_match).to_contain_text("doi:10.2112/JCOASTRES-D-23-00087.1")
    orcid_match = page.locator("li[data-conflict=coauthor]")
    expect(orcid_match).to_contain_text("ORCID 0000-0002-1825-0097")
    expect(orcid_match.get_by_role("link", name=words["button"])).to_have_count(0)
    SHOTS.mkdir(exist_ok=True)
    name_match.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / f"proposal-{language}.png", full_page=True)
    assert serious_accessibility_violations(page) == []

    name_match.get_by_role("link", name=words["button"]).click()
    expect(page.locator("#conflict-detail")).to_contain_text("Storm-driven sediment transport")
    page.get_by_role("button", name=words["confirm"]).click()  # no reason: the browser or the form says so
    assert Conflict.objects.count() == 2
    page.screenshot(path=SHOTS / f"confirm-{language}.png", full_page=True)
    assert serious_accessibility_violations(page) == []
    page.get_by_label(words["reason"]).fill("Jean Dupont the co-author is a chemist in Lyon; our PI is a geographer.")
    page.get_by_role("button", name=words["confirm"]).click()
    page.wait_for_url(proposal_url)
    expect(page.locator(".messages")).to_contain_text(words["done"])
    expect(page.locator("li[data-conflict=coauthor_name]")).to_have_count(0)
    dismissed = page.locator("#dismissed-conflicts")
    expect(dismissed.locator("summary")).to_contain_text(words["dismissed"])
    dismissed.locator("summary").click()
    expect(dismissed).to_contain_text("Olga Officer")
    expect(dismissed).to_contain_text("a chemist in Lyon")
    page.screenshot(path=SHOTS / f"dismissed-{language}.png", full_page=True)
    assert list(ConflictDismissal.objects.values_list("reviewer", "dismissed_by")) == [(martin.pk, officer.pk)]
    assert list(Conflict.objects.values_list("cause", flat=True)) == ["coauthor"]
    context.close()
