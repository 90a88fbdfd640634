"""Shared admin pieces."""

from collections.abc import Callable

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.utils import pretty_name
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .http import private_download
from .spreadsheets import XLSX_CONTENT_TYPE, workbook


def error_text(error: ValidationError) -> str:
    """A domain refusal as one line for the admin's messages."""
    return " ".join(str(message) for message in error.messages)


def require_view_permission(request, model_admin) -> None:
    """The admin's own pages (screening, decisions) open to those who may view the model they hang on."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def admin_page_context(request, model_admin, **extra) -> dict:
    """What an admin page of our own needs to look like the admin: the site's context and the model's opts."""
    return {**model_admin.admin_site.each_context(request), "opts": model_admin.opts, **extra}


class ReadOnlyAdminMixin:
    """Staff may look, never add, change or delete: records that only domain functions write
    (audit entries, deadline changes, invitations, frozen versions)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The rows of a record that only domain functions write, shown in its parent's page: every field of
    ``fields`` read-only, no empty row to add, no box to delete."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


# --- Every control of an admin form has a name ------------------------------------------------------------------
# Django's admin leaves two kinds of controls without a label: the cells of a tabular inline (the column header is
# not a label) and the two halves of a split date-time (its "Date:" and "Time:" are bare text). Screen readers
# then announce "edit text". These name them server-side, from the field's own label.

SPLIT_PARTS = (_("date"), _("time"))


def label_widgets(form, *, in_row: bool = False, row: int | None = None) -> None:
    """Give the controls of ``form`` an ``aria-label`` from their field's label: each half of a split date-time
    ("date", "time"), and every control of an inline's row (``in_row``), with the row's number (``row``, from 1;
    none for the template row that the admin's script copies). The form's fields are its own copies, so this
    touches no other form."""
    for name, field in form.fields.items():
        widget = getattr(field.widget, "widget", field.widget)  # inside RelatedFieldWidgetWrapper
        if widget.is_hidden:
            continue
        label = str(field.label if field.label is not None else pretty_name(name))
        if row is not None:
            label = _("%(label)s, row %(row)d") % {"label": label, "row": row}
        if isinstance(widget, forms.MultiWidget):
            parts = SPLIT_PARTS if isinstance(widget, forms.SplitDateTimeWidget) else range(1, len(widget.widgets) + 1)
            for part, subwidget in zip(parts, widget.widgets, strict=False):
                subwidget.attrs["aria-label"] = f"{label} ({part})"
        elif in_row:
            widget.attrs["aria-label"] = label


class _LabelledForm:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_widgets(self)


class _LabelledRows:
    def add_fields(self, form, index):
        super().add_fields(form, index)  # adds the row's delete box: labelled with the rest
        label_widgets(form, in_row=True, row=None if index is None else index + 1)


def labelled_form(form_class):
    return form_class if issubclass(form_class, _LabelledForm) else type(form_class.__name__, (_LabelledForm, form_class), {})


def labelled_formset(formset_class):
    if issubclass(formset_class, _LabelledRows):
        return formset_class
    return type(formset_class.__name__, (_LabelledRows, formset_class), {})


class LabelledWidgetsMixin:
    """For every ModelAdmin of the site (``tests/iea/test_admin_a11y.py`` checks): names the controls of its form and
    of its inlines' rows (``label_widgets``)."""

    def get_form(self, request, obj=None, **kwargs):
        return labelled_form(super().get_form(request, obj, **kwargs))

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            yield labelled_formset(formset), inline


class IeaModelAdmin(LabelledWidgetsMixin, admin.ModelAdmin):
    """The base of every ModelAdmin of the platform."""


# --- Actions an app offers on another app's model ---------------------------------------------------------------
# An app cannot import an action from above it (calls lies below the roof's privacy, which anonymises calls'
# proposals): the upper app registers its action on the model by label from its ready(), and the model's admin
# lists what is registered (``CallAdmin.get_actions``).

ACTIONS: dict[str, list[Callable]] = {}


def register_action(model_label: str, action: Callable) -> None:
    """Offer the admin action ``action`` on the model ``model_label`` ("calls.Call"), after the admin's own. A label
    that names no installed model raises ``LookupError`` at start-up rather than leave the action silently out."""
    label = apps.get_model(model_label)._meta.label
    registered = ACTIONS.setdefault(label, [])
    if action not in registered:
        registered.append(action)


def registered_actions(modeladmin, request) -> dict[str, tuple[Callable, str, str]]:
    """The actions registered on ``modeladmin``'s model, in the form of ``ModelAdmin.get_actions``, by the same rules:
    none where the admin shows no actions (``actions = None``, a popup), and only those the person's permissions
    allow (the action's ``permissions``)."""
    if modeladmin.actions is None or IS_POPUP_VAR in request.GET:
        return {}
    found = [modeladmin.get_action(action) for action in ACTIONS.get(modeladmin.model._meta.label, [])]
    allowed = modeladmin._filter_actions_by_permissions(request, found)
    return {name: (function, name, description) for function, name, description in allowed}


# --- Export the filtered list -----------------------------------------------------------------------------------


class ExportFilteredMixin:
    """A changelist's *Export to Excel (N rows)*: the workbook of exactly the rows the list shows, its filters,
    search and ordering kept (the link carries the list's querystring; the rows come from the admin's own
    ``ChangeList``, so the admin's ``get_queryset`` and its role rules apply).

    A ModelAdmin sets ``export_name`` (the file's first word, "proposals"), ``export_call`` (the path from the
    model to its call, "proposal__call") and writes ``export_sheets(request, queryset) -> list[Sheet]``. Who
    may view the list may export it (``has_view_permission``)."""

    export_name = "export"
    export_call = "call"

    def export_sheets(self, request, queryset) -> list:
        raise NotImplementedError

    def _export_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_export"

    def get_urls(self):
        # ".xlsx": a download, not a page (the crawl and the browser tests skip such paths).
        export = path("export.xlsx", self.admin_site.admin_view(self.export_view), name=self._export_url_name())
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if IS_POPUP_VAR not in request.GET:
            url = reverse(f"{self.admin_site.name}:{self._export_url_name()}")
            query = request.GET.copy()
            query.pop("p", None)  # the page: the workbook holds every page
            extra_context = {**(extra_context or {}),
                             "export_url": f"{url}?{query.urlencode()}" if query else url}
        return super().changelist_view(request, extra_context)

    def export_filename(self, queryset) -> str:
        """``<what>-<call year, or "all">-<date>.xlsx``: the year when every row belongs to one call."""
        years = list(queryset.order_by().values_list(f"{self.export_call}__year", flat=True).distinct()[:2])
        year = str(years[0]) if len(years) == 1 and years[0] is not None else "all"
        return f"{self.export_name}-{year}-{timezone.localdate():%Y-%m-%d}.xlsx"

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # As the list does with a filter it does not know: back to it, with its "?e=1".
            return HttpResponseRedirect(reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}"
                                                "_changelist") + "?e=1")
        queryset = changelist.queryset
        content = workbook(self.export_sheets(request, queryset))
        return private_download(content, filename=self.export_filename(queryset), content_type=XLSX_CONTENT_TYPE)
