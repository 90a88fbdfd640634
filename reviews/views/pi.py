"""The PI's side of the review: the evaluation summary of the decision, from the proposal's page.

The page lives in ``proposals`` and links here by URL name: proposals comes before reviews and does not
import it. Who may read is the proposal's own rule (``proposals.rules``): the PI, and whoever may see the
proposal; anyone else gets a 404, so its existence is not revealed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from iea.http import private_download
from proposals.rules import can_view_proposal, visible_proposals

from ..domain.evaluation import evaluation_summary_filename, evaluation_summary_pdf
from ..models import Decision


@login_required
@require_GET
def evaluation_summary(request, pk):
    """The decision's evaluation summary, once the decision mail went out (PI and staff)."""
    proposal = get_object_or_404(visible_proposals(request.user).select_related("call", "pi"), pk=pk)
    if not can_view_proposal(request.user, proposal):
        raise Http404
    if not Decision.objects.filter(proposal=proposal, notified_at__isnull=False).exists():
        # An early or old link: the proposal's page, saying when the summary comes.
        messages.info(request, _("The evaluation summary is available here once the decision is sent to you."))
        return redirect("proposals:detail", pk=proposal.pk)
    pdf = evaluation_summary_pdf(proposal=proposal, language=translation.get_language() or "fr")
    return private_download(pdf, filename=evaluation_summary_filename(proposal), content_type="application/pdf")
