"""What the API shows of a proposal: the PI's editor as data, with the live eligibility checklist, the team,
the budget, the letter and the submitted versions."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from calls.domain import call_deadline
from iea.roles import is_directorate

from .. import domain
from ..models import (
    BudgetCategory,
    Proposal,
    ProposalState,
    SupportLetter,
    TeamMember,
)


class BudgetLineSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=1)
    category = serializers.ChoiceField(choices=BudgetCategory.choices)
    amount = serializers.DecimalField(max_digits=9, decimal_places=2, min_value=0)


@extend_schema_field({"type": "string", "maxLength": 254, "description": "An e-mail address, or empty."})
class OptionalEmailField(serializers.CharField):
    """An e-mail that may be left blank ("" is not an "email" in OpenAPI, so the schema says string)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=254, allow_blank=True, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value:
            try:
                validate_email(value)
            except ValidationError as error:
                raise serializers.ValidationError(error.messages) from None
        return value


class TeamMemberSerializer(serializers.ModelSerializer):
    email = OptionalEmailField(required=False)

    class Meta:
        model = TeamMember
        fields = ("id", "side", "name", "email", "position", "institution", "early_career")


class LetterSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupportLetter
        fields = ("original_name", "size", "sha256", "pages", "cofunding", "cofunding_amount", "cofunding_currency",
                  "uploaded_at", "uploaded_by_partner")


class CheckSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Which rule: required, unit, institute, country, budget, team, letter, limit, deadline.")
    label = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    letter_sha256 = serializers.CharField(source="letter.sha256")


class ProposalListSerializer(serializers.ModelSerializer):
    call = serializers.IntegerField(source="call.year", read_only=True)
    state = serializers.SerializerMethodField(help_text="Where it stands. Its PI learns a ranking or decision once "
                                                        "the decision mail went out: until then, in_review.")

    @extend_schema_field(serializers.ChoiceField(choices=ProposalState.choices))
    def get_state(self, proposal) -> str:
        return proposal.state if is_directorate(self.context["request"].user) else proposal.applicant_state

    class Meta:
        model = Proposal
        fields = ("reference", "call", "state", "title", "acronym", "created_at", "updated_at", "submitted_at",
                  "has_unsubmitted_changes")


class ProposalSerializer(ProposalListSerializer):
    """A whole proposal, as its PI sees it in the editor, with the eligibility checklist."""

    unit = serializers.CharField(source="unit.code", read_only=True, allow_null=True, default=None)
    evaluating_institute = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    institute = serializers.SerializerMethodField(help_text="The institute that evaluates: the chosen one, else the unit's main institute.")
    partner_email = OptionalEmailField(read_only=True)
    partner_country = CountryField()
    budget = BudgetLineSerializer(source="budget_lines", many=True, read_only=True)
    budget_total = serializers.SerializerMethodField()
    team = TeamMemberSerializer(many=True, read_only=True)
    letter = serializers.SerializerMethodField()
    checklist = serializers.SerializerMethodField()
    eligible = serializers.SerializerMethodField(help_text="Every rule of the checklist holds: the proposal may be submitted.")
    editable = serializers.SerializerMethodField(help_text="Its PI may still change and (re-)submit it.")
    deadline = serializers.SerializerMethodField()
    versions = VersionSerializer(many=True, read_only=True)

    class Meta(ProposalListSerializer.Meta):
        fields = (*ProposalListSerializer.Meta.fields, "lock_version", "abstract", "keywords", "unit",
                  "evaluating_institute", "institute", "partner_name", "partner_email", "partner_institution",
                  "partner_country", "activities", "ethics_statement", "budget", "budget_total", "team", "letter",
                  "checklist", "eligible", "editable", "deadline", "versions")

    def _letter(self, proposal):
        letters = proposal.letters.all()  # prefetched, newest first
        return letters[0] if letters else None

    def _checklist(self, proposal):
        if not hasattr(proposal, "_api_checklist"):
            proposal._api_checklist = domain.proposal_checklist(
                proposal, now=self.context["now"], letter=self._letter(proposal))
        return proposal._api_checklist

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_institute(self, proposal):
        institute = proposal.institute
        return institute.code if institute else None

    @extend_schema_field(serializers.DecimalField(max_digits=10, decimal_places=2))
    def get_budget_total(self, proposal):
        return f"{domain.proposal_budget_total(proposal):.2f}"

    @extend_schema_field(LetterSerializer(allow_null=True))
    def get_letter(self, proposal):
        letter = self._letter(proposal)
        return LetterSerializer(letter).data if letter else None

    @extend_schema_field(CheckSerializer(many=True))
    def get_checklist(self, proposal):
        return CheckSerializer(self._checklist(proposal), many=True).data

    @extend_schema_field(serializers.BooleanField())
    def get_eligible(self, proposal):
        return domain.proposal_is_eligible(self._checklist(proposal))

    @extend_schema_field(serializers.BooleanField())
    def get_editable(self, proposal):
        return domain.proposal_editable(proposal, now=self.context["now"])

    @extend_schema_field(serializers.DateTimeField())
    def get_deadline(self, proposal):
        return call_deadline(proposal.call).isoformat()



class SubmissionSerializer(serializers.Serializer):
    reference = serializers.CharField()
    version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    letter_sha256 = serializers.CharField()
    created = serializers.BooleanField(help_text="False: the same content was already submitted; nothing new.")
