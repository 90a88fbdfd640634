"""The editor: create, save (autosave, two tabs safe), team, letter, partner invitation, submit, withdraw."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.domain import call_deadline
from calls.models import Call
from iea import formats
from iea.autosave import conflict_context, requested_lock_version

from .. import domain
from ..forms import InvitationForm, LetterForm, ProposalForm, TeamMemberForm, WithdrawForm, budget_initial
from ..letters import check_pdf
from ..models import RFI_BUDGET, RFI_LETTER, RFI_TEAM, SupportLetter
from ..rules import can_submit_proposal, is_proposal_pi
from .common import _proposal_for, _refuse, _reloaded, _with_content


@login_required
@require_POST
def create(request, year):
    call = get_object_or_404(Call, year=year)
    try:
        proposal = domain.proposal_create(call_id=call.pk, pi=request.user, now=timezone.now())
    except ValidationError as error:
        _refuse(request, error)
        return redirect("calls:detail", year=year)
    messages.success(request, _("Your draft is ready. It saves as you type."))
    return redirect("proposals:edit", pk=proposal.pk)


@login_required
@require_POST
def restart(request, pk, year):
    """Start a draft in the call of ``year`` from the PI's unfunded proposal ``pk`` of an earlier call (#21)."""
    source = _proposal_for(request, pk, relations=("call",))
    if not is_proposal_pi(request.user, source):  # a co-applicant edits the draft; only its PI starts anew from it
        raise Http404
    call = get_object_or_404(Call, year=year)
    try:
        result = domain.proposal_restart(source_id=source.pk, call_id=call.pk, user=request.user, now=timezone.now())
    except ValidationError as error:
        _refuse(request, error)
        return redirect("proposals:detail", pk=source.pk)
    messages.success(request, _("Your new draft starts from %(reference)s: check each part, get a new support "
                                "letter from the partner, and submit it before the deadline.")
                     % {"reference": source.reference})
    for dropped in result.dropped:
        messages.warning(request, _("Not copied: %(what)s") % {"what": dropped})
    for note in result.notes:
        messages.warning(request, note)
    return redirect("proposals:edit", pk=result.proposal.pk)


def _editor_context(request, proposal, form, *, now, conflict=None, letter_form=None, team_form=None, invite_form=None):
    letter = domain.current_letter(proposal)
    information = domain.information_request_in_force(proposal, now=now)
    return {
        "information_request": information,
        "is_pi": is_proposal_pi(request.user, proposal),
        "team_editable": domain.proposal_editable(proposal, now=now, items=[RFI_TEAM]),
        **_letter_context(proposal, now=now, letter=letter, letter_form=letter_form, invite_form=invite_form, user=request.user),
        "proposal": proposal,
        "call": proposal.call,
        "form": form,
        "team": list(proposal.team.all()),
        "team_form": team_form or TeamMemberForm(),
        "checklist": _checklist(proposal, now=now, letter=letter),
        "deadline": call_deadline(proposal.call),
        "conflict": conflict,
        "now": now,
    }


def _checklist(proposal, *, now, letter):
    """The checklist the editor shows. Under a request for information (the call closed) the deadline rule is
    read as of the last submission, as screening reads it: "the call accepts submissions" is not what is asked."""
    in_force = domain.information_request_in_force(proposal, now=now) is not None
    return domain.proposal_checklist(proposal, now=now, letter=letter, as_submitted=in_force)


def _letter_context(proposal, *, now, letter, user, letter_form=None, invite_form=None) -> dict:
    """What the letter section (``proposals/_letter.html``) shows of the proposal and its ``letter``; inviting
    the partner is the PI's (a co-applicant uploads the letter, #21)."""
    invitations = domain.partner_invitations(proposal)
    return {
        "letter": letter,
        "letter_form": letter_form or LetterForm(),
        "invite_form": invite_form or InvitationForm(initial={"email": proposal.partner_email, "language": "en"}),
        "invitation": domain.current_invitation(invitations),
        "revoked_for_new_partner": domain.partner_needs_invitation(proposal, invitations=invitations),
        "letter_from_former_partner": domain.letter_from_former_partner(proposal, letter),
        "editable": domain.proposal_editable(proposal, now=now, items=[RFI_LETTER]),
        "can_submit": can_submit_proposal(user, proposal),
    }


def _bound_form(request, proposal, *, now):
    information = domain.information_request_in_force(proposal, now=now)
    form = ProposalForm(request.POST, instance=proposal, call=proposal.call,
                        initial=budget_initial(proposal) if information else None)
    return _limit_to_request(form, information)


def _fresh_form(proposal, *, now):
    form = ProposalForm(
        instance=proposal, call=proposal.call,
        initial={"lock_version": proposal.lock_version, **budget_initial(proposal)},
    )
    return _limit_to_request(form, domain.information_request_in_force(proposal, now=now))


def _limit_to_request(form, information):
    """Under a request for information, once the call closed, the fields it does not name are shown disabled,
    and keep their stored value whatever is posted (the domain refuses any other change all the same)."""
    if information is None:
        return form
    if form.instance.unit_id:  # a bound form has no initial unit code of its own
        form.initial.setdefault("unit_code", form.instance.unit.code)
    for name, field in form.fields.items():
        item = "unit" if name == "unit_code" else RFI_BUDGET if name.startswith("budget_") else name
        if name != "lock_version" and item not in information.items:
            field.disabled = True
    return form


def _save(request, proposal, form, *, now):
    """Run the domain save for a valid form. Returns (result, error)."""
    try:
        result = domain.proposal_save_draft(
            proposal_id=proposal.pk, user=request.user, data=form.draft_data(), budget=form.budget_data(),
            lock_version=requested_lock_version(request, form), now=now,
        )
    except ValidationError as error:
        return None, error
    return result, None


@login_required
def edit(request, pk):
    """The editor. Works without JavaScript (Save posts here); with htmx the form also autosaves."""
    proposal = _proposal_for(request, pk, edit=True)
    now = timezone.now()
    if request.method == "POST":
        form = _bound_form(request, proposal, now=now)
        if form.is_valid():
            result, error = _save(request, proposal, form, now=now)
            if error is not None:
                _refuse(request, error)
                return redirect("proposals:detail", pk=proposal.pk)
            if result.saved:
                messages.success(request, _("Saved at %(time)s.") % {"time": formats.time(result.record.updated_at)})
                return redirect("proposals:edit", pk=proposal.pk)
            context = _editor_context(request, result.record, form, now=now, conflict=_conflict(result, form, user=request.user))
            return TemplateResponse(request, "proposals/edit.html", context, status=409)
        messages.error(request, _("Not saved: correct the fields marked below."))
        return TemplateResponse(request, "proposals/edit.html", _editor_context(request, proposal, form, now=now), status=400)
    refusal = domain.proposal_edit_refusal(proposal, now=now)
    if refusal:
        # An old link to the editor: the proposal's page, saying why it no longer opens.
        messages.info(request, refusal)
        return redirect("proposals:detail", pk=proposal.pk)
    proposal = _with_content(proposal)
    form = _fresh_form(proposal, now=now)
    _fill_chosen_unit(request, form)
    return TemplateResponse(request, "proposals/edit.html", _editor_context(request, proposal, form, now=now))


def _fill_chosen_unit(request, form):
    """A unit chosen on the unit search page (``calls:unit_search``, the way without JavaScript) comes back as
    ``?unit_code=``: the field shows it, and the PI's save checks and keeps it like a code typed in."""
    code = request.GET.get("unit_code", "").strip()[:20]
    if code:
        form.initial["unit_code"] = code
        messages.info(request, _("%(code)s is filled in as your unit: save to keep it.") % {"code": code})


def _conflict(result, form, *, user):
    labels = []
    for name in result.conflicting_fields:
        if name == "budget":
            labels.append(_("Budget"))
        elif name == "unit":
            labels.append(str(form.fields["unit_code"].label))
        elif name in form.fields:
            labels.append(str(form.fields[name].label))
    context = conflict_context(result, labels)
    # Saved by someone else (a co-applicant, or the PI; #21): the banner names them.
    saver = result.record.last_saved_by
    context["by"] = saver.get_full_name() if saver is not None and saver.pk != user.pk else ""
    return context


@login_required
@require_POST
def autosave(request, pk):
    """htmx endpoint: saves the form and answers with out-of-band fragments only (indicator, field errors,
    lock version, checklist, submission status; the evaluating institute when the unit changed, the letter
    section when the partner did), so what the user is typing is never replaced."""
    proposal = _proposal_for(request, pk, edit=True, relations=("call",))  # the form's budget years
    now = timezone.now()
    form = _bound_form(request, proposal, now=now)
    unit_before, partner_before = proposal.unit_id, proposal.partner_email.lower()
    context = {"form": form, "conflict": None, "error": None, "saved_at": None}
    status, stored = 200, None
    if form.is_valid():
        result, error = _save(request, proposal, form, now=now)
        if error is not None:
            context["error"] = " ".join(error.messages)
            status = 409
        else:
            stored = result.record  # as stored now, with its budget lines (the domain read them under the lock)
            if result.saved:
                context["saved_at"] = stored.updated_at
            else:
                context["conflict"] = _conflict(result, form, user=request.user)
                status = 409
    else:
        context["error"] = _("Not saved: correct the fields marked in red.")
    # Validating the form wrote the typed values into ``proposal``: the page shows what is stored.
    proposal = _with_content(stored) if stored is not None else _reloaded(proposal)
    letter = domain.current_letter(proposal)
    if proposal.unit_id != unit_before:
        # The unit decides which institutes may evaluate: refresh that one field.
        context["institute_field"] = _fresh_form(proposal, now=now)["evaluating_institute"]
    if proposal.partner_email.lower() != partner_before:
        # A new partner: the former one's links were revoked. The letter section says so and offers to
        # invite the new address (the text being typed is in the main form, which is not replaced).
        context.update(_letter_context(proposal, now=now, letter=letter, user=request.user), letter_oob=True)
    context.update(
        proposal=proposal,
        checklist=_checklist(proposal, now=now, letter=letter),
        field_names=[name for name in form.fields if name != "lock_version"],
    )
    # htmx ignores the body of error statuses by default; the client swaps 4xx too (see static/js/app.js).
    return TemplateResponse(request, "proposals/_autosave.html", context, status=status)


@login_required
@require_POST
def team_add(request, pk):
    proposal = _proposal_for(request, pk, edit=True)
    now = timezone.now()
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        try:
            domain.team_member_add(proposal_id=proposal.pk, user=request.user, now=now, **form.cleaned_data)
        except ValidationError as error:
            _refuse(request, error)
        else:
            form = TeamMemberForm()
    elif not request.htmx:
        proposal = _reloaded(proposal)
        messages.error(request, _("The team member was not added: correct the fields marked below."))
        context = _editor_context(request, proposal, _fresh_form(proposal, now=now), now=now, team_form=form)
        return TemplateResponse(request, "proposals/edit.html", context, status=400)
    if request.htmx:
        return _team_fragment(request, proposal, form, now=now)
    return redirect(reverse("proposals:edit", kwargs={"pk": proposal.pk}) + "#team")


@login_required
@require_POST
def team_remove(request, pk, member_id):
    proposal = _proposal_for(request, pk, edit=True)
    now = timezone.now()
    try:
        domain.team_member_remove(proposal_id=proposal.pk, member_id=member_id, user=request.user, now=now)
    except ValidationError as error:
        _refuse(request, error)
    if request.htmx:
        return _team_fragment(request, proposal, TeamMemberForm(), now=now)
    return redirect(reverse("proposals:edit", kwargs={"pk": proposal.pk}) + "#team")


def _team_fragment(request, proposal, form, *, now):
    proposal = _reloaded(proposal)
    context = {"proposal": proposal, "team": list(proposal.team.all()), "team_form": form,
               "editable": domain.proposal_editable(proposal, now=now, items=[RFI_TEAM]),
               "checklist": _checklist(proposal, now=now, letter=domain.current_letter(proposal)), "oob": True}
    return TemplateResponse(request, "proposals/_team.html", context)


@login_required
@require_POST
def letter_upload(request, pk):
    """The PI uploads the support letter. A refused file changes nothing and says exactly why."""
    proposal = _proposal_for(request, pk, edit=True, relations=())  # read again once the letter is attached
    now = timezone.now()
    form = LetterForm(request.POST, request.FILES)
    attached, error = _attach_letter(form, proposal=proposal, now=now, user=request.user)
    if request.htmx:
        # The proposal as the domain left it (locked, read and touched there), or as stored when refused.
        proposal = _with_content(attached.proposal) if attached is not None else _reloaded(proposal)
        letter = domain.current_letter(proposal)
        context = {
            **_letter_context(proposal, now=now, letter=letter, user=request.user, letter_form=form if error else LetterForm()),
            "proposal": proposal, "checklist": _checklist(proposal, now=now, letter=letter),
            "oob": True, "letter_saved": not error,
        }
        return TemplateResponse(request, "proposals/_letter.html", context, status=400 if error else 200)
    if error:
        messages.error(request, _("The letter was not uploaded: %(reason)s") % {"reason": error})
        proposal = _reloaded(proposal)
        context = _editor_context(request, proposal, _fresh_form(proposal, now=now), now=now, letter_form=form)
        return TemplateResponse(request, "proposals/edit.html", context, status=400)
    messages.success(request, _("The support letter was uploaded."))
    return redirect(reverse("proposals:edit", kwargs={"pk": proposal.pk}) + "#letter")


def _attach_letter(form, *, proposal, now, user=None, invitation=None) -> tuple[SupportLetter | None, str]:
    """Check and store an uploaded letter; return it, or the reason it was refused."""
    if not form.is_valid():
        return None, " ".join(e for errors in form.errors.values() for e in errors)
    try:
        pdf = check_pdf(form.cleaned_data["file"])
        letter = domain.letter_attach(
            proposal_id=proposal.pk, pdf=pdf, now=now, user=user, invitation=invitation,
            cofunding=form.cleaned_data["cofunding"], cofunding_amount=form.cleaned_data["cofunding_amount"],
            cofunding_currency=form.cleaned_data["cofunding_currency"],
        )
    except ValidationError as error:
        form.add_error("file", error)
        return None, " ".join(error.messages)
    return letter, ""


@login_required
@require_POST
def invite(request, pk):
    proposal = _proposal_for(request, pk, edit=True)
    now = timezone.now()
    form = InvitationForm(request.POST)
    sent = False
    if form.is_valid():
        try:
            domain.invitation_create(proposal_id=proposal.pk, user=request.user, now=now, **form.cleaned_data)
            sent = True
        except ValidationError as error:
            form.add_error(None, error)
    if request.htmx:
        proposal = _reloaded(proposal)
        context = _editor_context(request, proposal, None, now=now, invite_form=form)
        context.update(oob=True, invitation_sent=sent)
        return TemplateResponse(request, "proposals/_letter.html", context, status=200 if sent else 400)
    if sent:
        messages.success(request, _("The invitation was sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    else:
        messages.error(request, _("The invitation was not sent: %(reason)s") % {
            "reason": " ".join(e for errors in form.errors.values() for e in errors)})
    return redirect(reverse("proposals:edit", kwargs={"pk": proposal.pk}) + "#letter")


@login_required
@require_POST
def submit(request, pk):
    proposal = _proposal_for(request, pk, edit=True, relations=("call",))  # whether a refused one is still editable
    now = timezone.now()
    try:
        result = domain.proposal_submit(proposal_id=proposal.pk, user=request.user, now=now)
    except ValidationError as error:
        _refuse(request, error)
        # Back to the editor to fix what the checklist names, unless the proposal can no longer be changed.
        return redirect("proposals:edit" if domain.proposal_editable(proposal, now=now) else "proposals:detail", pk=proposal.pk)
    when = timezone.localtime(result.version.submitted_at)
    if result.created:
        messages.success(request, _("Submitted on %(date)s at %(time)s (version %(number)s). Your receipt is on its way by e-mail.")
                         % {"date": formats.date(when), "time": formats.time(when, seconds=True), "number": result.version.number})
    else:
        messages.info(request, _("Already submitted (version %(number)s); nothing changed since.") % {"number": result.version.number})
    return redirect("proposals:detail", pk=proposal.pk)


@login_required
def withdraw(request, pk):
    proposal = _proposal_for(request, pk, edit=True)
    if not can_submit_proposal(request.user, proposal):
        # A co-applicant edits the draft with the PI; withdrawing it stays the PI's (``proposal_withdraw``).
        messages.error(request, _("Only the PI can withdraw this proposal."))
        return redirect("proposals:detail", pk=proposal.pk)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain.proposal_withdraw(proposal_id=proposal.pk, user=request.user, now=timezone.now(), reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _refuse(request, error)
        else:
            messages.success(request, _("The proposal was withdrawn."))
        return redirect("proposals:detail", pk=proposal.pk)
    return render(request, "proposals/withdraw.html", {"proposal": proposal, "form": form})


@login_required
@require_POST
def information_answer(request, pk):
    """The PI sends the answer to the open request for information: a new version, with its receipt."""
    proposal = _proposal_for(request, pk, edit=True, relations=("call",))
    if not is_proposal_pi(request.user, proposal):
        raise Http404  # co-applicants edit; only the PI sends (the domain says so too)
    now = timezone.now()
    information = domain.open_information_request(proposal, now=now)
    if information is None:
        messages.error(request, _("No request for information is open on this proposal."))
        return redirect("proposals:detail", pk=proposal.pk)
    try:
        version = domain.information_answer(request_id=information.pk, user=request.user, now=now)
    except ValidationError as error:
        _refuse(request, error)
        return redirect("proposals:edit" if domain.proposal_editable(proposal, now=now) else "proposals:detail",
                        pk=proposal.pk)
    messages.success(request, _("Your answer was sent (version %(number)s). Your receipt is on its way by e-mail.")
                     % {"number": version.number})
    return redirect("proposals:detail", pk=proposal.pk)
