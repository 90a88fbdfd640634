"""The institute's reviewer pool, as its officers keep it (domain.md, "Actors": institute officer).

A reviewer belongs to an institute, not to one call: the pool serves each of the institute's panels.
Every change is checked against ``reviews.rules.can_manage_panel`` for the panel the officer works in,
done under a lock on that panel, and audited.
"""

import datetime as dt
import re
from dataclasses import dataclass

from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from allauth.core import context
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from calls.models import Unit, parse_unit_code
from iea.audit.domain import audit_record

from ..models import Assignment, Panel, Reviewer
from ..rules import OPEN_ASSIGNMENT_STATES, can_manage_panel
from .affinities import affinities_invalidate


def _forbidden():
    return ValidationError(_("You do not run this panel."), code="forbidden")


def _split_list(text: str) -> str:
    """``"a ,b;;c"`` → ``"a, b, c"``: the pool's keywords and sections, one way of writing them."""
    return ", ".join(part.strip() for part in re.split(r"[,;]", text or "") if part.strip())


@dataclass(frozen=True)
class ReviewerAddResult:
    reviewer: Reviewer
    user_created: bool
    reactivated: bool


def reviewer_add(
    *, panel_id: int, user, email: str, now: dt.datetime, full_name: str = "", institution: str = "",
    unit_code: str = "", keywords: str = "", sections: str = "", external: bool = False, request=None,
) -> ReviewerAddResult:
    """Put a person in the institute's reviewer pool (or back in it, if they were deactivated).

    An unknown e-mail gets an account with no usable password and a verified address: external
    reviewers have no Janus account (domain.md, "Sign-in"). They are sent the password-reset mail,
    which lets them choose a password; ``request`` builds the link in it.
    """
    email = (email or "").strip().lower()
    validate_email(email)
    unit = None
    if (unit_code or "").strip():
        if parse_unit_code(unit_code) is None:
            raise ValidationError(_("Give the unit as its type and number, e.g. UMR 5558."), code="unit")
        unit = Unit.objects.by_code(unit_code).first()
        if unit is None:
            raise ValidationError(_("No unit %(code)s is known.") % {"code": unit_code.strip()}, code="unit")
    fields = {
        "unit": unit, "institution": (institution or "").strip(), "keywords": _split_list(keywords),
        "sections": _split_list(sections), "external": bool(external),
    }
    User = get_user_model()
    try:
        with transaction.atomic():
            panel = Panel.objects.select_for_update().get(pk=panel_id)
            if not can_manage_panel(user, panel):
                raise _forbidden()
            account = User.objects.filter(email__iexact=email).first()
            user_created = account is None
            if user_created:
                account = User.objects.create_user(email=email, password=None, full_name=(full_name or "").strip())
                EmailAddress.objects.create(user=account, email=email, verified=True, primary=True)
            reviewer, created = Reviewer.objects.get_or_create(
                user=account, institute_id=panel.institute_id, defaults={**fields, "active": True}
            )
            reactivated = False
            if not created:
                if reviewer.active:
                    raise ValidationError(_("%(email)s is already in the pool.") % {"email": email}, code="duplicate")
                for name, value in fields.items():
                    setattr(reviewer, name, value)
                reviewer.active = reactivated = True
                reviewer.save(update_fields=[*fields, "active"])
            affinities_invalidate(institute_id=panel.institute_id)  # the pool serves all the institute's panels
            audit_record(
                actor=user, target=reviewer, action="panel.reviewer_add", now=now,
                data={"panel": panel.pk, "email": email, "user_created": user_created, "reactivated": reactivated},
            )
            if user_created:
                _send_password_link(request, email)
    except IntegrityError:
        # The same person added twice at the same moment: the unique e-mail or pool entry let one through.
        raise ValidationError(_("%(email)s is already in the pool.") % {"email": email}, code="duplicate") from None
    return ReviewerAddResult(reviewer=reviewer, user_created=user_created, reactivated=reactivated)


def _send_password_link(request, email: str) -> None:
    """allauth's password-reset mail (queued on commit by the account adapter), so they choose a password."""
    request = request or context.request
    form = ResetPasswordForm(data={"email": email})
    if form.is_valid():
        with context.request_context(request):
            form.save(request)


def reviewer_deactivate(*, panel_id: int, reviewer_id: int, user, now: dt.datetime) -> Reviewer:
    """Take a reviewer out of the pool: no new assignment, and their open ones give no more access
    (``reviews.rules`` asks for an active reviewer). Their submitted reviews still count."""
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if not can_manage_panel(user, panel):
            raise _forbidden()
        reviewer = Reviewer.objects.select_for_update().get(pk=reviewer_id)
        if reviewer.institute_id != panel.institute_id:
            raise ValidationError(_("This reviewer is not in the institute's pool."), code="not_in_pool")
        if not reviewer.active:
            return reviewer
        reviewer.active = False
        reviewer.save(update_fields=["active"])
        open_assignments = Assignment.objects.filter(reviewer=reviewer, state__in=OPEN_ASSIGNMENT_STATES).count()
        affinities_invalidate(institute_id=panel.institute_id)
        audit_record(actor=user, target=reviewer, action="panel.reviewer_deactivate", now=now,
                     data={"panel": panel.pk, "open_assignments": open_assignments})
    return reviewer
