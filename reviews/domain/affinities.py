"""The stored affinities of a panel: computed in the background from its proposals and its institute's pool
(the text model is ``reviews.domain.affinity``), read by the officer's pages and by automatic assignment
(``reviews.selectors.panel_affinities``).

- ``affinities_request``: an officer asks for them; audited; the task is queued once the transaction commits.
  Refused while a request of the panel is under way (less than ``UNDER_WAY_FOR`` old and not computed since).
- ``affinities_compute`` (the task ``reviews.tasks.compute_affinities``): reads, computes, then replaces the
  panel's rows in one transaction; audited with the counts and the seconds.
- ``affinities_invalidate``: what they are computed from changed (a proposal reached the panel, the pool
  changed, a publication was imported): the panel's affinities are marked stale. The officer sees it, and
  automatic assignment computes them again before choosing (``affinities_ensure``).

Race: the panel is marked up to date when the computation *starts*, under the panel's lock; a change
made while it runs marks it stale again and that mark stays — a computation never hides a later change.
"""

import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import partial

from celery import current_app
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from iea import formats
from iea.audit.domain import audit_record
from iea.bulk import insert_all
from iea.errors import DomainError

from ..models import REVIEWABLE_STATES, Affinity, Panel, Publication, Reviewer
from ..rules import panel_proposals

log = logging.getLogger(__name__)

COMPUTE_TASK = "reviews.tasks.compute_affinities"
UNDER_WAY_FOR = dt.timedelta(minutes=10)  # a request older than this with nothing computed has failed


def affinities_invalidate(*, call_id: int | None = None, institute_id: int | None = None) -> None:
    """Mark stale the affinities of the panels of a call, of an institute (its pool serves all its panels),
    or of one call's panel in one institute. Call it inside the change's transaction."""
    panels = Panel.objects.all()
    if call_id is not None:
        panels = panels.filter(call_id=call_id)
    if institute_id is not None:
        panels = panels.filter(institute_id=institute_id)
    panels.filter(affinity_stale=False).update(affinity_stale=True)


def under_way(panel: Panel, now: dt.datetime) -> bool:
    """An officer's request is waiting for or being computed by a worker (not too old to still be)."""
    requested = panel.affinity_requested_at
    return (requested is not None and now - requested < UNDER_WAY_FOR
            and (panel.affinity_computed_at is None or panel.affinity_computed_at < requested))


def affinities_request(*, panel_id: int, user, now: dt.datetime) -> Panel:
    """Ask for the panel's affinities to be computed in the background. The caller has checked that ``user``
    may manage the panel (``reviews.rules.can_manage_panel``). Refused while one is under way."""
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        if under_way(panel, now):
            raise DomainError(_("The affinities of this panel are already being computed (asked at %(when)s): "
                                "their state is shown below.") % {"when": formats.time(panel.affinity_requested_at)},
                              code="under_way")
        panel.affinity_requested_at = now
        panel.save(update_fields=["affinity_requested_at"])
        audit_record(actor=user, target=panel, action="panel.affinity_request", now=now)
        transaction.on_commit(partial(_queue, panel.pk))
    return panel


def _queue(panel_id: int) -> None:
    """After the request commits: hand it to the workers. A broker that cannot be reached withdraws the request
    (the page offers the button again) rather than showing it under way for nobody."""
    try:
        current_app.tasks[COMPUTE_TASK].apply_async((panel_id,))
    except Exception as error:  # noqa: BLE001 -- any failure to publish means no worker will run it
        log.warning("affinities of panel %s: could not be queued (%s: %s)", panel_id, type(error).__name__, error)
        Panel.objects.filter(pk=panel_id).update(affinity_requested_at=None)


@dataclass(frozen=True)
class AffinitiesResult:
    proposals: int
    reviewers: int
    stored: int
    vocabulary: int
    seconds: dict[str, float]


def _documents(panel: Panel):
    # numpy, scipy and scikit-learn load here, in the worker that computes, never in a web worker (they are
    # ~60 MB; tests/iea/test_startup_imports.py).
    from .affinity import proposal_document, reviewer_document  # noqa: PLC0415

    proposals = [proposal_document(id=pk, title=title, abstract=abstract, keywords=keywords)
                 for pk, title, abstract, keywords in
                 panel_proposals(panel, None).filter(state__in=REVIEWABLE_STATES).order_by("pk")
                 .values_list("pk", "title", "abstract", "keywords")]
    pool = list(Reviewer.objects.filter(institute_id=panel.institute_id, active=True).order_by("pk")
                .values_list("pk", "user_id", "keywords"))
    publications = defaultdict(list)
    for user_id, title, abstract, keywords in (Publication.objects.filter(user_id__in=[row[1] for row in pool])
                                               .order_by("pk").values_list("user_id", "title", "abstract", "keywords")):
        publications[user_id].append((title, abstract, keywords))
    reviewers = [reviewer_document(id=pk, keywords=keywords, publications=publications[user_id])
                 for pk, user_id, keywords in pool]
    return proposals, reviewers


def affinities_compute(*, panel_id: int, now: dt.datetime, user=None) -> AffinitiesResult:
    """Compute the affinity of each reviewable proposal of the panel with each active reviewer of its
    institute's pool, and replace the panel's stored ones with them (the best ``TOP_K`` per proposal that match
    at all). The panel is marked up to date at the start (see the module's docstring), and stale again if the
    computation fails (with its request withdrawn, so that the officer may ask again at once)."""
    started = time.perf_counter()
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel_id)
        panel.affinity_stale = False
        panel.save(update_fields=["affinity_stale"])
    try:
        proposals, reviewers = _documents(panel)
        read = time.perf_counter()
        from .affinity import TOP_K, affinity_fit  # noqa: PLC0415 -- see _documents

        model = affinity_fit(proposals, reviewers)
        matches = model.top(top_k=TOP_K)
        computed = time.perf_counter()
        proposal_ids = [document.id for document in proposals]
        with transaction.atomic():
            Panel.objects.select_for_update().filter(pk=panel_id).values_list("pk", flat=True).first()
            Affinity.objects.filter(panel_id=panel_id).delete()
            # A proposal moved to another institute's panel keeps no row of the old one in the way.
            Affinity.objects.filter(proposal_id__in=proposal_ids).delete()
            # COPY on PostgreSQL: 250,000 rows for a panel of 5,000 proposals (iea.bulk).
            insert_all([Affinity(panel_id=panel_id, proposal_id=match.proposal_id, reviewer_id=match.reviewer_id,
                                 score=match.score, terms=match.terms) for match in matches])
            Panel.objects.filter(pk=panel_id).update(affinity_computed_at=now)
            seconds = {"read": read - started, "compute": computed - read, "store": time.perf_counter() - computed}
            result = AffinitiesResult(proposals=len(proposals), reviewers=len(reviewers), stored=len(matches),
                                      vocabulary=len(model.vocabulary),
                                      seconds={name: round(value, 3) for name, value in seconds.items()})
            audit_record(actor=user, target=panel, action="panel.affinity_compute", now=now,
                         data={"proposals": result.proposals, "reviewers": result.reviewers, "stored": result.stored,
                               "vocabulary": result.vocabulary, "seconds": result.seconds})
    except Exception:
        # Not under way any more: the page offers the button again, and the panel reads as out of date.
        Panel.objects.filter(pk=panel_id).update(affinity_stale=True, affinity_requested_at=None)
        raise
    return result


def affinities_ensure(*, panel_id: int, now: dt.datetime) -> AffinitiesResult | None:
    """Compute the panel's affinities now if they are stale or were never computed (automatic assignment calls
    it before choosing, in its own background job). None when they were up to date."""
    panel = Panel.objects.only("affinity_stale", "affinity_computed_at").get(pk=panel_id)
    if panel.affinity_computed_at is not None and not panel.affinity_stale:
        return None
    return affinities_compute(panel_id=panel_id, now=now)


# --- What the pages show ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AffinityView:
    computed_at: dt.datetime | None
    stale: bool  # something they are computed from changed since
    under_way: bool  # an officer's request waits for or is being computed by a worker: the page polls
    requested_at: dt.datetime | None
    pairs: int  # stored pairs
    proposals: int  # proposals with at least one matching reviewer


def affinity_view(*, panel: Panel, now: dt.datetime) -> AffinityView:
    """The panel's affinities as the assignments page shows them. One query (the panel is read by the caller)."""
    counts = Affinity.objects.filter(panel=panel).aggregate(pairs=Count("pk"), proposals=Count("proposal",
                                                                                                distinct=True))
    return AffinityView(computed_at=panel.affinity_computed_at, stale=panel.affinity_stale,
                        under_way=under_way(panel, now), requested_at=panel.affinity_requested_at,
                        pairs=counts["pairs"], proposals=counts["proposals"])
