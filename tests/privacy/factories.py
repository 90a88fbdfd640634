"""A past call with proposals filed through the real domain functions (letter, partner invitation,
submission), then moved to the state a test needs; reviews, awards and reports with personal values in
every field that holds some, so the anonymisation tests can look for each of them afterwards."""

import datetime as dt
from decimal import Decimal

from allauth.mfa.models import Authenticator
from django.core.files.base import ContentFile
from django.utils import timezone

from calls.models import Call, CallState
from funding.models import Amendment, Award, AwardState, AwardVersion, CosignInvitation, Report, SpendingLine
from proposals import domain as proposals_domain
from proposals.letters import check_pdf
from proposals.models import CoApplicant, InformationRequest, Proposal, TeamMember, TeamSide
from reviews.domain.messages import message_post
from reviews.models import Conflict, Decision, PanelRecommendation, Review, Score
from tests.factories import CallFactory, ProposalFactory, StaffFactory, UserFactory
from tests.funding.factories import award_factory
from tests.pdfs import pdf_upload
from tests.reviews.factories import AssignmentFactory, ReviewerFactory

# Personal values of the third parties of a proposal; ``personal_values(n)`` for the n-th proposal.
LETTER_NAME = "Lettre signee Ana Souza {n}.pdf"


def personal_values(n: int) -> dict:
    return {
        "partner_name": f"Ana Souza{n}",
        "partner_email": f"ana{n}@usp.example.br",
        "partner_institution": f"Universidade Paulista {n}",
        "member_name": f"Joao Member{n}",
        "member_email": f"joao{n}@member.example.br",
        "member_institution": f"Instituto Member {n}",
        "letter_name": LETTER_NAME.format(n=n),
        "activities": f"Missions with Ana Souza{n} in Recife",
        "ethics": f"Interviews of fishermen, consent kept by Joao Member{n}",
    }


def past_call(*, closed: dt.datetime, retention_years: int = 5, **kw) -> Call:
    """An open call whose window ended at ``closed``; ``close(call)`` moves it on once proposals are filed."""
    return CallFactory(state=CallState.OPEN, opens_at=closed - dt.timedelta(days=90), closes_at=closed,
                       retention_years=retention_years, **{"max_active_proposals_per_pi": 50, **kw})


def close(call: Call, state: str = CallState.ARCHIVED) -> Call:
    Call.objects.filter(pk=call.pk).update(state=state)
    call.refresh_from_db()
    return call


def filed(call: Call, *, n: int = 0, pi=None, state: str = "rejected", decided_at: dt.datetime | None = None) -> Proposal:
    """A proposal submitted the day before ``call`` closed, with a team member, a partner invitation and a
    support letter, then put in ``state`` (with a decision for reserve / rejected)."""
    values = personal_values(n)
    moment = call.closes_at - dt.timedelta(days=1)
    proposal = ProposalFactory(call=call, pi=pi or UserFactory(), complete=True, created_at=moment, updated_at=moment,
                               partner_name=values["partner_name"], partner_email=values["partner_email"],
                               partner_institution=values["partner_institution"], activities=values["activities"],
                               ethics_statement=values["ethics"])
    TeamMember.objects.create(proposal=proposal, side=TeamSide.PARTNER, name=values["member_name"],
                              email=values["member_email"], institution=values["member_institution"], early_career=True,
                              position="PhD student")
    proposals_domain.invitation_create(proposal_id=proposal.pk, user=proposal.pi, email=values["partner_email"],
                                       language="en", now=moment)
    proposals_domain.letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload(values["letter_name"])),
                                   now=moment, user=proposal.pi)
    proposals_domain.proposal_submit(proposal_id=proposal.pk, user=proposal.pi, now=moment)
    Proposal.objects.filter(pk=proposal.pk).update(state=state)
    if state in ("reserve", "rejected"):
        Decision.objects.create(proposal=proposal, outcome=state, decided_at=decided_at or call.closes_at + dt.timedelta(days=60),
                                decided_by=StaffFactory(), notified_at=call.closes_at + dt.timedelta(days=60))
    proposal.refresh_from_db()
    return proposal


def reviewed(proposal: Proposal, *, reviewer_user=None) -> Review:
    """A submitted review with comments naming people, a score, a conflict detail and a consensus."""
    extra = {}
    if reviewer_user is not None:
        extra = {"user": reviewer_user,
                 "mfa": not Authenticator.objects.filter(user=reviewer_user, type=Authenticator.Type.TOTP).exists()}
    reviewer = ReviewerFactory(institute=proposal.institute, **extra)
    assignment = AssignmentFactory(proposal=proposal, reviewer=reviewer)
    moment = proposal.call.closes_at + dt.timedelta(days=20)
    review = Review.objects.create(assignment=assignment, proposal=proposal, reviewer=reviewer, state="submitted",
                                   comment_for_pi="Ana Souza is a strong partner.",
                                   confidential_comment="I met Joao at a conference.", recommendation="reject",
                                   created_at=moment, updated_at=moment, submitted_at=moment)
    criterion = proposal.call.criteria.order_by("position").first()
    Score.objects.create(review=review, criterion=criterion, score=Decimal("3.5"), max_score=criterion.scale_max,
                         comment="Joao's thesis topic fits.")
    Conflict.objects.create(proposal=proposal, reviewer=reviewer, source="declared", cause="other",
                            detail="I co-supervise Joao Member.", created_at=moment, created_by=reviewer.user)
    PanelRecommendation.objects.create(proposal=proposal, panel=assignment.panel, consensus="Ana Souza's lab is good.",
                                       rank=None, recommendation="reject", updated_at=moment)
    return review


def funded(call: Call, *, pi=None, closed_at: dt.datetime | None, n: int = 0) -> Award:
    """A funded proposal of ``call`` whose award is closed at ``closed_at`` (None: still running), with a
    year-1 report (text, PDF, co-signature), a co-signature invitation and a spending line."""
    values = personal_values(n)
    moment = call.closes_at + dt.timedelta(days=90)
    award = award_factory(call=call, now=moment, **({"pi": pi} if pi else {}),
                          partner_name=values["partner_name"], partner_email=values["partner_email"])
    report = Report.objects.get(award=award, period="year1")
    report.scientific_review = "We met Ana Souza in Recife."
    report.cosigned_by = values["partner_name"]
    # An earlier refusal to co-sign, kept on the report.
    report.cosign_declined_by = f"{values['partner_name']} <{values['partner_email']}>"
    report.cosign_decline_comment = "The Recife workshop is missing."
    report.review_comment = "Good work with Joao."
    report.scientific_pdf.save("review.pdf", ContentFile(b"%PDF-1.4 review"), save=False)
    report.save()
    CosignInvitation.objects.create(report=report, email=values["partner_email"], created_at=moment,
                                    expires_at=moment + dt.timedelta(days=30))
    SpendingLine.objects.create(award=award, date=moment.date(), category="mobility", amount=Decimal(800),
                                description="Flight for Ana Souza", recorded_at=moment, recorded_by=StaffFactory())
    if closed_at is not None:
        Award.objects.filter(pk=award.pk).update(state=AwardState.CLOSED, closed_at=closed_at)
    award.refresh_from_db()
    return award


def conversed(award: Award, *, n: int = 0) -> dict:
    """What #21 adds around a funded proposal, with personal values in every text: a conversation with an
    attached PDF, a request for information, a co-applicant, and an approved change of partner institution
    (on the amendment, the award and its version 2)."""
    values = personal_values(n)
    proposal, moment = award.proposal, award.created_at
    staff = StaffFactory()
    message = message_post(proposal_id=proposal.pk, topic="proposal", user=proposal.pi, now=moment,
                           text=f"{values['partner_name']} signs the letter on Monday.",
                           pdf=check_pdf(pdf_upload(f"Lettre {values['partner_name']}.pdf")))
    message_post(proposal_id=proposal.pk, topic="award", user=staff, now=moment, text="Fine for Joao's visit.")
    InformationRequest.objects.create(proposal=proposal, items=["letter"], message="Ana Souza has not signed.",
                                      deadline=moment, asked_at=moment, asked_by=staff, state="answered")
    coapplicant = UserFactory(email=f"colleague{n}@cnrs.example.fr")
    CoApplicant.objects.create(proposal=proposal, email=coapplicant.email, user=coapplicant, invited_at=moment,
                               invited_by=proposal.pi, accepted_at=moment)
    institution = f"Universidade Federal de Recife {n}"
    amendment = Amendment.objects.create(
        award=award, kind="institution", state="approved", reason="Ana Souza moves to Recife.",
        requested_at=moment, requested_by=proposal.pi, new_institution=institution, new_country="BR",
        opinion="favourable", opinion_comment="Joao agrees.", opinion_at=moment, decided_at=moment,
        decided_by=staff, decision_reason="Approved after a call with Ana Souza.")
    AwardVersion.objects.create(award=award, number=2, created_at=moment, amendment=amendment,
                                data={"amount": str(award.amount), "partner_institution": institution,
                                      "partner_country": "BR"})
    Award.objects.filter(pk=award.pk).update(partner_institution=institution)
    return {"attachment": message.attachment.name, "institution": institution.lower(),
            "coapplicant": coapplicant.email}


def years_ago(years: int, *, now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    return now - dt.timedelta(days=round(365.25 * years))
