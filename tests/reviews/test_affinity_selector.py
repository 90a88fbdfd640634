"""The stored affinities as automatic assignment reads them: ``reviews.selectors.panel_affinities``."""

import pytest

from reviews.models import Affinity
from reviews.selectors import panel_affinities
from tests.reviews.factories import PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db


def test_panel_affinities_maps_pairs_to_score_and_words_of_this_panel_only(django_assert_num_queries):
    proposal = eligible_proposal()
    panel = PanelFactory(call=proposal.call, institute=proposal.institute)
    other_panel = PanelFactory(institute=proposal.institute)
    first, second = ReviewerFactory(institute=proposal.institute), ReviewerFactory(institute=proposal.institute)
    Affinity.objects.create(panel=panel, proposal=proposal, reviewer=first, score=812, terms=["océan", "acidification"])
    Affinity.objects.create(panel=panel, proposal=proposal, reviewer=second, score=40, terms=[])
    other = eligible_proposal()
    Affinity.objects.create(panel=other_panel, proposal=other, reviewer=first, score=999, terms=["x"])

    with django_assert_num_queries(1):
        found = panel_affinities(panel.pk)

    assert found == {(proposal.pk, first.pk): (812, ["océan", "acidification"]), (proposal.pk, second.pk): (40, [])}
