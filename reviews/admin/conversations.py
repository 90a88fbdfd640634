"""The directorate's list of the conversations of #21 (``proposals.MessageThread``): the open ones first,
filtered by what waits for an answer, what this person has not read, the call, the institute and the topic.
Each row opens the conversation's page, where staff read and answer; closing and reopening go through
``reviews.domain.messages`` (audited), from the page or as actions on the list."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iea.admin_mixins import IeaModelAdmin, ReadOnlyAdminMixin
from proposals.admin import proposal_institute_filter
from proposals.models import MessageSide, MessageThread
from proposals.threads import unread_messages

from ..domain.messages import thread_close, thread_reopen


class StatusFilter(admin.SimpleListFilter):
    """Open conversations by default: a closed one is dealt with."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Open conversations")), ("waiting", _("Waiting for an answer")), ("unread", _("Unread by me")),
                ("closed", _("Closed conversations")), ("all", _("All"))]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {"selected": (self.value() or "open") == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "all":
            return queryset
        if value == "closed":
            return queryset.filter(closed_at__isnull=False)
        queryset = queryset.filter(closed_at__isnull=True)
        if value == "waiting":
            return queryset.filter(last_side=MessageSide.APPLICANTS)
        if value == "unread":
            unread = unread_messages(request.user, proposal_ids=queryset.values("proposal_id"))
            return queryset.filter(Exists(unread.filter(thread=OuterRef("pk"))))
        return queryset


@admin.register(MessageThread)
class MessageThreadAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("conversation", "topic", "call", "last_message_at", "waiting", "closed_at")
    list_display_links = None  # the conversation column is the link, to the page where staff read and answer
    list_filter = (StatusFilter, "topic", "proposal__call", proposal_institute_filter("proposal__"))
    list_select_related = ("proposal__call",)
    search_fields = ("proposal__reference", "proposal__acronym", "proposal__title", "proposal__pi__email")
    ordering = ("-last_message_at", "-pk")
    actions = ("close", "reopen")

    @admin.display(description=_("conversation"), ordering="proposal__reference")
    def conversation(self, thread):
        url = reverse("conversation:thread", kwargs={"pk": thread.proposal_id, "topic": thread.topic})
        return format_html('<a href="{}">{} {}</a>', url, thread.proposal.reference, thread.proposal.acronym)

    @admin.display(description=_("call"), ordering="proposal__call__year")
    def call(self, thread):
        return thread.proposal.call.title

    @admin.display(description=_("waiting for an answer"), boolean=True)
    def waiting(self, thread):
        return thread.closed_at is None and thread.last_side == MessageSide.APPLICANTS

    def _change(self, request, queryset, change, done):
        now, changed, refused = timezone.now(), 0, []
        for thread in queryset.filter(Q(closed_at__isnull=change is thread_close)):
            try:
                change(thread_id=thread.pk, user=request.user, now=now)
                changed += 1
            except ValidationError as error:
                refused.extend(error.messages)
        if changed:
            self.message_user(request, done(changed), messages.SUCCESS)
        for reason in sorted(set(refused)):
            self.message_user(request, reason, messages.ERROR)

    @admin.action(description=_("Close the selected conversations"))
    def close(self, request, queryset):
        self._change(request, queryset, thread_close, lambda n: ngettext(
            "%(count)d conversation closed.", "%(count)d conversations closed.", n) % {"count": n})

    @admin.action(description=_("Reopen the selected conversations"))
    def reopen(self, request, queryset):
        self._change(request, queryset, thread_reopen, lambda n: ngettext(
            "%(count)d conversation reopened.", "%(count)d conversations reopened.", n) % {"count": n})
