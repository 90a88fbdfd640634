"""The reviewer in the API: their assignments and their reviews (the officer's panels: ``panels.py``).

Access is ``reviews.rules``, as on the web pages (``reviews.views.reviewer``, ``reviews.views.officer``):
each list is a rule's queryset (``assignments_for``, ``reviews_for``, ``panels_for``) and anything outside
it is a 404, so a proposal's existence is not revealed. What a reviewer reads of a proposal is the web's
rule: the invitation (title, abstract, keywords, teams) while invited, the whole submitted version once
reviewing (``is_reviewing``). Every change is a ``reviews.domain`` function called as the web views call
it; its refusals are 4xx in the API's one error format (``iea.api.errors``).
"""

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from calls.api import InstituteSerializer
from calls.models import Criterion
from iea import formats
from iea.api.errors import Conflict
from iea.api.permissions import CONFIDENTIAL

from ..domain import scoring
from ..domain.assignment import assignment_respond
from ..domain.conflicts import conflict_declare
from ..models import Assignment, Recommendation, Review, ReviewState, Score
from ..rules import assignments_for, is_reviewing, reviews_for
from .material import (
    AssignmentInvitationSerializer,
    ReviewedProposalSerializer,
    SubmittedProposalSerializer,
    invitation_of,
    submission_of,
    with_titles,
)

# --- Reviews (what they show) ----------------------------------------------------------------------------


class ReviewCriterionSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="In the request's language.")
    guidance = serializers.CharField(read_only=True)

    class Meta:
        model = Criterion
        fields = ("id", "position", "label", "guidance", "scale_max", "step", "weight")


class ReviewScoreSerializer(serializers.ModelSerializer):
    criterion = ReviewCriterionSerializer(read_only=True)

    class Meta:
        model = Score
        fields = ("criterion", "score", "comment")


class ReviewSerializer(serializers.ModelSerializer):
    assignment = serializers.IntegerField(source="assignment_id", read_only=True)
    proposal = ReviewedProposalSerializer(source="*", read_only=True)
    due_at = serializers.DateTimeField(source="assignment.due_at", read_only=True)
    scores = ReviewScoreSerializer(many=True, read_only=True)
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, allow_blank=True, read_only=True,
                                             help_text="Empty until chosen.")

    class Meta:
        model = Review
        fields = ("id", "assignment", "proposal", "state", "lock_version", "due_at", "scores", "comment_for_pi",
                  "confidential_comment", "recommendation", "created_at", "updated_at", "submitted_at")
        read_only_fields = fields


class ReviewDetailSerializer(ReviewSerializer):
    missing = serializers.ListField(child=serializers.CharField(), read_only=True,
                                    help_text="What submission still needs; empty once submitted.")

    class Meta(ReviewSerializer.Meta):
        fields = (*ReviewSerializer.Meta.fields, "missing")
        read_only_fields = fields


# --- Assignments -------------------------------------------------------------------------------------------


class OwnReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ("id", "state")


class AssignmentSerializer(serializers.ModelSerializer):
    proposal = ReviewedProposalSerializer(source="*", read_only=True)
    institute = InstituteSerializer(source="panel.institute", read_only=True, help_text="The panel's institute.")
    overdue = serializers.SerializerMethodField()
    review = OwnReviewSerializer(read_only=True, allow_null=True, help_text="Null until the review is opened.")

    class Meta:
        model = Assignment
        fields = ("id", "state", "due_at", "overdue", "responded_at", "proposal", "institute", "review")

    def get_overdue(self, assignment) -> bool:
        return assignment.due_at <= self.context["now"]


class AssignmentDetailSerializer(AssignmentSerializer):
    invitation = AssignmentInvitationSerializer(read_only=True)
    submission = SubmittedProposalSerializer(
        read_only=True, allow_null=True,
        help_text="The whole submitted proposal once you accepted; null while invited.")

    class Meta(AssignmentSerializer.Meta):
        fields = (*AssignmentSerializer.Meta.fields, "invitation", "submission")


class AssignmentDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why you decline: the officer reads it to find another reviewer.")


class ConflictDeclarationSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="Your conflict of interest; only the panel reads it.")


@extend_schema_view(retrieve=extend_schema(responses=AssignmentDetailSerializer))
@extend_schema(tags=["reviews"])
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your open invitations and accepted reviews, soonest due first; never one in conflict."""

    permission_classes = CONFIDENTIAL
    parser_classes = [JSONParser]
    queryset = Assignment.objects.none()  # the model, for the schema; the rows are ``get_queryset``'s
    serializer_class = AssignmentSerializer

    def get_queryset(self):
        return with_titles(
            assignments_for(self.request.user)
            .select_related("reviewer", "panel__institute", "proposal__call", "proposal__pi", "review")
        ).order_by("due_at", "pk")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _detail(self, assignment) -> dict:
        material = scoring.review_material(assignment.proposal)
        if material is None:
            raise Http404
        assignment.invitation = invitation_of(material)
        reviewing = is_reviewing(self.request.user, assignment.proposal)
        assignment.submission = submission_of(material) if reviewing else None
        return AssignmentDetailSerializer(assignment, context=self.get_serializer_context()).data

    def retrieve(self, request, *args, **kwargs):
        """The assignment and what you may read of the proposal as submitted: the invitation (title, abstract,
        keywords, teams) while invited, the whole proposal once you accepted."""
        return Response(self._detail(self.get_object()))

    @extend_schema(request=None, responses={200: AssignmentDetailSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept the invitation; the whole proposal is then yours to read, and the review to write."""
        assignment_respond(assignment_id=self.get_object().pk, user=request.user, accept=True, now=timezone.now())
        return Response(self._detail(self.get_object()))

    @extend_schema(request=AssignmentDeclineSerializer, responses={200: AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline the invitation, saying why. The assignment then leaves your list."""
        assignment = self.get_object()
        given = AssignmentDeclineSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        assignment_respond(assignment_id=assignment.pk, user=request.user, accept=False,
                           reason=given.validated_data["reason"], now=timezone.now())
        declined = with_titles(Assignment.objects.select_related("panel__institute", "proposal__call", "review"))
        return Response(self.get_serializer(declined.get(pk=assignment.pk)).data)

    @extend_schema(request=ConflictDeclarationSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="conflict")
    def declare_conflict(self, request, pk=None):
        """Declare a conflict of interest with the proposal: it is withdrawn from you at once."""
        assignment = self.get_object()
        given = ConflictDeclarationSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        conflict_declare(proposal_id=assignment.proposal_id, reviewer=assignment.reviewer, user=request.user,
                         reason=given.validated_data["reason"], now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={
        201: OpenApiResponse(ReviewDetailSerializer, description="The review, opened now."),
        200: OpenApiResponse(ReviewDetailSerializer, description="The review, opened before."),
    })
    @action(detail=True, methods=["post"], url_path="review")
    def open_review(self, request, pk=None):
        """Start the review of an accepted assignment (one empty score per criterion of the call); opening it
        again gives the same review."""
        assignment = self.get_object()
        opened_before = Review.objects.filter(assignment=assignment).exists()
        review = scoring.review_open(assignment_id=assignment.pk, user=request.user, now=timezone.now())
        return Response(review_detail(request, review.pk),
                        status=status.HTTP_200_OK if opened_before else status.HTTP_201_CREATED)


# --- Reviews (the changes) -------------------------------------------------------------------------------


class ScoreInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(help_text="The criterion's id, from the review's scores.")
    score = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True,
        help_text="0 to the criterion's scale_max, by its step (half points by default); null: not scored. "
                  "Absent: unchanged.")
    comment = serializers.CharField(required=False, allow_blank=True, help_text="Absent: unchanged.")


class ReviewDraftSerializer(serializers.Serializer):
    """What a PATCH may change; what is absent keeps its value. ``lock_version`` is the version you read: if
    the review was saved since (another tab, another script), nothing is written and the answer is 409."""

    lock_version = serializers.IntegerField(min_value=1, help_text="The review's lock_version as you last read it.")
    comment_for_pi = serializers.CharField(required=False, allow_blank=True)
    confidential_comment = serializers.CharField(required=False, allow_blank=True)
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, required=False, allow_blank=True)
    scores = ScoreInputSerializer(many=True, required=False)

    def validate_scores(self, items):
        """The domain's own check of each score (``score_error``), so the answer names the criterion."""
        rows, seen, problems = self.context["rows"], set(), []
        for item in items:
            row = rows.get(item["criterion"])
            if row is None:
                problems.append(_("A score was given for a criterion this call does not have."))
            elif item["criterion"] in seen:
                problems.append(_("“%(criterion)s” is given twice.") % {"criterion": row.criterion.label})
            elif "score" in item:
                problems.append(scoring.score_error(row.criterion, item["score"]))
            seen.add(item["criterion"])
        if any(problems):
            raise serializers.ValidationError([problem for problem in problems if problem])
        return items


def flat_errors(detail, prefix: str = "") -> dict:
    """Nested serializer errors as one level, ``{"scores.1.score": [...]}``: the error format lists fields."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" and prefix else f"{prefix}.{key}" if prefix else str(key)
            flat.update(flat_errors(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(flat_errors(item, f"{prefix}.{index}"))
        return flat
    return {prefix or "non_field_errors": detail}


def own_reviews(user):
    return with_titles(
        reviews_for(user).select_related("proposal__call", "assignment")
        .prefetch_related(Prefetch("scores", Score.objects.select_related("criterion").order_by("criterion__position")))
    ).order_by("assignment__due_at", "pk")


def review_detail(request, review_id: int) -> dict:
    """The review as its reviewer reads it, re-read after a change, with what submission still needs."""
    review = own_reviews(request.user).filter(pk=review_id).first()
    if review is None:  # no longer the user's to see: never show it
        raise Http404
    review.missing = scoring.review_missing(review) if review.state == ReviewState.DRAFT else []
    return ReviewDetailSerializer(review, context={"request": request}).data


@extend_schema_view(retrieve=extend_schema(responses=ReviewDetailSerializer))
@extend_schema(tags=["reviews"])
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your reviews of the proposals you accepted to review (never one in conflict). Open one with
    ``POST /api/v1/assignments/{id}/review/``."""

    permission_classes = CONFIDENTIAL
    parser_classes = [JSONParser]
    queryset = Review.objects.none()  # the model, for the schema; the rows are ``get_queryset``'s
    serializer_class = ReviewSerializer

    def get_queryset(self):
        return own_reviews(self.request.user)

    def retrieve(self, request, *args, **kwargs):
        """Your review, its scores per criterion, and what submission still needs."""
        return Response(review_detail(request, self.get_object().pk))

    def _open(self, request):
        """As the web's review page: the review is (re)opened first, which asks the rules again and adds a
        score for any criterion the call gained since."""
        review = self.get_object()
        scoring.review_open(assignment_id=review.assignment_id, user=request.user, now=timezone.now())
        return review

    @extend_schema(request=ReviewDraftSerializer, responses={200: ReviewDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Save the draft: only what is given changes. Refused once submitted."""
        review = self._open(request)
        rows = {row.criterion_id: row for row in review.scores.select_related("criterion")}
        given = ReviewDraftSerializer(data=request.data, context={"rows": rows})
        if not given.is_valid():
            raise serializers.ValidationError(flat_errors(given.errors))
        data = given.validated_data
        scores = {
            item["criterion"]: (item.get("score", rows[item["criterion"]].score),
                                item.get("comment", rows[item["criterion"]].comment))
            for item in data.get("scores", [])
        }
        result = scoring.review_save_draft(
            review_id=review.pk, user=request.user, lock_version=data["lock_version"], now=timezone.now(),
            data={name: data[name] for name in scoring.REVIEW_FIELDS if name in data}, scores=scores,
        )
        if not result.saved:
            changed = [_("Your value differs from the one saved meanwhile.")]
            fields = dict.fromkeys(result.conflicting_fields, changed)
            if result.conflicting_criteria:
                fields["scores"] = [
                    _("“%(criterion)s”: your score or comment differs from the one saved meanwhile.")
                    % {"criterion": rows[criterion_id].criterion.label} for criterion_id in result.conflicting_criteria]
            raise Conflict(
                _("The review was saved elsewhere at %(time)s, since you read it (it is now version %(version)s): "
                  "read it again, then send your changes.")
                % {"time": formats.datetime(result.conflict_at, seconds=True),
                   "version": result.record.lock_version},
                fields=fields,
            )
        return Response(review_detail(request, review.pk))

    @extend_schema(request=None, responses={200: ReviewDetailSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit the review: every criterion scored, a comment for the PI and a recommendation (400 lists what
        is missing). It is then locked; submitting again changes nothing."""
        review = self._open(request)
        scoring.review_submit(review_id=review.pk, user=request.user, now=timezone.now())
        return Response(review_detail(request, review.pk))
