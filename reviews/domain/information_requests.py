"""Requests for information at screening (#21, domain.md "Request for information"): the directorate's side.

Instead of only eligible or ineligible, staff ask the PI to fix a precise point of a submitted proposal (an
unsigned letter, a missing field) by a deadline; the PI changes that, and only that, and sends the answer as a
new version (``proposals.domain.information_answer``). Screening waits while a request is open
(``screening.proposal_screen`` refuses, the bulk confirm skips), and resumes once it is answered, cancelled or
expired. Expiry is decided at request time (``InformationRequest.state_at``); the first staff action on the
proposal after the deadline (screening it, asking again) records it in the audit trail.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from iea import formats
from iea.audit.domain import audit_record
from iea.i18n import written_language
from proposals.domain.common import _lock, open_information_request
from proposals.domain.information import (
    INFORMATION_ITEMS,
    information_request_lock,
    information_request_refusal,
)
from proposals.domain.mail import notify_information_requested
from proposals.models import InformationRequest, InformationRequestState

from .screening import _require_screenable, _require_staff, record_expired_requests

DEFAULT_DEADLINE = dt.timedelta(days=7)


def information_request_default_deadline(now: dt.datetime) -> dt.datetime:
    """A week from now, at the minute: what the form proposes."""
    return (now + DEFAULT_DEADLINE).replace(second=0, microsecond=0)


def information_request_ask(
    *, proposal_id: int, user, items: list[str], message: str, deadline: dt.datetime, now: dt.datetime,
    language: str = "",
) -> InformationRequest:
    """Staff ask the PI of a submitted proposal, after the call's deadline, to change the ``items`` named
    (``proposals.domain.INFORMATION_ITEMS``) by ``deadline``, saying why in ``message``. The PI and the
    co-applicants are mailed the request with its link; ``language`` is the language the message was written in
    (the page's), which marks it wherever it shows. One open request per proposal: the proposal row is
    locked, and a unique constraint on open requests backs it, so two staff members asking at once give one."""
    _require_staff(user)
    message = (message or "").strip()
    items = list(dict.fromkeys(items or []))
    if not items:
        raise ValidationError(_("Choose what the PI may change."), code="items")
    unknown = [item for item in items if item not in INFORMATION_ITEMS]
    if unknown:
        raise ValidationError(_("Unknown item: %(items)s.") % {"items": ", ".join(unknown)}, code="items")
    if not message:
        raise ValidationError(_("Write what the PI must fix; it is sent to them."), code="message")
    if deadline is None or deadline <= now:
        raise ValidationError(_("The deadline of the request must be in the future."), code="deadline")
    with transaction.atomic():
        proposal = _lock(proposal_id, related=("pi",))
        _require_screenable(proposal, now=now)
        record_expired_requests(proposal_ids=[proposal.pk], user=user, now=now)
        request = open_information_request(proposal, now=now)
        if request is not None:
            raise ValidationError(
                _("%(ref)s already has an open request for information, until %(deadline)s (Paris time); cancel it "
                  "first to ask something else.")
                % {"ref": proposal.reference, "deadline": formats.datetime(request.deadline, zone=False)},
                code="already_open",
            )
        request = InformationRequest.objects.create(
            proposal=proposal, items=items, message=message, deadline=deadline, asked_at=now, asked_by=user,
            language=written_language(language),
        )
        audit_record(actor=user, target=proposal, action="proposal.rfi_ask", now=now, reason=message,
                     data={"request": request.pk, "items": items, "deadline": deadline.isoformat()})
        notify_information_requested(request=request, now=now)
    return request


def information_request_cancel(*, request_id: int, user, now: dt.datetime) -> InformationRequest:
    """Staff cancel an open request for information: the PI can no longer change the proposal, and screening
    resumes with the last version. Locks as the PI's answer does (proposal, then request): of an answer and a
    cancel at the same moment, one wins and the other is refused with what happened."""
    _require_staff(user)
    with transaction.atomic():
        proposal, request = information_request_lock(request_id)
        refusal = information_request_refusal(request, now=now)
        if refusal:
            raise ValidationError(refusal, code=request.state_at(now))
        request.state, request.closed_at, request.closed_by = InformationRequestState.CANCELLED, now, user
        request.save(update_fields=["state", "closed_at", "closed_by"])
        audit_record(actor=user, target=proposal, action="proposal.rfi_cancel", now=now,
                     data={"request": request.pk})
    return request
