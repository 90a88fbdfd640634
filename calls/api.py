"""The calls, institutes and units in the API (read only): calls are public, like their pages; the units
are for signed-in users (they name CNRS laboratories, not people: their managers are never shown)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from iea.api.auth import TokenHasScope

from .domain import call_deadline, call_phase
from .models import Call, Institute, Unit
from .selectors import public_calls


class InstituteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Institute
        fields = ("id", "code", "usage_name", "legal_name")


class CallSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    deadline = serializers.SerializerMethodField(help_text="The last instant a submission is accepted (closing + grace).")
    phase = serializers.SerializerMethodField(help_text="upcoming, open or closed, at the moment of the request.")

    class Meta:
        model = Call
        fields = ("year", "title", "title_fr", "title_en", "summary", "state", "phase", "opens_at", "closes_at",
                  "grace_minutes", "deadline", "budget_min", "budget_max", "duration_months",
                  "max_active_proposals_per_pi", "reviews_per_proposal")

    @extend_schema_field(serializers.DateTimeField())
    def get_deadline(self, call):
        return call_deadline(call).isoformat()

    @extend_schema_field(serializers.ChoiceField(choices=["upcoming", "open", "closed"]))
    def get_phase(self, call):
        return call_phase(call, now=self.context["now"])


class UnitSerializer(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    main_institute = serializers.SlugRelatedField(slug_field="code", read_only=True)
    delegation = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Unit
        fields = ("id", "code", "acronym", "name", "city", "main_institute", "delegation")


@extend_schema_view(retrieve=extend_schema(parameters=[
    OpenApiParameter("year", int, OpenApiParameter.PATH, description="The call's year, e.g. 2027.")]))
class CallViewSet(viewsets.ReadOnlyModelViewSet):
    """The published calls, newest first; ``/api/v1/calls/<year>/`` for one."""

    serializer_class = CallSerializer
    permission_classes = [permissions.AllowAny, TokenHasScope]
    lookup_field = "year"
    lookup_value_regex = r"\d{4}"

    def get_queryset(self):
        return public_calls()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}


class InstituteViewSet(viewsets.ReadOnlyModelViewSet):
    """The ten CNRS institutes."""

    serializer_class = InstituteSerializer
    permission_classes = [permissions.AllowAny, TokenHasScope]
    queryset = Institute.objects.order_by("code")


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter(
    "code", str, description="A unit code in any usual spelling, e.g. \"UMR 5558\" or \"umr5558\".")]))
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """CNRS units; ``?code=UMR 5558`` finds one by its code, whatever its spelling."""

    serializer_class = UnitSerializer
    permission_classes = [permissions.IsAuthenticated, TokenHasScope]

    def get_queryset(self):
        units = Unit.objects.select_related("main_institute", "delegation").order_by("unit_type", "number")
        code = self.request.query_params.get("code")
        return units.by_code(code) if code else units


def register(router):
    router.register("calls", CallViewSet, basename="call")
    router.register("institutes", InstituteViewSet, basename="institute")
    router.register("units", UnitViewSet, basename="unit")
