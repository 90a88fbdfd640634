"""The audit trail in the API, for directorate staff only: the entries about one object, newest first.

    GET /api/v1/audit/?target=proposals.proposal:12[&action=proposal.submit]

The object is named as ``<app label>.<model>:<id>``, the way Django names a model; a malformed name, or a
kind of object outside the platform's own apps (sessions, accounts of the libraries…), is a 400 that says
why, an object that does not exist a 404.
"""

import re

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, viewsets

from iea.audit.domain import audit_trail
from iea.audit.models import AuditEntry
from iea.roles import is_directorate

from .permissions import CONFIDENTIAL

TARGET = re.compile(r"^(?P<app_label>\w+)\.(?P<model>\w+):(?P<pk>[^\s:]{1,64})$")
ACTION = re.compile(r"^[\w.:-]{1,64}$")
# The platform's own apps are audited; installed libraries (sessions, allauth, auth…) are not, and naming
# their objects must not tell whether one exists (a session key, say).
PLATFORM_APPS = {"calls", "proposals", "reviews", "funding", "accounts", "notifications"}


def _platform_model(content_type):
    return content_type.model_class() if content_type.app_label in PLATFORM_APPS else None


class IsDirectorate(permissions.BasePermission):
    """The audit trail names people and the reasons of their acts: directorate staff only."""

    message = gettext_lazy("Only directorate staff read the audit trail.")

    def has_permission(self, request, view):
        return is_directorate(request.user)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email", read_only=True, allow_null=True,
                                   help_text="The e-mail of the account that acted; null for a system act or a "
                                             "person without an account (see actor_label).")

    class Meta:
        model = AuditEntry
        fields = ("id", "created_at", "actor", "actor_label", "action", "from_state", "to_state", "reason", "data")


def audit_target(value: str):
    """The object ``value`` names (``proposals.proposal:12``); 400 if the name is malformed, 404 if there is
    no such object."""
    match = TARGET.match((value or "").strip())
    if match is None:
        raise exceptions.ValidationError({"target": [_(
            "Name the object as <app>.<model>:<id>, e.g. \"proposals.proposal:12\".")]})
    app_label, model, pk = match["app_label"].lower(), match["model"].lower(), match["pk"]
    try:
        model_class = _platform_model(ContentType.objects.get_by_natural_key(app_label, model))
    except ContentType.DoesNotExist:
        model_class = None
    if model_class is None:
        raise exceptions.ValidationError({"target": [_("\"%(name)s\" is not a kind of object the platform audits.") % {
            "name": f"{app_label}.{model}"}]})
    try:
        return model_class._base_manager.get(pk=pk)
    except model_class.DoesNotExist:
        raise exceptions.NotFound(_("There is no %(name)s with the id %(pk)s.") % {
            "name": model_class._meta.verbose_name, "pk": pk}) from None
    except (ValueError, TypeError, ValidationError):
        raise exceptions.ValidationError({"target": [_("\"%(pk)s\" is not a valid id for a %(name)s.") % {
            "pk": pk, "name": model_class._meta.verbose_name}]}) from None


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("target", str, required=True, description=(
        "The object whose trail to read, as <app>.<model>:<id>, e.g. \"proposals.proposal:12\", "
        "\"funding.report:3\".")),
    OpenApiParameter("action", str, description="Only the entries of this action, e.g. \"proposal.submit\"."),
]))
class AuditViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit entries about one object, newest first: when, who, acting as, what, from which state to
    which, why, and the details recorded."""

    serializer_class = AuditEntrySerializer
    permission_classes = [*CONFIDENTIAL, IsDirectorate]
    queryset = AuditEntry.objects.none()

    def get_queryset(self):
        entries = audit_trail(audit_target(self.request.query_params.get("target", "")))
        action = self.request.query_params.get("action")
        if not action:
            return entries
        if not ACTION.match(action):
            raise exceptions.ValidationError({"action": [_("An action is a name such as \"proposal.submit\".")]})
        return entries.filter(action=action)


def register(router):
    router.register("audit", AuditViewSet, basename="audit")
