"""The permission classes the API's viewsets share. The rules themselves live in each app's ``rules.py``
(the same predicates as the web pages); these classes only ask them."""

from rest_framework import permissions

from iea.mfa import API_REFUSAL, has_mfa, needs_mfa

from .auth import TokenHasScope


class MfaForConfidential(permissions.BasePermission):
    """Reviewers, officers and staff reach confidential material only with two-factor authentication set
    up, through the API as on the web pages. A request signed in with the session is refused earlier, with
    the same answer, by ``iea.middleware.TwoFactorMiddleware``; a token authenticates only here, inside DRF."""

    message = API_REFUSAL

    def has_permission(self, request, view):
        return not needs_mfa(request.user) or has_mfa(request.user)


# Every endpoint that shows proposals, reviews, awards or the audit trail.
CONFIDENTIAL = [permissions.IsAuthenticated, TokenHasScope, MfaForConfidential]
