"""Bids: before assignment, the reviewers of an institute's pool read the titles and abstracts of the panel's
proposals and say, for each, eager / willing / rather not / conflict (issue #20). Automatic assignment reads
the bids (``Assignment.reasons``); the officer sees them per panel and per proposal.

What a bidding reviewer sees of a proposal: its reference, acronym, title, abstract and keywords as last
submitted, and the institute — never the PI, the partner or the teams. domain.md lets a reviewer see only
the proposals assigned to them; bidding opens the titles and abstracts of a whole panel to its whole pool,
so it shows no more than the issue asks for. Conflicts the reviewer cannot see from the topic are the
detection rules' job (``reviews.domain.conflicts``), and the invitation shows the teams later.

A "conflict" bid declares the conflict (``conflict_declare``): it is final, withdraws any open assignment
of the pair, and no later bid changes it.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from iea.audit.domain import audit_record
from proposals.models import Proposal, ProposalVersion, evaluated_by

from ..models import Bid, BidValue, Conflict, Panel, Reviewer
from ..rules import can_manage_panel, panel_proposals
from .assignment import REVIEWABLE_STATES
from .conflicts import conflict_declare, conflicts_detect_many
from .mail import notify_bidding_opened


def biddable_proposals(panel: Panel):
    """The proposals a panel's pool bids on: those of the panel that can still be assigned."""
    return panel_proposals(panel, None).filter(state__in=REVIEWABLE_STATES)


def bidding_reviewer(*, panel: Panel, user) -> Reviewer | None:
    """The user's place in the panel's pool, if they are an active reviewer of its institute (who may bid)."""
    if not user.is_authenticated:
        return None
    return (Reviewer.objects.select_related("user", "unit")
            .filter(user=user, institute_id=panel.institute_id, active=True).first())


def panel_bidding_set(*, panel_id: int, open: bool, user, now: dt.datetime) -> Panel:  # noqa: A002 -- the brief's name
    """The officer opens or closes bidding on the panel. Opening mails the active pool an invitation to bid
    (each person once per panel, in their language). Setting what is already set changes nothing."""
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if not can_manage_panel(user, panel):
            raise ValidationError(_("You do not run this panel."), code="forbidden")
        if panel.bidding_open == open:
            return panel
        panel.bidding_open = open
        panel.save(update_fields=["bidding_open"])
        pool = list(Reviewer.objects.select_related("user").filter(institute_id=panel.institute_id, active=True)
                    .order_by("pk")) if open else []
        audit_record(actor=user, target=panel, action="panel.bidding_open" if open else "panel.bidding_close",
                     now=now, data={"invited": len(pool)} if open else {})
        if pool:
            notify_bidding_opened(panel, pool, now=now)
    return panel


def conflicted_proposal_ids(*, reviewer: Reviewer, proposals: list[Proposal]) -> set[int]:
    """The proposals among these the reviewer is in conflict with: stored conflicts (any source) and what
    the detection rules find, the co-author rule included (``proposals`` with ``unit`` and ``team`` loaded; the
    same few queries whatever their number)."""
    ids = [proposal.pk for proposal in proposals]
    stored = set(Conflict.objects.filter(reviewer=reviewer, proposal_id__in=ids).values_list("proposal_id", flat=True))
    detected = conflicts_detect_many(proposals=[p for p in proposals if p.pk not in stored], reviewers=[reviewer])
    return stored | {proposal_id for proposal_id, _ in detected}


@dataclass(frozen=True)
class BidsSaved:
    counts: dict[str, int] = field(default_factory=dict)  # the bids written, per value
    conflicts: list[int] = field(default_factory=list)  # the proposals newly declared in conflict

    @property
    def written(self) -> int:
        return sum(self.counts.values())


def bids_save(*, panel_id: int, reviewer: Reviewer, bids: dict[int, str], conflict_reasons: dict[int, str], user,
              now: dt.datetime) -> BidsSaved:
    """Record a reviewer's bids on proposals of the panel, all or none, while bidding is open.

    Upserts one bid per (reviewer, proposal) (the database's unique constraint settles two saves racing);
    proposals not in the panel are ignored; a bid that did not change is not written. A "conflict" bid needs
    its reason and declares the conflict (``conflict_declare``), which is final: any later bid on that
    proposal is refused, as is any bid on a proposal the reviewer is already in conflict with (declared,
    set by the officer or detected) other than "conflict", which then changes nothing. Audited with the
    count per value."""
    if reviewer.user_id != user.pk:
        raise ValidationError(_("Only the reviewer can bid for themself."), code="forbidden")
    if unknown := {value for value in bids.values() if value not in BidValue.values}:
        raise ValidationError(_("Unknown choice: %(value)s.") % {"value": sorted(unknown)[0]}, code="value")
    with transaction.atomic():
        # Locked so that closing bidding and a save do not cross: a save either lands before the close or is refused.
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if not Reviewer.objects.filter(pk=reviewer.pk, institute_id=panel.institute_id, active=True).exists():
            raise ValidationError(_("You are not in this institute's reviewer pool."), code="not_in_pool")
        if not panel.bidding_open:
            raise ValidationError(_("Bidding on this panel's proposals is closed: your choices were not saved."),
                                  code="closed")
        proposals = list(biddable_proposals(panel).filter(pk__in=list(bids)).select_related("unit")
                         .prefetch_related("team").order_by("pk"))
        in_panel = {proposal.pk: proposal for proposal in proposals}
        wanted = {pk: value for pk, value in bids.items() if pk in in_panel}
        conflicted = conflicted_proposal_ids(reviewer=reviewer, proposals=proposals)
        existing = {bid.proposal_id: bid for bid in Bid.objects.select_for_update().filter(
            reviewer=reviewer, proposal_id__in=list(wanted))}
        final = conflicted | {pk for pk, bid in existing.items() if bid.value == BidValue.CONFLICT}
        refused = sorted(in_panel[pk].reference for pk, value in wanted.items()
                         if pk in final and value != BidValue.CONFLICT)
        if refused:
            raise ValidationError(_("A conflict of interest is final: %(references)s cannot get another choice.")
                                  % {"references": ", ".join(refused)}, code="conflict_final")
        missing = sorted(in_panel[pk].reference for pk, value in wanted.items() if value == BidValue.CONFLICT
                         and pk not in final and not (conflict_reasons.get(pk) or "").strip())
        if missing:
            raise ValidationError(_("Explain each conflict of interest: %(references)s.")
                                  % {"references": ", ".join(missing)}, code="reason")
        changed = {pk: value for pk, value in wanted.items()
                   if pk not in final and (pk not in existing or existing[pk].value != value)}
        if changed:
            Bid.objects.bulk_create(
                [Bid(panel=panel, reviewer=reviewer, proposal_id=pk, value=value, updated_at=now)
                 for pk, value in sorted(changed.items())],
                update_conflicts=True, unique_fields=["reviewer", "proposal"],
                update_fields=["panel", "value", "updated_at"],
            )
        declared = sorted(pk for pk, value in changed.items() if value == BidValue.CONFLICT)
        for pk in declared:
            conflict_declare(proposal_id=pk, reviewer=reviewer, user=user, reason=conflict_reasons[pk], now=now,
                             bidding=True)
        counts = dict(Counter(changed.values()))
        if changed:
            audit_record(actor=user, target=panel, action="panel.bids_save", now=now,
                         data={"reviewer": reviewer.pk, "counts": counts, "conflicts": declared})
    return BidsSaved(counts=counts, conflicts=declared)


def bidding_open_for(user) -> list[Panel]:
    """The panels whose bidding is open to this user (an active reviewer of their institute), each with
    ``proposal_count`` (the proposals to mark) and ``marked`` (those the user marked). One query."""
    if not user.is_authenticated:
        return []
    proposals = Proposal.objects.filter(call_id=OuterRef("call_id"), state__in=REVIEWABLE_STATES).filter(
        evaluated_by(OuterRef("institute_id")))
    marked = Bid.objects.filter(panel=OuterRef("pk"), reviewer__user=user, proposal__state__in=REVIEWABLE_STATES)
    return list(
        Panel.objects.filter(bidding_open=True, institute__reviewers__user=user, institute__reviewers__active=True)
        .select_related("call", "institute")
        .annotate(proposal_count=_count(proposals), marked=_count(marked))
        .order_by("-call__year", "institute__code")
    )


def _count(queryset):
    return Coalesce(Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1],
                             output_field=IntegerField()), 0)


def bid_counts(panel: Panel) -> dict[str, int]:
    """The panel's bids per value (one query), every value present."""
    counts = dict.fromkeys(BidValue.values, 0)
    for value, n in Bid.objects.filter(panel=panel).order_by().values_list("value").annotate(n=Count("pk")):
        counts[value] = n
    return counts


def proposal_bids(panel: Panel, proposal: Proposal) -> list[Bid]:
    """Who bid what on one proposal, eager first (the panel's proposal page; one query)."""
    order = {value: n for n, value in enumerate(BidValue.values)}
    bids = list(Bid.objects.filter(panel=panel, proposal=proposal).select_related("reviewer__user"))
    return sorted(bids, key=lambda bid: (order.get(bid.value, len(order)), bid.reviewer.user.email))


# A panel may have several hundred proposals: they are read and marked a page at a time.
BIDS_PER_PAGE = 20
SUBMITTED_FIELDS = ("title", "acronym", "abstract", "keywords")


def _submitted(field: str):
    """One field of the proposal's last submitted version: what reviewers read, not the live draft."""
    return Subquery(ProposalVersion.objects.filter(proposal_id=OuterRef("pk")).order_by("-number")
                    .annotate(value=KT(f"content__{field}")).values("value")[:1])


def bids_page(panel: Panel, reviewer: Reviewer, *, query: str, number) -> tuple[Page, list[Proposal]]:
    """One page of the bids page: the panel's proposals as last submitted, filtered by up to five words, each
    with the reviewer's ``bid`` ("" when none) and ``final`` (a conflict, detected or declared: no choice left)."""
    proposals = (
        biddable_proposals(panel)
        .annotate(**{f"submitted_{name}": _submitted(name) for name in SUBMITTED_FIELDS})
        .select_related("unit").prefetch_related("team")
        .defer("abstract", "activities", "ethics_statement")
        .order_by("reference")
    )
    for word in query.split()[:5]:
        proposals = proposals.filter(Q(reference__icontains=word) | Q(submitted_title__icontains=word)
                                     | Q(submitted_acronym__icontains=word) | Q(submitted_abstract__icontains=word)
                                     | Q(submitted_keywords__icontains=word))
    page = Paginator(proposals, BIDS_PER_PAGE).get_page(number)
    rows = list(page.object_list)
    conflicted = conflicted_proposal_ids(reviewer=reviewer, proposals=rows)
    bids = dict(Bid.objects.filter(reviewer=reviewer, proposal_id__in=[p.pk for p in rows])
                .values_list("proposal_id", "value"))
    for row in rows:
        row.bid = bids.get(row.pk, "")
        row.final = row.pk in conflicted or row.bid == BidValue.CONFLICT
    return page, rows


def bids_marked(panel: Panel, reviewer: Reviewer) -> tuple[int, int]:
    """How many of the panel's proposals the reviewer marked, out of how many."""
    total = biddable_proposals(panel).count()
    marked = Bid.objects.filter(reviewer=reviewer, proposal__in=biddable_proposals(panel)).count()
    return marked, total
