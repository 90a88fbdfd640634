"""The officer's panel domain: the pool, the panel table's statistics on a hand-computed example, the
priority match, the recommendation's rules and the ranking."""

import datetime as dt
import math
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from calls.models import Criterion, InstitutePriority
from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.domain.panel import ranks_set, recommendation_set
from reviews.domain.panel_table import DISAGREEMENT_THRESHOLD, panel_table
from reviews.domain.pool import reviewer_add, reviewer_deactivate
from reviews.models import (
    Assignment,
    AssignmentState,
    Conflict,
    Panel,
    PanelRecommendation,
    Review,
    Reviewer,
    ReviewState,
    Score,
)
from tests.factories import CallFactory, InstituteFactory, UnitFactory, UserFactory, activate_totp

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------------
# A small world, written with bulk_create so hundreds of proposals stay fast
# ---------------------------------------------------------------------------------------------------

class World:
    """One call, one institute with its panel and officer, a unit of the institute, and a PI."""

    def __init__(self, *, reviews_per_proposal=2, mfa=True, call=None):
        self.institute = InstituteFactory()
        self.call = call or CallFactory()
        self.unit = UnitFactory(main_institute=self.institute)
        self.panel = Panel.objects.create(call=self.call, institute=self.institute,
                                          reviews_per_proposal=reviews_per_proposal)
        self.officer = UserFactory(full_name="Olga Officer")
        if mfa:
            activate_totp(self.officer)
        self.panel.officers.add(self.officer)
        self.pi = UserFactory(full_name="Paula Investigator")
        self.criteria = list(self.call.criteria.order_by("position"))
        self._n = 0

    def proposals(self, n, *, state=ProposalState.IN_REVIEW, **fields) -> list[Proposal]:
        made = []
        for _ in range(n):
            self._n += 1
            made.append(Proposal(
                call=self.call, pi=self.pi, reference=f"T{self.call.year}-{self.institute.code}-{self._n:05d}",
                state=state, unit=self.unit, title=f"Project {self._n}", acronym=f"P{self._n}",
                created_at=NOW, updated_at=NOW, **fields,
            ))
        return Proposal.objects.bulk_create(made)

    def proposal(self, **fields) -> Proposal:
        return self.proposals(1, **fields)[0]

    def reviewer(self, name="", *, institute=None, mfa=True) -> Reviewer:
        user = UserFactory(full_name=name or "Some Reviewer")
        if mfa:
            activate_totp(user)
        return Reviewer.objects.create(user=user, institute=institute or self.institute)

    def reviews(self, items, *, state=ReviewState.SUBMITTED):
        """``items``: (proposal, reviewer, [score per criterion, in order]). Three INSERTs in all."""
        assignments = Assignment.objects.bulk_create(
            Assignment(panel=self.panel, proposal=p, reviewer=r, state=AssignmentState.ACCEPTED, due_at=NOW,
                       created_at=NOW)
            for p, r, _ in items
        )
        reviews = Review.objects.bulk_create(
            Review(assignment=a, proposal=a.proposal, reviewer=a.reviewer, state=state, created_at=NOW,
                   updated_at=NOW, submitted_at=NOW if state == ReviewState.SUBMITTED else None)
            for a in assignments
        )
        Score.objects.bulk_create(
            Score(review=review, criterion=criterion, score=Decimal(str(value)) if value is not None else None,
                  max_score=criterion.scale_max)
            for review, (_, _, values) in zip(reviews, items, strict=True)
            for criterion, value in zip(self.criteria, values, strict=False)
        )
        return reviews

    def weigh(self, *weights):
        """Keep the first len(weights) criteria with these weights; drop the others."""
        Criterion.objects.filter(call=self.call, position__gt=len(weights)).delete()
        for criterion, weight in zip(self.criteria, weights, strict=False):
            Criterion.objects.filter(pk=criterion.pk).update(weight=Decimal(str(weight)))
        self.criteria = list(self.call.criteria.order_by("position"))


@pytest.fixture
def world():
    return World()


def by_reference(rows):
    return {row.proposal.reference: row for row in rows}


# ---------------------------------------------------------------------------------------------------
# The panel table on a hand-computed example
# ---------------------------------------------------------------------------------------------------

@pytest.fixture
def example(world):
    """Two criteria weighted 3 and 1. Weighted total of a review = (3·s1 + s2) / 4.

    reviewer A: P1 (4, 2) → 3.5    P2 (5, 5) → 5.0    P3 (2, 2) → 2.0
    reviewer B: P1 (2, 4) → 2.5    P2 (5, 4) → 4.75   P3 (3, 5) → 3.5
    reviewer C: P1 (1, 1) → 1.0    (one review only: z = 0)
    reviewer F: P4 (3, 3) → 3.0    P5 (3, 3) → 3.0    (no spread: z = 0)
    P6 has no review. Not counted: D's draft on P1, E's review on P1 (E is in conflict with P1).
    """
    world.weigh(3, 1)
    p1, p2, p3, p4, p5, p6 = world.proposals(6)
    a, b, c, d, e, f = (world.reviewer(name) for name in "ABCDEF")
    world.reviews([
        (p1, a, [4, 2]), (p2, a, [5, 5]), (p3, a, [2, 2]),
        (p1, b, [2, 4]), (p2, b, [5, 4]), (p3, b, [3, 5]),
        (p1, c, [1, 1]), (p1, e, [5, 5]), (p4, f, [3, 3]), (p5, f, [3, 3]),
    ])
    world.reviews([(p1, d, [0, 0])], state=ReviewState.DRAFT)
    Conflict.objects.create(proposal=p1, reviewer=e, source="declared", cause="declared", created_at=NOW)
    return world, (p1, p2, p3, p4, p5, p6)


def z(value, values):
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return (value - mean) / sd


def kept(value):
    """A figure as the table keeps it: 9 decimals (it shows 2)."""
    return Decimal(value).quantize(Decimal("1e-9"))


def test_criterion_means_weighted_total_median_and_spread(example):
    world, (p1, p2, p3, p4, p5, p6) = example
    rows = by_reference(panel_table(panel=world.panel, user=world.officer, sort="reference"))
    assert list(rows) == [p.reference for p in (p1, p2, p3, p4, p5, p6)]

    one = rows[p1.reference]
    assert one.criterion_means == [kept(Decimal(7) / 3), kept(Decimal(7) / 3)]
    assert one.weighted_total == kept(Decimal(7) / 3)
    assert one.median == Decimal("2.5")  # of the reviewers' totals 1.0, 2.5 and 3.5
    assert one.spread == Decimal("2.5")
    assert one.disagreement is True
    assert (one.reviews_done, one.reviews_expected, one.incomplete) == (3, 2, False)

    two = rows[p2.reference]
    assert two.criterion_means == [Decimal(5), Decimal("4.5")]
    assert two.weighted_total == Decimal("4.875")  # (3·5 + 4.5) / 4, not the plain mean 4.75
    assert (two.median, two.spread, two.disagreement) == (Decimal("4.875"), Decimal("0.25"), False)

    three = rows[p3.reference]
    assert three.spread == DISAGREEMENT_THRESHOLD == Decimal("1.5")
    assert three.disagreement is True  # the threshold itself counts as disagreement

    assert (rows[p4.reference].reviews_done, rows[p4.reference].incomplete, rows[p4.reference].disagreement) == (1, True, False)
    six = rows[p6.reference]
    assert (six.criterion_means, six.weighted_total, six.median, six.spread, six.calibrated, six.reviews_done) == (
        [None, None], None, None, None, None, 0)


def test_calibrated_scores_are_z_scores_against_each_reviewers_own_reviews(example):
    world, (p1, p2, p3, p4, p5, p6) = example
    rows = by_reference(panel_table(panel=world.panel, user=world.officer))
    a_totals, b_totals = [3.5, 5.0, 2.0], [2.5, 4.75, 3.5]
    close = {"abs": 1e-9}
    # A: mean 3.5, population sd √1.5; B: mean 3.5833…; C has one review and F no spread: both 0.
    assert rows[p1.reference].calibrated == pytest.approx((z(3.5, a_totals) + z(2.5, b_totals) + 0) / 3, **close)
    assert rows[p1.reference].calibrated == pytest.approx((0 + (2.5 - 43 / 12) / math.sqrt(61 / 72) + 0) / 3, **close)
    assert rows[p2.reference].calibrated == pytest.approx((1.5 / math.sqrt(1.5) + z(4.75, b_totals)) / 2, **close)
    assert rows[p3.reference].calibrated == pytest.approx((z(2.0, a_totals) + z(3.5, b_totals)) / 2, **close)
    assert rows[p4.reference].calibrated == 0.0
    assert rows[p5.reference].calibrated == 0.0
    assert rows[p6.reference].calibrated is None


def test_calibration_counts_the_reviewers_reviews_on_proposals_the_officer_cannot_see(example):
    world, (p1, p2, p3, *_rest) = example
    # The officer is in conflict with P2: it leaves their table, but A's scale still includes it.
    me = Reviewer.objects.create(user=world.officer, institute=world.institute)
    Conflict.objects.create(proposal=p2, reviewer=me, source="officer", cause="officer", created_at=NOW)
    rows = by_reference(panel_table(panel=world.panel, user=world.officer))
    assert p2.reference not in rows
    assert rows[p3.reference].calibrated == pytest.approx(
        (z(2.0, [3.5, 5.0, 2.0]) + z(3.5, [2.5, 4.75, 3.5])) / 2, abs=1e-9)


def test_only_the_panels_proposals_in_review_states(world):
    shown = world.proposal()
    world.proposal(state=ProposalState.SUBMITTED)
    world.proposal(state=ProposalState.INELIGIBLE)
    other = World(call=world.call)
    other.proposal()
    assert [row.proposal for row in panel_table(panel=world.panel, user=world.officer)] == [shown]


def test_filters_and_sorting(example):
    world, (p1, p2, p3, p4, p5, p6) = example
    PanelRecommendation.objects.create(proposal=p2, panel=world.panel, recommendation="fund", rank=1, updated_at=NOW)
    PanelRecommendation.objects.create(proposal=p1, panel=world.panel, recommendation="reject", updated_at=NOW)
    PanelRecommendation.objects.create(proposal=p4, panel=world.panel, recommendation="reserve", updated_at=NOW)

    def refs(sort="", **filters):
        return [row.proposal.reference for row in panel_table(panel=world.panel, user=world.officer, sort=sort,
                                                              **filters)]

    assert refs("reference", disagreement=True) == [p1.reference, p3.reference]
    assert refs("reference", incomplete=True) == [p4.reference, p5.reference, p6.reference]
    assert refs("reference", recommendation="fund") == [p2.reference]
    assert refs("reference", recommendation="none") == [p3.reference, p5.reference, p6.reference]
    assert refs("recommendation") == [
        p2.reference, p4.reference, p1.reference, p3.reference, p5.reference, p6.reference]  # fund, reserve, reject, none

    # Totals: P2 4.875, P4 = P5 = 3, P3 2.375, P1 2.33…; P6 none, last either way; P4 before P5 either way.
    assert refs("-total") == [p2.reference, p4.reference, p5.reference, p3.reference, p1.reference, p6.reference]
    assert panel_table(panel=world.panel, user=world.officer, sort="-total").sort == "-total"
    assert refs("total") == [p1.reference, p3.reference, p4.reference, p5.reference, p2.reference, p6.reference]
    assert refs("-c2")[:2] == [p2.reference, p3.reference]  # 4.5 then 3.5; P6 (no score) last
    assert refs("-c2")[-1] == p6.reference
    assert refs("rank")[0] == p2.reference
    assert panel_table(panel=world.panel, user=world.officer, sort="nonsense").sort == "-total"
    assert refs("nonsense") == refs("-total")


def test_table_query_count_does_not_grow_with_the_panel(django_assert_num_queries):
    def run(n):
        world = World()
        proposals = world.proposals(n)
        reviewers = [world.reviewer() for _ in range(3)]
        world.reviews([(p, reviewers[i % 3], [4, 3, 5, 2, 4, 3]) for i, p in enumerate(proposals)]
                      + [(p, reviewers[(i + 1) % 3], [2, 3, 1, 2, 4, 5]) for i, p in enumerate(proposals)])
        panel = Panel.objects.select_related("call").get(pk=world.panel.pk)
        list(panel_table(panel=panel, user=world.officer))  # the figures of reviews loaded in bulk: computed once
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            rows = list(panel_table(panel=panel, user=world.officer))
        assert len(rows) == n
        return len(queries)

    # The criteria, the priorities, whether the figures are up to date, the rows.
    assert run(10) == run(200) == 4


# ---------------------------------------------------------------------------------------------------
# Priorities of the institute
# ---------------------------------------------------------------------------------------------------

def test_priority_match_by_country_or_by_keywords_found_in_the_themes(world):
    InstitutePriority.objects.create(
        call=world.call, institute=world.institute, priority_countries=["BR", "IN"],
        themes_en="Coastal erosion; ocean sciences; research infrastructures.", themes_fr="Érosion côtière",
    )
    by_country = world.proposal(partner_country="IN", keywords="storms")
    by_keywords = world.proposal(partner_country="JP", keywords="Erosion, Ocean Sciences, CÔTIÈRE, storms")
    both = world.proposal(partner_country="BR", keywords="ocean")
    neither = world.proposal(partner_country="JP", keywords="arch, sea, coastal erosion models")
    rows = by_reference(panel_table(panel=world.panel, user=world.officer))
    assert (rows[by_country.reference].priority.country, rows[by_country.reference].priority.keywords) == ("IN", ())
    assert rows[by_keywords.reference].priority.country == ""
    assert rows[by_keywords.reference].priority.keywords == ("Erosion", "Ocean Sciences", "CÔTIÈRE")
    assert (rows[both.reference].priority.country, rows[both.reference].priority.keywords) == ("BR", ("ocean",))
    assert rows[neither.reference].priority.matched is False
    matched = panel_table(panel=world.panel, user=world.officer, sort="reference", priority=True)
    assert [row.proposal for row in matched] == [by_country, by_keywords, both]
    assert [row.proposal for row in panel_table(panel=world.panel, user=world.officer, sort="-priority")] == [
        by_country, by_keywords, both, neither]


def test_priority_keywords_in_any_script_match_whole_words_only(world):
    """Themes and keywords written in Greek or Cyrillic are compared (they once folded to nothing, so a
    Greek keyword matched nothing and an empty one could not be told apart)."""
    InstitutePriority.objects.create(call=world.call, institute=world.institute, priority_countries=[],
                                     themes_en="Σεισμολογία; вулканология.", themes_fr="")
    greek = world.proposal(partner_country="JP", keywords="ΣΕΙΣΜΟΛΟΓΊΑ, storms")
    cyrillic = world.proposal(partner_country="JP", keywords="Вулканология")
    partial = world.proposal(partner_country="JP", keywords="Σεισμο, вулкан")
    rows = by_reference(panel_table(panel=world.panel, user=world.officer))
    assert rows[greek.reference].priority.keywords == ("ΣΕΙΣΜΟΛΟΓΊΑ",)
    assert rows[cyrillic.reference].priority.keywords == ("Вулканология",)
    assert rows[partial.reference].priority.matched is False


def test_no_priorities_published_means_no_match(world):
    proposal = world.proposal(partner_country="BR", keywords="erosion")
    assert panel_table(panel=world.panel, user=world.officer)[0].priority.matched is False
    assert proposal.pk


# ---------------------------------------------------------------------------------------------------
# Consensus and recommendation
# ---------------------------------------------------------------------------------------------------

def recommend(world, proposal, user=None, *, recommendation="fund", amount="12000", consensus="Strong project."):
    return recommendation_set(proposal_id=proposal.pk, user=user or world.officer, consensus=consensus,
                              recommendation=recommendation, proposed_amount=amount, now=NOW)


def test_recommending_moves_the_proposal_to_ranked_with_an_audit_entry(world):
    proposal = world.proposal()
    record = recommend(world, proposal)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.RANKED
    assert (record.panel, record.recommendation, record.proposed_amount, record.consensus, record.updated_by) == (
        world.panel, "fund", Decimal("12000.00"), "Strong project.", world.officer)
    entry = AuditEntry.objects.get(action="panel.recommend")
    assert (entry.actor, entry.from_state, entry.to_state, entry.data["amount"]) == (
        world.officer, "in_review", "ranked", "12000.00")


@pytest.mark.parametrize(("amount", "code"), [("", "amount_required"), (None, "amount_required"),
                                              ("9999.99", "amount_bounds"), ("14000.01", "amount_bounds"),
                                              ("lots", "amount")])
def test_funding_needs_an_amount_within_the_calls_bounds(world, amount, code):
    proposal = world.proposal()
    with pytest.raises(ValidationError) as refused:
        recommend(world, proposal, amount=amount)
    assert refused.value.code == code
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.IN_REVIEW
    assert not PanelRecommendation.objects.exists()


@pytest.mark.parametrize("amount", ["10000", "14000"])
def test_the_bounds_themselves_are_allowed(world, amount):
    assert recommend(world, world.proposal(), amount=amount).proposed_amount == Decimal(amount)


def test_reserve_may_have_an_amount_and_reject_never_has_one(world):
    assert recommend(world, world.proposal(), recommendation="reserve", amount="").proposed_amount is None
    assert recommend(world, world.proposal(), recommendation="reserve", amount="11000").proposed_amount == Decimal(11000)
    assert recommend(world, world.proposal(), recommendation="reject", amount="12000").proposed_amount is None
    with pytest.raises(ValidationError):
        recommend(world, world.proposal(), recommendation="reserve", amount="20000")


def test_clearing_the_recommendation_moves_the_proposal_back_to_in_review(world):
    proposal = world.proposal()
    recommend(world, proposal)
    recommend(world, proposal, recommendation="", amount="", consensus="Draft consensus.")
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.IN_REVIEW
    assert PanelRecommendation.objects.get().consensus == "Draft consensus."


def test_only_officers_of_the_panel_not_in_conflict_or_staff_recommend(world, staff):
    proposal = world.proposal()
    other = World()
    for user in (other.officer, world.pi, UserFactory()):
        with pytest.raises(ValidationError) as refused:
            recommend(world, proposal, user=user)
        assert refused.value.code == "forbidden"
    me = Reviewer.objects.create(user=world.officer, institute=world.institute)
    Conflict.objects.create(proposal=proposal, reviewer=me, source="officer", cause="officer", created_at=NOW)
    with pytest.raises(ValidationError):
        recommend(world, proposal)
    assert recommend(world, proposal, user=staff).updated_by == staff


@pytest.mark.parametrize("state", [ProposalState.ELIGIBLE, ProposalState.SUBMITTED, ProposalState.SELECTED])
def test_no_recommendation_outside_the_review(world, state):
    with pytest.raises(ValidationError) as refused:
        recommend(world, world.proposal(state=state))
    assert refused.value.code == "state"


# ---------------------------------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------------------------------

def ranks(world):
    return dict(PanelRecommendation.objects.filter(panel=world.panel).values_list("proposal__reference", "rank"))


def test_ranks_are_set_one_to_n_and_can_be_reordered(world):
    p1, p2, p3 = world.proposals(3)
    recommend(world, p2)
    ranks_set(panel_id=world.panel.pk, user=world.officer, ordered_proposal_ids=[p3.pk, p1.pk, p2.pk], now=NOW)
    assert ranks(world) == {p3.reference: 1, p1.reference: 2, p2.reference: 3}
    # Reversed: every rank moves onto one another held, which the unique (panel, rank) would refuse row by row.
    ranks_set(panel_id=world.panel.pk, user=world.officer, ordered_proposal_ids=[p2.pk, p1.pk, p3.pk], now=NOW)
    assert ranks(world) == {p2.reference: 1, p1.reference: 2, p3.reference: 3}
    # Left out: unranked.
    ranks_set(panel_id=world.panel.pk, user=world.officer, ordered_proposal_ids=[p1.pk], now=NOW)
    assert ranks(world) == {p1.reference: 1, p2.reference: None, p3.reference: None}
    assert PanelRecommendation.objects.get(proposal=p2).recommendation == "fund"
    assert AuditEntry.objects.filter(action="panel.rank").count() == 3


def test_the_database_refuses_two_proposals_at_one_rank(world):
    p1, p2 = world.proposals(2)
    PanelRecommendation.objects.create(proposal=p1, panel=world.panel, rank=1, updated_at=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        PanelRecommendation.objects.create(proposal=p2, panel=world.panel, rank=1, updated_at=NOW)


def test_ranking_refuses_duplicates_other_panels_and_strangers(world):
    p1, p2 = world.proposals(2)
    other = World(call=world.call)
    foreign = other.proposal()
    cases = [
        (world.officer, [p1.pk, p1.pk], "duplicate"),
        (world.officer, [p1.pk, foreign.pk], "wrong_panel"),
        (other.officer, [p1.pk, p2.pk], "forbidden"),
    ]
    for user, ordered, code in cases:
        with pytest.raises(ValidationError) as refused:
            ranks_set(panel_id=world.panel.pk, user=user, ordered_proposal_ids=ordered, now=NOW)
        assert refused.value.code == code
    assert not PanelRecommendation.objects.exists()


def test_a_conflicted_officer_ranks_around_the_proposal_they_cannot_see(world):
    p1, p2, p3 = world.proposals(3)
    colleague = UserFactory()
    world.panel.officers.add(colleague)
    ranks_set(panel_id=world.panel.pk, user=colleague, ordered_proposal_ids=[p1.pk, p2.pk, p3.pk], now=NOW)
    me = Reviewer.objects.create(user=world.officer, institute=world.institute)
    Conflict.objects.create(proposal=p2, reviewer=me, source="officer", cause="officer", created_at=NOW)
    with pytest.raises(ValidationError):
        ranks_set(panel_id=world.panel.pk, user=world.officer, ordered_proposal_ids=[p2.pk], now=NOW)
    ranks_set(panel_id=world.panel.pk, user=world.officer, ordered_proposal_ids=[p3.pk, p1.pk], now=NOW)
    assert ranks(world) == {p3.reference: 1, p2.reference: 2, p1.reference: 3}


# ---------------------------------------------------------------------------------------------------
# Reviewer pool
# ---------------------------------------------------------------------------------------------------

@pytest.fixture
def request_(rf, world):
    request = rf.get("/panels/")
    request.user = world.officer
    return request


def add(world, request_, email, **fields):
    return reviewer_add(panel_id=world.panel.pk, user=world.officer, email=email, now=NOW, request=request_, **fields)


def test_adding_an_existing_user_creates_only_the_pool_entry(world, request_, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    person = UserFactory(email="known@univ.example.org")
    UnitFactory(unit_type="UMR", number="5558")
    with django_capture_on_commit_callbacks(execute=True):
        result = add(world, request_, " KNOWN@univ.example.org", unit_code="umr5558", institution="Univ",
                     keywords="ecology ,  genomics;;evolution", sections="29,30", external=True)
    reviewer = result.reviewer
    assert (result.user_created, result.reactivated) == (False, False)
    assert (reviewer.user, reviewer.institute, reviewer.unit.code, reviewer.institution, reviewer.keywords,
            reviewer.sections, reviewer.external, reviewer.active) == (
        person, world.institute, "UMR 5558", "Univ", "ecology, genomics, evolution", "29, 30", True, True)
    assert mailoutbox == []
    entry = AuditEntry.objects.get(action="panel.reviewer_add")
    assert (entry.actor, entry.object_id, entry.data["user_created"]) == (world.officer, str(reviewer.pk), False)


def test_adding_an_unknown_email_creates_an_account_and_sends_a_password_link(world, request_, mailoutbox,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = add(world, request_, "New.Expert@abroad.example.org", full_name="Nina Expert", external=True)
    user = result.reviewer.user
    assert result.user_created is True
    assert (user.email, user.full_name, user.has_usable_password()) == ("new.expert@abroad.example.org", "Nina Expert", False)
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        ("new.expert@abroad.example.org", True, True)]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.expert@abroad.example.org"]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_the_password_link_lets_the_new_reviewer_choose_a_password(world, request_, mailoutbox, client,
                                                                  django_capture_on_commit_callbacks):
    import re

    with django_capture_on_commit_callbacks(execute=True):
        add(world, request_, "nina@abroad.example.org")
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
                           {"password1": "a-long-new-passphrase", "password2": "a-long-new-passphrase"})
    assert response.status_code == 302
    assert get_user_model().objects.get(email="nina@abroad.example.org").check_password("a-long-new-passphrase")


@pytest.mark.parametrize(("unit_code", "message"), [("lab 12", "type and number"), ("UMR 9999", "No unit UMR 9999")])
def test_unit_codes_must_be_known_units(world, request_, unit_code, message):
    with pytest.raises(ValidationError) as refused:
        add(world, request_, "someone@example.org", unit_code=unit_code)
    assert message in refused.value.messages[0]
    assert not Reviewer.objects.exists()
    assert not get_user_model().objects.filter(email="someone@example.org").exists()


def test_adding_twice_is_refused_and_a_deactivated_reviewer_comes_back(world, request_):
    first = add(world, request_, "rita@example.org", keywords="old").reviewer
    with pytest.raises(ValidationError) as refused:
        add(world, request_, "rita@example.org")
    assert refused.value.code == "duplicate"
    reviewer_deactivate(panel_id=world.panel.pk, reviewer_id=first.pk, user=world.officer, now=NOW)
    first.refresh_from_db()
    assert first.active is False
    again = add(world, request_, "rita@example.org", keywords="new")
    assert (again.reviewer.pk, again.reactivated, again.reviewer.active, again.reviewer.keywords) == (first.pk, True, True, "new")
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "panel.reviewer_add", "panel.reviewer_deactivate", "panel.reviewer_add"]


def test_pool_changes_need_the_panels_officer(world, request_, staff):
    other = World()
    reviewer = world.reviewer()
    with pytest.raises(ValidationError):
        reviewer_add(panel_id=world.panel.pk, user=other.officer, email="x@example.org", now=NOW, request=request_)
    with pytest.raises(ValidationError):
        reviewer_deactivate(panel_id=world.panel.pk, reviewer_id=reviewer.pk, user=other.officer, now=NOW)
    with pytest.raises(ValidationError) as refused:  # a reviewer of another institute through this panel
        reviewer_deactivate(panel_id=world.panel.pk, reviewer_id=other.reviewer().pk, user=world.officer, now=NOW)
    assert refused.value.code == "not_in_pool"
    assert Reviewer.objects.filter(active=False).count() == 0
    assert reviewer_deactivate(panel_id=world.panel.pk, reviewer_id=reviewer.pk, user=staff, now=timezone.now()).active is False
