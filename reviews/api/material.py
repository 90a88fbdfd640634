"""What a reviewer reads of a proposal in the API, as on the web: the invitation (title, abstract, keywords,
teams) while invited, the whole submitted version once reviewing; titles come from the submitted version."""


from django.db.models import CharField, F, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from rest_framework import serializers

from proposals.models import ProposalVersion

from ..domain import scoring


def _submitted(field: str):
    """One field of the proposal's last submitted version (what reviewers read), as a subquery."""
    return Subquery(
        ProposalVersion.objects.filter(proposal_id=OuterRef("proposal_id")).order_by("-number")
        .annotate(value=KT(f"content__{field}")).values("value")[:1]
    )


def with_titles(queryset):
    """Assignments or reviews with the submitted title and acronym of their proposal, in the same query."""
    return queryset.annotate(
        submitted_title=Coalesce(_submitted("title"), F("proposal__title"), output_field=CharField()),
        submitted_acronym=Coalesce(_submitted("acronym"), F("proposal__acronym"), output_field=CharField()),
    )


class ReviewedProposalSerializer(serializers.Serializer):
    reference = serializers.CharField(source="proposal.reference")
    call = serializers.IntegerField(source="proposal.call.year", help_text="The call's year.")
    title = serializers.CharField(source="submitted_title", help_text="As last submitted.")
    acronym = serializers.CharField(source="submitted_acronym", help_text="As last submitted.")


class SubmittedPersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    position = serializers.CharField()
    institution = serializers.CharField()


class SubmittedPartnerSerializer(serializers.Serializer):
    name = serializers.CharField()
    institution = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166 code, e.g. BR.")


class AssignmentInvitationSerializer(serializers.Serializer):
    """What an invited reviewer reads, to check for a conflict of interest (the invitation page)."""

    title = serializers.CharField()
    acronym = serializers.CharField()
    keywords = serializers.CharField()
    abstract = serializers.CharField()
    pi = serializers.CharField(help_text="The PI's name.")
    unit = serializers.CharField(help_text="The PI's unit code, e.g. \"UMR 5558\".")
    unit_name = serializers.CharField()
    partner = SubmittedPartnerSerializer()
    cnrs_team = SubmittedPersonSerializer(many=True)
    partner_team = SubmittedPersonSerializer(many=True)


class SubmittedTeamMemberSerializer(SubmittedPersonSerializer):
    side = serializers.CharField(help_text="cnrs or partner.")
    early_career = serializers.BooleanField()


class SubmittedBudgetLineSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    category = serializers.CharField(help_text="mobility, meetings, missions or other.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class SubmittedLetterSerializer(serializers.Serializer):
    name = serializers.CharField()
    sha256 = serializers.CharField()
    cofunding = serializers.BooleanField()
    cofunding_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    cofunding_currency = serializers.CharField()


class SubmittedProposalSerializer(serializers.Serializer):
    """The rest of the submitted version, for a reviewer who accepted (the proposal page)."""

    version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    institute = serializers.CharField(help_text="The evaluating institute's code.")
    team = SubmittedTeamMemberSerializer(many=True)
    activities = serializers.CharField()
    ethics_statement = serializers.CharField()
    budget = SubmittedBudgetLineSerializer(many=True)
    budget_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    letter = SubmittedLetterSerializer()


def _person(member: dict) -> dict:
    return {name: member.get(name) or "" for name in ("name", "position", "institution")}


def invitation_of(material: scoring.ReviewMaterial) -> dict:
    content = material.content
    partner = content.get("partner") or {}
    return {
        **{name: content.get(name) or "" for name in ("title", "acronym", "keywords", "abstract", "unit", "unit_name")},
        "pi": material.proposal.pi.get_full_name(),
        "partner": {name: partner.get(name) or "" for name in ("name", "institution", "country")},
        "cnrs_team": [_person(member) for member in material.cnrs_team],
        "partner_team": [_person(member) for member in material.partner_team],
    }


def submission_of(material: scoring.ReviewMaterial) -> dict:
    content = material.content
    letter = content.get("letter") or {}
    return {
        "version": material.version.number,
        "submitted_at": material.version.submitted_at,
        **{name: content.get(name) or "" for name in ("institute", "activities", "ethics_statement")},
        "team": [{**_person(member), "side": member.get("side") or "", "early_career": bool(member.get("early_career"))}
                 for member in content.get("team", [])],
        "budget": content.get("budget", []),
        "budget_total": content.get("budget_total") or "0",
        "letter": {
            **{name: letter.get(name) or "" for name in ("name", "sha256", "cofunding_currency")},
            "cofunding": bool(letter.get("cofunding")),
            "cofunding_amount": letter.get("cofunding_amount"),
        },
    }
