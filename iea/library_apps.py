"""The libraries' apps (allauth's), named in the admin in the platform's words, in French and English.

allauth names its apps "Accounts", "MFA", "Social Accounts" and its two-factor model "authenticator", none
of which says what they hold to the directorate, and "MFA" has no French. The names live here, in AppConfig
subclasses that INSTALLED_APPS lists instead of allauth's own. A model's names are set on its ``_meta`` once
the app is ready rather than in its ``Meta``: the library's migrations record ``Meta``, and renaming there
would ask for a migration inside the library.
"""

from allauth.account.apps import AccountConfig
from allauth.mfa.apps import MFAConfig
from allauth.socialaccount.apps import SocialAccountConfig
from django.utils.translation import gettext_lazy as _


def _name_model(app_config, model_name: str, singular, plural) -> None:
    meta = app_config.get_model(model_name)._meta
    meta.verbose_name, meta.verbose_name_plural = singular, plural


class EmailAddressesConfig(AccountConfig):
    verbose_name = _("E-mail addresses of the accounts")

    def ready(self) -> None:
        super().ready()
        _name_model(self, "EmailAddress", _("e-mail address"), _("e-mail addresses"))
        _name_model(self, "EmailConfirmation", _("e-mail confirmation"), _("e-mail confirmations"))


class TwoFactorConfig(MFAConfig):
    verbose_name = _("Two-factor authentication")

    def ready(self) -> None:
        super().ready()
        _name_model(self, "Authenticator", _("second factor"), _("second factors"))


class ExternalSignInConfig(SocialAccountConfig):
    verbose_name = _("Sign-in through an identity provider")

    def ready(self) -> None:
        super().ready()
        _name_model(self, "SocialAccount", _("external account"), _("external accounts"))
        _name_model(self, "SocialApp", _("identity provider"), _("identity providers"))
        _name_model(self, "SocialToken", _("identity provider token"), _("identity provider tokens"))
