"""The officer's panels in the API and their table, read only (``panels_for``, ``can_manage_panel``)."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action

from calls.api import InstituteSerializer
from iea.api.permissions import CONFIDENTIAL
from proposals.models import ProposalState

from ..domain import panel_table as panel_domain
from ..models import Panel, Recommendation
from ..rules import can_manage_panel, panels_for


class PanelSerializer(serializers.ModelSerializer):
    call = serializers.IntegerField(source="call.year", read_only=True, help_text="The call's year.")
    institute = InstituteSerializer(read_only=True)

    class Meta:
        model = Panel
        fields = ("id", "call", "institute", "reviews_per_proposal", "review_due_at")


class CriterionMeanSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    position = serializers.IntegerField()
    mean = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)


class ThresholdMissSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(source="criterion.pk", allow_null=True, default=None,
                                         help_text="The criterion whose threshold is missed; null: the call's overall one.")
    mean = serializers.DecimalField(max_digits=8, decimal_places=2,
                                    help_text="The criterion's mean, or the weighted total.")
    threshold = serializers.DecimalField(max_digits=4, decimal_places=1)


class PriorityMatchSerializer(serializers.Serializer):
    matched = serializers.BooleanField()
    country = serializers.CharField(help_text="The partner's country, if among the institute's priorities.")
    keywords = serializers.ListField(child=serializers.CharField(), help_text="Keywords found in the priority themes.")


def _score_field(help_text: str):
    return serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True, help_text=help_text)


class PanelRowSerializer(serializers.Serializer):
    """One proposal of the panel table. Only submitted, non-conflicted reviews count."""

    reference = serializers.CharField(source="proposal.reference")
    title = serializers.CharField(source="proposal.title")
    acronym = serializers.CharField(source="proposal.acronym")
    state = serializers.ChoiceField(choices=ProposalState.choices, source="proposal.state")
    reviews_done = serializers.IntegerField()
    reviews_expected = serializers.IntegerField()
    incomplete = serializers.BooleanField(help_text="Fewer submitted reviews than the panel expects.")
    criterion_means = serializers.SerializerMethodField()
    weighted_total = _score_field("The criterion means, weighted as the call says.")
    median = _score_field("The median of the reviewers' weighted totals.")
    spread = _score_field("The gap between the highest and the lowest reviewer's weighted total.")
    disagreement = serializers.BooleanField(help_text="The reviewers disagree: the spread reaches the threshold.")
    calibrated = serializers.FloatField(
        allow_null=True, help_text="The reviewers' totals as z-scores against their own reviews, averaged.")
    priority = PriorityMatchSerializer()
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, allow_blank=True, source="recommended",
                                             help_text="The panel's recommendation; empty if none yet.")
    proposed_amount = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True,
                                               source="recommendation.proposed_amount")
    rank = serializers.IntegerField(allow_null=True)
    threshold_misses = ThresholdMissSerializer(
        many=True, help_text="The criterion thresholds and the call's overall threshold the proposal is under: it "
                             "cannot be recommended for funding.")

    @extend_schema_field(CriterionMeanSerializer(many=True))
    def get_criterion_means(self, row):
        return CriterionMeanSerializer([
            {"criterion": criterion.pk, "position": criterion.position, "mean": mean}
            for criterion, mean in zip(self.context["criteria"], row.criterion_means, strict=True)
        ], many=True).data


class PanelResultsQuerySerializer(serializers.Serializer):
    sort = serializers.CharField(
        required=False, default=panel_domain.DEFAULT_SORT,
        help_text="reference, acronym, total, median, spread, calibrated, reviews, priority, rank, recommendation, "
                  "amount, or c1, c2… (a criterion's mean); a leading \"-\" sorts from the highest.")
    disagreement = serializers.BooleanField(required=False, default=False, help_text="Disagreement only.")
    incomplete = serializers.BooleanField(required=False, default=False, help_text="Reviews missing only.")
    priority = serializers.BooleanField(required=False, default=False, help_text="Matches the priorities only.")
    under_threshold = serializers.BooleanField(required=False, default=False,
                                               help_text="Under a criterion's or the overall threshold only.")
    recommendation = serializers.ChoiceField(
        choices=[*Recommendation.values, panel_domain.NO_RECOMMENDATION], required=False, allow_blank=True, default="",
        help_text="Only this recommendation; \"none\": not recommended yet.")


@extend_schema(tags=["panels"])
class PanelViewSet(viewsets.ReadOnlyModelViewSet):
    """The panels (call × institute) you run as the institute's officer; directorate staff: all."""

    permission_classes = CONFIDENTIAL
    queryset = Panel.objects.none()  # the model, for the schema; the rows are ``get_queryset``'s
    serializer_class = PanelSerializer

    def get_queryset(self):
        panels = panels_for(self.request.user).select_related("call", "institute")
        return panels.order_by("-call__year", "institute__code")

    def get_object(self):
        panel = super().get_object()
        if not can_manage_panel(self.request.user, panel):
            raise Http404
        return panel

    @extend_schema(parameters=[PanelResultsQuerySerializer], responses=PanelRowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """The panel table: per proposal you may see (never your own conflicts), the reviews done, the
        criterion means, the weighted total, median and spread (with the disagreement flag), the calibrated
        score, the match with the institute's priorities, and the panel's recommendation and rank."""
        panel = self.get_object()
        given = PanelResultsQuerySerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        query = given.validated_data
        rows = panel_domain.panel_table(
            panel=panel, user=request.user, sort=query["sort"],
            **{name: query[name] for name in ("disagreement", "incomplete", "priority", "under_threshold",
                                              "recommendation")},
        )
        if query["sort"].removeprefix("-") not in panel_domain.sort_keys(rows.criteria):
            raise serializers.ValidationError({"sort": [_("The table cannot be sorted by “%(sort)s”.") % {
                "sort": query["sort"]}]})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(PanelRowSerializer(page, many=True, context={"criteria": rows.criteria}).data)
