"""The panel table's figures are kept by the database (``reviews.domain.panel_figures``) and sorted, filtered
and paged in SQL (``reviews.domain.panel_table``): here they are checked against the Python reference that
computed every row on every request before (tests/reviews/panel_reference.py).

Seeded random panels — zero and uneven weights, thresholds, conflicts, reviews by another institute's
reviewers, a reviewer with one review, a reviewer giving the same total everywhere, drafts, proposals
without reviews, missing scores, the officer's own conflict — then changes through the domain (a review
submitted, one reopened, a conflict recorded) and in the admin (the weights): after each, every figure,
every order (each column, both ways), every filter and the paging agree with the reference."""

import queue
import random
from decimal import Decimal

import pytest

from calls.models import Criterion, InstitutePriority
from proposals.models import Proposal, ProposalState
from reviews.domain.conflicts import conflict_set_by_officer
from reviews.domain.panel_figures import panel_figures_refresh
from reviews.domain.panel_table import NO_RECOMMENDATION, panel_table, sort_keys
from reviews.domain.scoring import review_reopen, review_submit
from reviews.models import Conflict, Panel, PanelFigures, PanelRecommendation, Review, Reviewer, ReviewState
from tests.factories import InstituteFactory, StaffFactory
from tests.proposals.test_concurrency import run_together

from .panel_reference import reference_filter, reference_sort, reference_table
from .test_panel import NOW, World

pytestmark = pytest.mark.django_db

HALVES = [Decimal(k) / 2 for k in range(11)]
WORDS = ["Ocean sciences", "érosion", "CÔTIÈRE", "storms", "energy", "coastal erosion", "soil", "ocean"]


def kept(value):
    return None if value is None else Decimal(value).quantize(Decimal("1e-9"))


def random_panel(seed: int) -> World:
    rng = random.Random(seed)
    world = World(reviews_per_proposal=rng.choice([2, 3]))
    count = rng.randint(2, 6)
    weights = ["0"] * count if seed == 3 else [rng.choice(["0", "0.5", "1", "1.5", "2", "3"]) for _ in range(count)]
    world.weigh(*weights)
    for criterion in world.criteria:
        if rng.random() < 0.4:
            Criterion.objects.filter(pk=criterion.pk).update(threshold=Decimal(rng.choice(["2.5", "3", "3.5"])))
    world.call.overall_threshold = rng.choice([None, Decimal(3), Decimal("3.5")])
    world.call.save(update_fields=["overall_threshold"])
    world.criteria = list(world.call.criteria.order_by("position"))
    InstitutePriority.objects.create(call=world.call, institute=world.institute, priority_countries=["BR", "IN"],
                                     themes_en="Coastal erosion; ocean sciences.", themes_fr="Érosion côtière")

    proposals = [world.proposal(state=rng.choice([ProposalState.IN_REVIEW, ProposalState.RANKED,
                                                  ProposalState.ELIGIBLE]),
                                partner_country=rng.choice(["BR", "IN", "JP", "DE"]),
                                keywords=", ".join(rng.sample(WORDS, rng.randint(0, 3))))
                 for _ in range(rng.randint(8, 18))]
    for proposal in proposals:
        proposal.acronym = rng.choice(["", "alpha", "Beta", "gamma", "DELTA", "epsilon", proposal.acronym])
    Proposal.objects.bulk_update(proposals, ["acronym"])
    world.proposals(2, state=ProposalState.SUBMITTED)  # not the panel's yet
    elsewhere = World(call=world.call).proposal()  # another panel's, reviewed by this institute's reviewers
    reviewers = [world.reviewer(f"Reviewer {k}") for k in range(rng.randint(4, 7))]
    same, single = world.reviewer("Same Total"), world.reviewer("Single Review")
    foreign = world.reviewer("Other Institute", institute=InstituteFactory())

    def scores():
        return [None if rng.random() < 0.05 else rng.choice(HALVES) for _ in world.criteria]

    submitted, drafts = [], []
    for proposal in proposals:
        for reviewer in rng.sample(reviewers, rng.choice([0, 1, 2, 2, 3, 3, 4])):
            (submitted if rng.random() < 0.85 else drafts).append((proposal, reviewer, scores()))
    submitted += [(proposal, same, [Decimal(3)] * len(world.criteria)) for proposal in rng.sample(proposals, 3)]
    submitted += [(rng.choice(proposals), single, scores()), (elsewhere, reviewers[0], scores()),
                  (rng.choice(proposals), foreign, scores())]
    submitted.append((proposals[0], reviewers[-1], [None] * len(world.criteria)))  # submitted, yet nothing scored
    submitted = list({(p.pk, r.pk): (p, r, s) for p, r, s in submitted}.values())
    world.reviews(submitted)
    drafts = [(p, r, [rng.choice(HALVES) for _ in world.criteria]) for p, r, _ in drafts
              if (p.pk, r.pk) not in {(q.pk, s.pk) for q, s, _ in submitted}]
    world.reviews(list({(p.pk, r.pk): (p, r, s) for p, r, s in drafts}.values()), state=ReviewState.DRAFT)
    Review.objects.filter(state=ReviewState.DRAFT).update(comment_for_pi="A fair project.", recommendation="fund")

    for proposal, reviewer, _ in rng.sample(submitted, 2):
        Conflict.objects.get_or_create(proposal=proposal, reviewer=reviewer, source="detected", cause="same_unit_as_pi",
                                       defaults={"created_at": NOW})
    me = Reviewer.objects.create(user=world.officer, institute=world.institute)
    Conflict.objects.create(proposal=rng.choice(proposals), reviewer=me, source="officer", cause="officer",
                            created_at=NOW)
    for rank, proposal in enumerate(rng.sample(proposals, len(proposals) // 2), start=1):
        recommendation = rng.choice(["fund", "reserve", "reject", ""])
        PanelRecommendation.objects.create(
            proposal=proposal, panel=world.panel, recommendation=recommendation, updated_at=NOW,
            rank=rank if rng.random() < 0.7 else None,
            proposed_amount=Decimal(rng.choice([10000, 12000, 14000])) if recommendation == "fund" else None)
    world.rng = rng
    return world


def references(rows) -> list[str]:
    return [row.proposal.reference for row in rows]


def assert_same_figures(got, want):
    assert got.proposal.pk == want.proposal.pk
    reference = want.proposal.reference
    assert got.criterion_means == [kept(mean) for mean in want.criterion_means], reference
    assert got.weighted_total == kept(want.weighted_total), reference
    for name in ("median", "spread"):
        mine, theirs = getattr(got, name), getattr(want, name)
        assert (mine is None, theirs is None) == (False, False) or mine is theirs is None, (reference, name)
        assert mine is None or abs(mine - theirs) <= Decimal("1e-9"), (reference, name, mine, theirs)
    assert (got.calibrated is None) == (want.calibrated is None), reference
    assert got.calibrated is None or got.calibrated == pytest.approx(want.calibrated, abs=1e-8), reference
    assert (got.disagreement, got.reviews_done, got.reviews_expected, got.incomplete) == (
        want.disagreement, want.reviews_done, want.reviews_expected, want.incomplete), reference
    assert (got.priority, got.recommendation, got.rank, got.recommended) == (
        want.priority, want.recommendation, want.rank, want.recommended), reference
    assert [(miss.criterion, miss.threshold) for miss in got.threshold_misses] == [
        (miss.criterion, miss.threshold) for miss in want.threshold_misses], reference
    assert [kept(miss.mean) for miss in got.threshold_misses] == [kept(miss.mean) for miss in want.threshold_misses]


FILTERS = [{}, {"disagreement": True}, {"incomplete": True}, {"priority": True}, {"under_threshold": True},
           *({"recommendation": value} for value in ["fund", "reserve", "reject", NO_RECOMMENDATION]),
           {"incomplete": True, "priority": True}]


def assert_table_agrees(world, user=None):
    user = user or world.officer
    criteria = list(world.call.criteria.order_by("position"))
    reference = reference_table(panel=world.panel, user=user)
    rows = list(panel_table(panel=world.panel, user=user, sort="reference"))
    assert references(rows) == references(reference)
    for got, want in zip(rows, reference, strict=True):
        assert_same_figures(got, want)
    for key in sort_keys(criteria):
        for sort in (key, f"-{key}"):
            assert references(panel_table(panel=world.panel, user=user, sort=sort)) == references(
                reference_sort(reference, sort, criteria)[0]), sort
    for filters in FILTERS:
        sort = world.rng.choice(sort_keys(criteria))
        table = panel_table(panel=world.panel, user=user, sort=sort, **filters)
        expected = reference_sort(reference_filter(reference, **filters), sort, criteria)[0]
        assert references(table) == references(expected), (filters, sort)
        assert table.count() == len(expected)
        assert references(table[1:4]) == references(expected[1:4])


@pytest.mark.parametrize("seed", range(8))
def test_the_kept_figures_equal_the_python_reference_through_every_change(seed, mailoutbox):
    world = random_panel(seed)
    assert_table_agrees(world)  # data loaded in bulk: computed on the first read

    # A draft submitted: its proposal's figures and its reviewer's scale move.
    conflicted = set(Conflict.objects.values_list("proposal_id", "reviewer_id"))
    drafts = [review for review in Review.objects.filter(state=ReviewState.DRAFT, reviewer__institute=world.institute)
              .order_by("pk") if (review.proposal_id, review.reviewer_id) not in conflicted]
    if drafts:
        review_submit(review_id=drafts[0].pk, user=drafts[0].reviewer.user, now=NOW)
        assert_table_agrees(world)

    # A submitted review reopened by the officer (of a proposal they may see, by a reviewer not in conflict).
    hidden = set(Conflict.objects.filter(reviewer__user=world.officer).values_list("proposal_id", flat=True))
    reopenable = [review for review in Review.objects.filter(state=ReviewState.SUBMITTED,
                                                             reviewer__institute=world.institute,
                                                             proposal__call=world.call).order_by("pk")
                  if review.proposal_id not in hidden and (review.proposal_id, review.reviewer_id) not in conflicted]
    review = world.rng.choice(reopenable)
    review_reopen(review_id=review.pk, user=world.officer, reason="Please check the budget.", now=NOW)
    assert_table_agrees(world)

    # A conflict found after the review was submitted: the review stops counting.
    review = world.rng.choice([r for r in reopenable if r.pk != review.pk])
    conflict_set_by_officer(proposal_id=review.proposal_id, reviewer=review.reviewer, user=world.officer,
                            reason="Co-authors.", now=NOW)
    assert_table_agrees(world)

    # The call's weights changed in the admin: the next read recomputes.
    for criterion in world.call.criteria.all():
        Criterion.objects.filter(pk=criterion.pk).update(weight=Decimal(world.rng.choice(["0.5", "1", "2"])))
    assert_table_agrees(world)
    assert_table_agrees(world, StaffFactory())  # every proposal, the officer's conflict included


@pytest.fixture
def world():
    return World()


def test_a_refresh_writes_only_what_changed(world):
    p1, p2 = world.proposals(2)
    a, b = world.reviewer("A"), world.reviewer("B")
    world.reviews([(p1, a, [4, 4, 4, 4, 4, 4]), (p2, b, [3, 3, 3, 3, 3, 3])])
    assert panel_figures_refresh(panel=world.panel) == 2
    assert panel_figures_refresh(panel=world.panel) == 0
    world.reviews([(p2, a, [2, 2, 2, 2, 2, 2])])
    # P2 gets a review; A's scale now spans P1 and P2, so P1's calibrated score moves too.
    assert panel_figures_refresh(panel=world.panel) == 2
    assert PanelFigures.objects.get(proposal=p2).reviews_done == 2


def test_a_proposal_moved_to_another_panel_is_recomputed_there(world):
    proposal = world.proposal()
    reviewer = world.reviewer("A")
    world.reviews([(proposal, reviewer, [4, 4, 4, 4, 4, 4])])
    assert [row.reviews_done for row in panel_table(panel=world.panel, user=world.officer)] == [1]
    other = World(call=world.call)
    Proposal.objects.filter(pk=proposal.pk).update(unit=other.unit)
    # In the other institute's panel, this institute's reviewer does not count.
    assert [row.reviews_done for row in panel_table(panel=other.panel, user=other.officer)] == [0]
    assert PanelFigures.objects.get(proposal=proposal).panel == other.panel


def test_a_submitted_review_marks_the_panel_and_its_next_read_counts_it(world):
    """The reviewer's submission only marks the panel (one UPDATE in its transaction); the officer's next
    read of the table recomputes it."""
    p1, p2 = world.proposals(2)
    a, b = world.reviewer("A"), world.reviewer("B")
    world.reviews([(p1, a, [4, 4, 4, 4, 4, 4])])
    world.reviews([(p2, a, [2, 2, 2, 2, 2, 2]), (p2, b, [3, 3, 3, 3, 3, 3])], state=ReviewState.DRAFT)
    Review.objects.filter(state=ReviewState.DRAFT).update(comment_for_pi="Fine.", recommendation="fund")
    assert [row.reviews_done for row in panel_table(panel=world.panel, user=world.officer, sort="reference")] == [1, 0]
    assert Panel.objects.get(pk=world.panel.pk).figures_stale is False

    draft = Review.objects.get(proposal=p2, reviewer=a)
    review_submit(review_id=draft.pk, user=a.user, now=NOW)
    assert Panel.objects.get(pk=world.panel.pk).figures_stale is True
    assert PanelFigures.objects.get(proposal=p2).reviews_done == 0  # not recomputed in the reviewer's request
    panel = Panel.objects.select_related("call").get(pk=world.panel.pk)
    rows = list(panel_table(panel=panel, user=world.officer, sort="reference"))
    assert [row.reviews_done for row in rows] == [1, 1]
    assert rows[0].calibrated == pytest.approx(1.0)  # A's totals 4 and 2: P1 is one sd above A's mean
    assert Panel.objects.get(pk=world.panel.pk).figures_stale is False

    # A conflict recorded on a pair without a submitted review changes nothing: the panel stays up to date.
    conflict_set_by_officer(proposal_id=p2.pk, reviewer=b, user=world.officer, reason="Co-authors.", now=NOW)
    assert Panel.objects.get(pk=world.panel.pk).figures_stale is False


def _race(seed: int) -> None:
    world = random_panel(seed)
    assert_table_agrees(world)
    newcomers = [world.reviewer(f"New {k}") for k in range(8)]
    proposals = list(world.call.proposals.filter(state__in=["in_review", "ranked", "eligible"])
                     .exclude(conflicts__reviewer__user=world.officer).order_by("pk"))
    world.reviews([(proposals[k % len(proposals)], reviewer, [Decimal(k % 6)] * len(world.criteria))
                   for k, reviewer in enumerate(newcomers)], state=ReviewState.DRAFT)
    Review.objects.filter(state=ReviewState.DRAFT).update(comment_for_pi="Fine.", recommendation="fund")
    drafts = queue.SimpleQueue()
    for review in Review.objects.filter(reviewer__in=newcomers).select_related("reviewer__user"):
        drafts.put(review)

    def work():
        try:
            review = drafts.get_nowait()
        except queue.Empty:
            list(panel_table(panel=Panel.objects.select_related("call").get(pk=world.panel.pk), user=world.officer))
            return "read"
        review_submit(review_id=review.pk, user=review.reviewer.user, now=NOW)
        return "submitted"

    results, errors = run_together(12, work)
    assert errors == []
    assert sorted(results) == ["read"] * 4 + ["submitted"] * 8
    if not Panel.objects.get(pk=world.panel.pk).figures_stale:
        # Up to date by the panel's mark: recomputing must change nothing.
        assert panel_figures_refresh(panel=world.panel) == 0
    assert_table_agrees(world)
    assert Panel.objects.get(pk=world.panel.pk).figures_stale is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [100, 101, 102])
def test_reviews_submitted_while_the_table_recomputes_are_never_lost(require_postgres, seed):
    """Eight reviewers submit while four officers' reads recompute the table, all at once: afterwards the
    panel is either still marked stale, or the figures it keeps are the reference's (no mark lost between
    a recomputation's read and its commit)."""
    _race(seed)


def test_conflicts_found_in_bulk_stop_a_submitted_review_counting(world):
    """The automatic assignment records the conflicts it finds for a whole panel at once
    (``conflicts_record_detected_all``): a submitted review of a pair found in conflict stops counting, and the
    kept figures follow, as they do for a conflict recorded one at a time."""
    from reviews.domain.conflicts import conflicts_record_detected_all

    p1, p2 = world.proposals(2)
    a, b = world.reviewer("A"), world.reviewer("B")
    world.reviews([(p1, a, [4] * 6), (p1, b, [2] * 6), (p2, b, [3] * 6)])
    world.rng = random.Random(0)
    assert_table_agrees(world)
    Reviewer.objects.filter(pk=a.pk).update(unit=world.unit)  # A turns out to be in the PI's unit
    proposals = list(Proposal.objects.filter(pk__in=[p1.pk, p2.pk]).select_related("unit"))
    assert conflicts_record_detected_all(proposals=proposals, reviewers=list(Reviewer.objects.filter(
        pk__in=[a.pk, b.pk]).select_related("unit")), now=NOW) == 2
    row = next(row for row in panel_table(panel=world.panel, user=world.officer, sort="reference")
               if row.proposal.pk == p1.pk)
    assert (row.reviews_done, row.weighted_total) == (1, Decimal(2))
    assert_table_agrees(world)
