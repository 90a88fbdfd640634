"""Restart from last year (#21) in a real browser: a PI whose proposal to an earlier call was rejected finds
"Start a new proposal from this one in <call>" on My proposals, starts, lands in the editor of the new draft
with the content copied and the previous evaluation beside it (the panel's consensus, the mean scores, the
reviewers' comments — no reviewer's name), and edits the draft. In French on a phone (the evaluation is a
section the PI closes and opens) and in English on a desktop (a panel in the sidebar), and the other way round;
axe on each page, nothing cut off at phone width, nothing refused by the CSP."""

import os
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from funding.domain.decisions import decision_set
from proposals.models import Proposal
from reviews.models import Decision
from tests.factories import CallFactory, InstituteFactory, StaffFactory, UserFactory
from tests.reviews.staff_factories import closed_call, make_review, make_reviewer, ranked_proposal

from .helpers import journey_context, serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
CONSENSUS = ("La comparaison de deux effacements de barrages est intéressante, mais le projet reste un échange de "
             "données plutôt qu'un plan de recherche commun. Le panel encourage une proposition révisée.")
COMMENT = "One mission takes most of the budget; say what will be analysed together."
WORDS = {
    "fr": {"status": "Non retenue", "started": "Votre nouveau brouillon reprend la proposition",
           "from": "Reprise de votre proposition", "read": "Lire son évaluation", "panel": "Évaluation précédente",
           "decision": "Non retenue", "consensus": "Synthèse du comité", "reviewer": "Expert·e 1",
           "score": "Qualité scientifique du projet 3,0 / 5", "saved": "Enregistré à",
           "title": "Poissons migrateurs après l'effacement des barrages : un plan commun"},
    "en": {"status": "Rejected", "started": "Your new draft starts from", "from": "Started from your proposal",
           "read": "Read its evaluation", "panel": "Previous evaluation", "decision": "Rejected",
           "consensus": "Consensus of the panel", "reviewer": "Reviewer 1",
           "score": "Scientific quality of the project 3.0 / 5", "saved": "Saved at",
           "title": "Migratory fish after dam removal: a joint plan"},
}
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or tempfile.gettempdir()) / "restart"


@pytest.fixture
def restart_world():
    old = closed_call()
    new = CallFactory(year=old.year + 1)
    institute = InstituteFactory()
    pi = UserFactory(email="pauline@lab.example.org", full_name="Pauline Mercier")
    source = ranked_proposal(old, institute=institute, reviews=0, recommendation="reject", proposed_amount=None,
                             pi=pi, title="Migratory fish after dam removal", acronym="DAMFISH")
    source.panel_recommendation.consensus = CONSENSUS
    source.panel_recommendation.save()
    for n, (scores, comment) in enumerate((([3, 3, 2.5, 1.5, 4.5, 2], COMMENT), ([3, 2.5, 3, 1.5, 4.5, 2.5], ""))):
        reviewer = make_reviewer(institute, name=f"Zébulon Secretname{n}", email=f"zebulon{n}@hidden.example")
        make_review(source, reviewer, scores=scores, comment_for_pi=comment, confidential="CONFIDENTIAL-NOTE")
    decision_set(proposal_id=source.pk, user=StaffFactory(), outcome="rejected", amount=None, now=timezone.now())
    Decision.objects.filter(proposal=source).update(notified_at=timezone.now())
    return {"old": old, "new": new, "pi": pi, "source": source}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("language", "size"), [("fr", "phone"), ("en", "desktop"), ("fr", "desktop"),
                                                ("en", "phone")])
def test_a_pi_starts_again_from_a_rejected_proposal(live_server, browser, restart_world, language, size):
    w = WORDS[language]
    SHOTS.mkdir(parents=True, exist_ok=True)
    pi, source, new = restart_world["pi"], restart_world["source"], restart_world["new"]
    type(pi).objects.filter(pk=pi.pk).update(language=language)
    context, page, errors = journey_context(browser, language, SIZES[size])
    sign_in(page, live_server.url, pi.email)

    # My proposals: the rejected proposal, and the action in the open call.
    page.goto(f"{live_server.url}/dashboard/")
    row = page.locator("#my-proposals tbody tr", has_text="DAMFISH")
    expect(row).to_contain_text(w["status"])
    action = row.locator("form.restart-action button")
    expect(action).to_have_count(1)
    expect(action).to_contain_text(new.title)
    assert serious_accessibility_violations(page) == []
    assert _fits(page)
    page.screenshot(path=f"{SHOTS}/dashboard-{language}-{size}.png", full_page=True)
    action.click()

    # The editor of the new draft: the content copied, the evaluation beside it.
    page.wait_for_url(lambda url: "/edit/" in url)
    draft = Proposal.objects.get(call=new, pi=pi)
    assert draft.restarted_from_id == source.pk
    expect(page.locator(".messages")).to_contain_text(f"{w['started']} {source.reference}")
    expect(page.locator("#restarted-from")).to_contain_text(f"{w['from']} {source.reference}")
    expect(page.locator("#id_title")).to_have_value("Migratory fish after dam removal")
    expect(page.locator("#id_acronym")).to_have_value("DAMFISH")
    panel = page.locator("#previous-evaluation")
    expect(panel).to_contain_text(w["panel"])
    expect(panel).to_contain_text(w["decision"])
    expect(panel).to_contain_text(CONSENSUS)
    expect(panel).to_contain_text(w["score"])
    expect(panel).to_contain_text(f"{w['reviewer']} {COMMENT}")
    expect(panel).not_to_contain_text("Secretname")
    expect(panel).not_to_contain_text("CONFIDENTIAL")
    assert serious_accessibility_violations(page) == []
    assert _fits(page)
    page.screenshot(path=f"{SHOTS}/editor-{language}-{size}.png", full_page=True)
    # axe leaves empty style attributes on the elements it measured, which htmx's settling then copies onto the
    # swapped fragments (a CSP refusal no user's browser would see): the PI goes on in a page axe did not touch.
    page.reload()
    if size == "desktop":
        # Beside the form: the panel's left edge is right of the form's right edge.
        form_box = page.locator("#proposal-form").bounding_box()
        panel_box = panel.bounding_box()
        assert panel_box["x"] >= form_box["x"] + form_box["width"]
    else:
        # A section the PI closes and opens again; the notice at the top leads to it.
        page.locator("#restarted-from").get_by_role("link", name=w["read"]).click()
        expect(panel).to_be_in_viewport()
        panel.locator("summary").click()
        expect(panel.get_by_text(CONSENSUS)).to_be_hidden()
        panel.locator("summary").click()
        expect(panel.get_by_text(CONSENSUS)).to_be_visible()

    # The PI edits the new draft; the old proposal is untouched.
    page.locator("#id_title").fill(w["title"])
    expect(page.locator("#saved-indicator")).to_contain_text(w["saved"])
    draft.refresh_from_db()
    assert draft.title == w["title"]
    assert Proposal.objects.get(pk=source.pk).title == "Migratory fish after dam removal"
    assert [error for error in errors if error.startswith("CSP violation")] == []
    context.close()
