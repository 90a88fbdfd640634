"""Restart from last year (#21): which proposals qualify, each refusal, and the copy — exact, with what does not
fit the new call dropped and said; never the letter, the partner's invitations, the versions, the co-applicants."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from iea.audit.models import AuditEntry
from proposals import domain
from proposals.domain import ProposalError, proposal_restart, restart_refusal, restart_sources
from proposals.models import (
    BudgetLine,
    CoApplicant,
    PartnerInvitation,
    Proposal,
    ProposalState,
    ProposalVersion,
    SupportLetter,
    TeamMember,
    TeamSide,
)
from reviews.models import Decision
from tests.factories import (
    CallFactory,
    InstituteFactory,
    ProposalFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
)
from tests.privacy.factories import filed, past_call

pytestmark = pytest.mark.django_db

LONG = "Érosion côtière — « tempêtes » et littoraux d’outre-mer. " * 120


def _calls(**new_call):
    old = past_call(closed=timezone.now() - dt.timedelta(days=400), year=2026)
    new = CallFactory(year=2027, **new_call)
    return old, new


def _rejected(old, *, pi=None, state="rejected", mailed=True):
    proposal = filed(old, pi=pi, state=state)
    if not mailed:
        Decision.objects.filter(proposal=proposal).update(notified_at=None)
    return Proposal.objects.select_related("call", "decision").get(pk=proposal.pk)


def _restart(source, call, user=None, now=None):
    return proposal_restart(source_id=source.pk, call_id=call.pk, user=user or source.pi, now=now or timezone.now())


@pytest.mark.parametrize("state", ["rejected", "reserve"])
def test_a_rejected_or_reserve_proposal_once_announced_restarts(state):
    old, new = _calls()
    source = _rejected(old, state=state)
    assert restart_refusal(source, call=new, user=source.pi, now=timezone.now()) == ""
    assert restart_sources(user=source.pi, call=new, now=timezone.now()) == [source]
    result = _restart(source, new)
    assert result.proposal.call == new
    assert result.proposal.restarted_from == source
    assert result.proposal.state == ProposalState.DRAFT


@pytest.mark.parametrize("state", ["ineligible", "withdrawn"])
def test_ineligible_and_withdrawn_proposals_restart(state):
    old, new = _calls()
    source = _rejected(old, state=state)
    assert _restart(source, new).proposal.restarted_from == source


def test_a_draft_never_submitted_in_a_past_call_restarts():
    old, new = _calls()
    source = ProposalFactory(call=old, complete=True)
    assert _restart(source, new).proposal.title == source.title


@pytest.mark.parametrize("state", ["selected", "funded"])
def test_a_funded_proposal_never_restarts(state):
    old, new = _calls()
    source = _rejected(old, state="rejected")
    Proposal.objects.filter(pk=source.pk).update(state=state)
    Decision.objects.filter(proposal=source).update(outcome="selected", amount=Decimal(12000))
    with pytest.raises(ProposalError) as refused:
        _restart(source, new)
    assert refused.value.code == "funded"
    assert "selected for funding" in refused.value.messages[0]
    assert restart_sources(user=source.pi, call=new, now=timezone.now()) == []
    assert Proposal.objects.filter(call=new).count() == 0


@pytest.mark.parametrize("state", ["rejected", "reserve"])
def test_an_unannounced_decision_refuses(state):
    old, new = _calls()
    source = _rejected(old, state=state, mailed=False)
    with pytest.raises(ProposalError) as refused:
        _restart(source, new)
    assert refused.value.code == "undecided"
    assert restart_sources(user=source.pi, call=new, now=timezone.now()) == []


@pytest.mark.parametrize("state", ["submitted", "eligible", "in_review", "ranked"])
def test_a_proposal_still_in_screening_or_review_refuses(state):
    old, new = _calls()
    source = _rejected(old, state=state)
    with pytest.raises(ProposalError) as refused:
        _restart(source, new)
    assert refused.value.code == "undecided"


def test_a_closed_call_refuses():
    now = timezone.now()
    old, new = _calls(opens_at=now - dt.timedelta(days=60), closes_at=now - dt.timedelta(days=1))
    source = _rejected(old)
    with pytest.raises(ProposalError) as refused:
        _restart(source, new)
    assert refused.value.code == "closed"
    assert refused.value.messages == ["This call does not accept proposals at the moment."]


def test_the_limit_of_active_proposals_refuses():
    old, new = _calls()
    source = _rejected(old)
    ProposalFactory(call=new, pi=source.pi)
    with pytest.raises(ProposalError) as refused:
        _restart(source, new)
    assert refused.value.code == "limit"
    assert Proposal.objects.filter(call=new).count() == 1


def test_another_pis_proposal_refuses():
    old, new = _calls()
    source = _rejected(old)
    other = UserFactory()
    with pytest.raises(ProposalError) as refused:
        _restart(source, new, user=other)
    assert refused.value.code == "forbidden"
    assert restart_sources(user=other, call=new, now=timezone.now()) == []


def test_a_proposal_of_the_same_or_a_later_call_refuses():
    old, new = _calls()
    source = ProposalFactory(call=new, complete=True, state=ProposalState.WITHDRAWN)
    with pytest.raises(ProposalError) as refused:
        _restart(source, old)
    assert refused.value.code == "not_earlier"
    with pytest.raises(ProposalError) as refused:
        _restart(source, new)
    assert refused.value.code == "not_earlier"


def test_the_copy_is_exact_and_leaves_the_letter_invitations_versions_and_coapplicants():
    old, new = _calls()
    institute = InstituteFactory()
    unit = UnitFactory()
    unit.secondary_institutes.add(institute)
    source = _rejected(old)
    Proposal.objects.filter(pk=source.pk).update(
        title="Érosion des côtes « sous tempêtes »", acronym="CÔTES", abstract=LONG, keywords="érosion, littoral",
        unit=unit, evaluating_institute=institute, activities=LONG, ethics_statement="Aucun problème d’éthique.",
        partner_country="SN",
    )
    TeamMember.objects.create(proposal=source, side=TeamSide.CNRS, name="Hélène Dupré", email="helene@cnrs.example.fr",
                              position="Chargée de recherche", institution="LIENSs", orcid="0000-0002-1825-0097",
                              early_career=True)
    CoApplicant.objects.create(proposal=source, email="colleague@cnrs.example.fr", invited_at=timezone.now(),
                               invited_by=source.pi)
    source.refresh_from_db()
    proposal = _restart(source, new).proposal
    proposal.refresh_from_db()
    for name in domain.restart.COPIED_FIELDS:
        assert getattr(proposal, name) == getattr(source, name), name
    assert (proposal.unit_id, proposal.evaluating_institute_id) == (unit.pk, institute.pk)

    def team(p):
        return list(p.team.order_by("side", "id").values_list(*domain.restart.TEAM_FIELDS))

    assert team(proposal) == team(source)
    assert len(team(proposal)) == 4
    assert ("cnrs", "Hélène Dupré", "helene@cnrs.example.fr", "Chargée de recherche", "LIENSs",
            "0000-0002-1825-0097", True) in team(proposal)

    def budget(p):
        return list(p.budget_lines.order_by("year", "category").values_list("year", "category", "amount"))

    assert budget(proposal) == budget(source)
    assert SupportLetter.objects.filter(proposal=proposal).count() == 0
    assert PartnerInvitation.objects.filter(proposal=proposal).count() == 0
    assert ProposalVersion.objects.filter(proposal=proposal).count() == 0
    assert CoApplicant.objects.filter(proposal=proposal).count() == 0
    assert proposal.reference != source.reference and proposal.reference.startswith("IEA27-")
    # The old proposal is untouched.
    assert Proposal.objects.get(pk=source.pk).state == ProposalState.REJECTED


def test_the_budget_goes_onto_the_new_calls_years_and_what_does_not_fit_is_said():
    now = timezone.now()
    old = CallFactory(year=2026, opens_at=now - dt.timedelta(days=500), closes_at=now - dt.timedelta(days=400),
                      duration_months=36)
    new = CallFactory(year=2027, duration_months=24, budget_min=Decimal(10000), budget_max=Decimal(12000))
    source = ProposalFactory(call=old, complete=True, budget={})
    BudgetLine.objects.filter(proposal=source).delete()
    amounts = {(1, "mobility"): Decimal("4000.50"), (2, "meetings"): Decimal(3000), (3, "field"): Decimal(2500),
               (3, "other"): Decimal("1234.56")}
    BudgetLine.objects.bulk_create(
        BudgetLine(proposal=source, year=year, category=category, amount=amounts.get((year, category), Decimal(0)))
        for year in (1, 2, 3) for category in ("mobility", "meetings", "field", "other")
    )
    result = _restart(source, new, now=now)
    lines = {(line.year, line.category): line.amount for line in result.proposal.budget_lines.all()}
    assert sorted({year for year, _ in lines}) == [1, 2]
    assert lines[(1, "mobility")] == Decimal("4000.50")
    assert lines[(2, "meetings")] == Decimal(3000)
    assert sum(lines.values()) == Decimal("7000.50")
    assert result.dropped == ["The budget of year 3 (€3,734.56): this call lasts 2 years."]
    assert result.notes == ["The budget copied totals €7,000.50; this call asks for a total between €10,000.00 "
                            "and €12,000.00."]


def test_an_institute_no_longer_valid_for_the_unit_is_dropped_and_said():
    old, new = _calls()
    unit = UnitFactory()
    source = ProposalFactory(call=old, complete=True, unit=unit, evaluating_institute=InstituteFactory())
    result = _restart(source, new)
    assert result.proposal.evaluating_institute_id is None
    assert result.proposal.unit_id == unit.pk
    assert len(result.dropped) == 1 and "evaluating institute" in result.dropped[0]


def test_the_audit_entry_names_the_old_proposal():
    old, new = _calls()
    source = _rejected(old)
    proposal = _restart(source, new).proposal
    entry = AuditEntry.objects.get(action="proposal.restart")
    assert (entry.object_id, entry.actor_id, entry.to_state) == (str(proposal.pk), source.pi_id, "draft")
    assert entry.data == {"restarted_from": source.pk, "restarted_from_reference": source.reference,
                          "restarted_from_call": 2026, "dropped": []}


def test_the_page_restarts_and_says_what_was_dropped(client):
    now = timezone.now()
    old = CallFactory(year=2026, opens_at=now - dt.timedelta(days=500), closes_at=now - dt.timedelta(days=400),
                      duration_months=36)
    new = CallFactory(year=2027)
    source = ProposalFactory(call=old, complete=True, state=ProposalState.WITHDRAWN, budget={"other": Decimal(100)})
    BudgetLine.objects.create(proposal=source, year=3, category="field", amount=Decimal(900))
    client.force_login(source.pi)
    response = client.post(reverse("proposals:restart", args=[source.pk, new.year]), follow=True)
    proposal = Proposal.objects.get(call=new)
    assert response.redirect_chain == [(reverse("proposals:edit", args=[proposal.pk]), 302)]
    page = response.content.decode()
    assert f"Your new draft starts from {source.reference}" in page
    assert "Not copied: The budget of year 3 (€900.00): this call lasts 2 years." in page
    assert 'id="restarted-from"' in page


def test_the_page_refuses_with_the_domains_message(client):
    old, new = _calls()
    source = _rejected(old, mailed=False)
    client.force_login(source.pi)
    response = client.post(reverse("proposals:restart", args=[source.pk, new.year]), follow=True)
    assert response.redirect_chain == [(reverse("proposals:detail", args=[source.pk]), 302)]
    assert "The outcome of this proposal has not been announced yet" in response.content.decode()
    assert Proposal.objects.filter(call=new).count() == 0


def test_staff_and_other_pis_get_a_404(client):
    old, new = _calls()
    source = _rejected(old)
    for user in (UserFactory(), StaffFactory()):
        client.force_login(user)
        assert client.post(reverse("proposals:restart", args=[source.pk, new.year])).status_code == 404
    assert Proposal.objects.filter(call=new).count() == 0


def test_my_proposals_and_the_proposals_page_offer_the_action_only_when_it_is_allowed(client):
    old, new = _calls()
    rejected = _rejected(old)
    funded = _rejected(old, pi=rejected.pi)
    Proposal.objects.filter(pk=funded.pk).update(state="funded")
    Decision.objects.filter(proposal=funded).update(outcome="selected", amount=Decimal(12000))
    client.force_login(rejected.pi)
    action = f"Start a new proposal from this one in {new.title}"
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert dashboard.count(action) == 1
    assert reverse("proposals:restart", args=[rejected.pk, new.year]) in dashboard
    assert action in client.get(reverse("proposals:detail", args=[rejected.pk])).content.decode()
    assert action not in client.get(reverse("proposals:detail", args=[funded.pk])).content.decode()
    # Once the PI applied to the new call, the action is gone: the limit would refuse it.
    ProposalFactory(call=new, pi=rejected.pi)
    assert action not in client.get(reverse("dashboard")).content.decode()
    assert action not in client.get(reverse("proposals:detail", args=[rejected.pk])).content.decode()


def test_the_calls_page_offers_from_scratch_and_from_each_unfunded_proposal(client):
    old, new = _calls()
    rejected = _rejected(old)
    withdrawn = _rejected(old, pi=rejected.pi, state="withdrawn")
    unannounced = _rejected(old, pi=rejected.pi, mailed=False)
    client.force_login(rejected.pi)
    page = client.get(reverse("calls:detail", args=[new.year])).content.decode()
    assert "Start from scratch" in page
    assert f"Start from {rejected.reference} (COAST)" in page
    assert f"Start from {withdrawn.reference} (COAST)" in page
    assert unannounced.reference not in page
    client.force_login(UserFactory())
    page = client.get(reverse("calls:detail", args=[new.year])).content.decode()
    assert "Start from scratch" not in page and "Start a proposal" in page


def test_my_proposals_with_the_action_at_two_sizes(client, queries):
    old, new = _calls()
    pi = UserFactory()
    client.force_login(pi)
    made = []

    def reject(n):
        for _ in range(n):
            made.append(_rejected(old, pi=pi))

    assert queries.at_sizes(reject, lambda: client.get(reverse("dashboard")), sizes=(1, 3)) == (9, 9)  # and the unread messages (#21 messages)
    page = client.get(reverse("dashboard")).content.decode()
    assert page.count(f"Start a new proposal from this one in {new.title}") == 3


def test_the_calls_page_with_its_choices_at_two_sizes(client, queries):
    old, new = _calls()
    pi = UserFactory()
    client.force_login(pi)

    def reject(n):
        for _ in range(n):
            _rejected(old, pi=pi)

    assert queries.at_sizes(reject, lambda: client.get(reverse("calls:detail", args=[new.year])),
                            sizes=(1, 3)) == (8, 8)
    assert client.get(reverse("calls:detail", args=[new.year])).content.decode().count("Start from IEA") == 3


def test_staff_see_in_the_admin_which_proposal_a_draft_started_from(client, staff):
    old, new = _calls()
    source = _rejected(old)
    proposal = _restart(source, new).proposal
    client.force_login(staff)
    page = client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Started from" in text and source.reference in text
