"""The admin action "send a reminder now" (assignments, reports, awards): a confirmation listing each
recipient, address, language and message, or why it is skipped (its kind's ``skip``), then
``remind_now``. Each model admin says which dues its objects give (``<kind>_dues`` of its app's
``reminders.py``); this module knows no app."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_permission_codename
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from iea.admin_confirm import PlannedChange, confirm_page
from iea.admin_mixins import error_text

from .domain import NotificationError, remind_now, remind_plan
from .kinds import kind_label


class RemindActionMixin:
    """``remind_dues(objects, now)`` gives the dues of the selected objects; the action is offered to staff who
    may change the model (``remind`` permission)."""

    remind_dues: Callable

    def has_remind_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}")

    def _remind(self, request, queryset, *, action: str, title: str):
        objects = list(queryset)
        now = timezone.now()
        dues = self.remind_dues(objects, now)
        if "apply" in request.POST:
            try:
                plan = remind_now(dues=dues, user=request.user, now=now)
            except NotificationError as error:
                self.message_user(request, error_text(error), messages.ERROR)
                return None
            sent = sum(1 for planned in plan if not planned.skipped)
            self.message_user(request, ngettext(
                "%(sent)s reminder is on its way (%(skipped)s skipped).",
                "%(sent)s reminders are on their way (%(skipped)s skipped).", sent,
            ) % {"sent": sent, "skipped": len(plan) - sent}, messages.SUCCESS if sent else messages.WARNING)
            return None
        languages = dict(settings.LANGUAGES)
        changes = [
            PlannedChange(
                f"{planned.due.target} — {getattr(planned.recipient.user, 'full_name', '') or planned.recipient.email}",
                before=f"{planned.recipient.email or '—'} · {languages.get(planned.recipient.language, planned.recipient.language)}",
                after=kind_label(planned.due.kind), refused=planned.skipped,
            )
            for planned in remind_plan(dues=dues, now=now)
        ]
        return confirm_page(
            self, request, objects, action=action, title=title,
            intro=_("Each person below receives the reminder now, in their language, whatever the schedule; "
                    "the schedule's own reminders still go out on their dates. A message its kind would no "
                    "longer send is skipped, with the reason."),
            changes=changes, columns=(_("Address and language"), _("Message")), submit_label=_("Send the reminders"),
        )
