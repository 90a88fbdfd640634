"""Print the current two-factor code of the demo's reviewer, officer and staff (their shared demo secret)."""

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.core.management.base import BaseCommand

from .seed_demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current TOTP code for the demo users who need two-factor authentication."

    def handle(self, *args, **options):
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, next(yield_hotp_counters_from_time())))
        self.stdout.write(code)
