"""Single sign-on from the environment: Janus, the SAML identity provider of CNRS in the RENATER federation,
and one generic OpenID Connect provider, as django-allauth's ``SOCIALACCOUNT_PROVIDERS`` (settings-based
apps, no database rows).

Nothing configured, nothing offered: the sign-in page shows a provider's button only when its variables
are set. A half-configured provider stops the start-up with the variable that is missing, rather than
showing a button that fails. README, "Single sign-on", lists the variables.

This module is imported by the settings: it must not touch Django models or settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

JANUS_ENTITY_ID = "https://janus.cnrs.fr/idp"
# The organisation slug in allauth's SAML URLs: /accounts/saml/janus/login/, …/acs/, …/metadata/.
SAML_SLUG = "janus"
OIDC_PROVIDER_ID = "oidc"

# RENATER / SupAnn attributes, by the URI names Shibboleth sends (first value of the first one present).
# The uid is eduPersonPrincipalName; without it allauth falls back to the NameID.
RENATER_ATTRIBUTE_MAPPING = {
    "uid": ["urn:oid:1.3.6.1.4.1.5923.1.1.1.6"],  # eduPersonPrincipalName
    "email": ["urn:oid:0.9.2342.19200300.100.1.3"],  # mail
    "name": ["urn:oid:2.16.840.1.113730.3.1.241"],  # displayName
    "first_name": ["urn:oid:2.5.4.42"],  # givenName
    "last_name": ["urn:oid:2.5.4.4"],  # sn
}


def social_providers(env, *, site_url: str) -> dict:
    """``SOCIALACCOUNT_PROVIDERS`` for what the environment configures (``env``: a django-environ Env)."""
    providers: dict = {}
    if saml := saml_app(env, site_url=site_url):
        providers["saml"] = {"APPS": [saml]}
    if oidc := oidc_app(env):
        providers["openid_connect"] = {"APPS": [oidc]}
    return providers


def saml_app(env, *, site_url: str) -> dict | None:
    """Janus (or another SAML IdP): either its SSO URL and signing certificate, or its metadata URL."""
    sso_url = env.str("SAML_IDP_SSO_URL", default="")
    idp_cert = env.str("SAML_IDP_X509_CERT", default="", multiline=True)
    metadata_url = env.str("SAML_IDP_METADATA_URL", default="")
    if not (sso_url or idp_cert or metadata_url):
        return None
    entity_id = env.str("SAML_IDP_ENTITY_ID", default=JANUS_ENTITY_ID)
    if metadata_url:
        # python3-saml does not check the metadata's signature: HTTPS only (README).
        if not metadata_url.startswith("https://"):
            raise ImproperlyConfigured("SAML_IDP_METADATA_URL must be an https:// URL.")
        idp = {"entity_id": entity_id, "metadata_url": metadata_url}
    elif sso_url and idp_cert:
        idp = {"entity_id": entity_id, "sso_url": sso_url, "x509cert": _pem(idp_cert, "SAML_IDP_X509_CERT")}
    else:
        missing = "SAML_IDP_X509_CERT" if sso_url else "SAML_IDP_SSO_URL"
        raise ImproperlyConfigured(f"Janus sign-in: {missing} is not set (or set SAML_IDP_METADATA_URL instead).")

    advanced = {
        "strict": True,
        # Only sign-ins this site started (InResponseTo matches a request it sent) are accepted.
        "reject_idp_initiated_sso": True,
        "want_attribute_statement": True,
        "want_assertion_encrypted": env.bool("SAML_WANT_ASSERTION_ENCRYPTED", default=False),
    }
    sp_cert = env.str("SAML_SP_X509_CERT", default="", multiline=True)
    sp_key = env.str("SAML_SP_PRIVATE_KEY", default="", multiline=True)
    if bool(sp_cert) != bool(sp_key):
        raise ImproperlyConfigured("SAML_SP_X509_CERT and SAML_SP_PRIVATE_KEY go together.")
    if sp_cert:
        advanced.update(
            x509cert=_pem(sp_cert, "SAML_SP_X509_CERT"),
            private_key=_pem(sp_key, "SAML_SP_PRIVATE_KEY"),
            authn_request_signed=True,
        )
    elif advanced["want_assertion_encrypted"]:
        raise ImproperlyConfigured("SAML_WANT_ASSERTION_ENCRYPTED needs SAML_SP_X509_CERT and SAML_SP_PRIVATE_KEY.")

    mapping = {**RENATER_ATTRIBUTE_MAPPING, **_json_object(env, "SAML_ATTRIBUTE_MAPPING")}
    return {
        "name": env.str("SAML_NAME", default="Janus (CNRS)"),
        # SocialAccount.provider: allauth's docs advise the IdP's entity ID.
        "provider_id": entity_id,
        "client_id": SAML_SLUG,
        "settings": {
            "attribute_mapping": mapping,
            "idp": idp,
            "sp": {"entity_id": env.str("SAML_SP_ENTITY_ID", default=f"{site_url}/accounts/saml/{SAML_SLUG}/metadata/")},
            "advanced": advanced,
            # Janus asserts the institutional address it holds: treat it as verified (allauth's
            # is_email_verified), so that it signs into the account with that address.
            "verified_email": env.bool("SAML_EMAIL_VERIFIED", default=True),
        },
    }


def oidc_app(env) -> dict | None:
    """A generic OpenID Connect provider (discovery from OIDC_SERVER_URL)."""
    server_url = env.str("OIDC_SERVER_URL", default="")
    client_id = env.str("OIDC_CLIENT_ID", default="")
    if not (server_url or client_id):
        return None
    if not (server_url and client_id):
        missing = "OIDC_CLIENT_ID" if server_url else "OIDC_SERVER_URL"
        raise ImproperlyConfigured(f"OpenID Connect sign-in: {missing} is not set.")
    return {
        "name": env.str("OIDC_NAME", default="OpenID Connect"),
        "provider_id": env.str("OIDC_PROVIDER_ID", default=OIDC_PROVIDER_ID),
        "client_id": client_id,
        "secret": env.str("OIDC_CLIENT_SECRET", default=""),
        "settings": {
            "server_url": server_url,
            "oauth_pkce_enabled": env.bool("OIDC_PKCE", default=True),
            # An address counts as verified only when the ID token / userinfo says email_verified, unless
            # the operator vouches for every address this provider sends.
            "verified_email": env.bool("OIDC_EMAIL_VERIFIED", default=False),
            "email_authentication": env.bool("OIDC_EMAIL_AUTHENTICATION", default=True),
        },
    }


def form_action_origins(providers: dict) -> list[str]:
    """Origins the sign-in buttons end up at: a form that posts to allauth is redirected there, and the
    Content-Security-Policy's form-action (iea.middleware) must allow the redirect."""
    urls = []
    for app in providers.get("saml", {}).get("APPS", []):
        idp = app["settings"]["idp"]
        # From metadata the SSO URL is known only at sign-in; Janus's is on its entity ID's host.
        urls.append(idp.get("sso_url") or idp["entity_id"])
    for app in providers.get("openid_connect", {}).get("APPS", []):
        urls.append(app["settings"]["server_url"])
    origins = []
    for url in urls:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in ("http", "https") and parts.netloc and origin not in origins:
            origins.append(origin)
    return origins


def _pem(value: str, name: str) -> str:
    """A certificate or key: the PEM text itself (``\\n`` for newlines is fine), or the path of a file."""
    value = value.strip()
    if value.startswith("/"):
        try:
            return Path(value).read_text()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}: cannot read {value}: {error}") from error
    return value


def _json_object(env, name: str) -> dict:
    raw = env.str(name, default="")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object.")
    return value
