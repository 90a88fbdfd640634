"""A reviewer signs in with Janus in Chromium: "Sign in with Janus (CNRS)" on the sign-in page, the identity
provider's page (a test IdP on another origin, as Janus is), back to the platform, the TOTP code, the
dashboard. The IdP signs its answer with a key made for the test; its page has a button, no script."""

import re
from urllib.parse import urlsplit

import environ
import pytest
from playwright.sync_api import expect

from iea import sso
from iea.accounts.models import User
from tests.accounts import saml_idp
from tests.accounts.saml_idp import DISPLAY_NAME, EPPN, MAIL, FakeIdentityProvider
from tests.factories import UserFactory, activate_totp, totp_code

from .helpers import serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def janus(live_server, settings, monkeypatch):
    """Janus at http://127.0.0.1:<port>/test-idp/sso/ while the platform is at http://localhost:<port>/:
    two origins, so the browser applies the platform's CSP form-action and SameSite rules as with Janus."""
    port = urlsplit(live_server.url).port
    idp = FakeIdentityProvider.create()
    monkeypatch.setenv("SAML_IDP_SSO_URL", f"http://127.0.0.1:{port}/test-idp/sso/")
    monkeypatch.setenv("SAML_IDP_X509_CERT", idp.cert_pem)
    for name in ("SAML_IDP_METADATA_URL", "SAML_SP_ENTITY_ID", "SAML_SP_X509_CERT", "SAML_SP_PRIVATE_KEY",
                 "SAML_IDP_ENTITY_ID", "SAML_EMAIL_VERIFIED", "SAML_NAME", "OIDC_SERVER_URL", "OIDC_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    site = f"http://localhost:{port}"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.ROOT_URLCONF = "tests.accounts.sso_urls"
    settings.SOCIALACCOUNT_PROVIDERS = sso.social_providers(environ.Env(), site_url=site)
    settings.CSP_FORM_ACTION = sso.form_action_origins(settings.SOCIALACCOUNT_PROVIDERS)
    saml_idp.current["idp"] = idp
    yield site, idp
    saml_idp.current.clear()


def test_a_reviewer_signs_in_with_janus_and_still_gives_the_totp_code(janus, page, settings):
    settings.LANGUAGE_CODE = "en"
    site, idp = janus
    reviewer = UserFactory(email="rita.reviewer@cnrs.fr", full_name="Rita Reviewer")
    activate_totp(reviewer)
    idp.person = {MAIL: "Rita.Reviewer@cnrs.fr", EPPN: "rreviewer@cnrs.fr", DISPLAY_NAME: "Rita Reviewer"}

    page.goto(f"{site}/accounts/login/")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Sign in with Janus (CNRS)").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/test-idp/sso/\?SAMLRequest="))
    page.get_by_role("button", name="Continue to the service").click()

    # Back on the platform: the account with that address, but first the second factor.
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert page.url.startswith(site)
    page.fill("input[name=code]", totp_code())
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(f"{site}/dashboard/")
    expect(page.locator(".user-name")).to_contain_text("Rita Reviewer")
    assert list(User.objects.values_list("email", flat=True)) == ["rita.reviewer@cnrs.fr"]
    assert page.console_errors == []


def test_a_new_colleague_signs_in_with_janus_for_the_first_time(janus, page, settings):
    settings.LANGUAGE_CODE = "en"
    site, idp = janus
    idp.person = {MAIL: "noel.nouveau@cnrs.fr", EPPN: "nnouveau@cnrs.fr", DISPLAY_NAME: "Noël Nouveau"}

    page.goto(f"{site}/calls/")
    page.goto(f"{site}/accounts/login/?next=/calls/")
    page.get_by_role("button", name="Sign in with Janus (CNRS)").click()
    page.get_by_role("button", name="Continue to the service").click()
    page.wait_for_url(f"{site}/calls/")
    expect(page.locator(".user-name")).to_contain_text("Noël Nouveau")
    user = User.objects.get()
    assert (user.email, user.full_name, user.has_usable_password()) == ("noel.nouveau@cnrs.fr", "Noël Nouveau", False)
    assert (user.first_name, user.last_name) == ("Noël", "Nouveau")
    assert page.console_errors == []
