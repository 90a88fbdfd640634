"""Only the proposal's PI (and, for the draft's content, its co-applicants: #21) changes it: every change of
``proposals.domain`` asks the predicate the pages ask, and says what was refused."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone, translation

from proposals.domain import (
    ProposalError,
    invitation_create,
    proposal_save_draft,
    proposal_submit,
    proposal_withdraw,
)
from proposals.models import ProposalState

pytestmark = pytest.mark.django_db


def save(proposal, user):
    return proposal_save_draft(proposal_id=proposal.pk, user=user, data={"title": "Changed"}, budget={},
                               lock_version=proposal.lock_version, now=timezone.now())


def submit(proposal, user):
    return proposal_submit(proposal_id=proposal.pk, user=user, now=timezone.now())


def withdraw(proposal, user):
    return proposal_withdraw(proposal_id=proposal.pk, user=user, now=timezone.now())


def invite(proposal, user):
    return invitation_create(proposal_id=proposal.pk, user=user, email="ana@usp.example.br", language="en",
                             now=timezone.now())


REFUSALS = [
    (save, "Only the PI and the co-applicants can change this proposal."),
    (submit, "Only the PI can submit this proposal."),
    (withdraw, "Only the PI can withdraw this proposal."),
    (invite, "Only the PI can invite the partner."),
]


@pytest.mark.parametrize("who", ["other_pi", "staff", "anonymous"])
@pytest.mark.parametrize(("change", "refusal"), REFUSALS, ids=[change.__name__ for change, _ in REFUSALS])
def test_anyone_but_the_pi_is_refused_saying_what(request, draft, change, refusal, who):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)

    with translation.override("en"), pytest.raises(ProposalError) as refused:
        change(draft, user)

    draft.refresh_from_db()
    assert (refused.value.code, refused.value.messages, draft.state, draft.title) == (
        "forbidden", [refusal], ProposalState.DRAFT, "Coastal erosion under changing storms")


def test_no_user_at_all_is_refused(draft):
    with pytest.raises(ProposalError) as refused:
        save(draft, None)

    assert refused.value.code == "forbidden"


def test_the_pi_gets_past_the_check(draft, pi):
    result = save(draft, pi)

    assert (result.saved, result.record.title) == (True, "Changed")


PI_ONLY = [change for change in REFUSALS if change[0] is not save]


@pytest.mark.parametrize(("change", "refusal"), PI_ONLY, ids=[change.__name__ for change, _ in PI_ONLY])
def test_a_coapplicant_is_refused_what_only_the_pi_does(draft, pi, change, refusal):
    from proposals.models import CoApplicant
    from tests.factories import UserFactory

    colleague = UserFactory()
    CoApplicant.objects.create(proposal=draft, email=colleague.email, user=colleague, invited_at=timezone.now(),
                               invited_by=pi, accepted_at=timezone.now())

    with translation.override("en"), pytest.raises(ProposalError) as refused:
        change(draft, colleague)

    draft.refresh_from_db()
    assert (refused.value.code, refused.value.messages, draft.state) == ("forbidden", [refusal], ProposalState.DRAFT)
    assert save(draft, colleague).saved is True
