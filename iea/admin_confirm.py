"""The confirmation page of a batch action: what will change on each selected object (now → after, or
refused with its reason), totals under the table, an optional form (a reason…), and the selection posted back
with ``apply``. Nothing is written before the person confirms; refused items are listed, not applied.

One kit for every batch (the funding actions, privacy's, the decisions and assignment pages): an action
builds its ``PlannedChange`` rows from the same domain checks the apply step runs, then calls
``confirm_page``."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django import forms
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class PlannedChange:
    """One row of the confirmation: the object (or pair) as people name it, its state now and after the
    action, or why the action will leave it as it is."""

    label: str
    before: str = ""
    after: str = ""
    refused: str = ""


def confirm_page(modeladmin, request, objects: Iterable, *, action: str, title, intro,
                 changes: Sequence[PlannedChange], totals: Sequence[tuple[str, str]] = (), submit_label,
                 form: forms.Form | None = None, back: str = "", columns: Sequence[str] = ()):
    """Django's intermediate page for ``action`` on ``objects`` (their pks are posted back with ``apply``
    to the page that asked; ``back`` is where *Cancel* goes, the list by default); ``changes`` are the rows of
    the table, ``totals`` the (label, value) pairs under it; ``columns`` name the two columns when they are not
    "now" and "after"."""
    changes = list(changes)
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.opts,
        "title": title,
        "intro": intro,
        "pks": [obj.pk for obj in objects],
        "changes": changes,
        "with_states": any(change.before or change.after or change.refused for change in changes),
        "refused_count": sum(1 for change in changes if change.refused),
        "totals": list(totals),
        "columns": list(columns) or [_("Now"), _("After")],
        "form": form,
        "action": action,
        "submit_label": submit_label,
        "back": back or reverse(f"admin:{modeladmin.opts.app_label}_{modeladmin.opts.model_name}_changelist"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + (form.media if form is not None else forms.Media()),
    }
    return TemplateResponse(request, "admin/iea_action_confirm.html", context)
