"""Download my data: the person's own data, all of it, as a JSON attachment; no secret in it; nobody
else's; audited; and a number of queries that does not grow with the data."""

import datetime as dt
import json

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from iea.accounts.domain import api_token_create
from iea.accounts.models import ApiToken
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from iea.site.privacy.domain import erasure_request
from proposals.models import PartnerInvitation
from reviews.models import Bid, Publication, Unavailability
from tests.factories import TOTP_SECRET, ProposalFactory, UserFactory, activate_totp
from tests.reviews.factories import PanelFactory, ReviewerFactory

from .factories import conversed, filed, funded, past_call, reviewed, years_ago

pytestmark = pytest.mark.django_db

EXPORT = reverse("privacy:export")


@pytest.fixture
def person(db):
    return UserFactory(email="paula@cnrs.example.fr", full_name="Paula Investigator")


def download(client) -> dict:
    response = client.post(EXPORT)
    assert response.status_code == 200
    return json.loads(response.content)


def give_data(person, n: int):
    """``n`` of everything: proposals (one funded), a review, tokens, messages."""
    call = past_call(closed=years_ago(1))
    for i in range(n):
        proposal = filed(call, pi=person, n=100 + i, state="rejected")
        reviewed(proposal, reviewer_user=UserFactory() if i else None)
        api_token_create(user=person, name=f"script {i}", scopes="read", days=30, now=timezone.now())
        Notification.objects.create(kind="withdrawn", occurrence=str(i), recipient=person, email=person.email,
                                    subject=f"Subject {i}", due_at=timezone.now(), created_at=timezone.now())
    conversed(funded(call, pi=person, closed_at=None, n=200 + n), n=200 + n)
    other = filed(call, n=300 + n, state="rejected")
    reviewed(other, reviewer_user=person)
    return call


def test_the_export_is_an_audited_attachment_and_only_by_post(client, person):
    client.force_login(person)
    assert client.get(EXPORT).status_code == 405
    now = timezone.now()
    response = client.post(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="iea-personal-data-{timezone.localdate(now):%Y-%m-%d}.json"'
    assert (response["Cache-Control"], response["X-Content-Type-Options"]) == ("private, no-store", "nosniff")
    assert list(AuditEntry.objects.filter(action="privacy.export").values_list("actor_id", "object_id")) == [
        (person.pk, str(person.pk))]


def test_the_export_holds_the_persons_data(client, person):
    activate_totp(person)
    call = past_call(closed=years_ago(1))
    proposal = filed(call, pi=person, n=1, state="rejected")
    award = funded(call, pi=person, closed_at=None, n=2)
    others = filed(call, n=3, state="rejected")
    review = reviewed(others, reviewer_user=person)
    token, _secret = api_token_create(user=person, name="finance script", scopes="read", days=30, now=timezone.now())
    Notification.objects.create(kind="withdrawn", recipient=person, email=person.email, subject="Proposal withdrawn",
                                due_at=timezone.now(), created_at=timezone.now(), body="secret body")
    erasure_request(user=person, reason="Leaving", now=timezone.now())
    client.force_login(person)

    data = download(client)

    assert data["format"] == "iea-personal-data/1"
    account = data["account"]
    assert (account["first_name"], account["last_name"]) == ("Paula", "Investigator")
    assert (account["email"], account["full_name"], account["language"], account["two_factor"]) == (
        "paula@cnrs.example.fr", "Paula Investigator", "en", {"totp": True, "recovery_codes": False})
    assert account["email_addresses"] == [{"email": "paula@cnrs.example.fr", "verified": True, "primary": True}]
    assert [p["reference"] for p in data["proposals"]] == [proposal.reference, award.proposal.reference]
    mine = data["proposals"][0]
    assert (mine["partner"]["email"], [m["email"] for m in mine["team"]][-1]) == ("ana1@usp.example.br",
                                                                                "joao1@member.example.br")
    assert mine["support_letters"][0]["file_name"] == "Lettre signee Ana Souza 1.pdf"
    assert set(mine["support_letters"][0]) >= {"sha256", "size", "pages", "uploaded_at", "file_erased"}
    assert [v["number"] for v in mine["versions"]] == [1]
    assert mine["versions"][0]["content"]["partner"]["name"] == "Ana Souza1"
    assert [(line["year"], line["category"]) for line in mine["budget"]][:2] == [(1, "field"), (1, "meetings")]
    assert mine["decision"]["outcome"] == "rejected"
    assert [a["proposal"] for a in data["awards"]] == [award.proposal.reference]
    assert [r["period"] for r in data["awards"][0]["reports"]] == ["final", "year1"]
    assert data["awards"][0]["reports"][1]["cosign_decline_comment"] == "The Recife workshop is missing."
    assert [(r["proposal"], r["comment_for_pi"], r["scores"][0]["score"]) for r in data["reviews"]] == [
        (others.reference, review.comment_for_pi, "3.5")]
    assert [a["proposal"] for a in data["assignments"]] == [others.reference]
    assert [(c["proposal"], c["declared_by_you"]) for c in data["conflicts"]] == [(others.reference, True)]
    assert [(t["name"], t["prefix"]) for t in data["api_tokens"]] == [("finance script", token.prefix)]
    assert ("withdrawn", "Proposal withdrawn") in [(n["kind"], n["subject"]) for n in data["notifications"]]
    assert [(r["state"], r["reason"]) for r in data["erasure_requests"]] == [("pending", "Leaving")]
    assert data["co_applications"] == [] and data["conversation_messages"] == []
    actions = [e["action"] for e in data["audit_entries"]]
    assert {"proposal.submit", "proposal.letter_upload", "account.api_token_create", "privacy.erasure_request"} <= set(actions)


def test_the_export_holds_no_secret(client, person):
    activate_totp(person)
    _token, secret = api_token_create(user=person, name="script", scopes="read", days=30, now=timezone.now())
    call = past_call(closed=years_ago(1))
    proposal = filed(call, pi=person, state="rejected")
    Notification.objects.create(kind="account", recipient=person, email=person.email, subject="Reset",
                                due_at=timezone.now(), created_at=timezone.now(), body="one-time link /reset/abc",
                                params={"body": "one-time link"})
    client.force_login(person)
    person.refresh_from_db()
    text = client.post(EXPORT).content.decode()

    secrets = {
        "password hash": person.password,
        "token": secret,
        "token digest": ApiToken.objects.get(user=person).digest,
        "TOTP secret": TOTP_SECRET,
        "TOTP data": json.dumps(Authenticator.objects.get(user=person).data),
        "calendar key": person.calendar_key,
        "invitation nonce": PartnerInvitation.objects.get(proposal=proposal).nonce,
        "mail text": "one-time link",
    }
    assert [name for name, value in secrets.items() if value in text] == []
    assert '"password"' not in text and '"digest"' not in text


def test_a_person_gets_only_their_own_data(client, person):
    call = give_data(person, 1)
    stranger = UserFactory(email="stranger@cnrs.example.fr")
    theirs = filed(call, pi=stranger, n=900, state="rejected")
    client.force_login(stranger)
    text = client.post(EXPORT).content.decode()
    data = json.loads(text)
    assert [p["reference"] for p in data["proposals"]] == [theirs.reference]
    assert (data["reviews"], data["assignments"], data["awards"], data["api_tokens"]) == ([], [], [], [])
    assert "paula@cnrs.example.fr" not in text
    assert "ana100@usp.example.br" not in text


def test_the_number_of_queries_does_not_grow_with_the_data(client, person, queries):
    client.force_login(person)
    assert queries.at_sizes(lambda n: give_data(person, n), lambda: download(client), sizes=(1, 5)) == (36, 36)
    many = download(client)
    assert (len(many["proposals"]), len(many["reviews"]), len(many["api_tokens"])) == (7, 2, 5)


def test_the_page_query_count_does_not_grow_either(client, person, queries):
    client.force_login(person)
    erasure_request(user=person, now=timezone.now())
    assert queries.at_sizes(lambda n: give_data(person, n), lambda: client.get(reverse("privacy:page")),
                            sizes=(1, 4)) == (5, 5)


def test_amounts_and_dates_are_exact(client, person):
    call = past_call(closed=years_ago(1))
    funded(call, pi=person, closed_at=None)
    client.force_login(person)
    award = download(client)["awards"][0]
    assert (award["amount"], [t["amount"] for t in award["tranches"]]) == ("12000.00", ["6000.00", "6000.00"])
    assert dt.date.fromisoformat(award["start_date"]) < dt.date.fromisoformat(award["end_date"])


def test_the_export_holds_what_21_added_the_persons_messages_requests_co_applications_and_amendments(client, person):
    call = past_call(closed=years_ago(1))
    award = funded(call, pi=person, closed_at=None, n=7)
    added = conversed(award, n=7)
    colleague = UserFactory(email=added["coapplicant"])
    client.force_login(person)
    data = download(client)

    (mine,) = data["conversation_messages"]  # the PI's own; the directorate's answer is not theirs
    assert (mine["proposal"], mine["topic"], mine["text"]) == (award.proposal.reference, "proposal",
                                                              "Ana Souza7 signs the letter on Monday.")
    assert (mine["attachment"]["file_name"], mine["attachment"]["pages"]) == ("Lettre Ana Souza7.pdf", 1)
    (request,) = data["proposals"][0]["information_requests"]
    assert (request["items"], request["message"], request["state"]) == (["letter"], "Ana Souza has not signed.",
                                                                        "answered")
    (amendment,) = data["awards"][0]["amendments"]
    assert (amendment["kind"], amendment["state"], amendment["new_institution"], amendment["new_country"]) == (
        "institution", "approved", "Universidade Federal de Recife 7", "BR")
    assert amendment["decision_reason"] == "Approved after a call with Ana Souza."
    assert data["awards"][0]["partner_institution"] == "Universidade Federal de Recife 7"
    assert data["co_applications"] == []

    client.force_login(colleague)
    theirs = download(client)
    assert [(c["proposal"], c["role"]) for c in theirs["co_applications"]] == [(award.proposal.reference, "editor")]
    assert theirs["conversation_messages"] == [] and theirs["proposals"] == []


def test_the_export_holds_the_reviewers_publications_absences_and_bids(client, person):
    now = timezone.now()
    reviewer = ReviewerFactory(user=person)
    Publication.objects.create(user=person, source="hal_bibtex", key="hal:1", title="Kelp forests", year=2024,
                               authors=[{"name": "Investigator, Paula", "orcid": "", "hal_id": ""}], imported_at=now)
    Unavailability.objects.create(user=person, starts_on=dt.date(2027, 1, 4), ends_on=dt.date(2027, 2, 26),
                                  note="Terrain au Chili")
    proposal = ProposalFactory()
    Bid.objects.create(panel=PanelFactory(), reviewer=reviewer, proposal=proposal, value="eager", updated_at=now)
    client.force_login(person)
    data = download(client)
    assert [(p["title"], p["year"], p["authors"][0]["name"]) for p in data["publications"]] == [
        ("Kelp forests", 2024, "Investigator, Paula")]
    assert data["unavailabilities"] == [{"from": "2027-01-04", "until": "2027-02-26", "note": "Terrain au Chili"}]
    assert [(b["proposal"], b["bid"]) for b in data["bids"]] == [(proposal.reference, "eager")]
