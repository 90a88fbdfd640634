"""The officer's side of bids and suggestions: opening and closing bidding on the panel (assignments page),
and adding or dismissing the colleagues suggested by reviewers who declined (pool page). Same access rule
as the other panel pages (``panel_for_officer``); the changes are ``reviews.domain.bids`` and
``reviews.domain.suggestions``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..domain.bids import bid_counts, panel_bidding_set
from ..domain.suggestions import suggestion_accept, suggestion_dismiss
from ..models import BidValue, Reviewer, ReviewerSuggestion
from .officer import panel_for_officer, refuse


def bidding_context(panel) -> dict:
    """What the assignments page shows of bidding: open or not, and the bids per value (one query)."""
    counts = bid_counts(panel)
    return {"bidding": {"open": panel.bidding_open, "counts": [(BidValue(v).label, v, n) for v, n in counts.items()],
                        "total": sum(counts.values())}}


def open_suggestions(panel):
    """The colleagues suggested in this panel not handled yet, newest first, each with ``in_pool`` (already an
    active reviewer of the institute) and who suggested them. One query."""
    in_pool = Reviewer.objects.filter(institute_id=panel.institute_id, active=True, user__email__iexact=OuterRef("email"))
    return (ReviewerSuggestion.objects.filter(panel=panel, handled_at__isnull=True)
            .select_related("assignment__reviewer__user").annotate(in_pool=Exists(in_pool))
            .order_by("-created_at", "-pk"))


@login_required
@require_POST
def panel_bidding(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    opening = request.POST.get("open") == "1"
    try:
        panel_bidding_set(panel_id=panel.pk, open=opening, user=request.user, now=timezone.now())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("Bidding is open: the pool is invited by e-mail to mark the proposals.") if opening
                         else _("Bidding is closed: the bids are kept for the assignment."))
    return redirect(f"{reverse('panel:assignments', args=[panel.pk])}#bidding")


def _suggestion(panel, suggestion_id):
    return get_object_or_404(ReviewerSuggestion.objects.filter(panel=panel), pk=suggestion_id)


@login_required
@require_POST
def panel_suggestion_accept(request, panel_id, suggestion_id):
    panel = panel_for_officer(request, panel_id)
    suggestion = _suggestion(panel, suggestion_id)
    try:
        result = suggestion_accept(suggestion_id=suggestion.pk, user=request.user, now=timezone.now(), request=request)
    except ValidationError as error:
        refuse(request, error)
    else:
        if result.already_in_pool:
            messages.info(request, _("%(email)s was already in the pool: the suggestion is marked as handled.")
                          % {"email": suggestion.email})
        elif result.user_created:
            messages.success(request, _("%(email)s is in the pool. An account was created and a mail sent to choose "
                                        "a password.") % {"email": suggestion.email})
        else:
            messages.success(request, _("%(email)s is in the pool.") % {"email": suggestion.email})
    return redirect(f"{reverse('panel:pool', args=[panel.pk])}#suggestions")


@login_required
@require_POST
def panel_suggestion_dismiss(request, panel_id, suggestion_id):
    panel = panel_for_officer(request, panel_id)
    suggestion = _suggestion(panel, suggestion_id)
    try:
        suggestion_dismiss(suggestion_id=suggestion.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("The suggestion of %(name)s is dismissed.") % {"name": suggestion.name})
    return redirect(f"{reverse('panel:pool', args=[panel.pk])}#suggestions")
