"""The directorate runs calls here. Every state change goes through ``calls.domain``; this module only
collects the input (a reason, a new closing time, a year) and reports what the domain said."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iea import formats
from iea.admin_mixins import IeaModelAdmin, ReadOnlyTabularInline, error_text, registered_actions
from iea.formats import PARIS

from .domain import (
    call_allowed_actions,
    call_clone,
    call_close,
    call_extend,
    call_mark_decided,
    call_open,
    call_publish,
    call_record_edit,
    call_source_year,
    call_stale_year_fields,
    call_start_review,
    default_window,
)
from .models import (
    Call,
    CallDeadlineChange,
    CallState,
    Criterion,
    Delegation,
    Institute,
    InstitutePriority,
    Unit,
)


def paris_time(value: dt.datetime | None) -> str:
    """An instant as the directorate reads it: the Paris wall clock, the zone said in words."""
    return "—" if value is None else formats.datetime(value)


@admin.register(Institute)
class InstituteAdmin(IeaModelAdmin):
    list_display = ("code", "usage_name", "legal_name")
    search_fields = ("code", "usage_name", "legal_name")
    fields = ("code", "usage_name", "legal_name", "officers")
    autocomplete_fields = ("officers",)


@admin.register(Delegation)
class DelegationAdmin(IeaModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Unit)
class UnitAdmin(IeaModelAdmin):
    list_display = ("code_display", "acronym", "name", "delegation", "main_institute")
    list_filter = ("delegation", "main_institute", "unit_type")
    list_select_related = ("delegation", "main_institute")
    search_fields = ("acronym", "name", "city")
    autocomplete_fields = ("managers",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "secondary_institutes":
            kwargs["widget"] = forms.CheckboxSelectMultiple  # ten institutes: all in sight, nothing to search
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("code"), ordering="unit_type")
    def code_display(self, obj):
        return obj.code

    def get_search_results(self, request, queryset, search_term):
        """The unit search of the proposal editor (``UnitQuerySet.matching``): the code however it is typed
        (``umr5558``, ``UMR 5558``, ``umr-5558``), the acronym, words of the name, the city, accents ignored. The
        list's search box and the unit pickers of the other admin pages (autocomplete) use it."""
        if not search_term.strip():
            return queryset, False
        return queryset.matching(search_term), False


class CriterionInline(admin.StackedInline):
    """Stacked: the guidance texts are long, a row of nine columns would push the page sideways."""

    model = Criterion
    extra = 0
    ordering = ("position",)
    fields = (("position", "weight", "threshold"), ("scale_max", "step"), "label_fr", "label_en", "guidance_fr", "guidance_en")


class InstitutePriorityInline(admin.StackedInline):
    model = InstitutePriority
    extra = 0
    fields = ("institute", "themes_fr", "themes_en", "priority_countries")


class CallDeadlineChangeInline(ReadOnlyTabularInline):
    """The logged history of the closing time; written only by ``call_extend`` and ``call_close``."""

    model = CallDeadlineChange
    fields = ("changed_at_paris", "changed_by", "old_closes_at_paris", "new_closes_at_paris", "reason")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    @admin.display(description=_("changed at"))
    def changed_at_paris(self, obj):
        return paris_time(obj.changed_at)

    @admin.display(description=_("previous closing time"))
    def old_closes_at_paris(self, obj):
        return paris_time(obj.old_closes_at)

    @admin.display(description=_("new closing time"))
    def new_closes_at_paris(self, obj):
        return paris_time(obj.new_closes_at)


class ParisDateTimeField(forms.DateTimeField):
    """A closing time typed as Paris wall-clock time, whatever the active time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def prepare_value(self, value):
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return timezone.localtime(value, PARIS).replace(tzinfo=None)
        return value

    def to_python(self, value):
        with timezone.override(PARIS):
            return super().to_python(value)


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the call is closed before its closing time; kept in the call's history."),
    )

    def __init__(self, *args, closes_early: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = closes_early


class ExtendForm(forms.Form):
    new_closes_at = ParisDateTimeField(label=_("New closing time (Paris time)"))
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the call's history and in the audit trail."),
    )


class CloneForm(forms.Form):
    year = forms.IntegerField(label=_("Year of the new call"), min_value=2000, max_value=2999)


@admin.register(Call)
class CallAdmin(IeaModelAdmin):
    list_display = ("year", "title_display", "state", "opens_at_paris", "closes_at_paris", "proposal_count")
    list_filter = ("state",)
    search_fields = ("title_fr", "title_en")
    inlines = (CriterionInline, InstitutePriorityInline, CallDeadlineChangeInline)
    actions = ("publish_calls", "open_calls", "close_call", "extend_call", "clone_call", "start_review", "mark_decided")
    fieldsets = (
        (None, {"fields": ("year", "state", "title_fr", "title_en")}),
        (_("Texts"), {"fields": ("summary_fr", "summary_en", "rules_fr", "rules_en")}),
        (_("Window (Paris time)"), {"fields": ("opens_at", "closes_at", "grace_minutes")}),
        (_("Rules"), {"fields": (
            "budget_min", "budget_max", "total_envelope", "duration_months", "award_acceptance_days",
            "max_extension_months", "max_active_proposals_per_pi", "excluded_countries", "retention_years", "overall_threshold",
        )}),
        (_("Review"), {"fields": ("coauthor_conflict_years",)}),
        (_("Publication"), {"fields": ("figures_public",)}),
        (_("Reviewers"), {"fields": ("outcome_to_reviewers",)}),
        (_("Reminders"), {
            "description": _("Days relative to the deadline, comma-separated, negative before it. The "
                             "dispatcher reads them at each tick: a change applies at once."),
            "fields": ("draft_reminder_days", "letter_reminder_days", "review_reminder_days",
                       "review_escalation_days", "report_reminder_days"),
        }),
    )

    def get_actions(self, request):
        # After the calls' own, the actions apps above calls offer on them (privacy's anonymisation past
        # retention), which calls cannot import: they register them by the model's label (iea.admin_mixins).
        return {**super().get_actions(request), **registered_actions(self, request)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(proposal_count=Count("proposals"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The call's page offers the actions its state allows (``call_allowed_actions``), and warns, until
        they are fixed, of texts that still name the year of the call it was cloned from (shown on the
        clone's page right after cloning, and each time it is opened)."""
        call = self.get_object(request, unquote(object_id))
        if call is not None:
            extra_context = {**(extra_context or {}), "allowed_actions": call_allowed_actions(call)}
        if request.method == "GET":
            year = call_source_year(call) if call is not None else None
            stale = call_stale_year_fields(call, year=year) if year is not None else []
            if stale:
                self.message_user(request, _(
                    "These texts still name %(year)s, the previous call's year: %(fields)s. "
                    "Update them for %(this_year)s before publishing."
                ) % {"year": year, "fields": ", ".join(stale), "this_year": call.year}, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        # The state moves only through the actions. Once a call is public, its closing time moves only
        # through "Extend the deadline" or "Close", which log the reason.
        if obj is None or obj.state == CallState.DRAFT:
            return ("state",)
        return ("state", "opens_at", "closes_at", "grace_minutes")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        year = timezone.localtime(timezone.now(), PARIS).year + 1
        opens_at, closes_at = default_window(year)
        initial.setdefault("year", year)
        initial.setdefault("opens_at", opens_at)
        initial.setdefault("closes_at", closes_at)
        return initial

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changed = list(form.changed_data) + [
            f"{formset.prefix}" for formset in formsets if formset.has_changed()
        ]
        call_record_edit(call=form.instance, user=request.user, now=timezone.now(), created=not change, changed=changed)

    @admin.display(description=_("title"), ordering="title_fr")
    def title_display(self, obj):
        return obj.title

    @admin.display(description=_("opens at (Paris)"), ordering="opens_at")
    def opens_at_paris(self, obj):
        return paris_time(obj.opens_at)

    @admin.display(description=_("closes at (Paris)"), ordering="closes_at")
    def closes_at_paris(self, obj):
        return paris_time(obj.closes_at)

    @admin.display(description=_("proposals"), ordering="proposal_count")
    def proposal_count(self, obj):
        return obj.proposal_count

    # Actions on the list -----------------------------------------------------------------------------

    def _run_each(self, request, queryset, function, done_message):
        for call in queryset:
            try:
                function(call_id=call.pk, user=request.user, now=timezone.now())
            except ValidationError as error:
                self.message_user(request, error_text(error), messages.ERROR)
            else:
                self.message_user(request, done_message % {"call": call}, messages.SUCCESS)

    @admin.action(description=_("Publish"), permissions=["change"])
    def publish_calls(self, request, queryset):
        self._run_each(request, queryset, call_publish, _("“%(call)s” is published."))

    @admin.action(description=_("Open for proposals"), permissions=["change"])
    def open_calls(self, request, queryset):
        self._run_each(request, queryset, call_open, _("“%(call)s” is open."))

    @admin.action(description=_("Start the review"), permissions=["change"])
    def start_review(self, request, queryset):
        self._run_each(request, queryset, call_start_review, _("“%(call)s” is in review."))

    @admin.action(description=_("Mark as decided"), permissions=["change"])
    def mark_decided(self, request, queryset):
        self._run_each(request, queryset, call_mark_decided, _("“%(call)s” is decided."))

    def _to_page(self, request, queryset, name):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one call for this action."), messages.ERROR)
            return None
        return HttpResponseRedirect(reverse(f"admin:calls_call_{name}", args=[queryset.get().pk]))

    @admin.action(description=_("Close"), permissions=["change"])
    def close_call(self, request, queryset):
        return self._to_page(request, queryset, "close")

    @admin.action(description=_("Extend the deadline"), permissions=["change"])
    def extend_call(self, request, queryset):
        return self._to_page(request, queryset, "extend")

    @admin.action(description=_("Clone for next year"), permissions=["change"])
    def clone_call(self, request, queryset):
        return self._to_page(request, queryset, "clone")

    # Pages of their own: close, extend, clone ---------------------------------------------------------

    def get_urls(self):
        own = [
            path("<path:object_id>/close/", self.admin_site.admin_view(self.close_view), name="calls_call_close"),
            path("<path:object_id>/extend/", self.admin_site.admin_view(self.extend_view), name="calls_call_extend"),
            path("<path:object_id>/clone/", self.admin_site.admin_view(self.clone_view), name="calls_call_clone"),
        ]
        return own + super().get_urls()

    def _call_for(self, request, object_id):
        call = self.get_object(request, unquote(object_id))
        if call is None or not self.has_change_permission(request, call):
            # The same answer for "no such call" and "not yours", so ids cannot be probed.
            raise PermissionDenied
        return call

    def _change_url(self, call):
        return reverse("admin:calls_call_change", args=[call.pk])

    def _page(self, request, call, form, *, title, intro, submit_label):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": call,
            "title": title,
            "intro": intro,
            "form": form,
            "submit_label": submit_label,
            "current_closes_at": paris_time(call.closes_at),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/calls/call/call_action_form.html", context)

    def close_view(self, request, object_id):
        call = self._call_for(request, object_id)
        closes_early = call.closes_at > timezone.now()
        form = CloseForm(request.POST or None, closes_early=closes_early)
        if request.method == "POST" and form.is_valid():
            try:
                call_close(call_id=call.pk, user=request.user, now=timezone.now(), reason=form.cleaned_data["reason"])
            except ValidationError as error:
                self.message_user(request, error_text(error), messages.ERROR)
            else:
                self.message_user(request, _("“%(call)s” is closed.") % {"call": call}, messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(call))
        intro = (
            _("The closing time has not passed: closing now moves it to now. Give the reason.")
            if closes_early else _("The call stops accepting proposals.")
        )
        return self._page(request, call, form, title=_("Close “%(call)s”") % {"call": call}, intro=intro,
                          submit_label=_("Close the call"))

    def extend_view(self, request, object_id):
        call = self._call_for(request, object_id)
        form = ExtendForm(request.POST or None, initial={"new_closes_at": call.closes_at})
        if request.method == "POST" and form.is_valid():
            try:
                call_extend(
                    call_id=call.pk, user=request.user, now=timezone.now(),
                    new_closes_at=form.cleaned_data["new_closes_at"], reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                self.message_user(request, error_text(error), messages.ERROR)
            else:
                self.message_user(request, _("The deadline of “%(call)s” is extended.") % {"call": call}, messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(call))
        return self._page(
            request, call, form, title=_("Extend the deadline of “%(call)s”") % {"call": call},
            intro=_("Proposals are accepted until the new closing time (plus the grace period)."),
            submit_label=_("Extend the deadline"),
        )

    def clone_view(self, request, object_id):
        call = self._call_for(request, object_id)
        form = CloneForm(request.POST or None, initial={"year": call.year + 1})
        if request.method == "POST" and form.is_valid():
            try:
                result = call_clone(source_id=call.pk, year=form.cleaned_data["year"], user=request.user, now=timezone.now())
            except ValidationError as error:
                self.message_user(request, error_text(error), messages.ERROR)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "“%(call)s” is created as a draft with %(criteria)s criterion and %(priorities)s institute priorities.",
                        "“%(call)s” is created as a draft with %(criteria)s criteria and %(priorities)s institute priorities.",
                        result.criteria,
                    )
                    % {"call": result.call, "criteria": result.criteria, "priorities": result.priorities},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(result.call))
        return self._page(
            request, call, form, title=_("Clone “%(call)s” for next year") % {"call": call},
            intro=_("Texts, rules, criteria and institute priorities are copied; the new call starts as a draft "
                    "with the default window of its year."),
            submit_label=_("Create the new call"),
        )
