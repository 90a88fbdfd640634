"""Retention and anonymisation of proposals: which proposals are past retention (states chosen with care),
that nothing personal is left afterwards while the statistics stay, that files leave the storage, that it
is audited per proposal, idempotent, and staff only."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from calls.models import CallState
from funding.models import Amendment, Award, AwardVersion, CosignInvitation, Report, SpendingLine
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from iea.site.privacy.domain import (
    PrivacyError,
    past_retention,
    proposal_anonymise,
    proposals_anonymise,
    retained_until,
)
from iea.site.privacy.domain.retention import years_after
from iea.site.privacy.models import AnonymisedProposal
from proposals.models import (
    BudgetLine,
    CoApplicant,
    InformationRequest,
    Message,
    PartnerInvitation,
    Proposal,
    ProposalVersion,
    SupportLetter,
    TeamMember,
)
from reviews.models import Assignment, Conflict, Decision, PanelRecommendation, Review, Score
from tests.factories import StaffFactory, UserFactory

from .factories import close, conversed, filed, funded, past_call, personal_values, reviewed, years_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_call():
    """A call that closed 6 years ago, with the default retention of 5 years."""
    return past_call(closed=years_ago(6))


def references(queryset) -> list[str]:
    return sorted(queryset.values_list("reference", flat=True))


# --- which proposals ------------------------------------------------------------------------------------


def test_the_proposals_past_retention_are_those_that_ended_without_funding_and_the_funded_with_a_long_closed_award(
        old_call):
    ended = {state: filed(old_call, n=i, state=state) for i, state in
             enumerate(["draft", "withdrawn", "ineligible", "reserve", "rejected"])}
    unconcluded = [filed(old_call, n=10 + i, state=state) for i, state in
                   enumerate(["submitted", "eligible", "in_review", "ranked", "selected"])]
    long_closed = funded(old_call, closed_at=years_ago(5, now=timezone.now()) - dt.timedelta(days=2), n=20)
    recently_closed = funded(old_call, closed_at=years_ago(2), n=21)
    running = funded(old_call, closed_at=None, n=22)
    close(old_call)

    assert references(past_retention(old_call, now=timezone.now())) == sorted(
        [p.reference for p in ended.values()] + [long_closed.proposal.reference])
    assert not {p.pk for p in unconcluded} & set(past_retention(old_call, now=timezone.now()).values_list("pk", flat=True))
    assert recently_closed.proposal.reference not in references(past_retention(old_call, now=timezone.now()))
    assert running.proposal.reference not in references(past_retention(old_call, now=timezone.now()))


def test_nothing_is_past_retention_before_the_period_has_passed_since_closing(old_call):
    filed(old_call, state="rejected", decided_at=old_call.closes_at + dt.timedelta(days=30))
    close(old_call)
    five_years_after = years_after(old_call.closes_at, 5)
    assert references(past_retention(old_call, now=five_years_after - dt.timedelta(seconds=1))) == []
    # The decision came 30 days after closing: the period runs from it.
    assert references(past_retention(old_call, now=five_years_after + dt.timedelta(days=1))) == []
    assert len(references(past_retention(old_call, now=five_years_after + dt.timedelta(days=31)))) == 1


def test_the_period_is_the_calls_own(db):
    call = past_call(closed=years_ago(3), retention_years=2)
    proposal = filed(call, state="withdrawn")
    close(call)
    assert references(past_retention(call, now=timezone.now())) == [proposal.reference]
    call.retention_years = 4
    call.save(update_fields=["retention_years"])
    assert references(past_retention(call, now=timezone.now())) == []


def test_a_call_not_closed_keeps_everything(old_call):
    filed(old_call, state="withdrawn")
    assert old_call.state == CallState.OPEN
    assert references(past_retention(old_call, now=timezone.now())) == []


def test_retained_until_says_until_when_and_why(old_call):
    rejected = filed(old_call, n=1, state="rejected", decided_at=old_call.closes_at + dt.timedelta(days=10))
    in_review = filed(old_call, n=2, state="in_review")
    award = funded(old_call, closed_at=None, n=3)
    close(old_call)
    assert retained_until(Proposal.objects.get(pk=rejected.pk)) == (
        years_after(old_call.closes_at + dt.timedelta(days=10), 5), "retention")
    assert retained_until(Proposal.objects.get(pk=in_review.pk)) == (None, "unconcluded")
    assert retained_until(Proposal.objects.get(pk=award.proposal_id)) == (None, "award_running")


# --- what goes, what stays ------------------------------------------------------------------------------


def everything_about(proposal: Proposal) -> str:
    """Every row that belongs to the proposal, as text: where a personal value would still be found."""
    award = Award.objects.filter(proposal=proposal).first()
    rows = {
        "proposal": list(Proposal.objects.filter(pk=proposal.pk).values()),
        "team": list(TeamMember.objects.filter(proposal=proposal).values()),
        "letters": list(SupportLetter.objects.filter(proposal=proposal).values()),
        "versions": list(ProposalVersion.objects.filter(proposal=proposal).values()),
        "invitations": list(PartnerInvitation.objects.filter(proposal=proposal).values()),
        "reviews": list(Review.objects.filter(proposal=proposal).values()),
        "scores": list(Score.objects.filter(review__proposal=proposal).values()),
        "conflicts": list(Conflict.objects.filter(proposal=proposal).values()),
        "assignments": list(Assignment.objects.filter(proposal=proposal).values()),
        "consensus": list(PanelRecommendation.objects.filter(proposal=proposal).values()),
        "reports": list(Report.objects.filter(award=award).values()),
        "cosign": list(CosignInvitation.objects.filter(report__award=award).values()),
        "spending": list(SpendingLine.objects.filter(award=award).values()),
        "award": list(Award.objects.filter(pk=getattr(award, "pk", None)).values()),
        "award_versions": list(AwardVersion.objects.filter(award=award).values()),
        "amendments": list(Amendment.objects.filter(award=award).values()),
        "conversation": list(Message.objects.filter(thread__proposal=proposal).values()),
        "information_requests": list(InformationRequest.objects.filter(proposal=proposal).values()),
        "coapplicants": list(CoApplicant.objects.filter(proposal=proposal).values()),
        "notifications": list(Notification.objects.values()),
        "audit": list(AuditEntry.objects.values()),
    }
    return json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False).lower()


PERSONAL_KEYS = ("partner_name", "partner_email", "partner_institution", "member_name", "member_email",
                 "member_institution", "letter_name")


def test_nothing_personal_is_left_and_the_statistics_stay(old_call, django_capture_on_commit_callbacks):
    staff = StaffFactory()
    proposal = filed(old_call, n=7, state="rejected")
    reviewed(proposal)
    close(old_call)
    values = personal_values(7)
    before = everything_about(proposal)
    assert [key for key in PERSONAL_KEYS if values[key].lower() not in before] == []  # the test looks where they are
    budget = list(BudgetLine.objects.filter(proposal=proposal).values_list("year", "category", "amount"))
    letter = SupportLetter.objects.get(proposal=proposal)

    with django_capture_on_commit_callbacks(execute=True):
        assert proposal_anonymise(proposal_id=proposal.pk, user=staff, now=timezone.now()) is True

    after = everything_about(proposal)
    assert [key for key in PERSONAL_KEYS if values[key].lower() in after] == []
    for text in ("ana souza", "joao", "recife", "fishermen"):
        assert text not in after, text
    kept = Proposal.objects.select_related("unit").get(pk=proposal.pk)
    assert (kept.call_id, kept.unit_id, kept.institute.pk, kept.state, kept.partner_country.code, kept.pi_id) == (
        proposal.call_id, proposal.unit_id, proposal.institute.pk, "rejected", "BR", proposal.pi_id)
    assert (kept.title, kept.keywords) == (proposal.title, proposal.keywords)
    assert list(BudgetLine.objects.filter(proposal=proposal).values_list("year", "category", "amount")) == budget
    assert list(Score.objects.filter(review__proposal=proposal).values_list("score", flat=True)) == [Decimal("3.5")]
    assert list(Review.objects.filter(proposal=proposal).values_list("recommendation", flat=True)) == ["reject"]
    assert Decision.objects.get(proposal=proposal).outcome == "rejected"
    assert list(TeamMember.objects.filter(proposal=proposal).values_list("side", "name", "position", "early_career")) == [
        ("cnrs", "", "", False), ("partner", "", "", True), ("partner", "", "PhD student", True)]
    erased = SupportLetter.objects.get(pk=letter.pk)
    assert (erased.file.name, erased.original_name, erased.sha256, erased.size) == ("", "erased", letter.sha256,
                                                                                   letter.size)
    assert not default_storage.exists(letter.file.name)
    version = ProposalVersion.objects.get(proposal=proposal)
    assert (version.content["anonymised"], version.content["partner"]["country"], version.content["budget_total"]) == (
        True, "BR", "12000.00")
    assert PartnerInvitation.objects.filter(proposal=proposal, revoked_at__isnull=True).count() == 0


def test_a_funded_proposal_loses_its_reports_personal_texts_and_files(django_capture_on_commit_callbacks):
    call = past_call(closed=years_ago(9))
    award = funded(call, closed_at=years_ago(6), n=4)
    close(call)
    pdf_name = Report.objects.get(award=award, period="year1").scientific_pdf.name
    assert default_storage.exists(pdf_name)

    with django_capture_on_commit_callbacks(execute=True):
        result = proposals_anonymise(call_id=call.pk, user=StaffFactory(), now=timezone.now())

    assert result.anonymised == [award.proposal.reference]
    assert not default_storage.exists(pdf_name)
    after = everything_about(award.proposal)
    for text in ("ana souza", "joao", "recife", personal_values(4)["partner_email"]):
        assert text not in after, text
    report = Report.objects.get(award=award, period="year1")
    assert (report.scientific_review, report.scientific_pdf.name, report.cosigned_by) == ("", "", "")
    assert (report.cosign_declined_by, report.cosign_decline_comment) == ("", "")
    assert list(SpendingLine.objects.filter(award=award).values_list("amount", "description")) == [(Decimal(800), "")]
    assert Award.objects.get(pk=award.pk).amount == award.amount


def test_the_conversations_requests_coapplicants_and_amendments_lose_what_names_people(
        django_capture_on_commit_callbacks):
    call = past_call(closed=years_ago(9))
    award = funded(call, closed_at=years_ago(6), n=5)
    added = conversed(award, n=5)
    close(call)
    before = everything_about(award.proposal)
    personal = ("ana souza", "joao", added["institution"], added["coapplicant"], "lettre ana souza5.pdf")
    assert [text for text in personal if text not in before] == []  # the test looks where they are
    assert default_storage.exists(added["attachment"])

    with django_capture_on_commit_callbacks(execute=True):
        assert proposal_anonymise(proposal_id=award.proposal_id, user=StaffFactory(), now=timezone.now()) is True

    after = everything_about(award.proposal)
    assert [text for text in personal if text in after] == []
    assert not default_storage.exists(added["attachment"])
    # What the statistics and the history need stays: who wrote when, the kind and outcome of each change.
    kept = list(Message.objects.filter(thread__proposal=award.proposal).order_by("id")
                .values_list("side", "text", "attachment", "attachment_name", "attachment_pages"))
    assert kept == [("applicants", "", "", "erased", 1), ("directorate", "", "", "", None)]
    assert list(Amendment.objects.filter(award=award).values_list("kind", "state", "new_country")) == [
        ("institution", "approved", "BR")]
    assert CoApplicant.objects.get(proposal=award.proposal).revoked_at is not None
    erased = AnonymisedProposal.objects.get(proposal=award.proposal).erased
    assert (erased["conversation_messages"], erased["information_requests"], erased["coapplicants"],
            erased["amendments"]) == (2, 1, 1, 1)


def test_files_stay_when_the_transaction_fails(old_call, monkeypatch, django_capture_on_commit_callbacks):
    """The files are deleted once the erasure is committed, never before."""
    import iea.site.privacy.domain.anonymise as anonymise

    proposal = filed(old_call, state="withdrawn")
    close(old_call)
    name = SupportLetter.objects.get(proposal=proposal).file.name
    monkeypatch.setattr(anonymise.AnonymisedProposal.objects, "create", lambda **kw: (_ for _ in ()).throw(RuntimeError))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        proposal_anonymise(proposal_id=proposal.pk, user=StaffFactory(), now=timezone.now())
    assert default_storage.exists(name)
    assert SupportLetter.objects.get(proposal=proposal).original_name != "erased"


def test_each_proposal_is_audited_and_a_second_run_does_nothing(old_call):
    staff = StaffFactory()
    proposals = [filed(old_call, n=i, state="rejected") for i in range(3)]
    close(old_call)
    first = proposals_anonymise(call_id=old_call.pk, user=staff, now=timezone.now())
    assert sorted(first.anonymised) == sorted(p.reference for p in proposals)
    entries = list(AuditEntry.objects.filter(action="privacy.anonymise").order_by("object_id")
                   .values_list("object_id", "actor_id", "data__via", "data__team_members", "data__letters"))
    assert entries == sorted((str(p.pk), staff.pk, "admin", 3, 1) for p in proposals)
    assert AnonymisedProposal.objects.count() == 3

    second = proposals_anonymise(call_id=old_call.pk, user=staff, now=timezone.now())
    assert (second.anonymised, second.skipped) == ([], 0)
    assert AuditEntry.objects.filter(action="privacy.anonymise").count() == 3
    assert proposal_anonymise(proposal_id=proposals[0].pk, user=staff, now=timezone.now()) is False


def test_a_proposal_still_retained_is_refused(old_call):
    proposal = filed(old_call, state="in_review")
    close(old_call)
    with pytest.raises(PrivacyError) as error:
        proposal_anonymise(proposal_id=proposal.pk, user=StaffFactory(), now=timezone.now())
    assert error.value.code == "unconcluded"
    assert AnonymisedProposal.objects.count() == 0


def test_only_directorate_staff_anonymise(old_call):
    proposal = filed(old_call, state="withdrawn")
    close(old_call)
    for user in (UserFactory(), proposal.pi):
        with pytest.raises(PrivacyError) as error:
            proposals_anonymise(call_id=old_call.pk, user=user, now=timezone.now())
        assert error.value.code == "forbidden"
    assert Proposal.objects.get(pk=proposal.pk).partner_name == proposal.partner_name


def test_the_purge_removes_every_file_of_the_proposal_even_those_no_row_names(settings,
                                                                             django_capture_on_commit_callbacks):
    """Files that a replaced upload left before replaced files were deleted, in the proposal's own letter and
    report folders, go too; another proposal's files stay."""
    call = past_call(closed=years_ago(9))
    award = funded(call, closed_at=years_ago(6), n=5)
    other = funded(call, closed_at=None, n=6)
    close(call)
    proposal = award.proposal
    orphans = [f"letters/{proposal.pk}/replaced.pdf", f"reports/{award.pk}/replaced-1.pdf",
               f"reports/{award.pk}/replaced-2.pdf"]
    kept = [f"letters/{other.proposal.pk}/replaced.pdf", *SupportLetter.objects.filter(proposal=other.proposal)
            .values_list("file", flat=True), Report.objects.get(award=other, period="year1").scientific_pdf.name]
    for name in orphans + kept[:1]:
        default_storage.save(name, ContentFile(b"%PDF-1.4 old"))
    named = [*SupportLetter.objects.filter(proposal=proposal).exclude(file="").values_list("file", flat=True),
             Report.objects.get(award=award, period="year1").scientific_pdf.name]
    assert all(default_storage.exists(name) for name in orphans + named + kept)

    with django_capture_on_commit_callbacks(execute=True):
        result = proposals_anonymise(call_id=call.pk, user=StaffFactory(), now=timezone.now())

    assert result.anonymised == [proposal.reference]
    root = settings.MEDIA_ROOT
    assert [name for name in orphans + named if default_storage.exists(name)] == []
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == sorted(kept)
    assert AuditEntry.objects.get(action="privacy.anonymise", object_id=str(proposal.pk)).data["files"] == len(orphans + named)
