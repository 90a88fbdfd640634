"""The outbox in the admin: every message recorded, its state and errors; staff resend from here."""


from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iea.admin_mixins import IeaModelAdmin, ReadOnlyAdminMixin

from .domain import ATTENTION, NotificationError, attention_q, notification_resend, resend_refusal
from .kinds import KINDS, kind_label, occurrence_label
from .models import Notification


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(((name, kind.label) for name, kind in KINDS.items()), key=lambda item: str(item[1]))

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class AttentionFilter(admin.SimpleListFilter):
    title = _("follow-up")  # Django shows "By follow-up"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        minutes = round(settings.NOTIFICATIONS["LATE_AFTER"] / 60)
        return [("failed", _("Failed and not resent")),
                ("late", ngettext("Not sent %(count)d minute after their due time, or stuck while being sent",
                                  "Not sent %(count)d minutes after their due time, or stuck while being sent",
                                  minutes) % {"count": minutes})]

    def queryset(self, request, queryset):
        if self.value() in ATTENTION:
            return queryset.filter(attention_q(self.value(), now=timezone.now()))
        return queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("id", "kind_name", "email", "about", "occurrence_name", "due_at", "state", "attempts", "sent_at")
    list_filter = (AttentionFilter, "state", KindFilter, "due_at")
    search_fields = ("email", "subject", "=object_id")
    list_select_related = ("content_type",)
    date_hierarchy = "created_at"
    actions = ("resend",)
    readonly_fields = (
        "kind_name", "about", "occurrence_name", "recipient", "email", "language", "state", "due_at", "created_at",
        "enqueued_at", "claimed_at", "attempts", "next_attempt_at", "sent_at", "last_error", "subject_as_sent", "text",
        "resend_of", "resent_as",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        """The objects the messages are about, named as people know them: one query per kind of object, with
        what their names need (each kind's ``select_related``)."""
        related: dict[type, set[str]] = {}
        for kind in KINDS.values():
            if kind.model is not None:
                related.setdefault(kind.model, set()).update(kind.select_related)
        querysets = [model._base_manager.select_related(*sorted(names)) for model, names in related.items()]
        return super().get_queryset(request).prefetch_related(GenericPrefetch("target", querysets))

    @admin.display(description=_("kind"), ordering="kind")
    def kind_name(self, obj):
        return kind_label(obj.kind)

    @admin.display(description=_("occurrence"), ordering="occurrence")
    def occurrence_name(self, obj):
        return occurrence_label(obj.occurrence)

    @admin.display(description=_("about"))
    def about(self, obj):
        """A link to the object's admin page, named as people know it."""
        if obj.content_type_id is None:
            return "—"
        content_type = obj.content_type
        target = obj.target
        label = (f"{capfirst(content_type.name)} · {target}" if target is not None
                 else _("%(kind)s no. %(id)s (deleted)") % {"kind": capfirst(content_type.name), "id": obj.object_id})
        try:
            url = reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    # The subject and text are the mail's own words, in the recipient's language, not the page's: marked with
    # their language so a screen reader reads them with the right voice (and the crawl's language check skips them).
    @admin.display(description=_("subject"))
    def subject_as_sent(self, obj):
        return format_html('<span lang="{}">{}</span>', obj.language, obj.subject) if obj.subject else "—"

    @admin.display(description=_("text as sent"))
    def text(self, obj):
        if not KINDS.get(obj.kind) or not KINDS[obj.kind].resendable:
            return _("Not kept: account messages carry one-time links.")
        return format_html('<pre class="notification-text" lang="{}" tabindex="0">{}</pre>', obj.language, obj.body) if obj.body else "—"

    @admin.display(description=_("resent as"))
    def resent_as(self, obj):
        resends = list(obj.resends.order_by("pk"))
        if not resends:
            return "—"
        return format_html_join(", ", '<a href="{}">#{}</a> ({})', (
            (reverse("admin:notifications_notification_change", args=[r.pk]), r.pk, r.get_state_display())
            for r in resends))

    @admin.action(description=_("Send the selected messages again"))
    def resend(self, request, queryset):
        done, refused = 0, []
        for notification in queryset.order_by("pk"):
            try:
                notification_resend(notification_id=notification.pk, user=request.user, now=timezone.now())
                done += 1
            except NotificationError as error:
                refused.append(f"#{notification.pk}: {error.message}")
        if done:
            self.message_user(request, ngettext("%(count)d message queued again.", "%(count)d messages queued again.",
                                                done) % {"count": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notification = self.get_object(request, unquote(object_id))
        can_resend = notification is not None and resend_refusal(notification) is None
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_resend": can_resend})

    def get_urls(self):
        return [
            path("<path:object_id>/resend/", self.admin_site.admin_view(self.resend_view),
                 name="notifications_notification_resend"),
            *super().get_urls(),
        ]

    def resend_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        notification = get_object_or_404(Notification, pk=unquote(object_id))
        try:
            copy = notification_resend(notification_id=notification.pk, user=request.user, now=timezone.now())
        except NotificationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:notifications_notification_change", args=[notification.pk]))
        self.message_user(request, _("The message was queued again as #%(id)d.") % {"id": copy.pk}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:notifications_notification_change", args=[copy.pk]))
