"""The action on calls that anonymises their proposals past retention (registered on ``calls.Call`` by
``PrivacyConfig.ready()``, listed by ``calls.admin.CallAdmin``), and the confirmation page the privacy actions
share."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iea.admin_confirm import PlannedChange, confirm_page
from iea.admin_mixins import error_text

from .domain import past_retention, proposals_anonymise
from .models import AnonymisationVia

PREVIEW = 20  # references listed per call on the confirmation page


def confirmation_page(modeladmin, request, queryset, *, action, title, intro, items, submit_label, form=None):
    """The kit's page (``iea.admin_confirm``) with one row per object of ``queryset``: ``items`` says what will
    happen to each, in its order."""
    objects = list(queryset)
    return confirm_page(
        modeladmin, request, objects, action=action, title=title, intro=intro,
        changes=[PlannedChange(str(item)) for item in items], submit_label=submit_label, form=form,
    )


@admin.action(description=_("Anonymise the closed proposals past retention"), permissions=["change"])
def anonymise_past_retention(modeladmin, request, queryset):
    calls = list(queryset.order_by("-year"))
    if "apply" in request.POST:
        for call in calls:
            try:
                result = proposals_anonymise(call_id=call.pk, user=request.user, now=timezone.now(),
                                             via=AnonymisationVia.ADMIN)
            except ValidationError as error:
                modeladmin.message_user(request, f"{call}: {error_text(error)}", messages.ERROR)
                continue
            modeladmin.message_user(request, ngettext(
                "%(call)s: %(count)s proposal anonymised.", "%(call)s: %(count)s proposals anonymised.",
                len(result.anonymised)) % {"call": call, "count": len(result.anonymised)}, messages.SUCCESS)
        return None
    now = timezone.now()
    items = []
    for call in calls:
        references = list(past_retention(call, now=now).order_by("reference").values_list("reference", flat=True))
        shown = ", ".join(references[:PREVIEW]) + (" …" if len(references) > PREVIEW else "")
        items.append(ngettext(
            "%(call)s (retention %(years)s years): %(count)s proposal — %(references)s",
            "%(call)s (retention %(years)s years): %(count)s proposals — %(references)s", len(references),
        ) % {"call": call, "years": call.retention_years, "count": len(references), "references": shown or "—"})
    return confirmation_page(
        modeladmin, request, calls, action="anonymise_past_retention",
        title=_("Anonymise the closed proposals past retention"),
        intro=_("The personal data of these proposals is erased: the partner's and the team's names, e-mails and "
                "institutions, the co-applicants' addresses, the files of the support letters, the reports and "
                "the messages, the free texts that name people (conversations, requests for information, "
                "amendments), in the submitted versions, the mails and the audit trail too. The call, unit, institute, state, budget, "
                "scores, decision and award stay for the statistics. This cannot be undone."),
        items=items, submit_label=_("Anonymise"),
    )
