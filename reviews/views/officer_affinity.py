"""The officer's affinities (``reviews.domain.affinities``): the button that computes them in the background,
and the state polled by the assignments page while they are computed. The best matches of one proposal are on
its page (``reviews.views.officer.panel_proposal``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..domain.affinities import affinities_request, affinity_view
from .officer import panel_for_officer, refuse


def _back(request, panel):
    proposal_id = request.POST.get("proposal", "")
    if request.POST.get("back") == "proposal" and proposal_id.isdigit():
        return redirect(f"{reverse('panel:proposal', args=[panel.pk, int(proposal_id)])}#best-matches")
    return redirect(f"{reverse('panel:assignments', args=[panel.pk])}#affinity")


@login_required
@require_POST
def panel_affinities_compute(request, panel_id):
    """Asks for the panel's affinities to be computed in the background; the page shows their state."""
    panel = panel_for_officer(request, panel_id)
    try:
        affinities_request(panel_id=panel.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("The affinities are being computed in the background. You may leave this page; "
                                    "the best-matching reviewers appear once they are ready."))
    return _back(request, panel)


@login_required
@require_GET
def panel_affinity_state(request, panel_id):
    """The affinities' state, polled by the assignments page (htmx) every two seconds while they are computed:
    the card is swapped whole, and stops polling once they are ready. Without htmx, the assignments page."""
    panel = panel_for_officer(request, panel_id)
    if not request.headers.get("HX-Request"):
        return redirect(f"{reverse('panel:assignments', args=[panel.pk])}#affinity")
    return render(request, "reviews/officer/_affinity.html",
                  {"panel": panel, "affinity": affinity_view(panel=panel, now=timezone.now())})
