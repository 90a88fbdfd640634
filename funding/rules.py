"""Who may see and do what with an award: named predicates, the one source for views, admin and exports.

- the PI of the funded proposal: reads the award, files the reports, asks for amendments;
- an accepted co-applicant of the funded proposal (#21): reads the award, its reports and amendments, and its
  letter; only the PI acts on it;
- the unit manager of the managing unit: reads the award, records spending, confirms tranche receipts;
- the institute officer of the proposal's panel: reads the award and reviews its reports;
- directorate staff: everything.
"""

import rules
from django.db.models import Q

from iea.roles import is_directorate
from proposals.models import evaluated_by
from proposals.rules import active_coapplications, is_proposal_reader
from reviews.models import Panel
from reviews.rules import panel_of

from .models import Award


@rules.predicate
def is_award_pi(user, award) -> bool:
    return user.is_authenticated and award is not None and award.proposal.pi_id == user.pk


@rules.predicate
def is_award_coapplicant(user, award) -> bool:
    """An accepted, not revoked co-applicant (either role) of the funded proposal."""
    return award is not None and is_proposal_reader(user, award.proposal)


@rules.predicate
def is_award_unit_manager(user, award) -> bool:
    return user.is_authenticated and award is not None and award.unit.managers.filter(pk=user.pk).exists()


@rules.predicate
def is_award_officer(user, award) -> bool:
    """An officer of the panel that evaluated the proposal (call × evaluating institute)."""
    if not user.is_authenticated or award is None:
        return False
    panel = panel_of(award.proposal)
    return panel is not None and panel.officers.filter(pk=user.pk).exists()


can_view_award = is_award_pi | is_award_coapplicant | is_award_unit_manager | is_award_officer | is_directorate
can_file_reports = is_award_pi
can_manage_spending = is_award_unit_manager
# Nobody reviews the reports of their own award, whatever their role.
can_review_reports = (is_award_officer | is_directorate) & ~is_award_pi


@rules.predicate
def can_edit_report(user, report) -> bool:
    """The award's PI, while the report may be changed (``Report.editable``)."""
    return report is not None and can_file_reports(user, report.award) and report.editable


# Read by the admin, not by the platform's code: Django's view permission of the Award model has this very
# name, and ModelAdmin.has_view_permission asks it without an object, so any directorate member may look at
# the awards in the admin (tests/funding/test_admin.py).
rules.add_perm("funding.view_award", can_view_award)


def _officer_scope(user) -> Q:
    """The awards of the proposals evaluated by the panels ``user`` runs."""
    scope = Q(pk__in=[])
    for call_id, institute_id in Panel.objects.filter(officers=user).values_list("call_id", "institute_id"):
        scope |= Q(proposal__call_id=call_id) & evaluated_by(institute_id, "proposal__")
    return scope


def visible_awards(user, queryset=None):
    """The awards a user may list: the same rule as ``can_view_award``, as a queryset filter."""
    queryset = queryset if queryset is not None else Award.objects.all()
    if not user.is_authenticated:
        return queryset.none()
    if is_directorate(user):
        return queryset
    coapplied = Q(proposal__in=active_coapplications(user).values("proposal"))
    return queryset.filter(Q(proposal__pi=user) | coapplied | Q(unit__managers=user) | _officer_scope(user)).distinct()


def reviews_reports(user) -> bool:
    """Whether ``user`` reviews reports at all (the directorate, the officers of a panel): who may export them;
    which reports, ``reviewable_awards`` says."""
    return user.is_authenticated and (is_directorate(user) or Panel.objects.filter(officers=user).exists())


def reviewable_awards(user, queryset=None):
    """The awards whose reports ``user`` may review: the same rule as ``can_review_reports``."""
    queryset = queryset if queryset is not None else Award.objects.all()
    if not user.is_authenticated:
        return queryset.none()
    scope = Q() if is_directorate(user) else _officer_scope(user)
    return queryset.filter(scope).exclude(proposal__pi=user)
