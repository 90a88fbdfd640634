"""``Report.editable``, ``report_edit_refusal`` and ``can_edit_report``: the one answer to "can the PI change
this report now", for each report state and award state; and the one difference the rule keeps on purpose,
that submitting asks the report's state only."""

from decimal import Decimal

import pytest
from django.utils import timezone, translation

from funding.domain.awards import FundingError
from funding.domain.reports import report_edit_refusal, report_save, report_submit
from funding.models import EDITABLE_REPORTS, Award, AwardState, Report, ReportPeriod, ReportState
from funding.rules import can_edit_report
from tests.factories import UserFactory
from tests.funding.factories import award_factory

IN_THE_PIS_HANDS = {ReportState.DRAFT, ReportState.CHANGES_REQUESTED, ReportState.COSIGN_DECLINED}


def report(state, award_state=AwardState.ACTIVE) -> Report:
    """An unsaved report of an unsaved award: the rule reads no database."""
    return Report(award=Award(state=award_state), period=ReportPeriod.YEAR_1, state=state)


@pytest.mark.parametrize("state", sorted(ReportState.values))
def test_a_report_of_an_active_award_is_editable_in_the_pis_hands_only(state):
    assert report(state).editable is (state in IN_THE_PIS_HANDS)


@pytest.mark.parametrize("award_state", sorted(set(AwardState.values) - {AwardState.ACTIVE}))
@pytest.mark.parametrize("state", sorted(IN_THE_PIS_HANDS))
def test_no_report_is_editable_while_its_award_is_not_active(state, award_state):
    assert report(state, award_state).editable is False


@pytest.mark.parametrize(("state", "award_state", "refusal"), [
    (ReportState.DRAFT, AwardState.ACTIVE, ""),
    (ReportState.CHANGES_REQUESTED, AwardState.ACTIVE, ""),
    (ReportState.COSIGN_DECLINED, AwardState.ACTIVE, ""),
    (ReportState.SUBMITTED, AwardState.ACTIVE,
     "This report is waiting for the partner's co-signature; it can no longer be changed."),
    (ReportState.APPROVED, AwardState.CLOSED, "This report is approved; it can no longer be changed."),
    (ReportState.DRAFT, AwardState.SUSPENDED, "The award is not active."),
])
def test_the_refusal_says_why_and_is_empty_when_editable(state, award_state, refusal):
    with translation.override("en"):
        assert report_edit_refusal(report(state, award_state)) == refusal


@pytest.fixture
def award(db):
    return award_factory()


def year_1(award) -> Report:
    return award.reports.get(period=ReportPeriod.YEAR_1)


def test_only_the_pi_may_edit_and_only_while_the_report_is_editable(award):
    draft = year_1(award)
    pi, other = award.proposal.pi, UserFactory()

    assert (can_edit_report(pi, draft), can_edit_report(other, draft)) == (True, False)
    Award.objects.filter(pk=award.pk).update(state=AwardState.SUSPENDED)
    draft = year_1(Award.objects.get(pk=award.pk))
    assert can_edit_report(pi, draft) is False


def test_the_queryset_filter_selects_the_reports_the_property_calls_editable(award):
    other = award_factory()
    Award.objects.filter(pk=other.pk).update(state=AwardState.SUSPENDED)
    Report.objects.filter(award=award, period=ReportPeriod.FINAL).update(state=ReportState.SUBMITTED)
    reports = Report.objects.filter(award__in=[award, other]).select_related("award")

    assert {r.pk for r in reports.filter(EDITABLE_REPORTS)} == {r.pk for r in reports if r.editable} == {
        year_1(award).pk}


def test_saving_checks_the_award_but_submitting_asks_the_reports_state_only(award):
    """The one difference the rule keeps: a report finished before its award was suspended may still be
    submitted, though it can no longer be saved."""
    now = timezone.now()
    pi = award.proposal.pi
    report_save(report_id=year_1(award).pk, user=pi, scientific_review="Two missions and a workshop.",
                spending={"mobility": Decimal(900)}, cofunding_received=None, cofunding_currency="", now=now)
    Award.objects.filter(pk=award.pk).update(state=AwardState.SUSPENDED)

    with pytest.raises(FundingError) as refused:
        report_save(report_id=year_1(award).pk, user=pi, scientific_review="Changed.", spending={},
                    cofunding_received=None, cofunding_currency="", now=now)
    submitted = report_submit(report_id=year_1(award).pk, user=pi, now=now)

    assert (refused.value.code, submitted.state) == ("inactive", ReportState.SUBMITTED)
