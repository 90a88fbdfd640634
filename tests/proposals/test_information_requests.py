"""Requests for information (#21), the PI's side: while a request is open, after the call closed, only the items it
names change, on every path (the editor's save, the team, the letter — the PI's and the partner's link — the
invitation, the API), and nothing else; the answer freezes a new version with its receipt; past the deadline
nothing changes any more."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from iea.audit.models import AuditEntry
from proposals.domain import (
    information_answer,
    invitation_create,
    letter_attach,
    proposal_edit_refusal,
    proposal_editable,
    proposal_save_draft,
    proposal_submit,
    proposal_withdraw,
    team_member_add,
    team_member_remove,
)
from proposals.letters import check_pdf
from proposals.models import (
    InformationRequest,
    InformationRequestState,
    PartnerInvitation,
    Proposal,
    ProposalState,
    ProposalVersion,
    TeamMember,
    TeamSide,
)
from proposals.receipts import receipt_history
from reviews.domain.information_requests import information_request_ask, information_request_cancel
from tests.pdfs import pdf_upload
from tests.reviews.staff_factories import closed_call, submitted_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def submitted(past_call, pi):
    proposal = submitted_proposal(past_call, pi=pi, title="Érosion des côtes")
    # A first version, as proposal_submit froze it before the deadline.
    from proposals.domain import current_letter, proposal_snapshot  # noqa: PLC0415 -- test setup only
    from proposals.domain.submission import content_hash  # noqa: PLC0415 -- test setup only
    snapshot = proposal_snapshot(proposal, current_letter(proposal))
    ProposalVersion.objects.create(proposal=proposal, number=1, submitted_at=proposal.submitted_at, submitted_by=pi,
                                   content=snapshot, content_sha256=content_hash(snapshot), letter=current_letter(proposal))
    return proposal


def ask(proposal, staff, items, *, now=None, days=7, message="Le courrier n'est pas signé.", language=""):
    now = now or timezone.now()
    return information_request_ask(proposal_id=proposal.pk, user=staff, items=items, message=message,
                                   deadline=now + dt.timedelta(days=days), now=now, language=language)


def save(proposal, user, *, now=None, budget=None, **changes):
    proposal = Proposal.objects.get(pk=proposal.pk)
    data = {"title": proposal.title, "acronym": proposal.acronym, "abstract": proposal.abstract,
            "keywords": proposal.keywords, "partner_name": proposal.partner_name, **changes}
    return proposal_save_draft(proposal_id=proposal.pk, user=user, data=data, budget=budget or {},
                               lock_version=proposal.lock_version, now=now or timezone.now())


def pdf():
    return check_pdf(pdf_upload())


# Without a request, the closed call refuses every change --------------------------------------------------------


def test_without_a_request_the_closed_call_refuses_a_change(submitted, pi):
    with pytest.raises(ValidationError) as refused:
        save(submitted, pi, title="Late")
    assert refused.value.code == "closed"
    assert proposal_editable(submitted, now=timezone.now()) is False


# The fields: only those asked ----------------------------------------------------------------------------------


def test_a_field_asked_changes_and_marks_the_proposal_changed(submitted, pi, staff):
    ask(submitted, staff, ["title"])
    result = save(submitted, pi, title="Érosion des côtes atlantiques")
    assert result.saved is True
    stored = Proposal.objects.get(pk=submitted.pk)
    assert (stored.title, stored.has_unsubmitted_changes, stored.state) == (
        "Érosion des côtes atlantiques", True, ProposalState.SUBMITTED)


def test_a_field_not_asked_is_refused_and_nothing_is_written(submitted, pi, staff):
    ask(submitted, staff, ["title"])
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        save(submitted, pi, title="New title", abstract="A new abstract")
    assert refused.value.code == "not_asked"
    assert refused.value.messages == [
        "The request for information lets you change only: title. Not changed: abstract."]
    stored = Proposal.objects.get(pk=submitted.pk)
    assert (stored.title, stored.has_unsubmitted_changes) == ("Érosion des côtes", False)


def test_the_refusal_names_the_items_in_french(submitted, pi, staff):
    ask(submitted, staff, ["letter", "partner_country"])
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        save(submitted, pi, abstract="Résumé")
    assert refused.value.messages == [
        "La demande de compléments ne vous permet de modifier que\u00a0: lettre de soutien, pays du partenaire. "
        "Non modifié\u00a0: résumé."]


def test_the_budget_only_when_asked(submitted, pi, staff):
    ask(submitted, staff, ["title"])
    with pytest.raises(ValidationError) as refused:
        save(submitted, pi, budget={(1, "mobility"): Decimal("9999.00")})
    assert refused.value.code == "not_asked"
    InformationRequest.objects.update(items=["budget"])
    assert save(submitted, pi, budget={(1, "mobility"): Decimal("9999.00")}).saved is True
    assert submitted.budget_lines.get(year=1, category="mobility").amount == Decimal("9999.00")


def test_the_team_only_when_asked(submitted, pi, staff):
    member = TeamMember.objects.create(proposal=submitted, side=TeamSide.CNRS, name="Zoé Lefèvre")
    before = set(submitted.team.values_list("name", flat=True))
    ask(submitted, staff, ["letter"])
    now = timezone.now()
    with pytest.raises(ValidationError):
        team_member_add(proposal_id=submitted.pk, user=pi, now=now, side=TeamSide.CNRS, name="Marc")
    with pytest.raises(ValidationError):
        team_member_remove(proposal_id=submitted.pk, member_id=member.pk, user=pi, now=now)
    InformationRequest.objects.update(items=["team"])
    team_member_add(proposal_id=submitted.pk, user=pi, now=now, side=TeamSide.CNRS, name="Marc")
    team_member_remove(proposal_id=submitted.pk, member_id=member.pk, user=pi, now=now)
    assert set(submitted.team.values_list("name", flat=True)) == before - {"Zoé Lefèvre"} | {"Marc"}


def test_the_letter_only_when_asked_for_the_pi_and_through_the_partners_link(submitted, pi, staff):
    now = timezone.now()
    invitation = PartnerInvitation.objects.create(proposal=submitted, email="ana@unb.example.br", created_at=now,
                                                  created_by=pi, expires_at=now + dt.timedelta(days=30))
    ask(submitted, staff, ["title"])
    with pytest.raises(ValidationError):
        letter_attach(proposal_id=submitted.pk, pdf=pdf(), now=now, user=pi)
    with pytest.raises(ValidationError):
        letter_attach(proposal_id=submitted.pk, pdf=pdf(), now=now, invitation=invitation)
    with pytest.raises(ValidationError):
        invitation_create(proposal_id=submitted.pk, user=pi, email="ana@unb.example.br", language="pt", now=now)
    InformationRequest.objects.update(items=["letter"])
    letter_attach(proposal_id=submitted.pk, pdf=pdf(), now=now, invitation=invitation)
    letter_attach(proposal_id=submitted.pk, pdf=pdf(), now=now, user=pi)
    invitation_create(proposal_id=submitted.pk, user=pi, email="ana@unb.example.br", language="en", now=now)
    assert submitted.letters.count() == 2  # the first (of version 1) kept, the partner's replaced by the PI's


def test_submitting_and_withdrawing_stay_refused_under_a_request(submitted, pi, staff):
    ask(submitted, staff, ["title"])
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        proposal_withdraw(proposal_id=submitted.pk, user=pi, now=now)
    assert refused.value.code == "closed"
    save(submitted, pi, title="Changed")
    with pytest.raises(ValidationError):
        proposal_submit(proposal_id=submitted.pk, user=pi, now=now)
    assert submitted.versions.count() == 1


def test_another_user_cannot_change_it(submitted, other_pi, staff):
    ask(submitted, staff, ["title"])
    with pytest.raises(ValidationError) as refused:
        save(submitted, other_pi, title="Mine")
    assert refused.value.code == "forbidden"


def test_what_the_pages_ask(submitted, staff):
    now = timezone.now()
    ask(submitted, staff, ["letter"], now=now)
    proposal = Proposal.objects.select_related("call").get(pk=submitted.pk)
    assert (proposal_editable(proposal, now=now), proposal_editable(proposal, now=now, items=["letter"]),
            proposal_editable(proposal, now=now, items=["team"]), proposal_edit_refusal(proposal, now=now)) == (
        True, True, False, "")


# Past the deadline ---------------------------------------------------------------------------------------------


def test_past_the_deadline_nothing_changes_and_no_answer_is_taken(submitted, pi, staff):
    request = ask(submitted, staff, ["title"], days=2)
    later = timezone.now() + dt.timedelta(days=2, seconds=1)
    assert request.state_at(later) == InformationRequestState.EXPIRED
    with pytest.raises(ValidationError) as refused:
        save(submitted, pi, now=later, title="Too late")
    assert refused.value.code == "closed"
    with pytest.raises(ValidationError) as refused:
        information_answer(request_id=request.pk, user=pi, now=later)
    assert refused.value.code == "expired"
    assert submitted.versions.count() == 1


# The answer ----------------------------------------------------------------------------------------------------


def test_the_answer_freezes_a_new_version_with_its_receipt(submitted, pi, staff, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    request = ask(submitted, staff, ["title"])
    save(submitted, pi, title="Érosion des côtes atlantiques")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        version = information_answer(request_id=request.pk, user=pi, now=now)
    assert version.number == 2
    assert version.content["title"] == "Érosion des côtes atlantiques"
    request.refresh_from_db()
    assert (request.state, request.version, request.closed_by, request.closed_at) == (
        InformationRequestState.ANSWERED, version, pi, now)
    stored = Proposal.objects.get(pk=submitted.pk)
    assert (stored.state, stored.has_unsubmitted_changes, stored.submitted_at) == (ProposalState.SUBMITTED, False, now)
    entry = AuditEntry.objects.get(action="proposal.rfi_answer")
    assert (entry.actor, entry.data["version"], entry.data["request"]) == (pi, 2, request.pk)
    receipts = [mail for mail in mailoutbox if mail.to == [pi.email] and "v2" in mail.attachments[0][0]] \
        if mailoutbox else []
    assert len(receipts) == 1
    # The request closed: nothing more may change.
    with pytest.raises(ValidationError):
        save(submitted, pi, title="Once more")


def test_an_answered_proposal_is_still_on_time_at_screening_and_in_its_receipt(submitted, pi, staff):
    """The answer is sent after the deadline by the request's own rule: screening's automatic check and the
    answer's receipt read the proposal as on time (they once read it late, and screening offered "ineligible")."""
    from proposals.domain import proposal_checklist  # noqa: PLC0415
    from reviews.domain.screening import screening_rows  # noqa: PLC0415

    request = ask(submitted, staff, ["title"])
    save(submitted, pi, title="Érosion des côtes atlantiques")
    version = information_answer(request_id=request.pk, user=pi, now=timezone.now())
    [row] = [row for row in screening_rows(call=submitted.call) if row.proposal.pk == submitted.pk]
    deadline = next(check for check in row.checks if check.code == "deadline")
    assert deadline.ok and "answers the directorate's request for information" in deadline.detail
    assert row.eligible
    stored = Proposal.objects.get(pk=submitted.pk)  # the receipt's checklist, without the screening's prefetch
    checks = proposal_checklist(stored, now=version.submitted_at, letter=version.letter, others_active=0,
                                as_submitted=True)
    assert next(check for check in checks if check.code == "deadline").ok
    # A proposal first submitted after the deadline, with no request answered, stays late.
    Proposal.objects.filter(pk=submitted.pk).update(submitted_at=submitted.call.closes_at + dt.timedelta(days=3))
    late = Proposal.objects.get(pk=submitted.pk)
    assert not next(c for c in proposal_checklist(late, now=timezone.now(), as_submitted=True) if c.code == "deadline").ok


def test_an_answer_with_nothing_changed_is_refused(submitted, pi, staff):
    request = ask(submitted, staff, ["title"])
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        information_answer(request_id=request.pk, user=pi, now=timezone.now())
    assert refused.value.messages == ["Nothing changed since version 1: change what was asked, then send the answer."]


def test_only_the_pi_sends_the_answer(submitted, pi, other_pi, staff):
    request = ask(submitted, staff, ["title"])
    save(submitted, pi, title="Changed")
    with pytest.raises(ValidationError) as refused:
        information_answer(request_id=request.pk, user=other_pi, now=timezone.now())
    assert refused.value.code == "forbidden"


def test_an_answer_after_a_cancel_is_refused_and_the_reverse(submitted, pi, staff):
    request = ask(submitted, staff, ["title"])
    save(submitted, pi, title="Changed")
    information_request_cancel(request_id=request.pk, user=staff, now=timezone.now())
    with pytest.raises(ValidationError) as refused:
        information_answer(request_id=request.pk, user=pi, now=timezone.now())
    assert refused.value.code == "cancelled"
    second = ask(submitted, staff, ["title"])
    save(submitted, pi, title="Changed again")
    information_answer(request_id=second.pk, user=pi, now=timezone.now())
    with pytest.raises(ValidationError) as refused:
        information_request_cancel(request_id=second.pk, user=staff, now=timezone.now())
    assert refused.value.code == "answered"


# The receipt's history -----------------------------------------------------------------------------------------


def test_the_receipt_history_shows_the_versions_and_the_request(submitted, pi, staff):
    request = ask(submitted, staff, ["letter", "title"], message="Lettre non signée.\nMerci de la renvoyer.")
    save(submitted, pi, title="Érosion — v2")
    version = information_answer(request_id=request.pk, user=pi, now=timezone.now())
    with translation.override("en"):
        texts = [entry.text for entry in receipt_history(version)]
    assert texts[0] == "Version 1 received"
    assert texts[1].startswith("Information requested by the directorate: support letter, title may change until ")
    assert texts[2:] == ["Version 2 received", "Request for information answered: version 2"]
    with translation.override("fr"):
        assert receipt_history(version)[3].text == "Demande de compléments satisfaite\u00a0: version 2"


def test_the_receipt_marks_the_requests_message_with_the_language_it_was_written_in(submitted, pi, staff,
                                                                                    monkeypatch):
    from django.template.loader import render_to_string  # noqa: PLC0415 -- this test only

    from proposals import receipts  # noqa: PLC0415

    request = ask(submitted, staff, ["title"], message="Titre à préciser.", language="fr-ca")
    save(submitted, pi, title="Érosion — v2")
    version = information_answer(request_id=request.pk, user=pi, now=timezone.now())
    assert [entry.detail_language for entry in receipt_history(version)][:2] == ["", "fr"]  # a hash, the message
    monkeypatch.setattr(receipts, "render_pdf", lambda template, context: render_to_string(template, context).encode())
    with translation.override("en"):
        html = receipts.render_receipt(version).decode()
    assert '<span class="text" lang="fr">Titre à préciser.</span>' in html


# The API: the same rule, through the same domain ----------------------------------------------------------------


def test_the_api_changes_only_what_was_asked(submitted, pi, staff):
    from tests.api.conftest import client_for  # noqa: PLC0415 -- the API's client, for this test only

    ask(submitted, staff, ["title"])
    client = client_for(pi)
    url = f"/api/v1/proposals/{submitted.reference}/"
    version = client.get(url).json()["lock_version"]
    refused = client.patch(url, {"lock_version": version, "abstract": "Un autre résumé"}, format="json")
    assert refused.status_code == 400
    assert "abstract" in str(refused.json())
    team = client.post(url + "team/", {"side": "cnrs", "name": "Marc"}, format="json")
    assert team.status_code == 400
    saved = client.patch(url, {"lock_version": version, "title": "Érosion des côtes atlantiques"}, format="json")
    assert saved.status_code == 200
    assert Proposal.objects.get(pk=submitted.pk).title == "Érosion des côtes atlantiques"


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["History", "Version 1 received", "Information requested by the directorate: support letter, title",
            "Request for information answered: version 2", "This version answers a request for information"]),
    ("fr", ["Historique", "Version 1 reçue", "Compléments demandés par la direction", "lettre de soutien, titre",
            "Demande de compléments satisfaite", "Cette version répond à une demande de compléments"]),
])
def test_the_receipt_pdf_of_the_answer_carries_the_history(submitted, pi, staff, language, expected):
    import io  # noqa: PLC0415 -- this test only

    from pypdf import PdfReader  # noqa: PLC0415 -- this test only

    from proposals.receipts import render_receipt  # noqa: PLC0415 -- this test only

    request = ask(submitted, staff, ["letter", "title"],
                  message="La lettre « signée » manque — merci de la déposer avant le 15 décembre (15 000 €).")
    save(submitted, pi, title="Érosion des côtes — Camargue & Red River")
    version = information_answer(request_id=request.pk, user=pi, now=timezone.now())
    with translation.override(language):
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render_receipt(version))).pages)
    text = " ".join(text.split())
    missing = [phrase for phrase in expected if phrase not in text]
    assert missing == [], text
    assert "15 000 €" in text and "Camargue & Red River" in text
