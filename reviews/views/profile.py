"""The reviewer profile: identifiers, expertise per pool and publications imported from HAL or ORCID.

Two doors onto one page: the reviewer's own (``reviewer:profile``, for anyone in at least one pool) and the
officer's view of a pool member (``panel:reviewer_profile``: officers of that panel and staff, the reviewer found
in the panel's pool). Who may change what is ``reviews.rules.can_edit_profile``, asked again by every domain
function; the views only find the objects and show the outcome.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..domain.publication_online import publications_fetch
from ..domain.publications import (
    identifiers_set,
    publication_delete,
    publications_import,
    reviewer_profile_update,
)
from ..forms.profile import ExpertiseForm, IdentifiersForm, PublicationFileForm
from ..models import Publication, Reviewer
from ..rules import is_in_a_pool
from .officer import panel_for_officer, reviewer_pool

PUBLICATIONS_PER_PAGE = 20


def _publications_page(request, person):
    publications = Publication.objects.filter(user=person).only(
        "pk", "title", "year", "venue", "doi", "authors", "source").order_by("-year", "title", "pk")
    return Paginator(publications, PUBLICATIONS_PER_PAGE).get_page(request.GET.get("page"))


def _page(request, *, person, reviewers, own, panel=None, identifiers_form=None, upload_form=None,
          expertise_forms=None, status=200):
    page = _publications_page(request, person)
    expertise_forms = expertise_forms or {}
    rows = [(reviewer, expertise_forms.get(reviewer.pk) or ExpertiseForm(
        prefix=f"r{reviewer.pk}", initial={"keywords": reviewer.keywords, "sections": reviewer.sections}))
        for reviewer in reviewers]
    if own:
        urls = {"identifiers": reverse("reviewer:profile_identifiers"), "upload": reverse("reviewer:profile_import"),
                "fetch": reverse("reviewer:profile_fetch")}
    else:
        args = [panel.pk, reviewers[0].pk]
        urls = {"identifiers": reverse("panel:reviewer_identifiers", args=args),
                "upload": reverse("panel:reviewer_import", args=args),
                "fetch": reverse("panel:reviewer_fetch", args=args)}
    return TemplateResponse(request, "reviews/profile.html", {
        "person": person, "own": own, "panel": panel, "tab": "pool", "pool_rows": rows, "page": page,
        "publications": list(page.object_list), "urls": urls,
        "identifiers_form": identifiers_form or IdentifiersForm(
            initial={"orcid": person.orcid, "hal_id": person.hal_id}),
        "upload_form": upload_form or PublicationFileForm(), "online": settings.PUBLICATION_IMPORT_ONLINE,
    }, status=status)


def _import(request, person, form):
    try:
        result = publications_import(user=person, file=form.cleaned_data["file"], imported_by=request.user,
                                     now=timezone.now())
    except ValidationError as error:
        form.add_error("file", error)
        return False
    _imported(request, result)
    return True


def _fetch(request, person):
    """Import from HAL's or ORCID's API (``publication_online``); the outcome, or why not, as a message."""
    try:
        result = publications_fetch(user=person, source=request.POST.get("source", ""), imported_by=request.user,
                                    now=timezone.now())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        _imported(request, result)


def _imported(request, result):
    messages.success(request, _("Publications imported — new: %(created)s; updated: %(updated)s; unchanged: "
                                "%(unchanged)s; skipped (duplicates or without a title): %(skipped)s.") % {
        "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "skipped": result.skipped})


def _set_identifiers(request, person, form):
    try:
        changed = identifiers_set(user=person, orcid=form.cleaned_data["orcid"], hal_id=form.cleaned_data["hal_id"],
                                  by=request.user, now=timezone.now())
    except ValidationError as error:
        form.add_error(None, error)
        return False
    messages.success(request, _("The identifiers are saved.") if changed else _("Nothing to change."))
    return True


# --- The reviewer's own profile ----------------------------------------------------------------------------------

def _own_reviewers(request):
    if not is_in_a_pool(request.user):
        raise Http404
    return list(Reviewer.objects.filter(user=request.user, active=True).select_related("institute")
                .order_by("institute__code"))


@login_required
@require_GET
def profile(request):
    """My profile: identifiers, expertise in each pool I am in, my publications and the import form."""
    return _page(request, person=request.user, reviewers=_own_reviewers(request), own=True)


@login_required
@require_POST
def profile_identifiers(request):
    reviewers = _own_reviewers(request)
    form = IdentifiersForm(request.POST)
    if form.is_valid() and _set_identifiers(request, request.user, form):
        return redirect("reviewer:profile")
    return _page(request, person=request.user, reviewers=reviewers, own=True, identifiers_form=form, status=400)


@login_required
@require_POST
def profile_expertise(request, reviewer_id):
    reviewers = _own_reviewers(request)
    reviewer = next((r for r in reviewers if r.pk == reviewer_id), None)
    if reviewer is None:
        raise Http404
    form = ExpertiseForm(request.POST, prefix=f"r{reviewer.pk}")
    if form.is_valid():
        try:
            changed = reviewer_profile_update(reviewer_id=reviewer.pk, by=request.user, now=timezone.now(),
                                              **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your expertise is saved.") if changed else _("Nothing to change."))
            return redirect("reviewer:profile")
    return _page(request, person=request.user, reviewers=reviewers, own=True, expertise_forms={reviewer.pk: form},
                 status=400)


@login_required
@require_POST
def profile_import(request):
    reviewers = _own_reviewers(request)
    form = PublicationFileForm(request.POST, request.FILES)
    if form.is_valid() and _import(request, request.user, form):
        return redirect("reviewer:profile")
    return _page(request, person=request.user, reviewers=reviewers, own=True, upload_form=form, status=400)


@login_required
@require_POST
def profile_fetch(request):
    _own_reviewers(request)
    _fetch(request, request.user)
    return redirect("reviewer:profile")


@login_required
@require_POST
def profile_publication_delete(request, publication_id):
    _own_reviewers(request)
    publication = get_object_or_404(Publication.objects.filter(user=request.user), pk=publication_id)
    try:
        publication_delete(publication_id=publication.pk, by=request.user, now=timezone.now())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("“%(title)s” is no longer on your profile.") % {"title": publication.title})
    return redirect("reviewer:profile")


# --- The officer's view of a pool member -------------------------------------------------------------------------

def _pool_member(request, panel_id, reviewer_id):
    panel = panel_for_officer(request, panel_id)
    reviewer = get_object_or_404(reviewer_pool(panel).select_related("institute"), pk=reviewer_id)
    return panel, reviewer


@login_required
@require_GET
def panel_reviewer_profile(request, panel_id, reviewer_id):
    panel, reviewer = _pool_member(request, panel_id, reviewer_id)
    return _page(request, person=reviewer.user, reviewers=[reviewer], own=False, panel=panel)


@login_required
@require_POST
def panel_reviewer_identifiers(request, panel_id, reviewer_id):
    panel, reviewer = _pool_member(request, panel_id, reviewer_id)
    form = IdentifiersForm(request.POST)
    if form.is_valid() and _set_identifiers(request, reviewer.user, form):
        return redirect("panel:reviewer_profile", panel_id=panel.pk, reviewer_id=reviewer.pk)
    return _page(request, person=reviewer.user, reviewers=[reviewer], own=False, panel=panel, identifiers_form=form,
                 status=400)


@login_required
@require_POST
def panel_reviewer_import(request, panel_id, reviewer_id):
    panel, reviewer = _pool_member(request, panel_id, reviewer_id)
    form = PublicationFileForm(request.POST, request.FILES)
    if form.is_valid() and _import(request, reviewer.user, form):
        return redirect("panel:reviewer_profile", panel_id=panel.pk, reviewer_id=reviewer.pk)
    return _page(request, person=reviewer.user, reviewers=[reviewer], own=False, panel=panel, upload_form=form,
                 status=400)


@login_required
@require_POST
def panel_reviewer_fetch(request, panel_id, reviewer_id):
    panel, reviewer = _pool_member(request, panel_id, reviewer_id)
    _fetch(request, reviewer.user)
    return redirect("panel:reviewer_profile", panel_id=panel.pk, reviewer_id=reviewer.pk)
