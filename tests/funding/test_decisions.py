"""The directorate's decisions: amounts within the call's bounds and envelope, state moves, changes until
the mail is sent; the overview in a constant number of queries; the mails sent once, never twice, with the
evaluation summary in each reader's language (the summary itself: test_evaluation)."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

import iea.mail
import reviews.domain.evaluation
from funding.domain.decisions import decision_set, decisions_announce, decisions_overview
from iea.audit.models import AuditEntry
from iea.notifications import domain as notifications_domain
from iea.notifications.models import Notification
from proposals.models import Proposal, ProposalState
from reviews.models import Decision
from tests.factories import InstituteFactory, UserFactory
from tests.pdfs import pdf_text
from tests.proposals import test_concurrency as concurrency
from tests.reviews.staff_factories import closed_call, ranked_proposal, set_state

pytestmark = pytest.mark.django_db

# The concurrency fixtures of the submission tests: a PostgreSQL guard, and a SQLite file copy for threads.
sqlite_file_copy = concurrency.sqlite_file_copy


@pytest.fixture
def past_call():
    return closed_call()


@pytest.fixture
def ranked(past_call, pi):
    return ranked_proposal(past_call, pi=pi)


def decide(proposal, user, outcome, amount=None, now=None, reason=""):
    return decision_set(proposal_id=proposal.pk, user=user, outcome=outcome,
                        amount=None if amount is None else Decimal(amount), now=now or timezone.now(),
                        override_reason=reason)


def state_of(proposal) -> str:
    return Proposal.objects.get(pk=proposal.pk).state


# decision_set -----------------------------------------------------------------------------------------------


def test_selecting_records_the_decision_moves_the_proposal_and_audits(ranked, staff):
    now = timezone.now()
    decision = decide(ranked, staff, "selected", "12500", now=now)
    assert (decision.outcome, decision.amount, decision.decided_by, decision.decided_at, decision.notified_at) == (
        "selected", Decimal("12500"), staff, now, None)
    assert state_of(ranked) == ProposalState.SELECTED
    entry = AuditEntry.objects.get(action="proposal.decide")
    assert (entry.from_state, entry.to_state, entry.data) == (
        "ranked", "selected", {"outcome": "selected", "amount": "12500.00", "previous": None})


@pytest.mark.parametrize("amount", [None, "9999.99", "14000.01", "0"])
def test_a_selection_needs_an_amount_within_the_calls_bounds(ranked, staff, amount):
    with pytest.raises(ValidationError) as refused:
        decide(ranked, staff, "selected", amount)
    assert refused.value.code == "amount"
    assert state_of(ranked) == ProposalState.RANKED
    assert Decision.objects.count() == 0


@pytest.mark.parametrize("amount", ["10000", "14000"])
def test_the_bounds_themselves_are_allowed(ranked, staff, amount):
    assert decide(ranked, staff, "selected", amount).amount == Decimal(amount)


def test_reserve_and_rejection_need_no_amount(past_call, staff):
    reserve, rejected, reserve_with_amount = (ranked_proposal(past_call, rank=n) for n in (1, 2, 3))
    assert decide(reserve, staff, "reserve").amount is None
    assert decide(rejected, staff, "rejected").amount is None
    assert decide(reserve_with_amount, staff, "reserve", "11000").amount == Decimal(11000)
    assert [state_of(p) for p in (reserve, rejected, reserve_with_amount)] == ["reserve", "rejected", "reserve"]


def test_a_rejection_with_an_amount_is_refused(ranked, staff):
    with pytest.raises(ValidationError) as refused:
        decide(ranked, staff, "rejected", "12000")
    assert refused.value.code == "amount"


def test_an_unknown_outcome_is_refused(ranked, staff):
    with pytest.raises(ValidationError):
        decide(ranked, staff, "funded", "12000")


@pytest.mark.parametrize("state", [ProposalState.SUBMITTED, ProposalState.ELIGIBLE, ProposalState.INELIGIBLE,
                                   ProposalState.WITHDRAWN, ProposalState.FUNDED])
def test_only_proposals_in_review_or_ranked_are_decided(ranked, staff, state):
    set_state(ranked, state)
    with pytest.raises(ValidationError) as refused:
        decide(ranked, staff, "selected", "12000")
    assert refused.value.code == "state"
    assert state_of(ranked) == state


def test_a_proposal_in_review_can_be_decided(ranked, staff):
    set_state(ranked, ProposalState.IN_REVIEW)
    decide(ranked, staff, "reserve")
    assert state_of(ranked) == ProposalState.RESERVE


def test_only_staff_decide(ranked, pi):
    with pytest.raises(ValidationError) as refused:
        decide(ranked, pi, "selected", "12000")
    assert refused.value.code == "forbidden"


def test_a_decision_can_change_until_its_mail_is_sent(ranked, staff, django_capture_on_commit_callbacks):
    decide(ranked, staff, "selected", "12000")
    decision = decide(ranked, staff, "reserve")
    assert Decision.objects.count() == 1
    assert (decision.outcome, decision.amount, state_of(ranked)) == ("reserve", None, ProposalState.RESERVE)
    assert AuditEntry.objects.filter(action="proposal.decide").order_by("pk").last().data["previous"] == {
        "outcome": "selected", "amount": "12000.00"}
    with django_capture_on_commit_callbacks(execute=False):
        decisions_announce(call_id=ranked.call_id, user=staff, now=timezone.now())
    with pytest.raises(ValidationError) as refused:
        decide(ranked, staff, "selected", "12000")
    assert refused.value.code == "notified"
    assert "can no longer be changed" in refused.value.messages[0]
    assert (Decision.objects.get().outcome, state_of(ranked)) == ("reserve", ProposalState.RESERVE)


def test_selections_stay_within_the_envelope(staff):
    call = closed_call(total_envelope=Decimal(25000))
    first, second, third = (ranked_proposal(call, rank=n) for n in (1, 2, 3))
    decide(first, staff, "selected", "12000")
    decide(second, staff, "selected", "13000")
    with pytest.raises(ValidationError) as refused:
        decide(third, staff, "selected", "10000")
    assert refused.value.code == "envelope"
    assert "(€0.00 remain)" in refused.value.messages[0]
    # Changing a selected amount counts the proposal once, not twice.
    decide(second, staff, "selected", "12500")
    decide(third, staff, "reserve")
    assert state_of(third) == ProposalState.RESERVE


# decisions_overview --------------------------------------------------------------------------------------------


def test_the_overview_groups_by_institute_in_rank_order_with_totals(staff):
    call = closed_call(total_envelope=Decimal(50000))
    chem, phys = InstituteFactory(code="INC"), InstituteFactory(code="INP")
    c2 = ranked_proposal(call, institute=chem, rank=2, reference="IEA30-C2")
    c1 = ranked_proposal(call, institute=chem, rank=1, reference="IEA30-C1")
    c_unranked = ranked_proposal(call, institute=chem, rank=None, recommendation="", reference="IEA30-C0")
    p1 = ranked_proposal(call, institute=phys, rank=1, reference="IEA30-P1", reviews=1)
    in_review = set_state(ranked_proposal(call, institute=phys, rank=None, reference="IEA30-P9"), ProposalState.IN_REVIEW)
    set_state(ranked_proposal(call, institute=phys, reference="IEA30-XX", rank=5), ProposalState.WITHDRAWN)
    Proposal.objects.filter(reference="IEA30-XX").first().panel_recommendation.delete()
    decide(c1, staff, "selected", "12000")
    decide(p1, staff, "selected", "14000", reason="One review: the second reviewer withdrew.")
    decide(c2, staff, "rejected")
    overview = decisions_overview(call=call)
    assert [(g.institute.code, [r.proposal.reference for r in g.rows]) for g in overview.groups] == [
        ("INC", ["IEA30-C1", "IEA30-C2", "IEA30-C0"]), ("INP", ["IEA30-P1", "IEA30-P9"])]
    assert [g.selected_total for g in overview.groups] == [Decimal(12000), Decimal(14000)]
    assert (overview.envelope, overview.selected_total, overview.remaining) == (
        Decimal(50000), Decimal(26000), Decimal(24000))
    assert (overview.selected_count, overview.undecided_count, overview.unnotified_count) == (2, 2, 3)
    first = overview.groups[0].rows[0]
    assert (first.recommendation.rank, first.recommendation.proposed_amount, first.decision.outcome) == (
        1, Decimal(12000), "selected")
    assert (round(first.mean_score, 2), first.review_count) == (Decimal("3.92"), 2)
    assert (overview.groups[1].rows[0].review_count, overview.groups[1].rows[1].proposal) == (1, in_review)
    assert (c_unranked.pk, overview.groups[0].rows[2].suggested_outcome) == (overview.groups[0].rows[2].proposal.pk, "")
    assert overview.groups[1].rows[1].suggested_outcome == "selected"


def test_the_overview_without_envelope_has_nothing_remaining(ranked, staff):
    overview = decisions_overview(call=ranked.call)
    assert (overview.envelope, overview.remaining, overview.selected_total) == (None, None, Decimal(0))


def test_the_overview_takes_a_constant_number_of_queries(past_call, staff, queries):
    def read():
        overview = decisions_overview(call=past_call)
        return [(row.proposal.pi.email, row.proposal.institute, row.recommendation, row.decision,
                 row.mean_score, row.suggested_amount) for row in overview.rows]

    institutes = [InstituteFactory() for _ in range(3)]
    ranks = iter(range(1, 100))

    def rank(n):
        # A reserve of each institute with its reviews; then half of the others selected anyway on one review.
        for index in range(n):
            number = next(ranks)
            if number <= 3:
                decide(ranked_proposal(past_call, institute=institutes[index], rank=1), staff, "reserve")
                continue
            proposal = ranked_proposal(past_call, institute=institutes[index % 3], rank=number, reviews=1)
            if index % 2:
                decide(proposal, staff, "selected", "12000", reason="One review is enough here.")

    assert queries.at_sizes(rank, read, sizes=(3, 30)) == (1, 1)
    assert len(read()) == 30


# decisions_announce -------------------------------------------------------------------------------------------------


def test_the_mails_go_to_the_pi_and_the_partner_with_the_summary_once(
    ranked, staff, mailoutbox, django_capture_on_commit_callbacks
):
    decide(ranked, staff, "selected", "12500")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert decisions_announce(call_id=ranked.call_id, user=staff, now=now) == 1
        assert mailoutbox == []
    assert [m.to for m in mailoutbox] == [["pi@cnrs.example.fr"], ["ana@usp.example.br"]]
    pi_mail, partner_mail = mailoutbox
    assert pi_mail.subject == f"Decision on proposal {ranked.reference}"
    assert "is selected for funding: €12,500.00 in total over the two years." in pi_mail.body
    assert "Dear Ana Souza," in partner_mail.body
    for message in mailoutbox:
        [(filename, content, mimetype)] = message.attachments
        assert (filename, mimetype) == (f"evaluation-{ranked.reference}.pdf", "application/pdf")
        assert ranked.reference in pdf_text(content)
    assert Decision.objects.get().notified_at == now
    assert AuditEntry.objects.filter(action="proposal.decision_mail").count() == 1

    with django_capture_on_commit_callbacks(execute=True) as second:
        assert decisions_announce(call_id=ranked.call_id, user=staff, now=timezone.now()) == 0
    assert (len(second), len(mailoutbox)) == (0, 2)
    assert Decision.objects.get().notified_at == now


def test_the_decision_mail_and_its_pdf_show_the_amount_in_the_reader_s_language(
    ranked, staff, mailoutbox, django_capture_on_commit_callbacks
):
    type(ranked.pi).objects.filter(pk=ranked.pi_id).update(language="fr")
    decide(ranked, staff, "selected", "12500.5")
    with django_capture_on_commit_callbacks(execute=True):
        decisions_announce(call_id=ranked.call_id, user=staff, now=timezone.now())
    pi_mail = next(message for message in mailoutbox if message.to == ["pi@cnrs.example.fr"])
    french = "12\N{NARROW NO-BREAK SPACE}500,50\N{NO-BREAK SPACE}€"
    assert f"{french} au total sur les deux ans." in pi_mail.body
    assert french in pi_mail.alternatives[0][0]
    [(_filename, content, _mimetype)] = pi_mail.attachments
    # The PDF's text layer gives the no-break spaces back as plain spaces.
    assert "Montant attribué 12 500,50 €" in pdf_text(content)



def test_each_outcome_has_its_own_text(past_call, staff, mailoutbox, django_capture_on_commit_callbacks):
    reserve, rejected = ranked_proposal(past_call, rank=1, partner_email=""), ranked_proposal(past_call, rank=2, partner_email="")
    decide(reserve, staff, "reserve")
    decide(rejected, staff, "rejected")
    with django_capture_on_commit_callbacks(execute=True):
        assert decisions_announce(call_id=past_call.pk, user=staff, now=timezone.now()) == 2
    bodies = {m.to[0]: m.body for m in mailoutbox}
    assert "is on the reserve list" in bodies[reserve.pi.email]
    assert "is not selected for funding" in bodies[rejected.pi.email]


def test_only_decided_proposals_of_the_call_are_mailed(past_call, staff, django_capture_on_commit_callbacks):
    decided, undecided = ranked_proposal(past_call, rank=1), ranked_proposal(past_call, rank=2)
    other_call = closed_call()
    elsewhere = ranked_proposal(other_call, rank=1)
    decide(decided, staff, "rejected")
    decide(elsewhere, staff, "rejected")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert decisions_announce(call_id=past_call.pk, user=staff, now=timezone.now()) == 1
    assert len(queued) == 2  # to the PI and to the partner
    assert set(Notification.objects.values_list("object_id", flat=True)) == {decided.decision.pk}
    assert list(Decision.objects.filter(notified_at__isnull=False).values_list("proposal", flat=True)) == [decided.pk]
    assert state_of(undecided) == ProposalState.RANKED


def test_only_staff_send_the_mails(ranked, staff, pi):
    decide(ranked, staff, "rejected")
    with pytest.raises(ValidationError):
        decisions_announce(call_id=ranked.call_id, user=pi, now=timezone.now())
    assert Decision.objects.get().notified_at is None


def test_the_pi_gets_the_mail_and_the_summary_in_their_language(
    past_call, staff, monkeypatch, django_capture_on_commit_callbacks
):
    french_pi = UserFactory(email="chercheuse@cnrs.example.fr", language="fr")
    proposal = ranked_proposal(past_call, pi=french_pi)
    decide(proposal, staff, "selected", "12000")
    mails, pdfs = [], []
    real_pdf, real_build = reviews.domain.evaluation.evaluation_summary_pdf, iea.mail.build_message
    monkeypatch.setattr(iea.mail, "build_message",
                        lambda **kw: mails.append((kw["name"], kw["language"])) or real_build(**kw))
    monkeypatch.setattr(reviews.domain.evaluation, "evaluation_summary_pdf",
                        lambda **kw: pdfs.append(kw["language"]) or real_pdf(**kw))
    with django_capture_on_commit_callbacks(execute=True):
        decisions_announce(call_id=past_call.pk, user=staff, now=timezone.now())
    assert mails == [("decision", "fr"), ("decision_partner", "en")]
    assert pdfs == ["fr", "en"]


# Two clicks at once -------------------------------------------------------------------------------------------


@dataclass
class MailRecorder:
    """Stands in for the outbox's queue: records which decisions' mails to the PI were queued on commit."""

    sent: list = field(default_factory=list)

    def __call__(self, ids):
        self.sent.extend(Notification.objects.filter(pk__in=ids, kind="decision").values_list("object_id", flat=True))


@pytest.fixture
def decision_mails(monkeypatch):
    recorder = MailRecorder()
    monkeypatch.setattr(notifications_domain, "enqueue", recorder)
    return recorder


def notify_together(call, staff, threads: int, database=None):
    now = timezone.now()
    return concurrency.run_together(threads, lambda: decisions_announce(call_id=call.pk, user=staff, now=now), database=database)


def decided_call(staff):
    call = closed_call()
    for rank, outcome in enumerate(["selected", "reserve", "rejected"], start=1):
        decide(ranked_proposal(call, rank=rank), staff, outcome, "12000" if outcome == "selected" else None)
    return call


def assert_each_mailed_once(results, errors, recorder):
    assert errors == []
    assert sorted(results, reverse=True)[0] == 3 and sum(results) == 3
    decisions = sorted(Decision.objects.values_list("pk", flat=True))
    assert sorted(recorder.sent) == decisions
    assert AuditEntry.objects.filter(action="proposal.decision_mail").count() == 3
    assert Decision.objects.filter(notified_at__isnull=True).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_clicks_send_each_decision_once_on_postgresql(require_postgres, staff, decision_mails):
    call = decided_call(staff)
    results, errors = notify_together(call, staff, threads=8)
    assert_each_mailed_once(results, errors, decision_mails)


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_simultaneous_clicks_send_each_decision_once_on_sqlite(sqlite_file_copy, staff, decision_mails):
    call = decided_call(staff)
    path, copy = sqlite_file_copy
    copy()
    results, errors = notify_together(call, staff, threads=4, database=path)
    with concurrency._using(concurrency._file_connection(path)):
        assert_each_mailed_once(results, errors, decision_mails)


def test_the_units_managers_are_told_too_in_their_language(ranked, staff, mailoutbox, django_capture_on_commit_callbacks):
    from tests.factories import UserFactory

    manager = UserFactory(email="gestion@unit.example.fr", language="en")
    ranked.unit.managers.add(manager)
    decide(ranked, staff, "selected", "12500")
    with django_capture_on_commit_callbacks(execute=True):
        decisions_announce(call_id=ranked.call_id, user=staff, now=timezone.now())
    unit_mails = [m for m in mailoutbox if m.to == ["gestion@unit.example.fr"]]
    assert [m.subject for m in unit_mails] == [f"Decision on proposal {ranked.reference} ({ranked.unit.code})"]
    assert "is selected for funding: €12,500.00 in total over the two years." in unit_mails[0].body
    assert unit_mails[0].attachments[0][0] == f"evaluation-{ranked.reference}.pdf"
