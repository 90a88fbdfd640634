"""The partner's link follows the partner (issue #16): when the PI names another partner (a new e-mail, by
the page, the autosave or the API), the former partner's link opens an explained page with nothing of the
proposal (410) and takes no letter; a withdrawn proposal's link does the same. A change of name or of the
e-mail's case keeps the link. The letter the former partner uploaded stays attached, and the PI's page
says who sent it and that the new partner needs an invitation."""

import contextlib

import pytest
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from proposals import domain
from proposals.letters import check_pdf
from proposals.models import InvitationRevoked, PartnerInvitation, SupportLetter
from tests.api.conftest import client_for
from tests.pdfs import pdf_upload

from . import test_concurrency as concurrency
from .test_editor import form_data

pytestmark = pytest.mark.django_db

sqlite_file_copy = concurrency.sqlite_file_copy

NEW_EMAIL = "lucia.prado@unicamp.example.br"
# What the former partner must not see any more: the proposal, and above all the new partner's contact.
CONTENT = ["Coastal erosion under changing storms", "We study coastal erosion with partners abroad.",
           "Two missions per year and a workshop.", "Universidade de São Paulo", "Lucia Prado", NEW_EMAIL]


def link(invitation, name="proposals:partner"):
    return reverse(name, args=[domain.invitation_token(invitation)])


def invite(proposal, email="ana@usp.example.br", *, now=None):
    return domain.invitation_create(proposal_id=proposal.pk, user=proposal.pi, email=email, language="en",
                                    now=now or timezone.now())


def save(proposal, **changes):
    """The PI's save, as every path makes it (page, autosave and API call this one function)."""
    proposal.refresh_from_db()
    data = {name: getattr(proposal, name) for name in ("partner_name", "partner_email")} | changes
    result = domain.proposal_save_draft(proposal_id=proposal.pk, user=proposal.pi, data=data, budget={},
                                        lock_version=proposal.lock_version, now=timezone.now())
    assert result.saved
    return result.record


def upload(client, invitation):
    return client.post(link(invitation), {"file": pdf_upload(), "cofunding_currency": "EUR"},
                       HTTP_ACCEPT_LANGUAGE="en")


def assert_closed(client, invitation, *, says: str):
    """The link answers 410 with the reason and nothing of the proposal, downloads nothing, takes no letter."""
    letters = SupportLetter.objects.count()
    for response in (client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="en"),
                     client.get(link(invitation, "proposals:partner_letter"), HTTP_ACCEPT_LANGUAGE="en"),
                     upload(client, invitation)):
        html = response.content.decode()
        assert (response.status_code, says in html) == (410, True), html
        assert [shown for shown in CONTENT if shown in html] == []
        assert "Content-Disposition" not in response
    assert SupportLetter.objects.count() == letters


def test_the_probe_the_former_partners_link_closes_and_the_new_partners_works(client, draft):
    first = invite(draft)
    assert client.get(link(first)).status_code == 200

    save(draft, partner_name="Lucia Prado", partner_email=NEW_EMAIL)

    assert_closed(client, first, says="the PI named another foreign partner for this proposal")
    first.refresh_from_db()
    assert (first.revoked_at is not None, first.revoked_reason) == (True, InvitationRevoked.PARTNER_CHANGED)
    entry = AuditEntry.objects.get(action="proposal.partner_links_revoked")
    assert (entry.object_id, entry.actor_id, entry.data) == (
        str(draft.pk), draft.pi_id, {"emails": ["ana@usp.example.br"], "invitations": [first.pk], "new_email": NEW_EMAIL})

    second = invite(draft, NEW_EMAIL)
    page = client.get(link(second), HTTP_ACCEPT_LANGUAGE="en")
    assert (page.status_code, "Lucia Prado" in page.content.decode()) == (200, True)
    assert upload(client, second).status_code == 302
    assert SupportLetter.objects.get(proposal=draft).uploaded_via == second


@pytest.mark.parametrize("changes", [{"partner_name": "Ana Souza Lima"}, {"partner_email": "Ana@USP.example.br"}],
                         ids=["name", "case of the e-mail"])
def test_a_new_name_or_a_change_of_case_keeps_the_link(client, draft, changes):
    invitation = invite(draft)
    save(draft, **changes)
    assert client.get(link(invitation)).status_code == 200
    assert upload(client, invitation).status_code == 302
    assert AuditEntry.objects.filter(action="proposal.partner_links_revoked").count() == 0


def test_a_link_already_sent_to_the_new_address_stays_valid(client, draft):
    former = invite(draft)
    # Two outstanding links (the invitation flow revokes the earlier one; older data may hold both).
    new = PartnerInvitation.objects.create(proposal=draft, email=NEW_EMAIL, created_at=former.created_at,
                                           created_by=draft.pi, expires_at=former.expires_at)
    save(draft, partner_email=NEW_EMAIL.upper())
    assert [client.get(link(i)).status_code for i in (former, new)] == [410, 200]


def test_the_page_form_revokes_the_link(client, draft, pi):
    invitation = invite(draft)
    client.force_login(pi)
    response = client.post(reverse("proposals:edit", args=[draft.pk]),
                           form_data(draft, partner_name="Lucia Prado", partner_email=NEW_EMAIL))
    assert response.status_code == 302
    client.logout()
    assert_closed(client, invitation, says="no longer opens it")


def test_the_autosave_revokes_the_link_and_the_letter_section_asks_for_an_invitation(client, draft, pi):
    invitation = invite(draft)
    client.force_login(pi)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]),
                           form_data(draft, partner_email=NEW_EMAIL), HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="letter" class="stack" aria-labelledby="letter-title" hx-swap-oob="true"' in html
    assert "the link sent to ana@usp.example.br no longer works. Send the new partner an invitation." in html
    assert f'value="{NEW_EMAIL}"' in html  # the invitation form offers the new address
    client.logout()
    assert_closed(client, invitation, says="no longer opens it")


def test_an_autosave_that_keeps_the_partner_leaves_the_letter_section_alone(client, draft, pi):
    invite(draft)
    client.force_login(pi)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), form_data(draft, title="Another title"),
                           HTTP_HX_REQUEST="true")
    assert (response.status_code, 'id="letter"' in response.content.decode()) == (200, False)


def test_the_api_revokes_the_link(client, draft, pi):
    invitation = invite(draft)
    response = client_for(pi).patch(f"/api/v1/proposals/{draft.reference}/", {
        "lock_version": draft.lock_version, "partner_email": NEW_EMAIL}, format="json")
    assert response.status_code == 200, response.json()
    assert_closed(client, invitation, says="no longer opens it")


def test_a_withdrawn_proposals_link_shows_nothing_and_takes_nothing(client, draft, pi):
    invitation = invite(draft)
    domain.proposal_withdraw(proposal_id=draft.pk, user=pi, now=timezone.now(), reason="Changed plans")
    assert_closed(client, invitation, says="The PI withdrew this proposal")


def test_the_explained_page_speaks_french(client, draft):
    invitation = invite(draft)
    save(draft, partner_email=NEW_EMAIL)
    response = client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 410
    assert "a désigné un autre partenaire étranger" in response.content.decode()


def test_the_former_partners_letter_stays_and_the_pi_sees_who_sent_it(client, draft, pi):
    invitation = invite(draft)
    assert upload(client, invitation).status_code == 302
    letter = SupportLetter.objects.get(proposal=draft)
    save(draft, partner_name="Lucia Prado", partner_email=NEW_EMAIL)

    assert domain.current_letter(draft) == letter  # kept: it still counts, the PI decides
    client.force_login(pi)
    html = client.get(reverse("proposals:edit", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "uploaded by the partner (ana@usp.example.br)" in html
    assert "This letter was uploaded by ana@usp.example.br, who is no longer the proposal's partner." in html
    assert "the link sent to ana@usp.example.br no longer works. Send the new partner an invitation." in html

    invite(draft, NEW_EMAIL)  # once invited, the page no longer asks for it
    html = client.get(reverse("proposals:edit", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Send the new partner an invitation." not in html
    assert "who is no longer the proposal's partner" in html


def test_an_upload_through_a_link_revoked_meanwhile_is_refused(draft):
    """The race, one step at a time: the partner's request resolved its link, then the PI changed the partner
    before the upload reached the database. The upload reads the invitation again under its lock."""
    invitation = domain.invitation_resolve(domain.invitation_token(invite(draft)), now=timezone.now())
    save(draft, partner_email=NEW_EMAIL)
    with pytest.raises(domain.ProposalError) as refused:
        domain.letter_attach(proposal_id=draft.pk, pdf=check_pdf(pdf_upload()), now=timezone.now(),
                             invitation=invitation)
    assert "the PI named another foreign partner" in refused.value.messages[0]
    assert SupportLetter.objects.filter(proposal=draft).count() == 0


def test_an_upload_caught_by_the_change_shows_the_explained_page(client, draft, monkeypatch):
    """The partner's page resolved the link; the PI's change lands before the letter does: 410, no content."""
    invitation = invite(draft)
    real_attach = domain.letter_attach

    def change_first(**kwargs):
        save(draft, partner_name="Lucia Prado", partner_email=NEW_EMAIL)
        return real_attach(**kwargs)

    monkeypatch.setattr(domain, "letter_attach", change_first)
    response = upload(client, invitation)
    assert response.status_code == 410
    assert [shown for shown in CONTENT if shown in response.content.decode()] == []
    assert SupportLetter.objects.filter(proposal=draft).count() == 0


def _change_and_upload_together(draft):
    """The PI changes the partner while the former partner uploads through their link, at the same instant.
    Gives what each side got, and the order in which their audit entries landed."""
    token, pdf, now = domain.invitation_token(invite(draft)), check_pdf(pdf_upload()), timezone.now()
    draft.refresh_from_db()
    lock_version = draft.lock_version

    def pi_changes():
        domain.proposal_save_draft(proposal_id=draft.pk, user=draft.pi, data={"partner_email": NEW_EMAIL},
                                   budget={}, lock_version=lock_version, now=now)
        return "changed"

    def partner_uploads():
        try:
            invitation = domain.invitation_resolve(token, now=now)
            domain.letter_attach(proposal_id=draft.pk, pdf=pdf, now=now, invitation=invitation)
        except (domain.InvitationInvalid, domain.ProposalError):
            return "refused"
        return "uploaded"

    return [pi_changes, partner_uploads]


def _assert_one_winner(draft, results, errors, database):
    assert errors == []
    with concurrency._using(concurrency._file_connection(database)) if database else contextlib.nullcontext():
        order = list(AuditEntry.objects.filter(object_id=str(draft.pk), action__in=[
            "proposal.partner_links_revoked", "proposal.letter_upload"]).order_by("pk").values_list("action", flat=True))
        letters = SupportLetter.objects.filter(proposal=draft).count()
    # Either the letter landed first and the change then revoked the link, or the change landed first
    # and the upload was refused: never a letter through a link already revoked.
    assert (sorted(results), order, letters) in [
        (["changed", "uploaded"], ["proposal.letter_upload", "proposal.partner_links_revoked"], 1),
        (["changed", "refused"], ["proposal.partner_links_revoked"], 0),
    ]


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_a_change_of_partner_and_an_upload_at_once_on_sqlite(sqlite_file_copy, draft):
    path, copy = sqlite_file_copy
    roles = _change_and_upload_together(draft)
    copy()
    results, errors = concurrency.run_together(2, lambda: roles.pop()(), database=path)
    _assert_one_winner(draft, results, errors, path)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_of_partner_and_an_upload_at_once_on_postgresql(require_postgres, draft):
    roles = _change_and_upload_together(draft)
    results, errors = concurrency.run_together(2, lambda: roles.pop()())
    _assert_one_winner(draft, results, errors, None)
