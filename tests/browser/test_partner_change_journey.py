"""The PI names another partner in a real browser (issue #16): typing the new e-mail in the editor saves it,
the letter section at once says the former partner's link no longer works and offers the invitation to the
new address; the former partner's link then opens an explained page, in French, with nothing of the
proposal, and the new partner's link opens the proposal."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from proposals import domain
from proposals.models import PartnerInvitation
from tests.factories import ProposalFactory, UserFactory

from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_EMAIL = "lucia.prado@unicamp.example.br"


def test_the_pi_changes_the_partner_and_the_former_link_closes(live_server, browser, page, settings):
    settings.LANGUAGE_CODE = "en"
    base = live_server.url
    pi = UserFactory(email="pi@example.org", full_name="Paula Investigator")
    proposal = ProposalFactory(complete=True, pi=pi)
    first = domain.invitation_create(proposal_id=proposal.pk, user=pi, email="ana@usp.example.br", language="fr",
                                     now=timezone.now())
    former_link = f"{base}/proposals/partner/{domain.invitation_token(first)}/"

    sign_in(page, base, "pi@example.org")
    page.goto(f"{base}/proposals/{proposal.pk}/edit/")
    page.fill("#id_partner_name", "Lucia Prado")
    page.fill("#id_partner_email", NEW_EMAIL)
    page.locator("#id_partner_institution").focus()  # leaving the field saves it
    notice = page.locator("#partner-needs-invitation")
    expect(notice).to_contain_text("the link sent to ana@usp.example.br no longer works")
    letter = page.locator("#letter")
    expect(letter.locator("input[name='email']")).to_have_value(NEW_EMAIL)
    assert serious_accessibility_violations(page) == []
    letter.get_by_role("button", name=re.compile(r"^Send (the|a new) invitation$")).click()
    expect(letter).to_contain_text("The invitation was sent.")
    expect(notice).to_have_count(0)
    new = PartnerInvitation.objects.get(proposal=proposal, revoked_at__isnull=True)
    assert new.email == NEW_EMAIL

    partner = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844})
    partner.set_default_timeout(15_000)
    former = partner.new_page()
    response = former.goto(former_link)
    assert response.status == 410
    main = former.locator("main")
    expect(main).to_contain_text("a désigné un autre partenaire étranger")
    for hidden in ("Coastal erosion under changing storms", "Lucia Prado", NEW_EMAIL, "Télécharger la lettre"):
        expect(main).not_to_contain_text(hidden)
    expect(former.locator("input[type='file']")).to_have_count(0)
    assert serious_accessibility_violations(former) == []

    response = former.goto(f"{base}/proposals/partner/{domain.invitation_token(new)}/")
    assert response.status == 200
    expect(former.locator("main")).to_contain_text("Lucia Prado")
    expect(former).to_have_title(re.compile(proposal.reference))
    partner.close()
