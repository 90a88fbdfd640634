"""``make totp``: the current two-factor code of each demo user who signs in with one (reviewers, officer,
staff), with their e-mail, in aligned columns. Each code comes from the user's own authenticator, so a demo
user who set up a new one in the app still gets the right code."""

import time

from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.core.management.base import BaseCommand

from iea.mfa import current_totp_code

from ._demo_data import DEMO_TOTP_SECRET, USERS

DEMO_DOMAIN = "@demo.iea.localhost"


class Command(BaseCommand):
    help = "Print the current TOTP code of each demo user who needs two-factor authentication."

    def handle(self, *args, **options):
        authenticators = (
            Authenticator.objects.filter(type=Authenticator.Type.TOTP, user__email__endswith=DEMO_DOMAIN)
            .select_related("user")
        )
        # The roles in the order of the printed logins (reviewer, officer, staff), then the other reviewers.
        order = {email: index for index, (_key, email, *_rest) in enumerate(USERS)}
        roles = {email: role for _key, email, _n, _l, _s, role in USERS}
        rows = sorted(
            ((roles.get(a.user.email, "Reviewer (INEE)"), a.user.email, current_totp_code(decrypt(a.data["secret"])))
             for a in authenticators),
            key=lambda row: (order.get(row[1], len(order)), row[1]),
        )
        if not rows:
            self.stderr.write("No demo user has two-factor authentication: run `make run` (or seed_demo) first.")
            self.stdout.write(f"Code for the demo secret {DEMO_TOTP_SECRET}: {current_totp_code(DEMO_TOTP_SECRET)}")
            return
        period = app_settings.TOTP_PERIOD
        left = period - int(time.time()) % period
        width_role = max(len(role) for role, _email, _code in rows)
        width_email = max(len(email) for _role, email, _code in rows)
        lines = [
            f"{'role':<{width_role}}   {'e-mail':<{width_email}}   code",
            f"{'-' * width_role}   {'-' * width_email}   ------",
            *(f"{role:<{width_role}}   {email:<{width_email}}   {code}" for role, email, code in rows),
            f"Valid for {left} more second(s), then the next one (run make totp again).",
        ]
        self.stdout.write("\n".join(lines))
