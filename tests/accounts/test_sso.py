"""Single sign-on (iea.sso): Janus over SAML, end to end against a test IdP with its own signing key, and a
generic OpenID Connect provider against a mocked one.

A sign-in starts at allauth's SAML login URL; the test reads the AuthnRequest from the redirect, answers with
a signed Response as Janus would, and posts it to the ACS URL. A verified address opens the account that has
it (no duplicate); a tampered, misaddressed, expired, unsigned, foreign or unsolicited answer opens nothing;
a person with TOTP still gets the second step.
"""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import environ
import jwt
import pytest
import responses
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from iea import sso
from iea.accounts.models import User
from tests.factories import PASSWORD, UserFactory, activate_totp, totp_code

from .saml_idp import (
    DISPLAY_NAME,
    EPPN,
    GIVEN_NAME,
    MAIL,
    SURNAME,
    FakeIdentityProvider,
    encode,
    new_key_and_certificate,
    read_authn_request,
)

pytestmark = pytest.mark.django_db

HOST = "iea.example.test"
SITE = f"http://{HOST}"
SSO_URL = "https://janus.example.test/idp/profile/SAML2/Redirect/SSO"
SP_ENTITY_ID = f"{SITE}/accounts/saml/janus/metadata/"
LOGIN_PATH = "/accounts/saml/janus/login/"
ACS_PATH = "/accounts/saml/janus/acs/"
SSO_VARIABLES = [
    "SAML_IDP_ENTITY_ID", "SAML_IDP_SSO_URL", "SAML_IDP_X509_CERT", "SAML_IDP_METADATA_URL", "SAML_SP_ENTITY_ID",
    "SAML_SP_X509_CERT", "SAML_SP_PRIVATE_KEY", "SAML_EMAIL_VERIFIED", "SAML_NAME", "SAML_ATTRIBUTE_MAPPING",
    "SAML_WANT_ASSERTION_ENCRYPTED", "OIDC_SERVER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_NAME",
    "OIDC_PROVIDER_ID", "OIDC_PKCE", "OIDC_EMAIL_VERIFIED", "OIDC_EMAIL_AUTHENTICATION",
]


def configure(settings, monkeypatch, **variables) -> dict:
    """Configure single sign-on as an operator does: environment variables read by iea.sso."""
    for name in SSO_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings.SOCIALACCOUNT_PROVIDERS = sso.social_providers(environ.Env(), site_url=SITE)
    settings.CSP_FORM_ACTION = sso.form_action_origins(settings.SOCIALACCOUNT_PROVIDERS)
    return settings.SOCIALACCOUNT_PROVIDERS


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits (one confirmation mail per address per 3 minutes) live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client(settings):
    # Browsers always send Host: python3-saml builds the service provider's URLs from it (and refuses a
    # single-label host such as "testserver").
    settings.ALLOWED_HOSTS = [HOST]
    return Client(HTTP_HOST=HOST)


@pytest.fixture(scope="module")
def idp():
    return FakeIdentityProvider.create()


@pytest.fixture
def janus(idp, settings, monkeypatch):
    configure(settings, monkeypatch, SAML_IDP_SSO_URL=SSO_URL, SAML_IDP_X509_CERT=idp.cert_pem)
    return idp


def person(email="Jane.Doe@cnrs.fr", eppn="jdoe@cnrs.fr", **more):
    return {MAIL: email, EPPN: eppn, DISPLAY_NAME: "Jane Doe", **more}


def start_sign_in(client, **data):
    response = client.post(LOGIN_PATH, {"process": "login", **data})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{SSO_URL}?SAMLRequest=")
    return read_authn_request(response["Location"])


def post_to_acs(client, xml: str, relay_state: str = ""):
    """The browser's POST of the IdP's answer, then allauth's redirect to finish the sign-in."""
    response = client.post(ACS_PATH, {"SAMLResponse": encode(xml), "RelayState": relay_state})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/saml/janus/acs/finish/"
    return client.get(response["Location"])


def signed_in_user_id(client):
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def sign_in_with_janus(client, idp, attributes, **response_kwargs):
    request = start_sign_in(client)
    return post_to_acs(client, idp.response(request=request, audience=SP_ENTITY_ID, attributes=attributes,
                                            **response_kwargs), request.relay_state)


# --- The sign-in page ---------------------------------------------------------------------------------------

def test_without_configuration_there_is_no_single_sign_on(client, settings, monkeypatch):
    assert configure(settings, monkeypatch) == {}
    page = client.get(reverse("account_login")).content.decode()
    assert "Sign in with" not in page
    assert client.post(LOGIN_PATH, {"process": "login"}).status_code == 404
    assert "form-action 'self';" in client.get(reverse("account_login"))["Content-Security-Policy"]


def test_the_sign_in_page_offers_janus_and_the_openid_provider(client, janus, settings, monkeypatch):
    configure(settings, monkeypatch, SAML_IDP_SSO_URL=SSO_URL, SAML_IDP_X509_CERT=janus.cert_pem,
              OIDC_SERVER_URL="https://login.partner.example.test/realms/research", OIDC_CLIENT_ID="iea",
              OIDC_NAME="Partner universities")
    response = client.get(reverse("account_login") + "?next=/calls/")
    page = response.content.decode()
    buttons = re.findall(r'<form method="post" action="([^"]+)">.*?<button[^>]*>\s*(.*?)\s*</button>', page, re.S)
    assert buttons == [
        ("/accounts/saml/janus/login/?process=login&amp;next=%2Fcalls%2F", "Sign in with Janus (CNRS)"),
        ("/accounts/oidc/oidc/login/?process=login&amp;next=%2Fcalls%2F", "Sign in with Partner universities"),
    ]
    # The buttons post to this site, which redirects to the providers: the policy lets those redirects through.
    assert ("form-action 'self' https://janus.example.test https://login.partner.example.test;"
            in response["Content-Security-Policy"])


def test_a_sign_in_cannot_start_from_a_link(client, janus):
    response = client.get(LOGIN_PATH)
    assert response.status_code == 200  # allauth's "Continue" page, which posts
    assert SSO_URL not in response.get("Location", "")


def test_the_service_provider_metadata_is_what_renater_registers(client, settings, monkeypatch, idp):
    sp_key, sp_cert = new_key_and_certificate("iea-sp")
    configure(settings, monkeypatch, SAML_IDP_SSO_URL=SSO_URL, SAML_IDP_X509_CERT=idp.cert_pem,
              SAML_SP_X509_CERT=sp_cert, SAML_SP_PRIVATE_KEY=sp_key)
    response = client.get("/accounts/saml/janus/metadata/")
    assert response.status_code == 200
    metadata = response.content.decode()
    assert f'entityID="{SP_ENTITY_ID}"' in metadata
    assert f'Location="{SITE}{ACS_PATH}"' in metadata
    assert 'AuthnRequestsSigned="true"' in metadata
    body = "".join(sp_cert.strip().splitlines()[1:-1])
    assert body in metadata.replace("\n", "")
    # With the service provider's key, the AuthnRequest is signed (HTTP-Redirect binding: a query signature).
    assert start_sign_in(client).signed is True


# --- Janus: who is signed in -------------------------------------------------------------------------------

def test_janus_signs_into_the_account_with_that_address(client, janus):
    existing = UserFactory(email="jane.doe@cnrs.fr", full_name="Jane Doe")
    request = start_sign_in(client, next="/calls/")
    assert request.issuer == SP_ENTITY_ID
    assert request.acs_url == f"{SITE}{ACS_PATH}"
    assert request.signed is False  # no service provider key configured
    response = post_to_acs(client, janus.response(request=request, audience=SP_ENTITY_ID, attributes=person()),
                           request.relay_state)
    assert response.status_code == 302
    assert response["Location"] == "/calls/"
    assert signed_in_user_id(client) == existing.pk
    assert User.objects.count() == 1
    account = SocialAccount.objects.get()
    assert (account.user, account.provider, account.uid) == (existing, sso.JANUS_ENTITY_ID, "jdoe@cnrs.fr")
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)  # a verified address: the password is left alone

    # Next time the connected Janus account is found by its eduPersonPrincipalName, whatever the mail says.
    client.logout()
    response = sign_in_with_janus(client, janus, person(email="j.doe@cnrs.fr"))
    assert response["Location"] == reverse("dashboard")
    assert signed_in_user_id(client) == existing.pk
    assert (User.objects.count(), SocialAccount.objects.count()) == (1, 1)


@pytest.mark.parametrize(("attributes", "names"), [
    # Only displayName: split at the first word.
    (person(email="New.Comer@cnrs.fr", eppn="ncomer@cnrs.fr"), ("Jane", "Doe")),
    ({MAIL: "marie.curie@cnrs.fr", EPPN: "mcurie@cnrs.fr", GIVEN_NAME: "Marie", SURNAME: "Curie"}, ("Marie", "Curie")),
    # givenName and sn win over a displayName written otherwise; accents and particles kept.
    (person(email="jm@cnrs.fr", eppn="jm@cnrs.fr", **{GIVEN_NAME: "Jean-Marc", SURNAME: "de La Fontaine-Müller",
                                                     DISPLAY_NAME: "Dr J.-M. DE LA FONTAINE"}),
     ("Jean-Marc", "de La Fontaine-Müller")),
])
def test_a_new_person_gets_an_account_without_a_password(client, janus, attributes, names):
    full_name = " ".join(names)
    UserFactory(email="someone.else@cnrs.fr")
    response = sign_in_with_janus(client, janus, attributes)
    assert response["Location"] == reverse("dashboard")
    user = User.objects.get(pk=signed_in_user_id(client))
    assert user.email == attributes[MAIL].lower()
    assert (user.first_name, user.last_name, user.full_name) == (*names, full_name)
    assert user.language == "en"
    assert user.has_usable_password() is False
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        (attributes[MAIL].lower(), True, True)
    ]
    assert SocialAccount.objects.get(user=user).uid == attributes[EPPN]


def test_the_name_id_is_the_uid_without_an_eppn(client, janus):
    sign_in_with_janus(client, janus, {MAIL: "nameid@cnrs.fr"}, name_id="persistent-4711")
    assert SocialAccount.objects.get().uid == "persistent-4711"


def test_janus_also_signs_in_when_it_signs_the_response_rather_than_the_assertion(client, janus):
    existing = UserFactory(email="jane.doe@cnrs.fr")
    sign_in_with_janus(client, janus, person(), sign="response")
    assert signed_in_user_id(client) == existing.pk


def test_an_address_never_verified_here_is_taken_back_from_whoever_registered_it(
    client, janus, django_capture_on_commit_callbacks
):
    """allauth's rule: someone may have signed up with Jane's address without being able to verify it. When
    Janus vouches for the address, that person's password stops working, and the account opens once the
    address is verified here (a link sent to it), by Jane."""
    squatter = UserFactory(email="jane.doe@cnrs.fr")
    EmailAddress.objects.filter(user=squatter).update(verified=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_in_with_janus(client, janus, person())
    assert response["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None
    squatter.refresh_from_db()
    assert squatter.has_usable_password() is False
    assert [message.to for message in mail.outbox] == [["jane.doe@cnrs.fr"]]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_without_saml_email_verified_an_address_does_not_open_the_account(
    client, settings, monkeypatch, idp, django_capture_on_commit_callbacks
):
    configure(settings, monkeypatch, SAML_IDP_SSO_URL=SSO_URL, SAML_IDP_X509_CERT=idp.cert_pem,
              SAML_EMAIL_VERIFIED="0")
    existing = UserFactory(email="jane.doe@cnrs.fr")
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_in_with_janus(client, idp, person())
    # allauth answers as if a new account were waiting for verification, and tells the address's owner.
    assert response["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None
    assert list(User.objects.all()) == [existing]
    assert SocialAccount.objects.count() == 0
    assert [message.to for message in mail.outbox] == [["jane.doe@cnrs.fr"]]


def test_two_factor_authentication_still_applies_after_janus(client, janus):
    reviewer = UserFactory(email="jane.doe@cnrs.fr")
    activate_totp(reviewer)
    response = sign_in_with_janus(client, janus, person())
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None
    assert client.get(reverse("dashboard")).status_code == 302
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response["Location"] == reverse("dashboard")
    assert signed_in_user_id(client) == reviewer.pk


# --- Janus: what is refused ----------------------------------------------------------------------------------

def _tampered(idp, request):
    xml = idp.response(request=request, audience=SP_ENTITY_ID, attributes=person(email="jane.doe@cnrs.fr"))
    assert "jane.doe@cnrs.fr" in xml
    return xml.replace("jane.doe@cnrs.fr", "boss@cnrs.fr")


def _answer(**kwargs):
    def build(idp, request):
        return idp.response(**{"request": request, "audience": SP_ENTITY_ID,
                               "attributes": person(email="boss@cnrs.fr"), **kwargs})
    return build


# What is wrong with the answer -> (how it is built, why python3-saml / allauth refuse it, as logged).
REFUSED = {
    "tampered after signing": (_tampered, "Signature validation failed"),
    "another audience": (_answer(audience="https://other-service.example.test/sp"), "is not a valid audience"),
    "expired": (_answer(now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)), "Could not validate timestamp: expired"),
    "unsigned": (_answer(sign=None), "No Signature found"),
    "signed by another key": (
        lambda idp, request: _answer(key_pem=new_key_and_certificate("intruder")[0])(idp, request),
        "Signature validation failed",
    ),
    "another issuer": (_answer(issuer="https://idp.other.example.test/idp"), "Invalid issuer"),
    "not asked for (IdP-initiated)": (_answer(in_response_to=""), "IdP initiated SSO rejected"),
    "an answer to another request": (_answer(in_response_to="_not-a-request-of-this-site"), None),
}


@pytest.mark.parametrize(("answer", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_answer_signs_nobody_in(client, janus, answer, reason, caplog):
    boss = UserFactory(email="boss@cnrs.fr")
    request = start_sign_in(client)
    response = post_to_acs(client, answer(janus, request), request.relay_state)
    if reason is None:
        assert response.status_code == 403  # no sign-in of this browser's is waiting for that answer
    else:
        assert response.status_code == 401
        assert "Third-Party Login Failure" in response.content.decode()
        assert reason in caplog.text
    assert signed_in_user_id(client) is None
    assert list(User.objects.all()) == [boss]
    assert SocialAccount.objects.count() == 0


def test_an_answer_cannot_be_replayed(client, janus):
    existing = UserFactory(email="jane.doe@cnrs.fr")
    request = start_sign_in(client)
    xml = janus.response(request=request, audience=SP_ENTITY_ID, attributes=person())
    post_to_acs(client, xml, request.relay_state)
    assert signed_in_user_id(client) == existing.pk
    client.logout()
    response = post_to_acs(client, xml, request.relay_state)
    assert response.status_code == 403  # the sign-in it answered is used up
    assert signed_in_user_id(client) is None


# --- The settings from the environment -----------------------------------------------------------------------

def test_janus_settings_from_the_environment(settings, monkeypatch, idp):
    providers = configure(settings, monkeypatch, SAML_IDP_SSO_URL=SSO_URL,
                          SAML_IDP_X509_CERT=idp.cert_pem.replace("\n", "\\n"))
    (app,) = providers["saml"]["APPS"]
    assert (app["name"], app["provider_id"], app["client_id"]) == ("Janus (CNRS)", sso.JANUS_ENTITY_ID, "janus")
    assert app["settings"]["idp"] == {"entity_id": "https://janus.cnrs.fr/idp", "sso_url": SSO_URL,
                                      "x509cert": idp.cert_pem.strip()}
    assert app["settings"]["sp"] == {"entity_id": SP_ENTITY_ID}
    assert app["settings"]["verified_email"] is True
    assert app["settings"]["attribute_mapping"]["uid"] == [EPPN]
    assert "authn_request_signed" not in app["settings"]["advanced"]  # no service provider key: unsigned
    assert "openid_connect" not in providers


def test_janus_from_the_federation_metadata(settings, monkeypatch, tmp_path, idp):
    cert_file = tmp_path / "sp.crt"
    key_file = tmp_path / "sp.key"
    key_pem, cert_pem = new_key_and_certificate("iea-sp")
    cert_file.write_text(cert_pem)
    key_file.write_text(key_pem)
    providers = configure(
        settings, monkeypatch, SAML_IDP_METADATA_URL="https://metadata.federation.example.test/idps.xml",
        SAML_SP_X509_CERT=str(cert_file), SAML_SP_PRIVATE_KEY=str(key_file),
        SAML_ATTRIBUTE_MAPPING='{"uid": ["urn:oid:1.3.6.1.4.1.5923.1.1.1.13"]}',
    )
    app_settings = providers["saml"]["APPS"][0]["settings"]
    assert app_settings["idp"] == {"entity_id": sso.JANUS_ENTITY_ID,
                                   "metadata_url": "https://metadata.federation.example.test/idps.xml"}
    assert app_settings["advanced"]["x509cert"] == cert_pem
    assert app_settings["advanced"]["private_key"] == key_pem
    assert app_settings["advanced"]["authn_request_signed"] is True
    assert app_settings["attribute_mapping"]["uid"] == ["urn:oid:1.3.6.1.4.1.5923.1.1.1.13"]
    assert app_settings["attribute_mapping"]["email"] == [MAIL]
    assert sso.form_action_origins(providers) == ["https://janus.cnrs.fr"]


@pytest.mark.parametrize(("variables", "message"), [
    ({"SAML_IDP_SSO_URL": SSO_URL}, "SAML_IDP_X509_CERT is not set"),
    ({"SAML_IDP_X509_CERT": "MIIC"}, "SAML_IDP_SSO_URL is not set"),
    ({"SAML_IDP_METADATA_URL": "http://metadata.example.test/idps.xml"}, "must be an https:// URL"),
    ({"SAML_IDP_SSO_URL": SSO_URL, "SAML_IDP_X509_CERT": "MIIC", "SAML_SP_X509_CERT": "MIIC"}, "go together"),
    ({"SAML_IDP_SSO_URL": SSO_URL, "SAML_IDP_X509_CERT": "MIIC", "SAML_WANT_ASSERTION_ENCRYPTED": "1"},
     "needs SAML_SP_X509_CERT"),
    ({"SAML_IDP_SSO_URL": SSO_URL, "SAML_IDP_X509_CERT": "MIIC", "SAML_ATTRIBUTE_MAPPING": "[1]"}, "JSON object"),
    ({"SAML_IDP_SSO_URL": SSO_URL, "SAML_IDP_X509_CERT": "/nonexistent/idp.crt"}, "cannot read"),
    ({"OIDC_SERVER_URL": "https://login.example.test"}, "OIDC_CLIENT_ID is not set"),
    ({"OIDC_CLIENT_ID": "iea"}, "OIDC_SERVER_URL is not set"),
])
def test_a_half_configured_provider_stops_the_start(settings, monkeypatch, variables, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        configure(settings, monkeypatch, **variables)


# --- OpenID Connect, against a mocked provider ---------------------------------------------------------------

OIDC_SERVER = "https://login.partner.example.test/realms/research"


@pytest.fixture
def oidc(settings, monkeypatch):
    configure(settings, monkeypatch, OIDC_SERVER_URL=OIDC_SERVER, OIDC_CLIENT_ID="iea",
              OIDC_CLIENT_SECRET="client-secret", OIDC_NAME="Partner universities")
    with responses.RequestsMock() as mocked:
        mocked.get(f"{OIDC_SERVER}/.well-known/openid-configuration", json={
            "issuer": OIDC_SERVER,
            "authorization_endpoint": f"{OIDC_SERVER}/protocol/openid-connect/auth",
            "token_endpoint": f"{OIDC_SERVER}/protocol/openid-connect/token",
            "userinfo_endpoint": f"{OIDC_SERVER}/protocol/openid-connect/userinfo",
            "jwks_uri": f"{OIDC_SERVER}/protocol/openid-connect/certs",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        })
        yield mocked


def sign_in_with_oidc(client, mocked, claims):
    response = client.post("/accounts/oidc/oidc/login/", {"process": "login"})
    assert response.status_code == 302
    authorize = urlsplit(response["Location"])
    query = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{OIDC_SERVER}/protocol/openid-connect/auth"
    assert (query["client_id"], query["code_challenge_method"]) == (["iea"], ["S256"])
    now = int(dt.datetime.now(dt.UTC).timestamp())
    id_token = jwt.encode({"iss": OIDC_SERVER, "aud": "iea", "sub": claims["sub"], "iat": now, "exp": now + 300},
                          "the-provider-signing-key-of-32-bytes", algorithm="HS256")
    mocked.post(f"{OIDC_SERVER}/protocol/openid-connect/token",
                json={"access_token": "access", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})
    mocked.get(f"{OIDC_SERVER}/protocol/openid-connect/userinfo", json=claims)
    return client.get("/accounts/oidc/oidc/login/callback/", {"code": "the-code", "state": query["state"][0]})


def test_openid_connect_signs_into_the_account_with_a_verified_address(client, oidc):
    existing = UserFactory(email="jane.doe@partner.example.test")
    response = sign_in_with_oidc(client, oidc, {"sub": "u-1", "email": "Jane.Doe@partner.example.test",
                                                "email_verified": True, "name": "Jane Doe"})
    assert response["Location"] == reverse("dashboard")
    assert signed_in_user_id(client) == existing.pk
    account = SocialAccount.objects.get()
    assert (account.user, account.provider, account.uid) == (existing, "oidc", "u-1")


def test_openid_connect_does_not_open_an_account_for_an_unverified_address(client, oidc):
    existing = UserFactory(email="jane.doe@partner.example.test")
    sign_in_with_oidc(client, oidc, {"sub": "u-1", "email": "jane.doe@partner.example.test",
                                     "email_verified": False, "name": "Jane Doe"})
    assert signed_in_user_id(client) is None
    assert list(User.objects.all()) == [existing]
    assert SocialAccount.objects.count() == 0
