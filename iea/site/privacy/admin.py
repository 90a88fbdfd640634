"""Staff process the requests for erasure here, and see which proposals were anonymised. Every change
goes through ``iea.site.privacy.domain``; the records themselves are read-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iea.admin_mixins import IeaModelAdmin, ReadOnlyAdminMixin, error_text

from .admin_actions import confirmation_page
from .domain import Blocker, erasure_blockers, erasure_process, erasure_refuse
from .models import AnonymisedProposal, ErasureRequest, ErasureState
from .rules import can_process_erasure


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for refusing"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The person reads it, on their page and in the e-mail that tells them."),
    )


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("id", "person", "state", "requested_at", "processed_at", "processed_by", "retained_until")
    list_filter = ("state",)
    list_select_related = ("user", "processed_by")
    search_fields = ("user__email", "user__full_name")
    fields = ("user", "state", "reason", "requested_at", "processed_at", "processed_by", "refusal_text",
              "refusal_reason", "retained_until")
    readonly_fields = fields
    actions = ("process_requests", "refuse_requests")
    ordering = ("-requested_at", "-id")

    def has_process_permission(self, request) -> bool:
        return can_process_erasure(request.user)

    @admin.display(description=_("person"), ordering="user__email")
    def person(self, obj):
        return obj.user.email

    @admin.display(description=_("what retention forbids"))
    def refusal_text(self, obj):
        return " ".join(Blocker.from_data(data).describe() for data in obj.blockers) or "—"

    @admin.action(description=_("Process: erase the accounts, or refuse where retention forbids it"),
                  permissions=["process"])
    def process_requests(self, request, queryset):
        pending = list(queryset.filter(state=ErasureState.PENDING).select_related("user").order_by("pk"))
        if "apply" in request.POST:
            for erasure in pending:
                label = erasure.user.email
                try:
                    done = erasure_process(request_id=erasure.pk, user=request.user, now=timezone.now())
                except ValidationError as error:
                    self.message_user(request, f"{label}: {error_text(error)}", messages.ERROR)
                    continue
                if done.state == ErasureState.DONE:
                    self.message_user(request, _("%(person)s: the account is erased.") % {"person": label},
                                      messages.SUCCESS)
                else:
                    self.message_user(request, _("%(person)s: refused, retention forbids it (the person is told).")
                                      % {"person": label}, messages.WARNING)
            return None
        if not pending:
            self.message_user(request, _("Select requests waiting to be processed."), messages.ERROR)
            return None
        now = timezone.now()
        items = []
        for erasure in pending:
            blockers = erasure_blockers(erasure.user, now=now)
            outcome = (_("will be refused: %(reasons)s") % {"reasons": " ".join(b.describe() for b in blockers)}
                       if blockers else _("will be erased"))
            items.append(f"{erasure.user.email} — {outcome}")
        return confirmation_page(
            self, request, pending, action="process_requests", title=_("Process requests for erasure"),
            intro=_("Each account is anonymised (e-mail, name, password, two-factor, tokens, linked sign-in "
                    "accounts), unless retention forbids it: then the request is refused and the person told why. "
                    "This cannot be undone."),
            items=items, submit_label=_("Process the requests"),
        )

    @admin.action(description=_("Refuse with a reason"), permissions=["process"])
    def refuse_requests(self, request, queryset):
        pending = list(queryset.filter(state=ErasureState.PENDING).select_related("user").order_by("pk"))
        form = RefuseForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for erasure in pending:
                try:
                    erasure_refuse(request_id=erasure.pk, user=request.user, reason=form.cleaned_data["reason"],
                                   now=timezone.now())
                except ValidationError as error:
                    self.message_user(request, f"{erasure.user.email}: {error_text(error)}", messages.ERROR)
                else:
                    self.message_user(request, _("%(person)s: refused (the person is told).")
                                      % {"person": erasure.user.email}, messages.SUCCESS)
            return None
        if not pending:
            self.message_user(request, _("Select requests waiting to be processed."), messages.ERROR)
            return None
        return confirmation_page(
            self, request, pending, action="refuse_requests", title=_("Refuse requests for erasure"),
            intro=_("The accounts stay as they are; each person is told the reason."),
            items=[erasure.user.email for erasure in pending], submit_label=_("Refuse"), form=form,
        )


@admin.register(AnonymisedProposal)
class AnonymisedProposalAdmin(ReadOnlyAdminMixin, IeaModelAdmin):
    list_display = ("proposal", "call", "anonymised_at", "via", "anonymised_by")
    list_filter = ("via", "proposal__call")
    list_select_related = ("proposal__call", "anonymised_by")
    search_fields = ("proposal__reference",)

    @admin.display(description=_("call"), ordering="proposal__call__year")
    def call(self, obj):
        return obj.proposal.call
