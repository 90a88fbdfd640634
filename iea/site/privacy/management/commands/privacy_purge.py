"""Apply the retention policy: anonymise every proposal whose retention period has passed.

    manage.py privacy_purge [--dry-run] [--now 2031-06-01T00:00]

It does nothing else — erasure requests wait for staff, who are reminded of them — and says what it did.
Running it twice anonymises nothing the second time. Meant for a daily or weekly cron job.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from calls.models import Call

from ...domain import past_retention, proposals_anonymise
from ...domain.retention import CLOSED_CALL_STATES
from ...models import AnonymisationVia, ErasureRequest, ErasureState


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now: {text!r} is not an ISO 8601 date and time, e.g. 2031-06-01T00:00") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)  # naive: Paris time


class Command(BaseCommand):
    help = "Anonymise the proposals whose retention period has passed (the calls' retention_years)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be anonymised; change nothing.")
        parser.add_argument("--now", help="The moment to apply the policy at (ISO 8601; default: now).")

    def handle(self, *args, dry_run=False, now=None, **options):
        now = _moment(now) if now else timezone.now()
        total = 0
        for call in Call.objects.filter(state__in=CLOSED_CALL_STATES).order_by("year"):
            if dry_run:
                references = list(past_retention(call, now=now).order_by("reference").values_list("reference", flat=True))
            else:
                references = proposals_anonymise(call_id=call.pk, user=None, now=now,
                                                 via=AnonymisationVia.COMMAND).anonymised
            if references:
                verb = "would anonymise" if dry_run else "anonymised"
                self.stdout.write(f"{call} (retention {call.retention_years} years): {verb} {len(references)} "
                                  f"proposal(s): {', '.join(references)}")
                total += len(references)
        if total == 0:
            self.stdout.write("Nothing to anonymise.")
        else:
            self.stdout.write(f"{'Would anonymise' if dry_run else 'Anonymised'} {total} proposal(s) in all.")
        waiting = ErasureRequest.objects.filter(state=ErasureState.PENDING).count()
        if waiting:
            self.stdout.write(f"{waiting} request(s) for erasure wait for staff in the admin (not processed here).")
