"""The permission classes the API's viewsets share. The rules themselves live in each app's ``rules.py``
(the same predicates as the web pages); these classes only ask them."""

from django.utils.translation import gettext_lazy
from rest_framework import permissions

from iea.mfa import has_mfa, needs_mfa

from .auth import TokenHasScope


class MfaForConfidential(permissions.BasePermission):
    """Reviewers, officers and staff reach confidential material only with two-factor authentication set
    up, through the API as on the web pages (``iea.mfa``)."""

    message = gettext_lazy(
        "Set up two-factor authentication in your account first: reviewers, officers and staff handle "
        "confidential proposals.")

    def has_permission(self, request, view):
        return not needs_mfa(request.user) or has_mfa(request.user)


# Every endpoint that shows proposals, reviews, awards or the audit trail.
CONFIDENTIAL = [permissions.IsAuthenticated, TokenHasScope, MfaForConfidential]
