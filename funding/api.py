"""Awards, their tranches and their annual reports in the API.

Who sees what is ``funding.rules``: every list is ``visible_awards`` as a queryset filter (the PI of the
funded proposal, the managers of the managing unit, the officers of the panel, directorate staff); an
award, tranche or report outside it is a 404, so its existence is not revealed. The writes are the ones
the web pages offer, through the same domain functions: the unit manager confirms a tranche's receipt;
the PI saves and submits the annual report; the panel's officer or staff review it. Staff release or
withhold tranches in the Django admin, not here.
"""

import json
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.utils import html

from iea.api.permissions import CONFIDENTIAL
from proposals.letters import check_pdf
from proposals.models import BudgetCategory

from .domain.awards import tranche_confirm_receipt, tranche_gate
from .domain.reports import report_due, report_review, report_save, report_submit
from .forms.pi import SPENDING_MAX, ReportForm, spending_field_name
from .models import Award, AwardState, Report, ReportPeriod, ReportState, Tranche, TrancheState
from .rules import can_file_reports, can_manage_spending, can_review_reports, visible_awards

# The order in which reports fall due (the database would sort "final" before "year1").
PERIODS = [ReportPeriod.YEAR_1, ReportPeriod.FINAL]

# --- Representations ----------------------------------------------------------------------------------------


def spending_serializer(name: str, *, base=serializers.Serializer, required: bool, doc: str):
    """A serializer with one amount per budget category (``BudgetCategory``, the proposal's categories)."""
    fields = {
        category: serializers.DecimalField(
            max_digits=9, decimal_places=2, min_value=Decimal(0), max_value=SPENDING_MAX, required=required,
            help_text=label)
        for category, label in BudgetCategory.choices
    }
    return type(name, (base,), {"__doc__": doc, "__module__": __name__, **fields})


ReportSpendingSerializer = spending_serializer(
    "ReportSpendingSerializer", required=True, doc="What was spent over the period, in euros, by category.")


def _when(moment):
    """A date-time as every other date-time of the API writes it (in Paris time, with its offset)."""
    return serializers.DateTimeField().to_representation(moment) if moment is not None else None


class TrancheSerializer(serializers.ModelSerializer):
    award = serializers.PrimaryKeyRelatedField(read_only=True)
    reference = serializers.CharField(source="award.proposal.reference", read_only=True)
    unit = serializers.CharField(source="award.unit.code", read_only=True, help_text="The managing unit.")
    released_at = serializers.SerializerMethodField()
    withheld_at = serializers.SerializerMethodField()
    gate = serializers.SerializerMethodField(help_text=(
        "For a planned tranche, why it cannot be released yet (empty: nothing stands in its way); null once "
        "released or withheld."))

    class Meta:
        model = Tranche
        fields = ("id", "award", "reference", "unit", "number", "amount", "planned_date", "state", "released_at",
                  "withheld_at", "withheld_reason", "received_at", "gate")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_released_at(self, tranche):
        return _when(tranche.decided_at) if tranche.state == TrancheState.RELEASED else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_withheld_at(self, tranche):
        return _when(tranche.decided_at) if tranche.state == TrancheState.WITHHELD else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_gate(self, tranche):
        # The gate reads the award's tranches and reports: the prefetched ones, never a query per tranche.
        return tranche_gate(tranche) if tranche.state == TrancheState.PLANNED else None


class ReportSummarySerializer(serializers.ModelSerializer):
    due_date = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ("id", "period", "state", "due_date", "updated_at", "submitted_at", "cosigned_at", "reviewed_at")

    @extend_schema_field(serializers.DateField())
    def get_due_date(self, report):
        return report_due(report.award, report.period).isoformat()


class ReportSerializer(ReportSummarySerializer):
    """The report as the people who may see the award read it; the PDF itself is downloaded on the web."""

    award = serializers.PrimaryKeyRelatedField(read_only=True)
    reference = serializers.CharField(source="award.proposal.reference", read_only=True)
    has_scientific_pdf = serializers.SerializerMethodField()
    spending = serializers.SerializerMethodField()

    class Meta(ReportSummarySerializer.Meta):
        fields = ("id", "award", "reference", "period", "state", "due_date", "scientific_review",
                  "has_scientific_pdf", "scientific_pdf_sha256", "spending", "cofunding_received",
                  "cofunding_currency", "updated_at", "submitted_at", "cosigned_at", "cosigned_by",
                  "cosign_declined_at", "cosign_declined_by", "cosign_decline_comment", "reviewed_at", "review_comment")

    @extend_schema_field(serializers.BooleanField())
    def get_has_scientific_pdf(self, report):
        return bool(report.scientific_pdf)

    @extend_schema_field(ReportSpendingSerializer)
    def get_spending(self, report):
        amounts = {line.category: line.amount for line in report.spending.all()}
        return ReportSpendingSerializer({c: amounts.get(c, Decimal(0)) for c in BudgetCategory.values}).data


class AwardSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="proposal.reference", read_only=True)
    title = serializers.CharField(source="proposal.title", read_only=True)
    acronym = serializers.CharField(source="proposal.acronym", read_only=True)
    pi_name = serializers.CharField(source="proposal.pi.get_full_name", read_only=True)
    call = serializers.IntegerField(source="proposal.call.year", read_only=True, help_text="The call's year.")
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="The managing unit.")
    tranches = TrancheSerializer(many=True, read_only=True)
    reports = serializers.SerializerMethodField(help_text="In the order they fall due.")

    class Meta:
        model = Award
        fields = ("id", "reference", "title", "acronym", "pi_name", "call", "unit", "amount", "state", "start_date",
                  "end_date", "accept_by", "accepted_at", "declined_at", "decline_reason", "cancelled_at", "closed_at",
                  "tranches", "reports")
        extra_kwargs = {
            "accept_by": {"help_text": "The PI accepts or declines the award by then (state awaiting)."},
            "decline_reason": {"help_text": "The PI's reason, when they declined it."},
            "cancelled_at": {"help_text": "The directorate cancelled it (declined, or not accepted in time): its "
                                          "amount returned to the call's envelope."},
        }

    @extend_schema_field(ReportSummarySerializer(many=True))
    def get_reports(self, award):
        reports = sorted(award.reports.all(), key=lambda report: PERIODS.index(report.period))
        return ReportSummarySerializer(reports, many=True).data


# --- What the PI and the reviewers send ---------------------------------------------------------------------


class MultipartObject(serializers.Serializer):
    """A nested object that multipart requests send either as ``spending.mobility=…`` parts (Django REST
    framework's convention) or as one part holding a JSON object (OpenAPI's default for an object)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and isinstance(dictionary.get(self.field_name), str):
            try:
                return json.loads(dictionary[self.field_name])
            except ValueError:
                return dictionary[self.field_name]  # refused as "expected a dictionary"
        return super().get_value(dictionary)


SpendingUpdateSerializer = spending_serializer(
    "SpendingUpdateSerializer", base=MultipartObject, required=False,
    doc="The amounts spent, in euros, by category; a category left out keeps its saved amount.")


class ReportUpdateSerializer(serializers.Serializer):
    """The fields given change; the others keep their saved value. Spending categories left out keep theirs.
    The types are checked here; the rules (currency, co-funding) by the web page's form, ``ReportForm``."""

    scientific_review = serializers.CharField(required=False, allow_blank=True)
    spending = SpendingUpdateSerializer(required=False)
    cofunding_received = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True,
        help_text="The partner's co-funding actually received over the period.")
    cofunding_currency = serializers.CharField(required=False, allow_blank=True, max_length=3,
                                               help_text="A three-letter code, e.g. EUR.")


class ReportUploadSerializer(ReportUpdateSerializer):
    scientific_pdf = serializers.FileField(
        required=False, allow_null=True, help_text=(
            "The scientific review as a PDF (replaces the previous one), checked like the support letter: "
            "no password to open it, no JavaScript, automatic or launch actions, or embedded files."))


class ReportReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text="true: approve the report; false: ask the PI for changes.")
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="Required when asking for changes: the PI reads it.")


# --- Filters ------------------------------------------------------------------------------------------------


class AwardFilter(filters.FilterSet):
    call = filters.NumberFilter(field_name="proposal__call__year", label="The call's year.")
    state = filters.ChoiceFilter(choices=AwardState.choices)

    class Meta:
        model = Award
        fields = ("call", "state")


class TrancheFilter(filters.FilterSet):
    award = filters.NumberFilter(field_name="award__id", label="The award's id.")
    call = filters.NumberFilter(field_name="award__proposal__call__year", label="The call's year.")
    state = filters.ChoiceFilter(choices=TrancheState.choices)

    class Meta:
        model = Tranche
        fields = ("award", "call", "state")


class ReportFilter(filters.FilterSet):
    award = filters.NumberFilter(field_name="award__id", label="The award's id.")
    call = filters.NumberFilter(field_name="award__proposal__call__year", label="The call's year.")
    period = filters.ChoiceFilter(choices=ReportPeriod.choices)
    state = filters.ChoiceFilter(choices=ReportState.choices)

    class Meta:
        model = Report
        fields = ("award", "call", "period", "state")


# --- Views --------------------------------------------------------------------------------------------------


class FundingViewSet(viewsets.GenericViewSet):
    permission_classes = CONFIDENTIAL
    filter_backends = [filters.DjangoFilterBackend]

    def visible(self):
        return visible_awards(self.request.user) if not getattr(self, "swagger_fake_view", False) else Award.objects.none()


class AwardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FundingViewSet):
    """The awards you may see, newest first, with their tranches and reports."""

    serializer_class = AwardSerializer
    filterset_class = AwardFilter
    queryset = Award.objects.none()

    def get_queryset(self):
        return self.visible().select_related("proposal__call", "proposal__pi", "unit").prefetch_related(
            "tranches", "reports")


class TrancheViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FundingViewSet):
    """The tranches of the awards you may see; the unit manager confirms the receipt of a released one."""

    serializer_class = TrancheSerializer
    filterset_class = TrancheFilter
    queryset = Tranche.objects.none()

    def get_queryset(self):
        return (
            Tranche.objects.filter(award__in=self.visible())
            .select_related("award__proposal", "award__unit")
            .prefetch_related("award__tranches", "award__reports")
            .order_by("award_id", "number")
        )

    @extend_schema(request=None, responses={200: TrancheSerializer}, description=(
        "The unit manager confirms that the unit received this released tranche. Confirming twice changes nothing."))
    @action(detail=True, methods=["post"], url_path="confirm-receipt")
    def confirm_receipt(self, request, pk=None):
        tranche = self.get_object()
        if not can_manage_spending(request.user, tranche.award):
            raise exceptions.PermissionDenied(_("Only a manager of the award's unit can confirm receipt."))
        tranche_confirm_receipt(tranche_id=tranche.pk, user=request.user, now=timezone.now())
        return Response(self.get_serializer(self.get_queryset().get(pk=tranche.pk)).data)


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, FundingViewSet):
    """The annual reports of the awards you may see; the PI saves and submits them, the panel's officer or
    staff review them once the partner has co-signed."""

    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    queryset = Report.objects.none()

    def get_queryset(self):
        due_order = Case(*(When(period=period, then=Value(index)) for index, period in enumerate(PERIODS)),
                         output_field=IntegerField())
        return (
            Report.objects.filter(award__in=self.visible())
            .select_related("award__proposal", "award__unit")
            .prefetch_related("spending")
            .order_by("award_id", due_order)
        )

    def _answer(self, report_id: int) -> Response:
        return Response(ReportSerializer(self.get_queryset().get(pk=report_id)).data)

    @extend_schema(
        request={"application/json": ReportUpdateSerializer, "multipart/form-data": ReportUploadSerializer},
        responses={200: ReportSerializer},
        description=(
            "The PI saves the report while it is a draft or changes were requested. Send JSON, or multipart "
            "to attach the scientific review as a PDF (checked by its content, like the support letter)."),
    )
    def partial_update(self, request, pk=None):
        report = self.get_object()
        if not can_file_reports(request.user, report.award):
            raise exceptions.PermissionDenied(_("Only the PI files the reports."))
        serializer = ReportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = _report_form(report, serializer.validated_data)
        if not form.is_valid():
            raise serializers.ValidationError(
                {("spending" if name.startswith("spending_") else name): errors for name, errors in form.errors.items()})
        pdf = None
        if form.cleaned_data.get("scientific_pdf"):
            try:
                pdf = check_pdf(form.cleaned_data["scientific_pdf"])
            except ValidationError as error:
                raise serializers.ValidationError({"scientific_pdf": error.messages}) from None
        report_save(
            report_id=report.pk, user=request.user, scientific_review=form.cleaned_data["scientific_review"],
            spending=form.spending_data(), cofunding_received=form.cleaned_data["cofunding_received"],
            cofunding_currency=form.cleaned_data["cofunding_currency"], scientific_pdf=pdf, now=timezone.now(),
        )
        return self._answer(report.pk)

    @extend_schema(request=None, responses={200: ReportSerializer}, description=(
        "The PI submits the report; the partner is asked by e-mail to co-sign it."))
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        report = self.get_object()
        if not can_file_reports(request.user, report.award):
            raise exceptions.PermissionDenied(_("Only the PI files the reports."))
        report_submit(report_id=report.pk, user=request.user, now=timezone.now())
        return self._answer(report.pk)

    @extend_schema(request=ReportReviewSerializer, responses={200: ReportSerializer},
                   description=(
                       "The panel's officer or directorate staff approve a co-signed report or ask for changes. "
                       "Approving the final report closes the award. Nobody reviews their own award's report."))
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def review(self, request, pk=None):
        report = self.get_object()
        if not can_review_reports(request.user, report.award):
            raise exceptions.PermissionDenied(_("Only directorate staff or the institute's officer review reports."))
        serializer = ReportReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report_review(report_id=report.pk, user=request.user, approve=serializer.validated_data["approve"],
                      comment=serializer.validated_data["comment"], now=timezone.now())
        return self._answer(report.pk)


def _report_form(report: Report, given: dict) -> ReportForm:
    """The web page's form, bound to what is saved overlaid with what the request gives."""
    data = ReportForm.initial_for(report)
    for name in ("scientific_review", "cofunding_received", "cofunding_currency"):
        if name in given:
            data[name] = given[name]
    for category, amount in given.get("spending", {}).items():
        data[spending_field_name(category)] = amount
    data = {name: ("" if value is None else value) for name, value in data.items()}
    files = {"scientific_pdf": given["scientific_pdf"]} if given.get("scientific_pdf") else None
    return ReportForm(data, files)


def register(router):
    router.register("awards", AwardViewSet, basename="award")
    router.register("tranches", TrancheViewSet, basename="tranche")
    router.register("reports", ReportViewSet, basename="report")
