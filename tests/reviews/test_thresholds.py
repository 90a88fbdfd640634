"""The thresholds on the panel's side (issue #15): the officer cannot recommend funding a proposal under one, the
panel's table flags each threshold missed, and cloning a call copies them. (What they mean for a decision:
tests/funding/test_decision_rules.py.)"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from calls.domain import call_clone
from calls.models import Criterion
from reviews.domain.panel import recommendation_set
from reviews.domain.panel_table import panel_table
from reviews.models import PanelRecommendation, Score
from tests.factories import UserFactory

from .staff_factories import closed_call, panel_for, ranked_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def under_threshold(past_call):
    """Two reviews scoring [4, 3.5, 4, 3, 5, 4]: the fourth criterion's mean, 3, is under its threshold of 3.5."""
    Criterion.objects.filter(call=past_call, position=4).update(threshold=Decimal("3.5"))
    return ranked_proposal(past_call, recommendation="reserve", proposed_amount=None)


def test_the_officer_cannot_recommend_funding_under_a_threshold(under_threshold, past_call):
    officer = UserFactory(email="officer@cnrs.example.fr")
    panel_for(past_call, under_threshold.institute).officers.add(officer)
    with pytest.raises(ValidationError) as refused:
        recommendation_set(proposal_id=under_threshold.pk, user=officer, consensus="", recommendation="fund",
                           proposed_amount="12000", now=timezone.now())
    assert refused.value.code == "threshold"
    assert "cannot be recommended for funding" in refused.value.messages[0]
    assert PanelRecommendation.objects.get(proposal=under_threshold).recommendation == "reserve"
    record = recommendation_set(proposal_id=under_threshold.pk, user=officer, consensus="", recommendation="reject",
                                proposed_amount="", now=timezone.now())
    assert record.recommendation == "reject"


def test_the_panel_table_flags_the_thresholds_missed(under_threshold, past_call, staff):
    past_call.overall_threshold = Decimal("4")
    past_call.save()
    passing = ranked_proposal(past_call, institute=under_threshold.institute, rank=2)
    Score.objects.filter(review__proposal=passing).update(score=Decimal(5))
    panel = panel_for(past_call, under_threshold.institute)
    rows = {row.proposal.pk: row for row in panel_table(panel=panel, user=staff)}
    assert [str(miss) for miss in rows[under_threshold.pk].threshold_misses] == [
        f"{Criterion.objects.get(call=past_call, position=4).label}: 3, under the threshold of 3.5",
        "overall weighted total: 3.92, under the threshold of 4"]
    assert rows[passing.pk].threshold_misses == []


def test_cloning_a_call_copies_the_overall_threshold(past_call, staff):
    past_call.overall_threshold = Decimal("3.5")
    past_call.save()
    Criterion.objects.filter(call=past_call, position=1).update(threshold=Decimal(3))
    result = call_clone(source_id=past_call.pk, year=past_call.year + 1, user=staff, now=timezone.now())
    assert result.call.overall_threshold == Decimal("3.5")
    assert result.call.criteria.get(position=1).threshold == Decimal(3)
