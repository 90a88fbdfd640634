"""``make totp`` (manage.py demo_totp): each demo user who needs two-factor, with their e-mail and current
code from their own authenticator, in aligned columns; PIs are not listed."""

import io
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import call_command

from iea.mfa import current_totp_code
from iea.site.demo.management.commands._demo_data import DEMO_TOTP_SECRET, demo_user_ensure

pytestmark = pytest.mark.django_db

NOW = 1_800_000_010.0  # 10 s into a 30 s step: 20 s left
OTHER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _totp(monkeypatch) -> str:
    monkeypatch.setattr(time, "time", lambda: NOW)
    out, err = io.StringIO(), io.StringIO()
    call_command("demo_totp", stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


def test_each_demo_user_with_two_factor_gets_a_line(monkeypatch):
    for key in ("staff", "reviewer", "officer", "reviewer2"):
        demo_user_ensure(f"{key}@demo.iea.localhost", key.title(), "fr", staff=key == "staff", totp=True)
    demo_user_ensure("pi@demo.iea.localhost", "Camille Martin", "fr")
    # A demo user who set up another authenticator in the app: the code is that one's.
    officer = Authenticator.objects.get(user__email="officer@demo.iea.localhost")
    officer.delete()
    TOTP.activate(officer.user, OTHER_SECRET)

    output = _totp(monkeypatch)

    monkeypatch.setattr(time, "time", lambda: NOW)
    demo, other = current_totp_code(DEMO_TOTP_SECRET), current_totp_code(OTHER_SECRET)
    assert demo != other
    assert output.splitlines() == [
        "role                             e-mail                         code",
        "------------------------------   ----------------------------   ------",
        f"Reviewer (INEE), 3 assignments   reviewer@demo.iea.localhost    {demo}",
        f"Institute officer (INEE panel)   officer@demo.iea.localhost     {other}",
        f"Directorate staff (admin)        staff@demo.iea.localhost       {demo}",
        f"Reviewer (INEE)                  reviewer2@demo.iea.localhost   {demo}",
        "Valid for 20 more second(s), then the next one (run make totp again).",
    ]


def test_the_printed_code_signs_in(monkeypatch):
    user, _created = demo_user_ensure("reviewer@demo.iea.localhost", "Hélène Rousseau", "fr", totp=True)
    code = _totp(monkeypatch).splitlines()[2].split()[-1]
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert TOTP(authenticator).validate_code(code) is True


def test_without_the_demo_it_says_so(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: NOW)
    out, err = io.StringIO(), io.StringIO()
    call_command("demo_totp", stdout=out, stderr=err)
    assert "run `make run`" in err.getvalue()
    assert out.getvalue().strip().endswith(current_totp_code(DEMO_TOTP_SECRET))
