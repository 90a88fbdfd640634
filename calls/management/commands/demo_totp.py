"""Print the current two-factor code of the demo's reviewer, officer and staff (their shared demo secret)."""

from django.core.management.base import BaseCommand

from iea.mfa import current_totp_code

from .seed_demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current TOTP code for the demo users who need two-factor authentication."

    def handle(self, *args, **options):
        code = current_totp_code(DEMO_TOTP_SECRET)
        self.stdout.write(code)
