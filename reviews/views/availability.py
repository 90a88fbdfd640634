"""#20: the dates a reviewer is away (``reviewer:availability``), and the officer's maximums of reviews (panel
default, per reviewer) from the pool page. The rules are in ``reviews.domain.availability`` and ``caps``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from ..domain.availability import period_text, unavailability_add, unavailability_delete
from ..domain.caps import panel_default_cap_set, reviewer_cap_set
from ..forms.availability import CapForm, UnavailabilityForm
from ..models import Unavailability
from ..rules import is_pool_reviewer
from .officer import form_errors, panel_for_officer, refuse, reviewer_pool


def _reviewer_only(request):
    if not is_pool_reviewer(request.user):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def availability(request):
    """My absences: the list (from today on), a form to add one; each can be deleted. Two queries."""
    _reviewer_only(request)
    now = timezone.now()
    form = UnavailabilityForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                entry = unavailability_add(user=request.user, now=now, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Recorded: you are away %(period)s.") % {"period": period_text(entry)})
                return redirect("reviewer:availability")
        status = 400
    periods = list(Unavailability.objects.filter(user=request.user, ends_on__gte=timezone.localdate(now))
                   .order_by("starts_on", "pk"))
    return TemplateResponse(request, "reviews/reviewer/availability.html",
                            {"form": form, "periods": periods}, status=status)


@login_required
@require_POST
def availability_delete(request, pk):
    _reviewer_only(request)
    get_object_or_404(Unavailability, pk=pk, user=request.user)  # someone else's: not found, nothing said
    try:
        unavailability_delete(user=request.user, unavailability_id=pk, now=timezone.now())
    except ValidationError as error:
        refuse(request, error)
    else:
        messages.success(request, _("The period is deleted."))
    return redirect("reviewer:availability")


@login_required
@require_POST
def panel_default_cap(request, panel_id):
    panel = panel_for_officer(request, panel_id)
    form = CapForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("panel:pool", panel_id=panel.pk)
    try:
        result = panel_default_cap_set(panel_id=panel.pk, user=request.user, now=timezone.now(),
                                       max_reviews=form.cleaned_data["max_reviews"])
    except ValidationError as error:
        refuse(request, error)
    else:
        if result.max_reviews is None:
            messages.success(request, _("No default maximum: only the balance of loads limits the reviewers."))
        else:
            messages.success(request, ngettext(
                "By default, each reviewer takes at most %(count)d review in this panel.",
                "By default, each reviewer takes at most %(count)d reviews in this panel.", result.max_reviews,
            ) % {"count": result.max_reviews})
        if result.warning:
            messages.warning(request, result.warning)
    return redirect("panel:pool", panel_id=panel.pk)


@login_required
@require_POST
def panel_reviewer_cap(request, panel_id, reviewer_id):
    panel = panel_for_officer(request, panel_id)
    reviewer = get_object_or_404(reviewer_pool(panel), pk=reviewer_id)
    form = CapForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return redirect(f"{_pool_url(panel)}#reviewer-{reviewer.pk}")
    try:
        result = reviewer_cap_set(panel_id=panel.pk, reviewer_id=reviewer.pk, user=request.user, now=timezone.now(),
                                  max_reviews=form.cleaned_data["max_reviews"])
    except ValidationError as error:
        refuse(request, error)
    else:
        if result.max_reviews is None:
            messages.success(request, _("%(email)s follows the panel's default maximum.") % {"email": reviewer.user.email})
        else:
            messages.success(request, ngettext(
                "%(email)s takes at most %(count)d review in this panel.",
                "%(email)s takes at most %(count)d reviews in this panel.", result.max_reviews,
            ) % {"email": reviewer.user.email, "count": result.max_reviews})
        if result.warning:
            messages.warning(request, result.warning)
    return redirect(f"{_pool_url(panel)}#reviewer-{reviewer.pk}")


def _pool_url(panel):
    return reverse("panel:pool", args=[panel.pk])
