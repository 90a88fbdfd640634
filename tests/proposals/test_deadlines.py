"""Closing is enforced at request time against ``now``: the last second before the deadline is accepted,
the deadline itself and after are refused, grace included, across daylight-saving changes."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from calls.domain import call_deadline, default_window
from iea.audit.models import AuditEntry
from proposals.domain import (
    ProposalError,
    letter_attach,
    proposal_create,
    proposal_save_draft,
    proposal_submit,
    proposal_withdraw,
)
from proposals.letters import check_pdf
from proposals.models import BudgetLine, ProposalState, ProposalVersion, SupportLetter
from tests.factories import CallFactory, ProposalFactory
from tests.pdfs import pdf_bytes, pdf_upload

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
SECOND = dt.timedelta(seconds=1)

# Thursday 30 September 2027, 13:00 Paris summer time (+02:00).
CLOSES = dt.datetime(2027, 9, 30, 11, 0, tzinfo=UTC)
OPENS = dt.datetime(2027, 5, 31, 22, 0, tzinfo=UTC)


def ready_draft(pi, *, opens_at=OPENS, closes_at=CLOSES, grace_minutes=0):
    """A complete draft with its letter, in a call with the given window."""
    call = CallFactory(opens_at=opens_at, closes_at=closes_at, grace_minutes=grace_minutes)
    proposal = ProposalFactory(call=call, pi=pi, complete=True)
    letter_attach(
        proposal_id=proposal.pk, pdf=check_pdf(pdf_upload()), now=opens_at + dt.timedelta(days=1), user=pi
    )
    proposal.refresh_from_db()
    return proposal


def assert_accepted(proposal, pi, now):
    result = proposal_submit(proposal_id=proposal.pk, user=pi, now=now)
    proposal.refresh_from_db()
    assert (result.created, result.version.number, result.version.submitted_at) == (True, 1, now)
    assert (proposal.state, proposal.submitted_at) == (ProposalState.SUBMITTED, now)


def assert_refused(proposal, pi, now):
    with pytest.raises(ProposalError) as refused:
        proposal_submit(proposal_id=proposal.pk, user=pi, now=now)
    assert refused.value.code == "closed"
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.DRAFT
    assert ProposalVersion.objects.filter(proposal=proposal).count() == 0
    assert AuditEntry.objects.filter(action="proposal.submit").count() == 0


# --- The closing instant -----------------------------------------------------------------------------------


def test_submit_one_second_before_closing_is_accepted(pi):
    assert_accepted(ready_draft(pi), pi, CLOSES - SECOND)


def test_submit_at_the_closing_instant_is_refused(pi):
    assert_refused(ready_draft(pi), pi, CLOSES)


def test_submit_one_second_after_closing_is_refused(pi):
    assert_refused(ready_draft(pi), pi, CLOSES + SECOND)


def test_submit_before_opening_is_refused(pi):
    proposal = ready_draft(pi)
    assert_refused(proposal, pi, OPENS - SECOND)


def test_the_refusal_names_the_deadline_in_paris_time(pi):
    proposal = ready_draft(pi)
    with translation.override("en"), pytest.raises(ProposalError) as refused:
        proposal_submit(proposal_id=proposal.pk, user=pi, now=CLOSES + SECOND)
    # 11:00 UTC is 1 p.m. in Paris in September; the message must not show the UTC hour.
    assert refused.value.messages == [
        "The call closed on 30\N{NO-BREAK SPACE}September 2027, 13:00 (Paris time); the proposal can no longer be changed."
    ]


# --- Grace period ------------------------------------------------------------------------------------------


def test_grace_period_accepts_until_its_last_second(pi):
    proposal = ready_draft(pi, grace_minutes=10)
    assert call_deadline(proposal.call) == CLOSES + dt.timedelta(minutes=10)
    assert_accepted(proposal, pi, CLOSES + dt.timedelta(minutes=9, seconds=59))


def test_grace_period_refuses_at_its_end(pi):
    assert_refused(ready_draft(pi, grace_minutes=10), pi, CLOSES + dt.timedelta(minutes=10))


# --- Daylight saving ---------------------------------------------------------------------------------------


def test_closing_on_the_autumn_dst_day_is_13h_paris_winter_time(pi):
    # Clocks go back on Sunday 31 October 2027 at 03:00 → 02:00; at 13:00 Paris is UTC+1.
    closes = dt.datetime(2027, 10, 31, 13, 0, tzinfo=PARIS)
    proposal = ready_draft(pi, closes_at=closes)

    proposal.call.refresh_from_db()
    assert proposal.call.closes_at == dt.datetime(2027, 10, 31, 12, 0, tzinfo=UTC)
    assert proposal.call.closes_at.astimezone(PARIS).isoformat() == "2027-10-31T13:00:00+01:00"
    # 11:30 UTC would be after 13:00 if the summer offset (+02:00) were wrongly applied.
    assert_accepted(proposal, pi, dt.datetime(2027, 10, 31, 11, 59, 59, tzinfo=UTC))


def test_autumn_dst_closing_refuses_one_second_after(pi):
    proposal = ready_draft(pi, closes_at=dt.datetime(2027, 10, 31, 13, 0, tzinfo=PARIS))
    assert_refused(proposal, pi, dt.datetime(2027, 10, 31, 12, 0, 1, tzinfo=UTC))


def test_closing_on_the_spring_dst_day_is_13h_paris_summer_time(pi):
    # Clocks go forward on Sunday 28 March 2027 at 02:00 → 03:00; at 13:00 Paris is UTC+2.
    opens = dt.datetime(2027, 1, 1, tzinfo=PARIS)
    proposal = ready_draft(pi, opens_at=opens, closes_at=dt.datetime(2027, 3, 28, 13, 0, tzinfo=PARIS))

    proposal.call.refresh_from_db()
    assert proposal.call.closes_at == dt.datetime(2027, 3, 28, 11, 0, tzinfo=UTC)
    assert proposal.call.closes_at.astimezone(PARIS).isoformat() == "2027-03-28T13:00:00+02:00"
    assert_accepted(proposal, pi, dt.datetime(2027, 3, 28, 10, 59, 59, tzinfo=UTC))


def test_spring_dst_closing_refuses_one_second_after(pi):
    opens = dt.datetime(2027, 1, 1, tzinfo=PARIS)
    proposal = ready_draft(pi, opens_at=opens, closes_at=dt.datetime(2027, 3, 28, 13, 0, tzinfo=PARIS))
    assert_refused(proposal, pi, dt.datetime(2027, 3, 28, 11, 0, 1, tzinfo=UTC))


# --- Default window ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "opens_iso", "closes_iso", "closing_weekday"),
    [
        # 30 September 2027 is a Thursday.
        (2027, "2027-06-01T00:00:00+02:00", "2027-09-30T13:00:00+02:00", "Thursday"),
        # 30 September 2028 is a Saturday → Friday 29.
        (2028, "2028-06-01T00:00:00+02:00", "2028-09-29T13:00:00+02:00", "Friday"),
        # 30 September 2029 is a Sunday → Friday 28.
        (2029, "2029-06-01T00:00:00+02:00", "2029-09-28T13:00:00+02:00", "Friday"),
    ],
)
def test_default_window(year, opens_iso, closes_iso, closing_weekday):
    opens, closes = default_window(year)

    assert opens.isoformat() == opens_iso
    assert closes.isoformat() == closes_iso
    assert closes.strftime("%A") == closing_weekday
    # Compared as instants, not wall clocks.
    assert opens == dt.datetime.fromisoformat(opens_iso).astimezone(UTC)
    assert closes == dt.datetime.fromisoformat(closes_iso).astimezone(UTC)


def test_default_window_instants_in_utc():
    opens, closes = default_window(2027)
    assert (opens.astimezone(UTC), closes.astimezone(UTC)) == (
        dt.datetime(2027, 5, 31, 22, 0, tzinfo=UTC),
        dt.datetime(2027, 9, 30, 11, 0, tzinfo=UTC),
    )


# --- Other changes after the deadline ----------------------------------------------------------------------


def test_editing_after_the_deadline_is_refused_and_changes_nothing(pi):
    proposal = ready_draft(pi)
    before = (proposal.title, proposal.lock_version, proposal.updated_at)
    budget_before = sorted(
        BudgetLine.objects.filter(proposal=proposal).values_list("year", "category", "amount")
    )

    with pytest.raises(ProposalError) as refused:
        proposal_save_draft(
            proposal_id=proposal.pk,
            user=pi,
            data={"title": "Changed after closing"},
            budget={(1, "mobility"): Decimal("5000")},
            lock_version=proposal.lock_version,
            now=CLOSES + SECOND,
        )

    assert refused.value.code == "closed"
    proposal.refresh_from_db()
    assert (proposal.title, proposal.lock_version, proposal.updated_at) == before
    assert (
        sorted(BudgetLine.objects.filter(proposal=proposal).values_list("year", "category", "amount"))
        == budget_before
    )


def test_editing_one_second_before_the_deadline_is_saved(pi):
    proposal = ready_draft(pi)
    result = proposal_save_draft(
        proposal_id=proposal.pk,
        user=pi,
        data={"title": "Last-minute title"},
        budget={},
        lock_version=proposal.lock_version,
        now=CLOSES - SECOND,
    )
    proposal.refresh_from_db()
    assert (result.saved, proposal.title, proposal.updated_at) == (True, "Last-minute title", CLOSES - SECOND)


def test_letter_upload_after_the_deadline_is_refused_and_stores_nothing(pi, settings):
    proposal = ready_draft(pi)
    letters_before = list(SupportLetter.objects.values_list("pk", flat=True))
    files_before = sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())

    with pytest.raises(ProposalError) as refused:
        letter_attach(
            proposal_id=proposal.pk,
            pdf=check_pdf(pdf_upload(content=pdf_bytes(2))),
            now=CLOSES + SECOND,
            user=pi,
        )

    assert refused.value.code == "closed"
    assert list(SupportLetter.objects.values_list("pk", flat=True)) == letters_before
    assert sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) == files_before


def test_withdraw_after_the_deadline_is_refused(pi):
    proposal = ready_draft(pi)
    proposal_submit(proposal_id=proposal.pk, user=pi, now=CLOSES - dt.timedelta(hours=1))

    with pytest.raises(ProposalError) as refused:
        proposal_withdraw(proposal_id=proposal.pk, user=pi, now=CLOSES + SECOND, reason="Changed my mind")

    assert refused.value.code == "closed"
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SUBMITTED
    assert AuditEntry.objects.filter(action="proposal.withdraw").count() == 0


def test_resubmitting_changes_after_the_deadline_is_refused_and_version_1_still_counts(pi):
    proposal = ready_draft(pi)
    proposal_submit(proposal_id=proposal.pk, user=pi, now=CLOSES - dt.timedelta(hours=2))
    proposal_save_draft(
        proposal_id=proposal.pk,
        user=pi,
        data={"title": "A better title"},
        budget={},
        lock_version=proposal.lock_version,
        now=CLOSES - dt.timedelta(hours=1),
    )

    with pytest.raises(ProposalError) as refused:
        proposal_submit(proposal_id=proposal.pk, user=pi, now=CLOSES + SECOND)

    assert refused.value.code == "closed"
    assert list(proposal.versions.values_list("number", flat=True)) == [1]


def test_creating_a_proposal_after_the_deadline_is_refused(pi):
    call = CallFactory(opens_at=OPENS, closes_at=CLOSES)

    with pytest.raises(ProposalError) as refused:
        proposal_create(call_id=call.pk, pi=pi, now=CLOSES + SECOND)

    assert refused.value.code == "closed"
    assert call.proposals.count() == 0
