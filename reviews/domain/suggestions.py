"""Colleagues suggested by reviewers who decline (issue #20): the suggestion is saved with the decline, and
the panel's officer adds the colleague to the pool in one click (``reviewer_add``) or dismisses it.
Each change is audited; a suggestion is handled once."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record

from ..models import Assignment, Reviewer, ReviewerSuggestion
from ..rules import can_manage_panel
from .pool import reviewer_add


def suggestion_check(*, name: str, email: str, own_email: str) -> tuple[str, str]:
    """The rules of a suggestion, for the form and the domain: name and e-mail together, a valid e-mail, and
    not the reviewer themself. Returns (name, e-mail) cleaned, or ("", "") when nothing is suggested."""
    name, email = (name or "").strip(), (email or "").strip().lower()
    if not name and not email:
        return "", ""
    if not name or not email:
        raise ValidationError(_("To suggest a colleague, give both their name and their e-mail."), code="incomplete")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(_("The colleague's e-mail is not a valid address."), code="email") from None
    if email == (own_email or "").strip().lower():
        raise ValidationError(_("Suggest someone other than yourself."), code="self")
    return name, email


def suggestion_record(*, assignment: Assignment, user, now: dt.datetime, name: str = "", email: str = "",
                      reason: str = "") -> ReviewerSuggestion | None:
    """Save the colleague suggested with a decline, in the decline's transaction (``assignment_respond``)."""
    name, email = suggestion_check(name=name, email=email, own_email=user.email)
    if not email:
        return None
    suggestion = ReviewerSuggestion.objects.create(
        assignment=assignment, panel_id=assignment.panel_id, name=name, email=email, reason=(reason or "").strip(),
        created_at=now,
    )
    audit_record(actor=user, target=suggestion, action="review.suggest", now=now,
                 data={"assignment": assignment.pk, "panel": assignment.panel_id, "email": email})
    return suggestion


@dataclass(frozen=True)
class SuggestionAccepted:
    suggestion: ReviewerSuggestion
    reviewer: Reviewer
    already_in_pool: bool
    user_created: bool = False


def _open_suggestion(suggestion_id: int, user) -> ReviewerSuggestion:
    suggestion = ReviewerSuggestion.objects.select_for_update().select_related("panel").get(pk=suggestion_id)
    if not can_manage_panel(user, suggestion.panel):
        raise ValidationError(_("You do not run this panel."), code="forbidden")
    if suggestion.handled_at is not None:
        raise ValidationError(_("This suggestion was already handled."), code="handled")
    return suggestion


def suggestion_accept(*, suggestion_id: int, user, now: dt.datetime, request=None) -> SuggestionAccepted:
    """Add the suggested colleague to the institute's pool (``reviewer_add``: an account is created for an
    unknown e-mail, a deactivated reviewer comes back) and mark the suggestion handled. Someone already in
    the pool is not added twice: the suggestion is marked handled with them."""
    with transaction.atomic():
        suggestion = _open_suggestion(suggestion_id, user)
        already, created = False, False
        try:
            result = reviewer_add(panel_id=suggestion.panel_id, user=user, email=suggestion.email,
                                  full_name=suggestion.name, now=now, request=request)
        except ValidationError as error:
            if error.code != "duplicate":
                raise
            already = True
            reviewer = Reviewer.objects.get(user__email__iexact=suggestion.email,
                                            institute_id=suggestion.panel.institute_id)
        else:
            reviewer, created = result.reviewer, result.user_created
        suggestion.added_reviewer, suggestion.handled_at, suggestion.handled_by = reviewer, now, user
        suggestion.save(update_fields=["added_reviewer", "handled_at", "handled_by"])
        audit_record(actor=user, target=suggestion, action="panel.suggestion_accept", now=now,
                     data={"panel": suggestion.panel_id, "reviewer": reviewer.pk, "already_in_pool": already})
    return SuggestionAccepted(suggestion=suggestion, reviewer=reviewer, already_in_pool=already, user_created=created)


def suggestion_dismiss(*, suggestion_id: int, user, now: dt.datetime) -> ReviewerSuggestion:
    """The officer does not take the suggestion: it leaves the pool page, kept for the record."""
    with transaction.atomic():
        suggestion = _open_suggestion(suggestion_id, user)
        suggestion.handled_at, suggestion.handled_by = now, user
        suggestion.save(update_fields=["handled_at", "handled_by"])
        audit_record(actor=user, target=suggestion, action="panel.suggestion_dismiss", now=now,
                     data={"panel": suggestion.panel_id})
    return suggestion
