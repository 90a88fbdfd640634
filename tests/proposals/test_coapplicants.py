"""Co-applicants (#21): the PI invites, the invited account accepts, edits with the PI, the two-tab protection
across people, the history of who changed what, revoking and leaving, the mail, the dashboard."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from iea.audit.models import AuditEntry
from iea.notifications.domain import deliver
from iea.notifications.models import Notification
from proposals.domain import (
    CoApplicantError,
    ProposalError,
    coapplicant_accept,
    coapplicant_invite,
    coapplicant_revoke,
    proposal_history,
)
from proposals.models import CoApplicant, CoApplicantRole
from proposals.rules import can_edit_proposal, can_view_proposal, visible_proposals
from tests.factories import CallFactory, ProposalFactory, UserFactory

from .test_editor import form_data

pytestmark = pytest.mark.django_db
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def marie(db):
    return UserFactory(email="marie.curie@cnrs.example.fr", full_name="Marie Curie", language="fr")


def invite(draft, *, email="marie.curie@cnrs.example.fr", role=CoApplicantRole.EDITOR, language="fr", now=None):
    return coapplicant_invite(proposal_id=draft.pk, user=draft.pi, email=email, role=role, language=language,
                              now=now or timezone.now())


def joined(draft, user, role=CoApplicantRole.EDITOR):
    coapplicant = invite(draft, email=user.email, role=role)
    return coapplicant_accept(coapplicant_id=coapplicant.pk, user=user, now=timezone.now())


def test_the_invited_account_accepts_then_reads_and_edits(draft, marie):
    coapplicant = invite(draft, email="Marie.Curie@CNRS.example.fr")
    assert (coapplicant.email, coapplicant.user, can_view_proposal(marie, draft)) == (
        "marie.curie@cnrs.example.fr", None, False)

    coapplicant_accept(coapplicant_id=coapplicant.pk, user=marie, now=timezone.now())

    assert (can_view_proposal(marie, draft), can_edit_proposal(marie, draft)) == (True, True)
    assert list(visible_proposals(marie)) == [draft]
    assert list(AuditEntry.objects.filter(object_id=str(draft.pk)).values_list("action", flat=True)
                .order_by("id"))[-2:] == ["proposal.coapplicant_invite", "proposal.coapplicant_accept"]


def test_a_reader_reads_and_does_not_edit(draft, marie):
    joined(draft, marie, role=CoApplicantRole.READER)
    assert (can_view_proposal(marie, draft), can_edit_proposal(marie, draft)) == (True, False)


def test_another_account_cannot_accept_and_is_told_which_address_was_invited(client, draft, other_pi):
    coapplicant = invite(draft)
    client.force_login(other_pi)
    url = reverse("proposals:coapplicant_accept", args=[coapplicant.nonce])

    response = client.post(url, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert "This invitation was sent to marie.curie@cnrs.example.fr" in response.content.decode()
    assert "Coastal" not in response.content.decode()  # nothing of the proposal to the wrong account
    coapplicant.refresh_from_db()
    assert (coapplicant.user, coapplicant.accepted_at) == (None, None)


def test_the_link_asks_to_sign_in_first(client, draft):
    coapplicant = invite(draft)
    response = client.get(reverse("proposals:coapplicant_accept", args=[coapplicant.nonce]))
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")


def test_accepting_through_the_page_lands_on_the_proposal(client, draft, marie):
    coapplicant = invite(draft)
    client.force_login(marie)
    url = reverse("proposals:coapplicant_accept", args=[coapplicant.nonce])
    assert "Accept the invitation" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    response = client.post(url)

    assert response["Location"] == reverse("proposals:detail", args=[draft.pk])
    assert client.get(url)["Location"] == reverse("proposals:detail", args=[draft.pk])  # accepted twice: same


@pytest.mark.parametrize(("email", "refusal"), [
    ("pi@cnrs.example.fr", "This is your own address: you are the PI of this proposal."),
    ("marie.curie@cnrs.example.fr", "marie.curie@cnrs.example.fr is already invited to this proposal."),
])
def test_the_pi_cannot_invite_themselves_or_twice(draft, email, refusal):
    invite(draft)
    with translation.override("en"), pytest.raises(CoApplicantError) as refused:
        invite(draft, email=email)
    assert (refused.value.messages, CoApplicant.objects.count()) == ([refusal], 1)


def test_a_coapplicant_cannot_invite(draft, marie):
    joined(draft, marie)
    with translation.override("en"), pytest.raises(ProposalError) as refused:
        coapplicant_invite(proposal_id=draft.pk, user=marie, email="x@cnrs.example.fr", role="editor",
                           language="fr", now=timezone.now())
    assert refused.value.messages == ["Only the PI can invite co-applicants."]


def test_revoked_co_applicant_loses_access_on_the_next_request(client, draft, marie):
    coapplicant = joined(draft, marie)
    client.force_login(marie)
    assert client.get(reverse("proposals:edit", args=[draft.pk])).status_code == 200

    coapplicant_revoke(coapplicant_id=coapplicant.pk, user=draft.pi, now=timezone.now())

    assert client.get(reverse("proposals:edit", args=[draft.pk])).status_code == 404
    assert client.get(reverse("proposals:detail", args=[draft.pk])).status_code == 404
    assert AuditEntry.objects.filter(action="proposal.coapplicant_revoke").count() == 1


def test_a_co_applicant_leaves_and_cannot_remove_others(client, draft, marie, other_pi):
    mine = joined(draft, marie)
    theirs = invite(draft, email=other_pi.email)
    with translation.override("en"), pytest.raises(ProposalError) as refused:
        coapplicant_revoke(coapplicant_id=theirs.pk, user=marie, now=timezone.now())
    assert refused.value.messages == ["Only the PI can remove a co-applicant."]

    client.force_login(marie)
    response = client.post(reverse("proposals:coapplicant_revoke", args=[draft.pk, mine.pk]))

    assert response["Location"] == reverse("dashboard")
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert AuditEntry.objects.filter(action="proposal.coapplicant_leave", actor=marie).count() == 1
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_co_applicants_save_names_them_in_the_pis_conflict(client, draft, marie):
    joined(draft, marie)
    pi_form = form_data(draft, abstract="The PI's own abstract")
    client.force_login(marie)
    saved = client.post(reverse("proposals:autosave", args=[draft.pk]),
                        form_data(draft, abstract="Le résumé de Marie"), HTTP_HX_REQUEST="true")
    assert saved.status_code == 200

    client.force_login(draft.pi)
    response = client.post(reverse("proposals:autosave", args=[draft.pk]), pi_form, HTTP_HX_REQUEST="true",
                           HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    assert "Marie Curie saved this draft on" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.abstract, draft.last_saved_by) == ("Le résumé de Marie", marie)


def test_the_history_says_who_changed_what(client, draft, marie):
    joined(draft, marie)
    client.force_login(marie)
    data = form_data(draft, abstract="Le résumé de Marie", budget_1_mobility="3500")
    assert client.post(reverse("proposals:autosave", args=[draft.pk]), data, HTTP_HX_REQUEST="true").status_code == 200
    # a save that changes nothing writes no entry
    data["lock_version"] = draft.lock_version + 1
    assert client.post(reverse("proposals:autosave", args=[draft.pk]), data, HTTP_HX_REQUEST="true").status_code == 200

    with translation.override("en"):
        lines = [(line.who, line.what, line.detail) for line in proposal_history(draft)[:2]]
    assert lines == [("Marie Curie", "Proposal changed", "abstract, budget"),
                     ("Marie Curie", "Co-applicant joined", "marie.curie@cnrs.example.fr")]
    with translation.override("fr"):
        assert proposal_history(draft)[0].detail == "résumé, budget"
    client.force_login(draft.pi)
    page = client.get(reverse("proposals:detail", args=[draft.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Proposal changed: abstract, budget" in page


@pytest.mark.parametrize(("language", "role", "expected"), [
    ("fr", CoApplicantRole.EDITOR, "vous invite à préparer"),
    ("en", CoApplicantRole.EDITOR, "invites you to prepare the proposal “Érosion côtière"),
    ("en", CoApplicantRole.READER, "invites you to read the proposal"),
])
def test_the_invitation_mail(draft, mailoutbox, language, role, expected):
    draft.title = "Érosion côtière & tempêtes : « un long titre » " + "très " * 40
    draft.save(update_fields=["title"])
    coapplicant = invite(draft, role=role, language=language)
    row = Notification.objects.get(kind="coapplicant_invitation")

    deliver([row.pk])

    (message,) = mailoutbox
    body = message.body
    assert message.to == ["marie.curie@cnrs.example.fr"]
    assert expected in body
    assert reverse("proposals:coapplicant_accept", args=[coapplicant.nonce]) in body
    assert "Paula Investigator" in message.subject


def test_a_revoked_invitation_is_not_mailed(draft, mailoutbox):
    coapplicant = invite(draft)
    coapplicant_revoke(coapplicant_id=coapplicant.pk, user=draft.pi, now=timezone.now())
    deliver([Notification.objects.get(kind="coapplicant_invitation").pk])
    assert mailoutbox == []


@pytest.mark.parametrize(("language", "role", "subject", "expected"), [
    ("fr", CoApplicantRole.EDITOR, "Marie Curie a rejoint votre proposition {ref}",
     "Marie Curie (marie.curie@cnrs.example.fr) a accepté votre invitation à la proposition « Érosion côtière"),
    ("en", CoApplicantRole.EDITOR, "Marie Curie joined your proposal {ref}",
     "They now read and edit the draft with you; only you submit it."),
    ("en", CoApplicantRole.READER, "Marie Curie joined your proposal {ref}", "They now read the draft."),
])
def test_the_pi_is_told_when_a_colleague_joins(draft, marie, mailoutbox, language, role, subject, expected):
    draft.pi.language = language
    draft.pi.save(update_fields=["language"])
    draft.title = "Érosion côtière & tempêtes : « un long titre » " + "très " * 40
    draft.save(update_fields=["title"])
    coapplicant = joined(draft, marie, role=role)
    row = Notification.objects.get(kind="coapplicant_joined")
    assert (row.object_id, row.recipient) == (coapplicant.pk, draft.pi)

    deliver([row.pk])

    (message,) = mailoutbox
    assert message.to == [draft.pi.email]
    assert message.subject.endswith(subject.format(ref=draft.reference))
    assert expected in message.body.replace("\u00a0", " ")
    assert reverse("proposals:detail", args=[draft.pk]) + "#coapplicants" in message.body


def test_the_pi_is_told_when_a_colleague_leaves_not_when_the_pi_removes_them(draft, marie, other_pi, mailoutbox):
    left = joined(draft, marie)
    coapplicant_revoke(coapplicant_id=left.pk, user=marie, now=timezone.now())
    removed = joined(draft, other_pi)
    coapplicant_revoke(coapplicant_id=removed.pk, user=draft.pi, now=timezone.now())
    assert list(Notification.objects.filter(kind="coapplicant_left").values_list("object_id", flat=True)) == [
        left.pk]
    # The news of a colleague who joined and is gone before the mail went out is not sent.
    deliver(list(Notification.objects.filter(kind__in=["coapplicant_joined", "coapplicant_left"])
                 .values_list("pk", flat=True)))
    assert [message.subject.split(" ", 2)[-1] for message in mailoutbox] == [
        f"left your proposal {draft.reference}"]


def test_the_mail_of_a_colleague_leaving_in_french(draft, marie, mailoutbox):
    draft.pi.language = "fr"
    draft.pi.save(update_fields=["language"])
    left = joined(draft, marie)
    coapplicant_revoke(coapplicant_id=left.pk, user=marie, now=timezone.now())
    deliver([Notification.objects.get(kind="coapplicant_left").pk])
    (message,) = mailoutbox
    assert message.subject.endswith(f"Marie Curie a quitté votre proposition {draft.reference}")
    assert f"Marie Curie (marie.curie@cnrs.example.fr) a quitté la proposition «\u00a0{draft.title}\u00a0»" in message.body
    assert "cette personne ne la lit ni ne la modifie plus." in message.body
    assert "Vous pouvez l'inviter de nouveau" in message.body


def test_my_proposals_marks_co_applications(client, marie, queries):
    client.force_login(marie)
    call = CallFactory()

    def co_apply(n):
        for _ in range(n):
            joined(ProposalFactory(call=call, pi=UserFactory(full_name="Pierre Porteur"), complete=True), marie)

    assert queries.at_sizes(co_apply, lambda: client.get(reverse("dashboard")), sizes=(1, 5)) == (9, 9)  # and the unread messages (#21 messages)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("data-coapplicant") == 5
    assert "PI: Pierre Porteur" in page


def test_the_proposal_page_reads_the_same_queries_for_one_and_three_co_applicants(client, draft, queries):
    client.force_login(draft.pi)

    def add(n):
        for _ in range(n):
            joined(draft, UserFactory())

    assert queries.at_sizes(add, lambda: client.get(reverse("proposals:detail", args=[draft.pk])),
                            sizes=(1, 3)) == (13, 13)  # with its requests for information and unread messages (#21)
