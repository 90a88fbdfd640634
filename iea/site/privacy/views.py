"""The person's page about their personal data: download it, ask for the erasure of the account, see how
long each of their proposals is kept and what became of their requests."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from iea.http import private_download
from proposals.models import Proposal

from .domain import (
    Blocker,
    PrivacyError,
    erasure_request,
    personal_data_export,
    retention_blocker,
    with_retention_data,
)
from .forms import ErasureRequestForm
from .models import ErasureRequest, ErasureState


def _context(user, *, form=None) -> dict:
    now = timezone.now()
    requests = list(ErasureRequest.objects.filter(user=user).order_by("-requested_at", "-id"))
    for request in requests:
        request.reasons = [Blocker.from_data(data).describe() for data in request.blockers]
    proposals = list(with_retention_data(Proposal.objects.filter(pi=user)).select_related("anonymisation")
                     .order_by("-created_at", "-id"))
    for proposal in proposals:
        proposal.anonymised = hasattr(proposal, "anonymisation")
        proposal.blocker = None if proposal.anonymised else retention_blocker(proposal, now=now)
    return {
        "requests": requests,
        "pending": any(r.state == ErasureState.PENDING for r in requests),
        "proposals": proposals,
        "form": form or ErasureRequestForm(),
    }


@login_required
@require_GET
def page(request):
    return render(request, "privacy/page.html", _context(request.user))


@login_required
@require_POST
def export(request):
    """The person's data as a JSON attachment (POST: it is an audited act, not a link to prefetch)."""
    now = timezone.now()
    content = personal_data_export(user=request.user, now=now)
    filename = f"iea-personal-data-{timezone.localdate(now):%Y-%m-%d}.json"
    return private_download(content, filename=filename, content_type="application/json; charset=utf-8")


@login_required
@require_POST
def erasure(request):
    form = ErasureRequestForm(request.POST)
    if form.is_valid():
        try:
            erasure_request(user=request.user, reason=form.cleaned_data["reason"], now=timezone.now())
        except PrivacyError as error:
            # The one refusal: a request already waits (a second tab, a double click). The page says so.
            messages.info(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your request is recorded. The directorate will process it and you will "
                                        "be told if it cannot be done."))
        return redirect("privacy:page")
    return render(request, "privacy/page.html", _context(request.user, form=form), status=400)
