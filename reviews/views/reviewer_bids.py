"""The reviewer's bids page: while the officer keeps bidding open, an active reviewer of the institute's pool
marks the panel's proposals (``reviews.domain.bids``). Anyone else gets a 404. The page shows the proposals
as last submitted — reference, acronym, title, abstract, keywords — a page at a time, with a search by word;
one POST saves the page's choices."""

from urllib.parse import urlencode

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
from django.views.decorators.http import require_http_methods

from ..domain.bids import bidding_reviewer, bids_marked, bids_page, bids_save
from ..forms.reviewer import BidsForm, bid_field_name, reason_field_name
from ..models import BidValue, Panel


def _render(request, panel, reviewer, *, query, number, form=None, status=200):
    page, rows = bids_page(panel, reviewer, query=query, number=number)
    editable = [row.pk for row in rows if not row.final]
    if form is None:
        form = BidsForm(editable=editable, initial={
            "q": query, "page": page.number,
            **{bid_field_name(row.pk): row.bid for row in rows if row.bid and not row.final},
        })
    for row in rows:
        if not row.final:
            row.choice = form[bid_field_name(row.pk)]
            row.reason = form[reason_field_name(row.pk)]
            row.missing_reason = (form.is_bound and form.data.get(bid_field_name(row.pk)) == BidValue.CONFLICT
                                  and not (form.data.get(reason_field_name(row.pk)) or "").strip())
    marked, total = bids_marked(panel, reviewer)
    return TemplateResponse(request, "reviews/reviewer/bids.html", {
        "panel": panel, "reviewer": reviewer, "rows": rows, "page": page, "form": form, "query": query,
        "marked": marked, "total": total, "page_query": urlencode({"q": query}) if query else "",
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def bids(request, panel_id):
    panel = get_object_or_404(Panel.objects.select_related("call", "institute"), pk=panel_id)
    reviewer = bidding_reviewer(panel=panel, user=request.user)
    if reviewer is None:
        raise Http404
    if not panel.bidding_open and request.method == "GET":
        return TemplateResponse(request, "reviews/reviewer/bids_closed.html", {"panel": panel})
    # A save after the officer closed bidding is refused by ``bids_save``: the page comes back with the choices.
    source = request.POST if request.method == "POST" else request.GET
    query = (source.get("q") or "").strip()[:200]
    number = source.get("page") or 1
    if request.method == "GET":
        return _render(request, panel, reviewer, query=query, number=number)
    _shown, rows = bids_page(panel, reviewer, query=query, number=number)
    form = BidsForm(request.POST, editable=[row.pk for row in rows if not row.final])
    if form.is_valid():
        try:
            saved = bids_save(panel_id=panel.pk, reviewer=reviewer, bids=form.bids(), conflict_reasons=form.reasons(),
                              user=request.user, now=timezone.now())
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            if saved.written:
                messages.success(request, ngettext("%(count)s choice saved.", "%(count)s choices saved.",
                                                   saved.written) % {"count": saved.written})
            else:
                messages.info(request, _("Nothing new to save."))
            if saved.conflicts:
                messages.info(request, ngettext(
                    "%(count)s conflict of interest declared: you will not be asked to review that proposal.",
                    "%(count)s conflicts of interest declared: you will not be asked to review those proposals.",
                    len(saved.conflicts)) % {"count": len(saved.conflicts)})
            target = int(number) + 1 if "next" in request.POST and str(number).isdigit() else number
            params = {key: value for key, value in (("q", query), ("page", target)) if value and value != 1}
            url = reverse("reviewer:bids", args=[panel.pk])
            return redirect(f"{url}?{urlencode(params)}" if params else url)
    else:
        messages.error(request, _("Not saved: check the choices below."))
    return _render(request, panel, reviewer, query=query, number=number, form=form, status=400)
