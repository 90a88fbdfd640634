"""The right to erasure: the person asks (one request at a time, audited), staff process it — the account
is anonymised, or the request refused because retention forbids it, and the person told by e-mail."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calls.models import Institute
from iea.accounts.domain import api_token_create, api_token_user
from iea.accounts.models import ApiToken, User
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification, NotificationState
from iea.site.privacy.domain import PrivacyError, erasure_process, erasure_refuse, erasure_request
from iea.site.privacy.models import AnonymisedProposal, ErasureRequest, ErasureState
from iea.templatetags.iea import paris
from proposals.models import CoApplicant, Proposal
from reviews.models import Affinity, Publication, Unavailability
from tests.factories import PASSWORD, CallFactory, ProposalFactory, StaffFactory, UserFactory, activate_totp
from tests.reviews.factories import PanelFactory, ReviewerFactory

from .factories import close, filed, funded, past_call, years_ago

pytestmark = pytest.mark.django_db

PAGE = reverse("privacy:page")
ASK = reverse("privacy:erasure")


@pytest.fixture
def person(db):
    return UserFactory(email="leaving@cnrs.example.fr", full_name="Lea Leaving")


@pytest.fixture
def director(db):
    return StaffFactory(email="director@cnrs.example.fr")


# --- asking ---------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for method, url in (("get", PAGE), ("post", ASK), ("post", reverse("privacy:export"))):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('account_login')}?next={url}"
    assert ErasureRequest.objects.count() == 0


def test_a_person_asks_once_and_the_page_says_it_waits(client, person):
    client.force_login(person)
    assert client.post(ASK, {"reason": "I left research."}).status_code == 400  # the confirmation box
    response = client.post(ASK, {"reason": "I left research.", "confirm": "on"})
    assert response.status_code == 302
    assert list(ErasureRequest.objects.values_list("user_id", "state", "reason")) == [
        (person.pk, "pending", "I left research.")]
    assert list(AuditEntry.objects.filter(action="privacy.erasure_request").values_list("actor_id", "to_state")) == [
        (person.pk, "pending")]
    page = client.get(PAGE).content.decode()
    assert "Your request is waiting for the directorate." in page
    assert 'action="/accounts/privacy/erasure/"' not in page

    again = client.post(ASK, {"confirm": "on"}, follow=True)
    assert again.redirect_chain == [(PAGE, 302)]
    assert "You already asked for the erasure of your account" in again.content.decode()
    assert ErasureRequest.objects.count() == 1


def test_the_domain_refuses_a_second_pending_request(person):
    erasure_request(user=person, now=timezone.now())
    with pytest.raises(PrivacyError) as error:
        erasure_request(user=person, now=timezone.now())
    assert error.value.code == "pending"


# --- processing: done -----------------------------------------------------------------------------------


def test_processing_erases_the_account(client, person, director):
    activate_totp(person)
    token, secret = api_token_create(user=person, name="script", scopes="read", days=30, now=timezone.now())
    Institute.objects.create(code="INX", legal_name="x", usage_name="x").officers.add(person)
    Notification.objects.create(kind="withdrawn", recipient=person, email=person.email, language="en",
                                due_at=timezone.now(), created_at=timezone.now(), state=NotificationState.PENDING,
                                body="Dear Lea Leaving", params={"name": "Lea Leaving"})
    AuditEntry.objects.create(created_at=timezone.now(), action="account.announcements_unsubscribe",
                              actor_label=f"<{person.email}> via link", content_type_id=1, object_id="1")
    request = erasure_request(user=person, reason="I left research.", now=timezone.now())
    old_email = person.email

    done = erasure_process(request_id=request.pk, user=director, now=timezone.now())

    assert (done.state, done.processed_by_id, done.reason) == (ErasureState.DONE, director.pk, "")
    erased = User.objects.get(pk=person.pk)
    assert (erased.email, erased.full_name, erased.is_active, erased.is_staff, erased.has_usable_password()) == (
        f"erased-{person.pk}@invalid", "Erased user", False, False, False)
    assert (erased.first_name, erased.last_name) == ("", "")
    assert erased.calendar_key != person.calendar_key
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert api_token_user(secret, now=timezone.now()) is None
    assert Authenticator.objects.filter(user=person).count() == 0
    assert EmailAddress.objects.filter(user=person).count() == 0
    assert person.officer_of_institutes.count() == 0
    message = Notification.objects.get(recipient=person)
    assert (message.email.startswith(f"erased-{person.pk}-n"), message.body, message.params, message.state) == (
        True, "", {}, NotificationState.SKIPPED)
    assert not AuditEntry.objects.filter(actor_label__icontains=old_email).exists()
    assert list(AuditEntry.objects.filter(action="privacy.erasure_done").values_list("actor_id", "object_id")) == [
        (director.pk, str(request.pk))]
    assert Client().login(email=old_email, password=PASSWORD) is False


def test_the_identifiers_publications_absences_affinities_and_co_applications_go_with_the_account(
        person, director):
    now = timezone.now()
    User.objects.filter(pk=person.pk).update(orcid="0000-0002-1825-0097", hal_id="lea-leaving")
    reviewer = ReviewerFactory(user=person)
    Publication.objects.create(user=person, source="hal_bibtex", key="hal:1", title="Kelp forests", imported_at=now)
    Unavailability.objects.create(user=person, starts_on=now.date(), ends_on=now.date(), note="Fieldwork in Chile")
    proposal = ProposalFactory()
    Affinity.objects.create(panel=PanelFactory(), proposal=proposal, reviewer=reviewer, score=120, terms=["kelp"])
    live = CoApplicant.objects.create(proposal=proposal, email=person.email, user=person, invited_at=now,
                                      invited_by=proposal.pi, accepted_at=now)
    invited = CoApplicant.objects.create(proposal=ProposalFactory(), email="LEAVING@cnrs.example.fr",
                                         invited_at=now, invited_by=proposal.pi)
    request = erasure_request(user=person, now=now)

    erasure_process(request_id=request.pk, user=director, now=now)

    erased = User.objects.get(pk=person.pk)
    assert (erased.orcid, erased.hal_id) == ("", "")
    assert (Publication.objects.filter(user=person).count(), Unavailability.objects.filter(user=person).count(),
            Affinity.objects.filter(reviewer=reviewer).count()) == (0, 0, 0)
    for row in (live, invited):
        row.refresh_from_db()
        assert row.revoked_at is not None
        assert row.email == f"erased-{person.pk}-c{row.pk}@invalid"
    entry = AuditEntry.objects.get(action="privacy.erasure_done")
    assert "leaving" not in str(entry.data).lower()


def test_the_session_of_the_erased_person_ends(client, person, director):
    client.force_login(person)
    assert client.get(PAGE).status_code == 200
    request = erasure_request(user=person, now=timezone.now())
    erasure_process(request_id=request.pk, user=director, now=timezone.now())
    assert client.get(PAGE).status_code == 302


def test_linked_sign_in_accounts_are_removed(person, director):
    """Janus (SAML) or OpenID Connect accounts, when allauth's socialaccount is installed."""
    if apps.is_installed("allauth.socialaccount"):
        from allauth.socialaccount.models import SocialAccount

        SocialAccount.objects.create(user=person, provider="janus", uid="lea@cnrs.fr", extra_data={"mail": "x"})
    request = erasure_request(user=person, now=timezone.now())
    erasure_process(request_id=request.pk, user=director, now=timezone.now())
    if apps.is_installed("allauth.socialaccount"):
        assert SocialAccount.objects.filter(user=person).count() == 0
    entry = AuditEntry.objects.get(action="privacy.erasure_done")
    assert entry.data["social_accounts"] == (1 if apps.is_installed("allauth.socialaccount") else 0)


def test_proposals_past_retention_are_anonymised_on_the_way(person, director):
    call = past_call(closed=years_ago(7))
    proposal = filed(call, pi=person, state="rejected")
    close(call)
    request = erasure_request(user=person, now=timezone.now())
    assert erasure_process(request_id=request.pk, user=director, now=timezone.now()).state == ErasureState.DONE
    assert list(AnonymisedProposal.objects.values_list("proposal_id", "via")) == [(proposal.pk, "erasure")]
    assert Proposal.objects.get(pk=proposal.pk).partner_email == ""


def test_processing_twice_processes_once(person, director):
    request = erasure_request(user=person, now=timezone.now())
    erasure_process(request_id=request.pk, user=director, now=timezone.now())
    again = erasure_process(request_id=request.pk, user=director, now=timezone.now())
    assert again.state == ErasureState.DONE
    assert AuditEntry.objects.filter(action="privacy.erasure_done").count() == 1


# --- processing: refused --------------------------------------------------------------------------------


def test_a_proposal_within_its_retention_period_refuses_the_erasure_and_the_person_is_told(
        person, director, django_capture_on_commit_callbacks):
    call = past_call(closed=years_ago(2))
    proposal = filed(call, pi=person, state="rejected", decided_at=call.closes_at)
    close(call)
    request = erasure_request(user=person, now=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        refused = erasure_process(request_id=request.pk, user=director, now=timezone.now())

    assert refused.state == ErasureState.REFUSED
    assert refused.retained_until == call.closes_at.replace(year=call.closes_at.year + 5)
    assert refused.blockers == [{"code": "retention", "reference": proposal.reference, "call": str(call),
                                 "until": refused.retained_until.isoformat()}]
    kept = User.objects.get(pk=person.pk)
    assert (kept.email, kept.is_active, kept.has_usable_password()) == (person.email, True, True)
    assert AnonymisedProposal.objects.count() == 0
    assert list(AuditEntry.objects.filter(action="privacy.erasure_refuse_retention").values_list("actor_id", "to_state")) == [
        (director.pk, "refused")]
    sent = [m for m in mail.outbox if m.to == [person.email]]
    assert len(sent) == 1
    assert sent[0].subject == "Your request for the erasure of your account"
    assert f"Your proposal {proposal.reference} ({call}) must be kept until" in sent[0].body


def test_an_award_still_running_refuses_the_erasure(person, director, client):
    call = past_call(closed=years_ago(8))
    award = funded(call, pi=person, closed_at=None)
    close(call)
    request = erasure_request(user=person, now=timezone.now())
    refused = erasure_process(request_id=request.pk, user=director, now=timezone.now())
    assert (refused.state, refused.retained_until, [b["code"] for b in refused.blockers]) == (
        ErasureState.REFUSED, None, ["award_running"])
    client.force_login(person)
    page = client.get(PAGE).content.decode()
    assert f"The award of your proposal {award.proposal.reference}" in page
    assert "Until the award closes, then for the call's retention period" in page
    # Refused, the person may ask again later.
    assert client.post(ASK, {"confirm": "on"}).status_code == 302


def test_a_draft_in_an_open_call_is_kept_until_the_calls_retention_ends(person, director):
    call = CallFactory()
    ProposalFactory(call=call, pi=person)
    request = erasure_request(user=person, now=timezone.now())
    refused = erasure_process(request_id=request.pk, user=director, now=timezone.now())
    assert refused.state == ErasureState.REFUSED
    assert refused.retained_until == call.closes_at.replace(year=call.closes_at.year + 5)


def test_staff_may_refuse_with_a_reason(person, director, django_capture_on_commit_callbacks):
    request = erasure_request(user=person, now=timezone.now())
    with pytest.raises(PrivacyError):
        erasure_refuse(request_id=request.pk, user=director, reason="  ", now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        refused = erasure_refuse(request_id=request.pk, user=director, reason="A legal hold applies.", now=timezone.now())
    assert (refused.state, refused.refusal_reason) == (ErasureState.REFUSED, "A legal hold applies.")
    assert "A legal hold applies." in mail.outbox[-1].body


def test_only_other_directorate_staff_process(person, director):
    request = erasure_request(user=person, now=timezone.now())
    for user in (person, UserFactory()):
        with pytest.raises(PrivacyError) as error:
            erasure_process(request_id=request.pk, user=user, now=timezone.now())
        assert error.value.code == "forbidden"
    own = erasure_request(user=director, now=timezone.now())
    with pytest.raises(PrivacyError) as error:
        erasure_process(request_id=own.pk, user=director, now=timezone.now())
    assert error.value.code == "own_request"
    assert ErasureRequest.objects.filter(state="pending").count() == 2


def test_the_retention_table_of_the_page(client, person):
    old = past_call(closed=years_ago(7))
    gone = filed(old, pi=person, n=1, state="withdrawn")
    close(old)
    recent = past_call(closed=years_ago(1) - dt.timedelta(days=1))
    kept = filed(recent, pi=person, n=2, state="rejected", decided_at=recent.closes_at)
    close(recent)
    client.force_login(person)
    html = client.get(PAGE).content.decode()
    rows = html.split('id="retention"', 1)[1]
    assert f"{gone.reference}" in rows and "To be erased: the retention period has passed" in rows
    assert f"{kept.reference}" in rows
    assert f"Until {paris(recent.closes_at.replace(year=recent.closes_at.year + 5))}" in rows
