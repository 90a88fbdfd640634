"""Anonymising the proposals whose retention period has passed (see ``retention``).

What goes (``ERASED`` or blank): the foreign partner's name, e-mail and institution; the team members'
names, e-mails and institutions; the free texts that name people (planned missions, ethics statement,
reviewers' comments, the consensus, the annual reports' texts, spending descriptions, declined-assignment
and conflict details); the support letters' and reports' files (deleted from storage; their size, pages,
SHA-256 and co-funding stay, their name becomes ``ERASED``), with every other file in the proposal's
letter and report folders; the invitation and co-signature addresses;
what #21 added: the conversations' texts and attached PDFs (the messages' authors, dates and sides stay),
the requests for information's messages, the co-applicants' addresses (live invitations revoked), the
amendments' reasons, opinions and decisions, and the partner institution an amendment named (on the
amendment, the award and its versions);
the same values in the submitted versions, the outbox and the audit trail.

What stays, for the statistics: the call, the PI's unit and institute, the partner's country, the state
and dates, the title, acronym, abstract and keywords, the budget, the team's sides, positions and
early-career flags, scores and recommendations, the decision, the award, its tranches and spending
amounts. The link to the PI stays: the PI's account has its own erasure (``erasure``).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from calls.models import Call
from funding.models import (
    Amendment,
    Award,
    AwardVersion,
    CosignInvitation,
    Report,
    SpendingLine,
    report_folder,
)
from iea.audit.domain import audit_record
from iea.audit.models import AuditEntry
from iea.errors import DomainError
from iea.files import delete_on_commit, stored_names
from iea.roles import is_directorate
from proposals.models import (
    CoApplicant,
    InformationRequest,
    Message,
    PartnerInvitation,
    Proposal,
    ProposalVersion,
    SupportLetter,
    TeamMember,
    letter_folder,
    message_folder,
)
from reviews.models import Assignment, Conflict, PanelRecommendation, Review, Score

from ..models import AnonymisationVia, AnonymisedProposal
from .retention import past_retention, retention_blocker, with_retention_data
from .scrub import ERASED, audit_about, audit_redact, notifications_about, notifications_forget

# The proposal's own fields that are blanked; everything else on the row stays.
PROPOSAL_BLANKED = ("partner_name", "partner_email", "partner_institution", "activities", "ethics_statement")


class PrivacyError(DomainError):
    """A personal-data rule refused the request."""


def _require_staff(user) -> None:
    # ``None`` is the platform itself (the privacy_purge command), never a request.
    if user is not None and not is_directorate(user):
        raise PrivacyError(_("Only directorate staff can do this."), code="forbidden")


def scrub_snapshot(content: dict) -> dict:
    """A submitted version's frozen content without its personal values. Its ``content_sha256`` stays the
    hash of what was submitted: a receipt can still be checked against the original."""
    content = dict(content or {})
    if isinstance(content.get("partner"), dict):
        content["partner"] = {**content["partner"], "name": "", "email": "", "institution": ""}
    content["team"] = [{**member, "name": "", "email": "", "institution": ""} for member in content.get("team") or []]
    for key in ("activities", "ethics_statement"):
        if key in content:
            content[key] = ""
    if isinstance(content.get("letter"), dict):
        content["letter"] = {**content["letter"], "name": ERASED}
    content["anonymised"] = True
    return content


@dataclass
class _Files:
    """Stored files to delete once the transaction that forgot them commits (never before: a rollback
    would leave rows pointing to nothing): the files the rows name, and whatever else lies in the
    proposal's folders (a file a row stopped naming before replaced files were deleted)."""

    names: set = field(default_factory=set)

    def add(self, field_file) -> None:
        if field_file:
            self.names.add(field_file.name)

    def add_folder(self, folder: str) -> None:
        self.names.update(stored_names(default_storage, folder))

    def delete_on_commit(self) -> None:
        delete_on_commit(sorted(self.names))


def proposal_anonymise(*, proposal_id: int, user, now: dt.datetime, via: str = AnonymisationVia.ADMIN) -> bool:
    """Erase the personal data of one proposal whose retention period has passed (module docstring).

    The proposal row is locked and the retention re-checked under the lock; a proposal already anonymised
    is left as it is (returns False), so two runs at once, or one run twice, anonymise it once. One audit
    entry, ``privacy.anonymise``, says what was erased (counts, never the values).
    """
    _require_staff(user)
    try:
        with transaction.atomic():
            return _anonymise(proposal_id=proposal_id, user=user, now=now, via=via)
    except IntegrityError:
        # Another run anonymised it between our check and our record (databases without row locks).
        if AnonymisedProposal.objects.filter(proposal_id=proposal_id).exists():
            return False
        raise


def _anonymise(*, proposal_id: int, user, now: dt.datetime, via: str) -> bool:
    Proposal.objects.select_for_update(of=("self",)).filter(pk=proposal_id).first()
    proposal = with_retention_data(Proposal.objects.filter(pk=proposal_id)).get()
    if AnonymisedProposal.objects.filter(proposal=proposal).exists():
        return False
    blocker = retention_blocker(proposal, now=now)
    if blocker is not None:
        raise PrivacyError(blocker.describe(), code=blocker.code)

    letters = list(SupportLetter.objects.filter(proposal=proposal))
    members = list(TeamMember.objects.filter(proposal=proposal))
    invitations = list(PartnerInvitation.objects.filter(proposal=proposal))
    versions = list(ProposalVersion.objects.filter(proposal=proposal))
    award = Award.objects.filter(proposal=proposal).first()
    reports = list(Report.objects.filter(award=award)) if award else []
    cosigns = list(CosignInvitation.objects.filter(report__in=reports)) if reports else []
    conversation = list(Message.objects.filter(thread__proposal=proposal))
    requests = list(InformationRequest.objects.filter(proposal=proposal))
    coapplicants = list(CoApplicant.objects.filter(proposal=proposal))
    amendments = list(Amendment.objects.filter(award=award)) if award else []
    award_versions = list(AwardVersion.objects.filter(award=award)) if award else []

    personal = {proposal.partner_name, proposal.partner_email, proposal.partner_institution}
    personal |= {value for m in members for value in (m.name, m.email, m.institution)}
    personal |= {letter.original_name for letter in letters} | {i.email for i in invitations}
    personal |= {c.email for c in cosigns} | {r.cosigned_by for r in reports} | {r.cosign_declined_by for r in reports}
    personal |= {m.attachment_name for m in conversation} | {c.email for c in coapplicants}
    personal |= {a.new_institution for a in amendments} | ({award.partner_institution} if award else set())
    files = _Files()

    for name in PROPOSAL_BLANKED:
        setattr(proposal, name, "")
    proposal.save(update_fields=list(PROPOSAL_BLANKED))
    TeamMember.objects.filter(proposal=proposal).update(name="", email="", institution="")
    for letter in letters:
        files.add(letter.file)
    files.add_folder(letter_folder(proposal.pk))
    SupportLetter.objects.filter(proposal=proposal).update(file="", original_name=ERASED)
    PartnerInvitation.objects.filter(proposal=proposal, revoked_at__isnull=True).update(revoked_at=now)
    PartnerInvitation.objects.filter(proposal=proposal).update(email="")
    for version in versions:
        version.content = scrub_snapshot(version.content)
    ProposalVersion.objects.bulk_update(versions, ["content"])

    Review.objects.filter(proposal=proposal).update(comment_for_pi="", confidential_comment="")
    Score.objects.filter(review__proposal=proposal).update(comment="")
    PanelRecommendation.objects.filter(proposal=proposal).update(consensus="")
    Conflict.objects.filter(proposal=proposal).update(detail="")
    Assignment.objects.filter(proposal=proposal).update(decline_reason="")
    _forget_conversation_and_change(proposal, conversation=conversation, award=award, files=files, now=now)

    if award is not None:
        for report in reports:
            files.add(report.scientific_pdf)
        files.add_folder(report_folder(award.pk))
        Report.objects.filter(award=award).update(scientific_review="", scientific_pdf="", cosigned_by="",
                                                  review_comment="", cosign_declined_by="", cosign_decline_comment="")
        CosignInvitation.objects.filter(report__award=award, revoked_at__isnull=True).update(revoked_at=now)
        CosignInvitation.objects.filter(report__award=award).update(email="")
        SpendingLine.objects.filter(award=award).update(description="")

    about = [proposal, *versions, *letters, *invitations, *([award] if award else []), *reports, *cosigns,
             *conversation, *requests, *coapplicants, *amendments, *award_versions]
    messages = notifications_forget(notifications_about(about), reason="personal data erased (retention)")
    audited = audit_redact(AuditEntry.objects.filter(audit_about(about)), personal)
    erased = {"team_members": len(members), "letters": len(letters), "versions": len(versions),
              "invitations": len(invitations), "reports": len(reports), "files": len(files.names),
              "messages": messages, "audit_entries": audited, "conversation_messages": len(conversation),
              "information_requests": len(requests), "coapplicants": len(coapplicants),
              "amendments": len(amendments)}
    AnonymisedProposal.objects.create(proposal=proposal, anonymised_at=now, anonymised_by=user, via=via, erased=erased)
    audit_record(actor=user, actor_label="" if user is not None else "privacy_purge", target=proposal,
                 action="privacy.anonymise", now=now, data={"via": via, **erased})
    files.delete_on_commit()
    return True


def _forget_conversation_and_change(proposal: Proposal, *, conversation: list, award, files: _Files,
                                    now: dt.datetime) -> None:
    """What #21 keeps that names people: the conversations (texts and PDFs), the requests for information,
    the co-applicants' addresses, the amendments' texts and the partner institution they named."""
    for message in conversation:
        files.add(message.attachment)
    files.add_folder(message_folder(proposal.pk))
    Message.objects.filter(thread__proposal=proposal).update(text="")
    Message.objects.filter(thread__proposal=proposal).exclude(attachment="").update(attachment="",
                                                                                   attachment_name=ERASED)
    InformationRequest.objects.filter(proposal=proposal).update(message="")
    CoApplicant.objects.filter(proposal=proposal, revoked_at__isnull=True).update(revoked_at=now)
    CoApplicant.objects.filter(proposal=proposal).update(email="")
    if award is None:
        return
    Amendment.objects.filter(award=award).update(reason="", opinion_comment="", decision_reason="",
                                                 new_institution="")
    Award.objects.filter(pk=award.pk).update(partner_institution="")
    versions = list(AwardVersion.objects.filter(award=award))
    for version in versions:
        if "partner_institution" in (version.data or {}):
            version.data = {**version.data, "partner_institution": ""}
    AwardVersion.objects.bulk_update(versions, ["data"])


@dataclass(frozen=True)
class AnonymiseResult:
    call: Call
    anonymised: list[str]  # references
    skipped: int  # anonymised by a concurrent run, or no longer past retention under the lock


def proposals_anonymise(*, call_id: int, user, now: dt.datetime, via: str = AnonymisationVia.ADMIN) -> AnonymiseResult:
    """Anonymise every proposal of a call whose retention period has passed (``retention.past_retention``).

    Each proposal in its own transaction (a call has thousands: one failure or one long lock does not
    hold them all); each is locked and re-checked by ``proposal_anonymise``. Running it again does nothing.
    """
    _require_staff(user)
    call = Call.objects.get(pk=call_id)
    candidates = list(past_retention(call, now=now).order_by("pk").values_list("pk", "reference"))
    anonymised, skipped = [], 0
    for proposal_id, reference in candidates:
        try:
            done = proposal_anonymise(proposal_id=proposal_id, user=user, now=now, via=via)
        except PrivacyError:
            done = False
        if done:
            anonymised.append(reference)
        else:
            skipped += 1
    return AnonymiseResult(call=call, anonymised=anonymised, skipped=skipped)
