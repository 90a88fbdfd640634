"""The right of access and to portability (GDPR art. 15 and 20): everything the platform holds about a
person, as one JSON document.

Never in it: secrets (the password hash, API token digests, two-factor secrets and recovery codes, the
calendar feed key, invitation nonces), stored files (the letters, reports and messages' PDFs: their metadata
only), and what others wrote about the person's proposals (reviews, panel discussions, others' messages). The audit entries where the
person acted are listed without their details, which may name other people.

The number of queries is fixed: it does not grow with the person's data.
"""

import datetime as dt
import json

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q

from calls.models import Institute, Unit
from funding.models import Amendment, Award, Report
from iea.accounts.models import ApiToken
from iea.audit.domain import audit_record
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from proposals.models import CoApplicant, Message, Proposal
from reviews.models import (
    Assignment,
    Bid,
    Conflict,
    Panel,
    Publication,
    Review,
    Reviewer,
    Score,
    Unavailability,
)

from ..models import ErasureRequest

FORMAT = "iea-personal-data/1"


def personal_data(user, *, now: dt.datetime) -> dict:
    """The document, as Python data (see the module docstring for what is left out)."""
    return {
        "format": FORMAT,
        "generated_at": now,
        "account": _account(user),
        "roles": _roles(user),
        "proposals": _proposals(user),
        "awards": _awards(user),
        "co_applications": _co_applications(user),
        "conversation_messages": _conversation_messages(user),
        "reviews": _reviews(user),
        "assignments": _assignments(user),
        "conflicts": _conflicts(user),
        "publications": _publications(user),
        "unavailabilities": _unavailabilities(user),
        "bids": _bids(user),
        "notifications": _notifications(user),
        "api_tokens": _api_tokens(user),
        "erasure_requests": _erasure_requests(user),
        "audit_entries": _audit_entries(user),
    }


def personal_data_export(*, user, now: dt.datetime) -> bytes:
    """The person downloads their data: the JSON document, audited (``privacy.export``)."""
    content = json.dumps(personal_data(user, now=now), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()
    audit_record(actor=user, target=user, action="privacy.export", now=now, data={"bytes": len(content)})
    return content


def _account(user) -> dict:
    types = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": user.full_name,
        "language": user.language,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "is_active": user.is_active,
        "directorate_staff": user.is_staff,
        "call_announcements": user.call_announcements,
        "two_factor": {"totp": Authenticator.Type.TOTP in types,
                       "recovery_codes": Authenticator.Type.RECOVERY_CODES in types},
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "linked_sign_in": _social_accounts(user),
    }


def _social_accounts(user) -> list:
    if not apps.is_installed("allauth.socialaccount"):
        return []
    return [{"provider": s.provider, "uid": s.uid, "date_joined": s.date_joined, "last_login": s.last_login}
            for s in SocialAccount.objects.filter(user=user).order_by("pk")]


def _roles(user) -> dict:
    return {
        "officer_of_institutes": list(Institute.objects.filter(officers=user).order_by("code").values_list("code", flat=True)),
        "officer_of_panels": [
            {"call": panel.call.year, "institute": panel.institute.code}
            for panel in Panel.objects.filter(officers=user).select_related("call", "institute").order_by("pk")
        ],
        "manager_of_units": [unit.code for unit in Unit.objects.filter(managers=user).order_by("unit_type", "number")],
        "reviewer_profiles": [
            {"institute": r.institute.code, "unit": r.unit.code if r.unit_id else "", "institution": r.institution,
             "keywords": r.keywords, "sections": r.sections, "external": r.external, "active": r.active}
            for r in Reviewer.objects.filter(user=user).select_related("institute", "unit").order_by("pk")
        ],
    }


def _proposals(user) -> list:
    proposals = (
        Proposal.objects.filter(pi=user)
        .select_related("call", "unit__main_institute", "evaluating_institute", "decision")
        .prefetch_related("team", "budget_lines", "letters", "versions", "invitations", "information_requests")
        .order_by("pk")
    )
    return [_proposal(p) for p in proposals]


def _proposal(p: Proposal) -> dict:
    # A ranking or decision is the person's once its mail went out: until then it is the panel's work.
    decision = getattr(p, "decision", None)
    decision = decision if decision is not None and decision.notified_at is not None else None
    institute = p.institute
    return {
        "reference": p.reference,
        "call": p.call.year,
        "state": p.applicant_state,
        "title": p.title,
        "acronym": p.acronym,
        "abstract": p.abstract,
        "keywords": p.keywords,
        "unit": p.unit.code if p.unit_id else "",
        "evaluating_institute": institute.code if institute else "",
        "partner": {"name": p.partner_name, "email": p.partner_email, "institution": p.partner_institution,
                    "country": p.partner_country.code},
        "activities": p.activities,
        "ethics_statement": p.ethics_statement,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "submitted_at": p.submitted_at,
        "team": [
            {"side": m.side, "name": m.name, "email": m.email, "position": m.position, "institution": m.institution,
             "early_career": m.early_career}
            for m in p.team.all()
        ],
        "budget": [{"year": b.year, "category": b.category, "amount": b.amount} for b in p.budget_lines.all()],
        "support_letters": [
            {"file_name": letter.original_name, "size": letter.size, "sha256": letter.sha256, "pages": letter.pages,
             "cofunding": letter.cofunding, "cofunding_amount": letter.cofunding_amount,
             "cofunding_currency": letter.cofunding_currency, "uploaded_at": letter.uploaded_at,
             "uploaded_by_partner": letter.uploaded_by_partner, "file_erased": not letter.file}
            for letter in p.letters.all()
        ],
        "versions": [
            {"number": v.number, "submitted_at": v.submitted_at, "content": v.content,
             "content_sha256": v.content_sha256}
            for v in sorted(p.versions.all(), key=lambda v: v.number)
        ],
        "partner_invitations": [
            {"email": i.email, "sent_at": i.created_at, "expires_at": i.expires_at, "revoked_at": i.revoked_at}
            for i in p.invitations.all()
        ],
        "information_requests": [
            {"items": r.items, "message": r.message, "deadline": r.deadline, "state": r.state,
             "asked_at": r.asked_at, "closed_at": r.closed_at}
            for r in sorted(p.information_requests.all(), key=lambda r: (r.asked_at, r.pk))
        ],
        "decision": {"outcome": decision.outcome, "amount": decision.amount, "decided_at": decision.decided_at}
        if decision else None,
    }


def _awards(user) -> list:
    awards = (
        Award.objects.filter(proposal__pi=user)
        .select_related("proposal", "unit")
        .prefetch_related("tranches", Prefetch("reports", Report.objects.prefetch_related("spending")),
                          Prefetch("amendments", Amendment.objects.order_by("requested_at", "pk")))
        .order_by("pk")
    )
    return [
        {
            "proposal": a.proposal.reference, "unit": a.unit.code, "amount": a.amount, "state": a.state,
            "start_date": a.start_date, "end_date": a.end_date, "closed_at": a.closed_at,
            "tranches": [{"number": t.number, "amount": t.amount, "planned_date": t.planned_date, "state": t.state,
                          "decided_at": t.decided_at} for t in a.tranches.all()],
            "reports": [
                {"period": r.period, "state": r.state, "scientific_review": r.scientific_review,
                 "scientific_pdf_sha256": r.scientific_pdf_sha256, "cofunding_received": r.cofunding_received,
                 "cofunding_currency": r.cofunding_currency, "submitted_at": r.submitted_at,
                 "cosigned_at": r.cosigned_at, "cosigned_by": r.cosigned_by,
                 "cosign_declined_at": r.cosign_declined_at, "cosign_declined_by": r.cosign_declined_by,
                 "cosign_decline_comment": r.cosign_decline_comment, "reviewed_at": r.reviewed_at,
                 "review_comment": r.review_comment,
                 "spending": [{"category": s.category, "amount": s.amount} for s in r.spending.all()]}
                for r in a.reports.all()
            ],
            "partner_institution": a.partner_institution,
            "amendments": [
                {"kind": m.kind, "state": m.state, "reason": m.reason, "asked_at": m.requested_at,
                 "months": m.months, "new_end_date": m.new_end_date, "from_year": m.from_year,
                 "from_category": m.from_category, "to_year": m.to_year, "to_category": m.to_category,
                 "amount": m.amount, "new_institution": m.new_institution, "new_country": m.new_country.code,
                 "unit_opinion": m.opinion, "unit_comment": m.opinion_comment, "decided_at": m.decided_at,
                 "decision_reason": m.decision_reason, "withdrawn_at": m.withdrawn_at}
                for m in a.amendments.all()
            ],
        }
        for a in awards
    ]


def _co_applications(user) -> list:
    """The proposals the person was invited to prepare with their PI: invited by address or joined."""
    rows = (CoApplicant.objects.filter(Q(user=user) | Q(email__iexact=user.email))
            .select_related("proposal").order_by("invited_at", "pk"))
    return [{"proposal": c.proposal.reference, "email": c.email, "role": c.role, "invited_at": c.invited_at,
             "accepted_at": c.accepted_at, "revoked_at": c.revoked_at} for c in rows]


def _conversation_messages(user) -> list:
    """What the person wrote in the conversations about proposals and awards (the attached PDFs: their
    metadata only, as for letters). The messages others wrote are their authors' data; the person reads them on
    the conversation's page."""
    rows = (Message.objects.filter(author=user).select_related("thread__proposal")
            .order_by("created_at", "pk"))
    return [{"proposal": m.thread.proposal.reference, "topic": m.thread.topic, "sent_at": m.created_at,
             "text": m.text, "language": m.language, "attachment": {
                 "file_name": m.attachment_name, "size": m.attachment_size, "sha256": m.attachment_sha256,
                 "pages": m.attachment_pages} if m.attachment_name else None} for m in rows]


def _reviews(user) -> list:
    reviews = (
        Review.objects.filter(reviewer__user=user)
        .select_related("proposal__call")
        .prefetch_related(Prefetch("scores", Score.objects.select_related("criterion")))
        .order_by("pk")
    )
    return [
        {
            "proposal": r.proposal.reference, "call": r.proposal.call.year, "state": r.state,
            "recommendation": r.recommendation, "comment_for_pi": r.comment_for_pi,
            "confidential_comment": r.confidential_comment, "created_at": r.created_at, "updated_at": r.updated_at,
            "submitted_at": r.submitted_at,
            "scores": [{"criterion": s.criterion.position, "label": s.criterion.label_en, "score": s.score,
                        "comment": s.comment} for s in r.scores.all()],
        }
        for r in reviews
    ]


def _assignments(user) -> list:
    rows = Assignment.objects.filter(reviewer__user=user).select_related("proposal").order_by("pk")
    return [{"proposal": a.proposal.reference, "state": a.state, "due_at": a.due_at, "created_at": a.created_at,
             "responded_at": a.responded_at, "decline_reason": a.decline_reason} for a in rows]


def _conflicts(user) -> list:
    rows = (Conflict.objects.filter(Q(reviewer__user=user) | Q(created_by=user))
            .select_related("proposal", "reviewer").order_by("pk"))
    return [{"proposal": c.proposal.reference, "source": c.source, "cause": c.cause, "detail": c.detail,
             "created_at": c.created_at, "about_you": c.reviewer.user_id == user.pk,
             "declared_by_you": c.created_by_id == user.pk} for c in rows]


def _publications(user) -> list:
    rows = Publication.objects.filter(user=user).order_by("-year", "pk")
    return [{"source": p.source, "key": p.key, "title": p.title, "year": p.year, "venue": p.venue, "doi": p.doi,
             "authors": p.authors, "keywords": p.keywords, "abstract": p.abstract, "imported_at": p.imported_at}
            for p in rows]


def _unavailabilities(user) -> list:
    return [{"from": u.starts_on, "until": u.ends_on, "note": u.note}
            for u in Unavailability.objects.filter(user=user).order_by("starts_on", "pk")]


def _bids(user) -> list:
    rows = Bid.objects.filter(reviewer__user=user).select_related("proposal").order_by("updated_at", "pk")
    return [{"proposal": b.proposal.reference, "bid": b.value, "updated_at": b.updated_at} for b in rows]


def _notifications(user) -> list:
    rows = (Notification.objects.filter(Q(recipient=user) | Q(email__iexact=user.email))
            .only("kind", "subject", "state", "created_at", "sent_at").order_by("pk"))
    return [{"kind": n.kind, "subject": n.subject, "state": n.state, "recorded_at": n.created_at,
             "sent_at": n.sent_at} for n in rows]


def _api_tokens(user) -> list:
    rows = ApiToken.objects.filter(user=user).only(
        "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at").order_by("pk")
    return [{"name": t.name, "prefix": t.prefix, "scopes": t.scopes, "created_at": t.created_at,
             "expires_at": t.expires_at, "last_used_at": t.last_used_at, "revoked_at": t.revoked_at} for t in rows]


def _erasure_requests(user) -> list:
    return [{"state": r.state, "reason": r.reason, "requested_at": r.requested_at, "processed_at": r.processed_at,
             "refusal": r.blockers, "refusal_reason": r.refusal_reason}
            for r in ErasureRequest.objects.filter(user=user).order_by("pk")]


def _audit_entries(user) -> list:
    rows = AuditEntry.objects.filter(actor=user).select_related("content_type").order_by("created_at", "pk")
    return [{"when": e.created_at, "action": e.action, "object": f"{e.content_type.app_label}.{e.content_type.model}",
             "object_id": e.object_id, "from_state": e.from_state, "to_state": e.to_state, "reason": e.reason}
            for e in rows]
