"""The stored affinities of a panel (``reviews.domain.affinities``): computed from its reviewable proposals and
its institute's active pool, replacing the old rows, audited; requested by an officer and run as a task; marked
stale when what they are computed from changes."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from iea.audit.models import AuditEntry
from proposals.models import Proposal
from reviews.domain.affinities import affinities_compute, affinities_ensure, affinities_request
from reviews.domain.pool import reviewer_add, reviewer_deactivate
from reviews.domain.screening import proposal_screen
from reviews.models import Affinity, Panel, Publication, Reviewer
from reviews.selectors import panel_affinities
from reviews.tasks import compute_affinities
from tests.factories import (
    CallFactory,
    InstituteFactory,
    ProposalFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
OCEAN = {"title": "Ocean acidification and coral reefs", "keywords": "ocean, acidification, coral",
         "abstract": "We study how ocean acidification changes the calcification of corals in Pacific reefs."}
LAW = {"title": "Le droit canonique médiéval", "keywords": "droit, manuscrits",
       "abstract": "Nous éditons les manuscrits du droit canonique écrits au douzième siècle."}


class Setting:
    def __init__(self):
        self.institute = InstituteFactory()
        self.call = CallFactory()
        self.panel = Panel.objects.create(call=self.call, institute=self.institute)
        self.unit = UnitFactory(main_institute=self.institute)
        self.officer = UserFactory(full_name="Olga Officer")
        self.panel.officers.add(self.officer)

    def proposal(self, *, state="eligible", **texts) -> Proposal:
        proposal = ProposalFactory(call=self.call, complete=True, unit=self.unit, **texts)
        Proposal.objects.filter(pk=proposal.pk).update(state=state)
        return proposal

    def reviewer(self, name, *, keywords="", publications=(), active=True) -> Reviewer:
        user = UserFactory(email=f"{name.lower()}@lab.example.org", full_name=f"{name} Reviewer")
        for i, (title, abstract) in enumerate(publications):
            Publication.objects.create(user=user, source="hal_bibtex", key=f"{name}-{i}", title=title,
                                       abstract=abstract, imported_at=NOW)
        return Reviewer.objects.create(user=user, institute=self.institute, keywords=keywords, active=active)


@pytest.fixture
def setting():
    return Setting()


def test_compute_stores_the_matching_pairs_replaces_old_rows_audits_and_marks_the_panel_fresh(setting):
    ocean, law = setting.proposal(**OCEAN), setting.proposal(**LAW)
    setting.proposal(state="submitted", **OCEAN)  # not yet eligible: not compared
    oceanographer = setting.reviewer("Marine", keywords="biogéochimie marine", publications=[
        ("Acidification des océans et coraux", "Mesures de l'acidification des océans sur les récifs coralliens.")])
    historian = setting.reviewer("Hugo", keywords="medieval canon law, manuscripts")
    setting.reviewer("Gone", keywords="ocean acidification", active=False)
    stale_row = Affinity.objects.create(panel=setting.panel, proposal=ocean, reviewer=historian, score=999, terms=["x"])

    result = affinities_compute(panel_id=setting.panel.pk, now=NOW)

    stored = panel_affinities(setting.panel.pk)
    assert set(stored) == {(ocean.pk, oceanographer.pk), (law.pk, historian.pk)}
    assert stored[(ocean.pk, oceanographer.pk)][0] > 100
    assert "acidification" in stored[(ocean.pk, oceanographer.pk)][1]
    assert not Affinity.objects.filter(pk=stale_row.pk).exists()
    assert (result.proposals, result.reviewers, result.stored) == (2, 2, 2)
    setting.panel.refresh_from_db()
    assert (setting.panel.affinity_computed_at, setting.panel.affinity_stale) == (NOW, False)
    entry = AuditEntry.objects.get(action="panel.affinity_compute")
    assert (entry.data["proposals"], entry.data["reviewers"], entry.data["stored"]) == (2, 2, 2)
    assert set(entry.data["seconds"]) == {"read", "compute", "store"}


def test_a_change_while_computing_keeps_the_panel_stale(setting, monkeypatch):
    setting.proposal(**OCEAN)
    setting.reviewer("Marine", keywords="ocean acidification")
    import reviews.domain.affinity as module  # where the computation reads the model from, when it runs

    real_fit = module.affinity_fit

    def fit_while_someone_adds_a_reviewer(proposals, reviewers):
        Panel.objects.filter(pk=setting.panel.pk).update(affinity_stale=True)
        return real_fit(proposals, reviewers)

    monkeypatch.setattr(module, "affinity_fit", fit_while_someone_adds_a_reviewer)
    affinities_compute(panel_id=setting.panel.pk, now=NOW)

    setting.panel.refresh_from_db()
    assert setting.panel.affinity_stale is True
    assert setting.panel.affinity_computed_at == NOW


def test_a_failed_computation_leaves_the_old_rows_and_the_panel_stale(setting, monkeypatch):
    ocean = setting.proposal(**OCEAN)
    reviewer = setting.reviewer("Marine", keywords="ocean acidification")
    Affinity.objects.create(panel=setting.panel, proposal=ocean, reviewer=reviewer, score=10, terms=[])
    import reviews.domain.affinity as module  # where the computation reads the model from, when it runs

    def broken(proposals, reviewers):
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "affinity_fit", broken)
    affinities_request(panel_id=setting.panel.pk, user=setting.officer, now=NOW)
    with pytest.raises(RuntimeError):
        affinities_compute(panel_id=setting.panel.pk, now=NOW)

    setting.panel.refresh_from_db()
    assert setting.panel.affinity_stale is True
    assert setting.panel.affinity_requested_at is None  # not shown under way: the officer may ask again
    assert panel_affinities(setting.panel.pk) == {(ocean.pk, reviewer.pk): (10, [])}


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_the_request_is_audited_and_runs_the_task_once_committed(setting, django_capture_on_commit_callbacks):
    ocean = setting.proposal(**OCEAN)
    marine = setting.reviewer("Marine", keywords="ocean acidification, coral")

    with django_capture_on_commit_callbacks(execute=True):
        affinities_request(panel_id=setting.panel.pk, user=setting.officer, now=NOW)

    assert set(panel_affinities(setting.panel.pk)) == {(ocean.pk, marine.pk)}
    assert AuditEntry.objects.get(action="panel.affinity_request").actor == setting.officer
    setting.panel.refresh_from_db()
    assert setting.panel.affinity_requested_at == NOW
    assert setting.panel.affinity_computed_at is not None


def test_a_second_request_while_one_is_under_way_is_refused_then_allowed_after_it(setting):
    affinities_request(panel_id=setting.panel.pk, user=setting.officer, now=NOW)  # no worker ran it (on_commit)

    with pytest.raises(ValidationError) as refused:
        affinities_request(panel_id=setting.panel.pk, user=setting.officer, now=NOW + dt.timedelta(minutes=1))
    assert "already being computed" in refused.value.messages[0]

    affinities_request(panel_id=setting.panel.pk, user=setting.officer, now=NOW + dt.timedelta(minutes=11))
    assert AuditEntry.objects.filter(action="panel.affinity_request").count() == 2


def test_the_task_computes_and_returns_the_pairs_stored(setting):
    setting.proposal(**OCEAN)
    setting.reviewer("Marine", keywords="ocean acidification")

    assert compute_affinities(setting.panel.pk) == 1
    assert compute_affinities(setting.panel.pk) == 1  # delivered twice: the same rows
    assert Affinity.objects.filter(panel=setting.panel).count() == 1


def test_ensure_computes_only_when_stale_or_never_computed(setting):
    setting.proposal(**OCEAN)
    setting.reviewer("Marine", keywords="ocean acidification")

    assert affinities_ensure(panel_id=setting.panel.pk, now=NOW).stored == 1
    assert affinities_ensure(panel_id=setting.panel.pk, now=NOW) is None
    Panel.objects.filter(pk=setting.panel.pk).update(affinity_stale=True)
    assert affinities_ensure(panel_id=setting.panel.pk, now=NOW) is not None


def _fresh(panel):
    Panel.objects.filter(pk=panel.pk).update(affinity_stale=False)


def _stale(panel) -> bool:
    return Panel.objects.values_list("affinity_stale", flat=True).get(pk=panel.pk)


def test_the_pool_changing_marks_every_panel_of_the_institute_stale_and_no_other(setting):
    other_call_panel = Panel.objects.create(call=CallFactory(), institute=setting.institute)
    other_institute_panel = Panel.objects.create(call=setting.call, institute=InstituteFactory())
    for panel in (setting.panel, other_call_panel, other_institute_panel):
        _fresh(panel)

    UserFactory(email="new@lab.example.org")  # an existing account: no password mail (it needs a request)
    added = reviewer_add(panel_id=setting.panel.pk, user=setting.officer, email="new@lab.example.org",
                         keywords="ocean", now=NOW).reviewer

    assert (_stale(setting.panel), _stale(other_call_panel), _stale(other_institute_panel)) == (True, True, False)
    _fresh(setting.panel)
    reviewer_deactivate(panel_id=setting.panel.pk, reviewer_id=added.pk, user=setting.officer, now=NOW)
    assert _stale(setting.panel) is True


def test_a_proposal_screened_eligible_marks_the_panels_of_its_call_stale(setting):
    staff = StaffFactory()
    proposal = setting.proposal(state="submitted", **OCEAN)
    _fresh(setting.panel)
    after_deadline = NOW + dt.timedelta(days=400)

    proposal_screen(proposal_id=proposal.pk, user=staff, eligible=False, reason="Out of scope", now=after_deadline)
    assert _stale(setting.panel) is False
    Proposal.objects.filter(pk=proposal.pk).update(state="submitted")
    proposal_screen(proposal_id=proposal.pk, user=staff, eligible=True, reason="", now=after_deadline)
    assert _stale(setting.panel) is True



def test_staff_editing_a_reviewers_keywords_or_activity_in_the_admin_marks_the_panels_stale(setting):
    reviewer = setting.reviewer("Marine", keywords="ocean")
    admin = site._registry[Reviewer]
    request = SimpleNamespace(user=StaffFactory())
    _fresh(setting.panel)

    admin.save_model(request, reviewer, SimpleNamespace(changed_data=["institution"]), change=True)
    assert _stale(setting.panel) is False
    reviewer.keywords = "ocean acidification"
    admin.save_model(request, reviewer, SimpleNamespace(changed_data=["keywords"]), change=True)
    assert _stale(setting.panel) is True
