"""The PI accepts or declines an award (``funding.domain.acceptance``): the award waits for the answer,
nothing is released before it is accepted, each answer is given once (two clicks at once: one wins), the
unit's managers are told in their language, one reminder goes out a week before the deadline, and staff
cancel a declined award (or one not accepted in time) so that its amount returns to the envelope."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.acceptance import award_accept, award_cancel, award_decline
from funding.domain.awards import FundingError, tranche_release
from funding.models import Award, AwardState
from funding.reminders import award_acceptance_reminders
from iea.audit.models import AuditEntry
from iea.notifications.domain import dispatch
from iea.notifications.models import Notification
from tests.factories import StaffFactory, UserFactory
from tests.proposals import test_concurrency as concurrency

from .factories import award_factory, cast

pytestmark = pytest.mark.django_db

sqlite_file_copy = concurrency.sqlite_file_copy
DAY = dt.timedelta(days=1)


@pytest.fixture
def award():
    return award_factory(accepted=False)


def fresh(award: Award) -> Award:
    return Award.objects.get(pk=award.pk)


# --- the domain ---------------------------------------------------------------------------------------


def test_a_new_award_awaits_acceptance_and_releases_nothing(award):
    assert award.state == AwardState.AWAITING
    staff = StaffFactory()
    with pytest.raises(FundingError) as refused:
        tranche_release(tranche_id=award.tranches.get(number=1).pk, user=staff, now=timezone.now())
    assert refused.value.messages == ["The PI has not accepted the award yet; no tranche is released before."]


def test_accepting_makes_the_award_active_then_tranche_1_can_be_released(award):
    now = timezone.now()
    accepted = award_accept(award_id=award.pk, user=award.proposal.pi, now=now)
    assert (accepted.state, accepted.accepted_at) == (AwardState.ACTIVE, now)
    entry = AuditEntry.objects.get(action="award.accept")
    assert (entry.actor_id, entry.object_id, entry.from_state, entry.to_state) == (
        award.proposal.pi_id, str(award.pk), AwardState.AWAITING, AwardState.ACTIVE)
    tranche = tranche_release(tranche_id=award.tranches.get(number=1).pk, user=StaffFactory(), now=now)
    assert tranche.state == "released"


def test_declining_needs_a_reason_and_keeps_it(award):
    with pytest.raises(FundingError) as refused:
        award_decline(award_id=award.pk, user=award.proposal.pi, reason="   ", now=timezone.now())
    assert refused.value.messages == ["Say why you decline the award."]
    assert fresh(award).state == AwardState.AWAITING
    declined = award_decline(award_id=award.pk, user=award.proposal.pi, reason=" A permanent post elsewhere. ",
                             now=timezone.now())
    assert (declined.state, declined.decline_reason) == (AwardState.DECLINED, "A permanent post elsewhere.")
    assert AuditEntry.objects.get(action="award.decline").reason == "A permanent post elsewhere."


def test_a_reason_too_long_is_refused(award):
    with pytest.raises(FundingError) as refused:
        award_decline(award_id=award.pk, user=award.proposal.pi, reason="x" * 4001, now=timezone.now())
    assert refused.value.messages == ["Keep the reason under 4000 characters."]


def test_only_the_pi_answers(award):
    for user in (UserFactory(), StaffFactory()):
        with pytest.raises(FundingError) as refused:
            award_accept(award_id=award.pk, user=user, now=timezone.now())
        assert refused.value.code == "forbidden"
    assert fresh(award).state == AwardState.AWAITING


def test_an_answer_is_given_once(award):
    pi = award.proposal.pi
    award_accept(award_id=award.pk, user=pi, now=timezone.now())
    with pytest.raises(FundingError) as refused:
        award_decline(award_id=award.pk, user=pi, reason="Changed my mind.", now=timezone.now())
    assert refused.value.code == "answered"
    assert fresh(award).state == AwardState.ACTIVE


def test_accepting_after_the_deadline_is_refused_but_declining_is_not(award):
    late = award.accept_by + dt.timedelta(minutes=1)
    with pytest.raises(FundingError) as refused:
        award_accept(award_id=award.pk, user=award.proposal.pi, now=late)
    assert refused.value.code == "late"
    assert award_decline(award_id=award.pk, user=award.proposal.pi, reason="Too late.", now=late).state == "declined"


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_accept_and_decline_at_once_one_wins_on_sqlite(sqlite_file_copy):
    award = award_factory(accepted=False)
    pi = award.proposal.pi
    path, copy = sqlite_file_copy
    copy()
    now = timezone.now()
    answers = iter(["accept", "decline"] * 3)

    def answer():
        if next(answers) == "accept":
            return award_accept(award_id=award.pk, user=pi, now=now).state
        return award_decline(award_id=award.pk, user=pi, reason="No.", now=now).state

    results, errors = concurrency.run_together(4, answer, database=path)
    assert len(results) == 1 and len(errors) == 3
    assert all(isinstance(error, FundingError) and error.code == "answered" for error in errors)
    with concurrency._using(concurrency._file_connection(path)):
        assert Award.objects.get(pk=award.pk).state == results[0]
        assert AuditEntry.objects.filter(action__in=["award.accept", "award.decline"]).count() == 1
        assert Notification.objects.filter(kind="award_answer").count() == 0  # the unit has no manager here


# --- cancellation -------------------------------------------------------------------------------------


def test_staff_cancel_a_declined_award_with_a_reason(award):
    staff = StaffFactory()
    award_decline(award_id=award.pk, user=award.proposal.pi, reason="Moving abroad.", now=timezone.now())
    with pytest.raises(FundingError) as refused:
        award_cancel(award_id=award.pk, user=staff, reason="", now=timezone.now())
    assert refused.value.messages == ["Give the reason."]
    cancelled = award_cancel(award_id=award.pk, user=staff, reason="Declined by the PI.", now=timezone.now())
    assert cancelled.state == AwardState.CANCELLED
    entry = AuditEntry.objects.get(action="award.cancel")
    assert (entry.from_state, entry.to_state, entry.reason, entry.data) == (
        AwardState.DECLINED, AwardState.CANCELLED, "Declined by the PI.", {"amount": "12000.00"})


def test_an_award_still_awaiting_its_answer_is_not_cancelled_before_its_deadline(award):
    staff = StaffFactory()
    with pytest.raises(FundingError) as refused:
        award_cancel(award_id=award.pk, user=staff, reason="Silence.", now=timezone.now())
    assert refused.value.code == "state"
    after = award.accept_by + dt.timedelta(minutes=1)
    assert award_cancel(award_id=award.pk, user=staff, reason="Not accepted in time.", now=after).state == "cancelled"


def test_an_active_award_is_never_cancelled():
    award = award_factory()
    with pytest.raises(FundingError) as refused:
        award_cancel(award_id=award.pk, user=StaffFactory(), reason="Why not.", now=timezone.now())
    assert refused.value.messages == [
        f"{award.proposal.reference} is active; only a declined award, or one not accepted in time, can be cancelled."]


def test_only_staff_cancel(award):
    award_decline(award_id=award.pk, user=award.proposal.pi, reason="No.", now=timezone.now())
    with pytest.raises(FundingError):
        award_cancel(award_id=award.pk, user=award.proposal.pi, reason="Mine.", now=timezone.now())


# --- the mails -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "accepted_text", "declined_text", "amount"), [
    ("en", "accepted the award for", "declined the award for", "€12,345.60"),
    ("fr", "a accepté le financement du projet", "a refusé le financement du projet", "12\u202f345,60\u00a0€"),
])
def test_the_unit_is_told_of_the_answer_in_its_language(mailoutbox, django_capture_on_commit_callbacks, language,
                                                        accepted_text, declined_text, amount):
    first, second = (award_factory(amount=Decimal("12345.60"), accepted=False) for _ in range(2))
    for award in (first, second):
        award.unit.managers.add(UserFactory(email=f"manager{award.pk}@unit.example.fr", language=language))
    with django_capture_on_commit_callbacks(execute=True):
        award_accept(award_id=first.pk, user=first.proposal.pi, now=timezone.now())
        award_decline(award_id=second.pk, user=second.proposal.pi, reason="Une raison <b>précise</b>.",
                      now=timezone.now())
    accepted, declined = (next(m for m in mailoutbox if m.to == [f"manager{a.pk}@unit.example.fr"])
                          for a in (first, second))
    assert first.proposal.reference in accepted.subject
    assert accepted_text in accepted.body and amount in accepted.body
    assert declined_text in declined.body and "Une raison <b>précise</b>." in declined.body
    html = declined.alternatives[0][0]
    assert "Une raison &lt;b&gt;précise&lt;/b&gt;." in html


def test_a_long_reason_reaches_the_unit_whole(mailoutbox, django_capture_on_commit_callbacks):
    award = award_factory(accepted=False)
    award.unit.managers.add(UserFactory(email="gestion@unit.example.fr"))
    reason = "Because " + "the partner left " * 200
    with django_capture_on_commit_callbacks(execute=True):
        award_decline(award_id=award.pk, user=award.proposal.pi, reason=reason, now=timezone.now())
    [message] = [m for m in mailoutbox if m.to == ["gestion@unit.example.fr"]]
    assert reason.strip() in message.body


def test_one_reminder_a_week_before_the_deadline(mailoutbox):
    award = award_factory(accepted=False, pi=UserFactory(email="pi@cnrs.example.fr", language="fr"))
    before = award.accept_by - 8 * DAY
    assert list(award_acceptance_reminders(before)) == []
    dispatch(now=award.accept_by - 7 * DAY + dt.timedelta(hours=1))
    dispatch(now=award.accept_by - 2 * DAY)
    assert list(Notification.objects.filter(kind="award_acceptance_reminder").values_list("occurrence", flat=True)) == [
        "-7d"]
    [message] = mailoutbox
    assert message.to == ["pi@cnrs.example.fr"]
    assert message.subject.startswith(f"Acceptez le financement du projet {award.proposal.reference} avant le ")


def test_no_reminder_once_answered():
    award = award_factory(accepted=False)
    award_accept(award_id=award.pk, user=award.proposal.pi, now=timezone.now())
    assert list(award_acceptance_reminders(award.accept_by - 7 * DAY + dt.timedelta(hours=1))) == []


# --- the PI's pages -------------------------------------------------------------------------------------


def test_the_pi_sees_accept_and_decline_on_the_award_page(client, award):
    client.force_login(award.proposal.pi)
    html = client.get(reverse("funding:award", args=[award.pk])).content.decode()
    assert reverse("funding:award_accept", args=[award.pk]) in html
    assert reverse("funding:award_decline", args=[award.pk]) in html


def test_others_who_see_the_award_read_that_it_awaits_the_pi(client, award):
    people = cast(award)
    client.force_login(people["unit_manager"])
    html = client.get(reverse("funding:award", args=[award.pk])).content.decode()
    assert "The award awaits the PI" in html
    assert reverse("funding:award_accept", args=[award.pk]) not in html


def test_the_pi_accepts(client, award):
    client.force_login(award.proposal.pi)
    response = client.post(reverse("funding:award_accept", args=[award.pk]), follow=True)
    assert fresh(award).state == AwardState.ACTIVE
    assert [str(m) for m in response.context["messages"]] == [
        f"You accepted the award of €12,000.00. Your unit {award.unit.code} has been told; the directorate "
        "releases the first tranche."]


def test_the_pi_declines_with_a_reason_and_an_empty_reason_keeps_the_page(client, award):
    client.force_login(award.proposal.pi)
    url = reverse("funding:award_decline", args=[award.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "Say why you decline the award." in refused.content.decode()
    assert fresh(award).state == AwardState.AWAITING
    response = client.post(url, {"reason": "A post in Canada."})
    assert response.status_code == 302
    assert (fresh(award).state, fresh(award).decline_reason) == (AwardState.DECLINED, "A post in Canada.")


def test_a_second_answer_is_told_not_applied(client, award):
    client.force_login(award.proposal.pi)
    client.post(reverse("funding:award_decline", args=[award.pk]), {"reason": "No."})
    response = client.post(reverse("funding:award_accept", args=[award.pk]), follow=True)
    assert fresh(award).state == AwardState.DECLINED
    assert str(list(response.context["messages"])[-1]).startswith("You already declined this award on ")


@pytest.mark.parametrize("who", ["other_pi", "reviewer", "unit_manager", "other_unit_manager", "officer",
                                 "other_officer", "staff"])
def test_nobody_else_answers_for_the_pi(client, award, who):
    people = cast(award)
    client.force_login(people[who])
    assert client.post(reverse("funding:award_accept", args=[award.pk])).status_code == 404
    assert client.get(reverse("funding:award_decline", args=[award.pk])).status_code == 404
    assert client.post(reverse("funding:award_decline", args=[award.pk]), {"reason": "x"}).status_code == 404
    assert fresh(award).state == AwardState.AWAITING


def test_anonymous_is_sent_to_sign_in(client, award):
    for url in (reverse("funding:award_accept", args=[award.pk]), reverse("funding:award_decline", args=[award.pk])):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert fresh(award).state == AwardState.AWAITING


def test_accept_is_post_only(client, award):
    client.force_login(award.proposal.pi)
    assert client.get(reverse("funding:award_accept", args=[award.pk])).status_code == 405


def test_the_decline_page_of_an_answered_award_goes_back_to_the_award(client):
    award = award_factory()
    client.force_login(award.proposal.pi)
    response = client.get(reverse("funding:award_decline", args=[award.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("funding:award", args=[award.pk])
    assert [str(m) for m in response.context["messages"]] == ["This award no longer awaits your answer."]


def test_my_awards_says_what_to_answer_and_by_when(client):
    waiting = award_factory(accepted=False)
    accepted = award_factory(pi=waiting.proposal.pi)
    client.force_login(waiting.proposal.pi)
    html = client.get(reverse("funding:awards")).content.decode()
    assert html.count("Accept or decline by ") == 1
    assert reverse("funding:award", args=[waiting.pk]) + "#acceptance" in html
    assert reverse("funding:award", args=[accepted.pk]) + "#acceptance" not in html
