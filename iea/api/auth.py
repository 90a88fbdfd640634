"""Personal API tokens: ``Authorization: Bearer iea_…``. A token reads; a "read write" token also writes."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from iea.accounts.domain import api_token_user
from iea.accounts.models import ApiToken


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give the token after \"Bearer \", with nothing else."))
        token = api_token_user(header[1].decode(errors="replace"), now=timezone.now())
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is unknown, revoked or expired."))
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class TokenHasScope(permissions.BasePermission):
    """A token without the "write" scope only reads (the session, for the browser, is not limited)."""

    message = gettext_lazy("This token may only read: create a \"read and write\" token to change anything.")

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS or not isinstance(request.auth, ApiToken):
            return True
        return request.auth.can("write")


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal API token (Account → API tokens)."}
