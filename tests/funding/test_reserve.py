"""The reserve list after the decision mails (``funding.domain.reserve``): staff promote a mailed reserve
within what remains of the envelope (a cancelled award's amount returns to it), the PI receives the mail of
the promotion in their language and the award awaits acceptance; two promotions at once cannot overrun the
envelope together; the decisions page offers the promotion next to mailed reserves only, to staff who
may decide, in a constant number of queries."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from funding.domain.acceptance import award_cancel, award_decline
from funding.domain.decisions import decision_set, decisions_announce
from funding.domain.reserve import reserve_promote
from funding.models import Award, AwardState
from funding.selectors import decisions_page
from iea.audit.models import AuditEntry
from proposals.models import ProposalState
from reviews.models import Decision
from tests.factories import InstituteFactory, StaffFactory, UserFactory
from tests.proposals import test_concurrency as concurrency
from tests.reviews.staff_factories import closed_call, ranked_proposal

pytestmark = pytest.mark.django_db

sqlite_file_copy = concurrency.sqlite_file_copy


def decide(proposal, staff, outcome, amount=None):
    return decision_set(proposal_id=proposal.pk, user=staff, outcome=outcome,
                        amount=None if amount is None else Decimal(amount), now=timezone.now())


def mailed_call(staff, *, envelope="30000", reserves=2, pi_language="en"):
    """A call whose envelope holds 14,000 € selected, then ``reserves`` proposals on the reserve list; the
    decision mails are sent. Returns (call, selected, [reserves])."""
    call = closed_call(total_envelope=Decimal(envelope))
    institute = InstituteFactory()
    selected = ranked_proposal(call, institute=institute, rank=1)
    decide(selected, staff, "selected", "14000")
    waiting = []
    for rank in range(reserves):
        proposal = ranked_proposal(call, institute=institute, rank=rank + 2, recommendation="reserve",
                                   pi=UserFactory(language=pi_language))
        decide(proposal, staff, "reserve", "12000")
        waiting.append(proposal)
    decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
    return call, selected, waiting


def promote(proposal, staff, amount="12000"):
    return reserve_promote(proposal_id=proposal.pk, user=staff, amount=Decimal(amount), now=timezone.now())


# --- the domain ---------------------------------------------------------------------------------------


def test_a_mailed_reserve_is_promoted_with_its_award_awaiting_acceptance(staff):
    call, _selected, (reserve, _other) = mailed_call(staff)
    now = timezone.now()
    decision = reserve_promote(proposal_id=reserve.pk, user=staff, amount=Decimal(12000), now=now)
    assert (decision.outcome, decision.amount, decision.notified_at, decision.decided_by) == (
        "selected", Decimal(12000), now, staff)
    award = Award.objects.get(proposal=reserve)
    assert (award.amount, award.state) == (Decimal(12000), AwardState.AWAITING)
    reserve.refresh_from_db()
    assert reserve.state == ProposalState.FUNDED
    entry = AuditEntry.objects.get(action="proposal.promote")
    assert (entry.actor_id, entry.from_state, entry.to_state, entry.data) == (
        staff.pk, ProposalState.RESERVE, ProposalState.SELECTED, {"amount": "12000.00"})
    assert decisions_page(call=call).selected_total == Decimal(26000)


def test_over_the_envelope_is_refused_until_a_declined_award_is_cancelled(staff):
    call, selected, (first, second) = mailed_call(staff)
    promote(first, staff)
    with pytest.raises(ValidationError) as refused:
        promote(second, staff)
    assert refused.value.messages == [
        f"Selecting {second.reference} for €12,000.00 would bring the total to €38,000.00, over the call's envelope "
        "of €30,000.00 (€4,000.00 remain)."]
    assert Decision.objects.get(proposal=second).outcome == "reserve"

    award = Award.objects.get(proposal=selected)
    award_decline(award_id=award.pk, user=selected.pi, reason="A post abroad.", now=timezone.now())
    # Declined but not cancelled: the amount is still held.
    assert decisions_page(call=call).selected_total == Decimal(26000)
    award_cancel(award_id=award.pk, user=staff, reason="Declined.", now=timezone.now())
    assert decisions_page(call=call).selected_total == Decimal(12000)
    promote(second, staff)
    assert decisions_page(call=call).selected_total == Decimal(24000)


@pytest.mark.parametrize(("setup", "message"), [
    ("not_mailed", "Only a proposal on the reserve list whose decision mail was sent can be promoted; before the mail, "
                   "change its decision instead."),
    ("selected", "{ref} is already selected."),
    ("rejected", "Only a proposal on the reserve list whose decision mail was sent can be promoted; before the mail, "
                 "change its decision instead."),
])
def test_only_a_mailed_reserve_is_promoted(staff, setup, message):
    call = closed_call(total_envelope=Decimal(100000))
    proposal = ranked_proposal(call)
    decide(proposal, staff, {"not_mailed": "reserve"}.get(setup, setup), None if setup != "selected" else "12000")
    if setup != "not_mailed":
        decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
    with pytest.raises(ValidationError) as refused:
        promote(proposal, staff)
    assert refused.value.messages == [message.format(ref=proposal.reference)]


def test_the_amount_stays_within_the_calls_bounds_and_only_staff_promote(staff):
    _call, _selected, (reserve, _other) = mailed_call(staff)
    with pytest.raises(ValidationError) as refused:
        promote(reserve, staff, "15000")
    assert refused.value.code == "amount"
    with pytest.raises(ValidationError) as refused:
        reserve_promote(proposal_id=reserve.pk, user=staff, amount=None, now=timezone.now())
    assert refused.value.messages == ["Give the amount awarded."]
    with pytest.raises(ValidationError):
        promote(reserve, reserve.pi)
    assert Decision.objects.get(proposal=reserve).outcome == "reserve"


@pytest.mark.parametrize(("language", "subject", "expected"), [
    ("en", "Your proposal {ref} is now selected for funding", ["with an award of €12,500.50.", "Accept or decline"]),
    ("fr", "Votre proposition {ref} est désormais retenue pour financement",
     ["avec un financement de 12\u202f500,50\u00a0€.", "Acceptez ou refusez le financement avant le"]),
])
def test_the_pi_receives_the_promotions_mail_in_their_language(staff, mailoutbox, django_capture_on_commit_callbacks,
                                                               language, subject, expected):
    _call, _selected, (reserve, _other) = mailed_call(staff, pi_language=language)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        promote(reserve, staff, "12500.50")
    [message] = mailoutbox
    assert message.to == [reserve.pi.email]
    assert message.subject == subject.format(ref=reserve.reference)
    for text in expected:
        assert text in message.body
    award = Award.objects.get(proposal=reserve)
    assert reverse("funding:award", args=[award.pk]) in message.body


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_two_promotions_at_once_cannot_overrun_the_envelope_on_sqlite(sqlite_file_copy):
    staff = StaffFactory()
    call, _selected, reserves = mailed_call(staff)
    path, copy = sqlite_file_copy
    copy()
    order = iter(reserves)

    def work():
        proposal = next(order)
        return promote(proposal, staff).proposal_id

    results, errors = concurrency.run_together(2, work, database=path)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "envelope"
    with concurrency._using(concurrency._file_connection(path)):
        assert decisions_page(call=call).selected_total == Decimal(26000)
        assert Award.objects.filter(proposal__call=call).count() == 2


# --- the decisions page --------------------------------------------------------------------------------


def test_the_page_offers_the_promotion_next_to_mailed_reserves_and_it_works(client, staff, settings):
    settings.LANGUAGE_CODE = "en"
    call, selected, (reserve, other) = mailed_call(staff)
    client.force_login(staff)
    url = reverse("admin:reviews_decisions", args=[call.pk])
    html = client.get(url).content.decode()
    for proposal in (reserve, other):
        assert reverse("admin:reviews_promote", args=[call.pk, proposal.pk]) in html
    assert reverse("admin:reviews_promote", args=[call.pk, selected.pk]) not in html
    response = client.post(reverse("admin:reviews_promote", args=[call.pk, reserve.pk]), {"amount": "12000"},
                           follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"{reserve.reference} is selected for €12,000.00; its PI is told by mail and the award awaits their "
        "acceptance."]
    refused = client.post(reverse("admin:reviews_promote", args=[call.pk, other.pk]), {"amount": "12000"}, follow=True)
    assert str(list(refused.context["messages"])[-1]).startswith(f"{other.reference} was not promoted: Selecting ")
    empty = client.post(reverse("admin:reviews_promote", args=[call.pk, other.pk]), {"amount": ""}, follow=True)
    assert [str(m) for m in empty.context["messages"]][-1] == f"{other.reference} was not promoted: Give the amount awarded."
    assert "award: Awaiting the PI" in empty.content.decode()


def test_who_may_promote(client, staff):
    call, _selected, (reserve, _other) = mailed_call(staff)
    url = reverse("admin:reviews_promote", args=[call.pk, reserve.pk])
    for user in (None, reserve.pi, UserFactory()):
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.post(url, {"amount": "12000"})
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/")
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_decision"))
    client.force_login(viewer)
    assert client.post(url, {"amount": "12000"}).status_code == 403
    client.force_login(staff)
    assert client.get(url).status_code == 405
    other_call = closed_call()
    assert client.post(reverse("admin:reviews_promote", args=[other_call.pk, reserve.pk]),
                       {"amount": "12000"}).status_code == 404
    assert Decision.objects.get(proposal=reserve).outcome == "reserve"


def test_the_page_with_awards_and_reserves_takes_a_constant_number_of_queries(client, settings, queries):
    settings.LANGUAGE_CODE = "en"

    def count(reserves):
        staff = StaffFactory()
        call, _selected, waiting = mailed_call(staff, envelope="100000", reserves=reserves)
        promote(waiting[0], staff)
        client.force_login(staff)
        return queries(lambda: client.get(reverse("admin:reviews_decisions", args=[call.pk])))

    assert (count(1), count(4)) == (12, 12)


def test_a_reserve_under_a_threshold_is_promoted_only_with_a_reason(staff):
    """Promotion is a selection: the thresholds stand in its way as in ``decision_set``."""
    call, _selected, (reserve, _other) = mailed_call(staff)
    call.overall_threshold = Decimal("5")
    call.save(update_fields=["overall_threshold"])
    with pytest.raises(ValidationError) as refused:
        promote(reserve, staff)
    assert refused.value.code == "incomplete"
    assert "under the threshold of 5" in refused.value.messages[0]
    assert not Award.objects.filter(proposal=reserve).exists()
    decision = reserve_promote(proposal_id=reserve.pk, user=staff, amount=Decimal(12000), now=timezone.now(),
                               override_reason="The partner doubled its co-funding.")
    assert decision.override_reason == "The partner doubled its co-funding."
    entry = AuditEntry.objects.get(action="proposal.promote")
    assert entry.data["override_reason"] == "The partner doubled its co-funding."
    assert "under the threshold of 5" in entry.data["overridden"][0]
