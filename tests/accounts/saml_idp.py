"""A SAML identity provider for the tests, standing in for Janus: its own key and self-signed certificate
(made at test time), it reads allauth's AuthnRequest and answers with a Response whose Assertion it signs,
as Shibboleth does. Each argument of ``response`` can be made wrong, to check the service provider refuses.

``idp_page`` is the IdP's sign-in page for the browser test (tests/accounts/sso_urls.py serves it): it
answers the request with a page whose button posts the signed response to the service provider — no
script, as a real IdP's page would have, since the CSP forbids inline scripts.
"""

from __future__ import annotations

import base64
import datetime as dt
import zlib
from dataclasses import dataclass, field
from html import escape
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.http import HttpResponse
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from iea.sso import JANUS_ENTITY_ID

MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
GIVEN_NAME = "urn:oid:2.5.4.42"
SURNAME = "urn:oid:2.5.4.4"
EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
FRIENDLY = {MAIL: "mail", DISPLAY_NAME: "displayName", GIVEN_NAME: "givenName", SURNAME: "sn",
            EPPN: "eduPersonPrincipalName"}

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def new_key_and_certificate(common_name: str) -> tuple[str, str]:
    """An RSA key and a self-signed certificate for it (PEM), valid from yesterday to tomorrow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class AuthnRequest:
    id: str
    issuer: str
    acs_url: str
    relay_state: str
    signed: bool


def read_authn_request(location: str) -> AuthnRequest:
    """The AuthnRequest allauth sent in its redirect to the IdP (HTTP-Redirect binding: deflate + base64)."""
    query = parse_qs(urlsplit(location).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    root = OneLogin_Saml2_XML.to_etree(xml)
    assert root.tag == f"{{{SAMLP}}}AuthnRequest"
    return AuthnRequest(
        id=root.get("ID"), issuer=root.findtext(f"{{{SAML}}}Issuer"),
        acs_url=root.get("AssertionConsumerServiceURL"), relay_state=query.get("RelayState", [""])[0],
        signed="Signature" in query,
    )


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeIdentityProvider:
    entity_id: str = JANUS_ENTITY_ID
    key_pem: str = ""
    cert_pem: str = ""
    # The person the browser test's IdP page signs in (attribute URI -> value).
    person: dict = field(default_factory=dict)

    @classmethod
    def create(cls, entity_id: str = JANUS_ENTITY_ID) -> FakeIdentityProvider:
        key_pem, cert_pem = new_key_and_certificate("test-idp")
        return cls(entity_id=entity_id, key_pem=key_pem, cert_pem=cert_pem)

    def response(
        self, *, request: AuthnRequest | None, audience: str, attributes: dict[str, str],
        acs_url: str | None = None, in_response_to: str | None = None, issuer: str | None = None,
        name_id: str = "_transient-name-id", now: dt.datetime | None = None,
        valid_for: dt.timedelta = dt.timedelta(minutes=5), sign: str | None = "assertion", key_pem: str | None = None,
    ) -> str:
        """A samlp:Response (XML text). ``sign``: "assertion" (Janus's default), "response", or None."""
        now = now or dt.datetime.now(dt.UTC)
        acs_url = acs_url or request.acs_url
        in_response_to = in_response_to if in_response_to is not None else (request.id if request else "")
        irt = f" InResponseTo={quoteattr(in_response_to)}" if in_response_to else ""
        issuer = escape(issuer or self.entity_id)
        not_before, not_after = _instant(now - dt.timedelta(minutes=1)), _instant(now + valid_for)
        statements = "".join(
            f'<saml:Attribute Name={quoteattr(name)} FriendlyName="{FRIENDLY.get(name, "")}" '
            f'NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'
            f"<saml:AttributeValue>{escape(value)}</saml:AttributeValue></saml:Attribute>"
            for name, value in attributes.items()
        )
        assertion = (
            f'<saml:Assertion xmlns:saml="{SAML}" ID="_a{OneLogin_Saml2_Utils.generate_unique_id()}" '
            f'Version="2.0" IssueInstant="{_instant(now)}">'
            f"<saml:Issuer>{issuer}</saml:Issuer>"
            f"<saml:Subject>"
            f'<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">{escape(name_id)}</saml:NameID>'
            f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{not_after}" Recipient={quoteattr(acs_url)}{irt}/>'
            f"</saml:SubjectConfirmation></saml:Subject>"
            f'<saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_after}">'
            f"<saml:AudienceRestriction><saml:Audience>{escape(audience)}</saml:Audience></saml:AudienceRestriction>"
            f"</saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="_session">'
            f"<saml:AuthnContext><saml:AuthnContextClassRef>"
            f"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            f"</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"<saml:AttributeStatement>{statements}</saml:AttributeStatement>"
            f"</saml:Assertion>"
        )
        key_pem = key_pem or self.key_pem
        if sign == "assertion":
            assertion = OneLogin_Saml2_Utils.add_sign(assertion, key_pem, self.cert_pem).decode()
        response = (
            f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" '
            f'ID="_r{OneLogin_Saml2_Utils.generate_unique_id()}" Version="2.0" IssueInstant="{_instant(now)}" '
            f"Destination={quoteattr(acs_url)}{irt}>"
            f"<saml:Issuer>{issuer}</saml:Issuer>"
            f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
            f"{assertion}</samlp:Response>"
        )
        if sign == "response":
            response = OneLogin_Saml2_Utils.add_sign(response, key_pem, self.cert_pem).decode()
        return response


def encode(response_xml: str) -> str:
    """The SAMLResponse form field (HTTP-POST binding)."""
    return base64.b64encode(response_xml.encode()).decode()


# The browser test's IdP (tests/accounts/sso_urls.py): set by the test, read by the view in the server thread.
current: dict = {}


def idp_page(request):
    """The IdP's sign-in page: the person is already "signed in at Janus"; a button posts the answer back."""
    idp: FakeIdentityProvider = current["idp"]
    authn_request = read_authn_request(request.get_full_path())
    xml = idp.response(request=authn_request, audience=authn_request.issuer, attributes=idp.person)
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Janus (test)</title></head><body>'
        "<main><h1>Janus (test identity provider)</h1>"
        f'<form method="post" action="{escape(authn_request.acs_url)}">'
        f'<input type="hidden" name="SAMLResponse" value="{encode(xml)}">'
        f'<input type="hidden" name="RelayState" value="{escape(authn_request.relay_state)}">'
        '<button type="submit">Continue to the service</button></form></main></body></html>'
    )
    response = HttpResponse(html)
    # As the real IdP's page would: its own policy, allowing the post back to the service provider.
    acs = urlsplit(authn_request.acs_url)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; form-action {acs.scheme}://{acs.netloc}; frame-ancestors 'none'"
    )
    return response
