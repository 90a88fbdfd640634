"""The PI's proposals in the API: list and read them, start a draft, save it, the team, the support letter,
the partner's invitation, submit and withdraw.

Every write goes through the same domain function as the web editor (``proposals.domain``), and every
field through the same form (``ProposalForm``): the API and the page cannot disagree on a rule. A proposal
is named by its reference (``IEA27-1A2B3C4D``). Directorate staff read every proposal; only its PI
changes it.
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from calls.models import Call, Institute
from iea.api.errors import Conflict
from iea.api.permissions import CONFIDENTIAL
from iea.roles import is_directorate

from .. import domain
from ..forms import LetterForm, ProposalForm, budget_field_name, budget_initial
from ..letters import check_pdf
from ..models import Proposal, ProposalState, ProposalVersion, SupportLetter, TeamMember, announced_state_is
from ..rules import can_edit_proposal, visible_proposals
from .serializers import (
    BudgetLineSerializer,
    LetterSerializer,
    ProposalListSerializer,
    ProposalSerializer,
    SubmissionSerializer,
    TeamMemberSerializer,
)

REFERENCE = r"[A-Za-z0-9-]{1,20}"


class ProposalCreateSerializer(serializers.Serializer):
    call = serializers.IntegerField(help_text="The call's year, e.g. 2027.")


class ProposalUpdateSerializer(serializers.Serializer):
    """What a PATCH may change; absent fields keep their value. ``lock_version`` is the version read: if the
    proposal was saved since (another tab, another script), nothing is written and the answer is 409."""

    lock_version = serializers.IntegerField(help_text="The lock_version of the proposal as you last read it.")
    title = serializers.CharField(required=False, allow_blank=True)
    acronym = serializers.CharField(required=False, allow_blank=True)
    abstract = serializers.CharField(required=False, allow_blank=True)
    keywords = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                 help_text="The PI's CNRS unit code, e.g. \"UMR 5558\".")
    evaluating_institute = serializers.CharField(
        required=False, allow_blank=True, allow_null=True,
        help_text="An institute code (e.g. INSHS) among the unit's institutes; empty: the unit's main institute.")
    partner_name = serializers.CharField(required=False, allow_blank=True)
    partner_email = serializers.CharField(required=False, allow_blank=True)
    partner_institution = serializers.CharField(required=False, allow_blank=True)
    partner_country = serializers.CharField(required=False, allow_blank=True, help_text="ISO 3166 code, e.g. BR.")
    activities = serializers.CharField(required=False, allow_blank=True)
    ethics_statement = serializers.CharField(required=False, allow_blank=True)
    budget = BudgetLineSerializer(many=True, required=False,
                                  help_text="The lines to change; the others keep their amount.")


class LetterUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=(
        "The partner's support letter: a PDF that opens without a password, with no JavaScript, automatic or "
        "launch actions, or embedded files (refused, not cleaned: the letter is kept as signed)."))
    cofunding = serializers.BooleanField(required=False, default=False)
    cofunding_amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    cofunding_currency = serializers.CharField(required=False, allow_blank=True, help_text="e.g. EUR, USD, BRL.")


class InvitationSerializer(serializers.Serializer):
    email = serializers.EmailField()
    language = serializers.ChoiceField(choices=["en", "fr"], default="en")


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ProposalFilter(filters.FilterSet):
    call = filters.NumberFilter(field_name="call__year", help_text="A call's year.")
    state = filters.ChoiceFilter(choices=ProposalState.choices, method="filter_state")

    class Meta:
        model = Proposal
        fields = ("call", "state")

    def filter_state(self, queryset, name, value):
        """By the state the reader may see (``ProposalListSerializer.state``): a PI cannot find an unannounced
        decision by filtering on it."""
        if is_directorate(self.request.user):
            return queryset.filter(state=value)
        return queryset.filter(announced_state_is(value))


@extend_schema(tags=["proposals"])
class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Your proposals (staff: every proposal). Changes go through the rules of the web editor."""

    permission_classes = CONFIDENTIAL
    lookup_field = "reference"
    lookup_value_regex = REFERENCE
    filterset_class = ProposalFilter
    filter_backends = [filters.DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        proposals = visible_proposals(self.request.user).select_related("call", "decision").order_by("-updated_at", "-id")
        if self.action == "list":
            return proposals
        return proposals.select_related("unit__main_institute", "evaluating_institute").prefetch_related(
            "team", "budget_lines", "unit__secondary_institutes",
            Prefetch("letters", queryset=SupportLetter.objects.order_by("-uploaded_at", "-id")),
            Prefetch("versions", queryset=ProposalVersion.objects.select_related("letter").order_by("number")),
        )

    def get_object(self):
        proposal = super().get_object()
        if self.action not in ("list", "retrieve") and not can_edit_proposal(self.request.user, proposal):
            raise exceptions.PermissionDenied(_("Only the PI and the co-applicants can change this proposal."))
        return proposal

    def get_serializer_class(self):
        return ProposalListSerializer if self.action == "list" else ProposalSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _fresh(self, proposal):
        """The proposal re-read after a change, as the detail shows it."""
        fresh = get_object_or_404(self.get_queryset(), pk=proposal.pk)
        return ProposalSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(request=ProposalCreateSerializer, responses={201: ProposalSerializer})
    def create(self, request, *args, **kwargs):
        """Start a draft in an open call (within the call's limit of active proposals per PI)."""
        given = ProposalCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        call = Call.objects.exclude(state="draft").filter(year=given.validated_data["call"]).first()
        if call is None:
            raise serializers.ValidationError({"call": [_("No published call has this year.")]})
        proposal = domain.proposal_create(call_id=call.pk, pi=request.user, now=timezone.now())
        return Response(self._fresh(proposal), status=status.HTTP_201_CREATED)

    @extend_schema(request=ProposalUpdateSerializer, responses={200: ProposalSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Save the draft: only the fields given change. Saving a submitted proposal marks it changed until
        it is submitted again."""
        proposal = self.get_object()
        given = ProposalUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        _check_budget_years(given.validated_data.get("budget", []), proposal.call)
        form = ProposalForm(_form_data(proposal, given.validated_data), instance=proposal, call=proposal.call)
        if not form.is_valid():
            raise serializers.ValidationError(_field_errors(form))
        result = domain.proposal_save_draft(
            proposal_id=proposal.pk, user=request.user, data=form.draft_data(), budget=form.budget_data(),
            lock_version=form.cleaned_data["lock_version"], now=timezone.now(),
        )
        if not result.saved:
            raise Conflict(
                _("The proposal was saved elsewhere since you read it (now version %(version)s): read it again, "
                  "then send your changes.") % {"version": result.record.lock_version},
                fields={_api_field(name): [_("Changed since you read it.")] for name in result.conflicting_fields},
            )
        return Response(self._fresh(proposal))

    @extend_schema(request=TeamMemberSerializer, responses={201: TeamMemberSerializer})
    @action(detail=True, methods=["post"], url_path="team")
    def team_add(self, request, reference=None):
        """Add a member to the CNRS team or to the partner's team."""
        proposal = self.get_object()
        given = TeamMemberSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        member = domain.team_member_add(proposal_id=proposal.pk, user=request.user, now=timezone.now(),
                                        **given.validated_data)
        return Response(TeamMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, parameters=[
        OpenApiParameter("member_id", int, OpenApiParameter.PATH, description="The team member's id.")])
    @action(detail=True, methods=["delete"], url_path=r"team/(?P<member_id>\d+)")
    def team_remove(self, request, reference=None, member_id=None):
        """Remove a member of the team."""
        proposal = self.get_object()
        get_object_or_404(TeamMember, proposal=proposal, pk=member_id)
        domain.team_member_remove(proposal_id=proposal.pk, member_id=int(member_id), user=request.user,
                                  now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request={"multipart/form-data": LetterUploadSerializer}, responses={201: LetterSerializer})
    @action(detail=True, methods=["post"], url_path="letter", parser_classes=[MultiPartParser])
    def letter(self, request, reference=None):
        """Upload the partner's support letter (multipart, field ``file``). It replaces the current letter; a
        file that is not a readable PDF under the size limit is refused with the reason."""
        proposal = self.get_object()
        form = LetterForm(request.data, request.FILES)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        try:
            pdf = check_pdf(form.cleaned_data["file"])
        except ValidationError as error:
            raise serializers.ValidationError({"file": error.messages}) from None
        letter = domain.letter_attach(
            proposal_id=proposal.pk, pdf=pdf, now=timezone.now(), user=request.user,
            cofunding=form.cleaned_data["cofunding"], cofunding_amount=form.cleaned_data["cofunding_amount"],
            cofunding_currency=form.cleaned_data["cofunding_currency"],
        )
        return Response(LetterSerializer(letter).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InvitationSerializer, responses={201: inline_serializer(
        "InvitationSent", {"email": serializers.EmailField(), "expires_at": serializers.DateTimeField()})})
    @action(detail=True, methods=["post"])
    def invite(self, request, reference=None):
        """E-mail the partner a link to read the proposal and upload the support letter. Earlier links stop working."""
        proposal = self.get_object()
        given = InvitationSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        invitation = domain.invitation_create(proposal_id=proposal.pk, user=request.user, now=timezone.now(),
                                              **given.validated_data)
        return Response({"email": invitation.email, "expires_at": invitation.expires_at}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={
        201: OpenApiResponse(SubmissionSerializer, description="Submitted: a new version, and a receipt by e-mail."),
        200: OpenApiResponse(SubmissionSerializer, description="Already submitted with this content: nothing new."),
    })
    @action(detail=True, methods=["post"])
    def submit(self, request, reference=None):
        """Submit before the deadline. Refused (400, with every rule that fails) unless the checklist holds;
        submitting the same content twice gives the same version."""
        proposal = self.get_object()
        result = domain.proposal_submit(proposal_id=proposal.pk, user=request.user, now=timezone.now())
        version = result.version
        body = {"reference": proposal.reference, "version": version.number, "submitted_at": version.submitted_at,
                "content_sha256": version.content_sha256, "letter_sha256": version.letter.sha256,
                "created": result.created}
        return Response(SubmissionSerializer(body).data,
                        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(request=WithdrawSerializer, responses={200: ProposalSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, reference=None):
        """Withdraw the proposal while the call is open. It can never be submitted again."""
        proposal = self.get_object()
        given = WithdrawSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        domain.proposal_withdraw(proposal_id=proposal.pk, user=request.user, now=timezone.now(),
                                 reason=given.validated_data["reason"])
        return Response(self._fresh(proposal))


def _form_data(proposal: Proposal, given: dict) -> dict:
    """The editor's form data: what is stored, overlaid with what the request gives."""
    data = {name: getattr(proposal, name) for name in ProposalForm.Meta.fields}
    data["partner_country"] = proposal.partner_country.code or ""
    data["evaluating_institute"] = proposal.evaluating_institute_id or ""
    data["unit_code"] = proposal.unit.code if proposal.unit_id else ""
    data.update(budget_initial(proposal))
    for name, value in given.items():
        if name == "budget":
            for line in value:
                data[budget_field_name(line["year"], line["category"])] = line["amount"]
        elif name == "unit":
            data["unit_code"] = value or ""
        elif name == "evaluating_institute":
            data[name] = _institute_pk(value)
        else:
            data[name] = value
    return data


def _check_budget_years(lines, call) -> None:
    years = sorted({line["year"] for line in lines if line["year"] > call.budget_years})
    if years:
        raise serializers.ValidationError({"budget": [
            _("This call's budget has %(count)s years; year %(year)s does not exist.")
            % {"count": call.budget_years, "year": years[0]}]})


def _institute_pk(code) -> str:
    if not code:
        return ""
    institute = Institute.objects.filter(code__iexact=code.strip()).first()
    if institute is None:
        raise serializers.ValidationError({"evaluating_institute": [
            _("No institute has the code %(code)s.") % {"code": code}]})
    return str(institute.pk)


def _api_field(name: str) -> str:
    if name == "unit_code":
        return "unit"
    if name.startswith("budget"):
        return "budget"
    return name


def _field_errors(form) -> dict:
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        field = form.fields.get(name)
        if name.startswith("budget_") and field is not None:
            messages = [f"{field.label}: {message}" for message in messages]
        errors.setdefault(_api_field(name) if name != "__all__" else "non_field_errors", []).extend(messages)
    return errors
