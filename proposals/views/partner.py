"""The foreign partner's page, reached through the invitation link, without an account (domain.md: the
partner acts through links). It shows what the partner needs to decide to support the proposal: the
summary, both teams, the budget, and the current support letter with its state, downloadable through the
same link. A link that is not genuine is refused (403); a genuine one that no longer works (replaced, the
partner changed, expired, the proposal withdrawn) says why and shows nothing of the proposal (410, as a
reviewer's closed assignment)."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from calls.domain import call_deadline
from iea.http import stored_file_download

from .. import domain
from ..forms import LetterForm
from ..models import BudgetLine, TeamMember
from ..receipts import budget_table
from .editor import _attach_letter


def _invalid(request, invalid):
    return render(request, "proposals/partner_invalid.html", {"message": invalid.message, "token_page": True},
                  status=410 if invalid.gone else 403)


def _letter_state(proposal, letter) -> dict:
    """Whether the letter the partner sees is part of the proposal as last submitted."""
    version = proposal.versions.order_by("-number").only("number", "submitted_at", "letter_id").first()
    return {"version": version, "submitted": version is not None and letter is not None and version.letter_id == letter.pk}


@never_cache  # anonymous, yet the proposal: the link is the secret (as the co-signature's)
def partner(request, token):
    """The foreign partner, without an account, reads the proposal and uploads the support letter."""
    now = timezone.now()
    try:
        invitation = domain.invitation_resolve(token, now=now)
    except domain.InvitationInvalid as invalid:
        return _invalid(request, invalid)
    proposal = invitation.proposal
    form = LetterForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST":
        _letter, error = _attach_letter(form, proposal=proposal, now=now, invitation=invitation)
        if error:
            # The link may have closed while the file was on its way (the PI changed the partner, withdrew):
            # then the page shows nothing of the proposal, as on the next visit.
            try:
                domain.invitation_resolve(token, now=now)
            except domain.InvitationInvalid as invalid:
                return _invalid(request, invalid)
        else:
            messages.success(request, _("Thank you: the support letter was uploaded. The PI has been told."))
            return redirect("proposals:partner", token=token)
    proposal = (
        type(proposal).objects
        .prefetch_related(Prefetch("team", TeamMember.objects.order_by("side", "pk")),
                          Prefetch("budget_lines", BudgetLine.objects.order_by("year", "category")))
        .select_related("call", "pi", "unit").get(pk=proposal.pk)
    )
    letter = domain.current_letter(proposal)
    budget = budget_table(
        {"budget": [{"year": line.year, "category": line.category, "amount": line.amount}
                    for line in proposal.budget_lines.all()],
         "budget_total": domain.proposal_budget_total(proposal)},
        years=proposal.call.budget_years,
    )
    context = {
        "invitation": invitation, "proposal": proposal, "team": list(proposal.team.all()), "budget": budget,
        "letter": letter, "letter_state": _letter_state(proposal, letter), "letter_form": form, "error": error,
        "editable": domain.proposal_editable(proposal, now=now),
        "deadline": call_deadline(proposal.call), "token": token, "token_page": True,
    }
    return render(request, "proposals/partner.html", context, status=400 if error else 200)


@never_cache
@require_GET
def partner_letter(request, token):
    """The current support letter, through the partner's link (checked as the page is), as an attachment."""
    try:
        invitation = domain.invitation_resolve(token, now=timezone.now())
    except domain.InvitationInvalid as invalid:
        return _invalid(request, invalid)
    letter = domain.current_letter(invitation.proposal)
    if letter is None:
        messages.info(request, _("There is no support letter yet."))
        return redirect("proposals:partner", token=token)
    return stored_file_download(letter.file, filename=f"support-letter-{invitation.proposal.reference}.pdf",
                                content_type="application/pdf")
