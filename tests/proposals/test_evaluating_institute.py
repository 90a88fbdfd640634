"""``Proposal.institute`` in its three forms agree: the property, the filter (``evaluated_by``) and the
expression (``evaluating_institute``) the counts by institute group on."""

import pytest

from proposals.models import Proposal, TeamMember, evaluated_by, evaluating_institute
from tests.factories import InstituteFactory, ProposalFactory

pytestmark = pytest.mark.django_db


def test_the_property_the_filter_and_the_expression_choose_the_same_institute(call):
    chosen = InstituteFactory(code="INSU")
    by_unit = ProposalFactory(call=call, complete=True)
    by_choice = ProposalFactory(call=call, complete=True, evaluating_institute=chosen)
    rows = {row["pk"]: (row["institute"], row["code"]) for row in Proposal.objects.annotate(
        institute=evaluating_institute(), code=evaluating_institute("code")).values("pk", "institute", "code")}
    for proposal in (by_unit, by_choice):
        expected = proposal.institute
        assert rows[proposal.pk] == (expected.pk, expected.code)
        assert list(Proposal.objects.filter(evaluated_by(expected.pk)).filter(pk=proposal.pk)) == [proposal]
    assert rows[by_choice.pk] == (chosen.pk, "INSU") != rows[by_unit.pk]
    # Through a relation, with the prefix.
    member = TeamMember.objects.create(proposal=by_choice, side="cnrs", name="Jean Dupont")
    assert TeamMember.objects.annotate(i=evaluating_institute(prefix="proposal__")).get(pk=member.pk).i == chosen.pk
