"""The benchmark dataset: one call of 5,000 proposals, 9 past calls, 1,000 reviewers, ~15,000 reviews,
600 awards with tranches and reports, and a 5,000-proposal panel with 15,000 more reviews — built in bulk,
deterministically (seeded), in under two minutes.

    .venv/bin/python benchmarks/dataset.py --out var/bench [--scale 1] [--keep]

Run as a script it (re)creates the database ``BENCH_DATABASE_URL`` names (default
``postgres://postgres@127.0.0.1:5432/iea_bench``), migrates it, builds the dataset and writes
``<out>/dataset.json`` and ``<out>/dataset.md``. ``--keep`` reuses a database already built at the same
scale. ``build()`` is also called in-process by the smoke test, on whatever database Django uses.

What is in it (scale 1):
- the current call (this year's, closed, in review): 5,000 proposals, skewed across the 10 institutes
  (the largest, ``LARGEST_INSTITUTE``, evaluates ~25 % of them); 2 assignments per eligible proposal, most
  of the reviews submitted, some conflicts, recommendations ranked by the panels, a few decisions taken;
- 9 past calls, decided: ~370 proposals each, reviewed, decided; 600 selected proposals have their award
  (two tranches — the database's tranche-sum trigger is on —, reports, spending lines);
- a small call (ten years ago, in review) with 10 proposals in one panel: the "10 items" side of every
  page that is per call or per panel;
- the panel call (eleven years ago, in review): one panel of 5,000 proposals (the largest institute's), each
  with 3 submitted reviews (15,000 reviews by the institute's pool), some conflicts, a third recommended and
  ranked, the institute's priorities published: the officer's panel table at the size the issue names (#18),
  run by its own officer (``officer-panel``);
- named subjects for each role at both sizes (``subjects()``): a PI with 2 proposals (one funded) and one
  with a proposal in the current and each past call (all funded), reviewers with 10 and with 400
  assignments, the officers of the small panel (and one past panel) and of every panel of the largest
  institute, unit managers of units holding ~10 awards and of the whole largest institute, staff. Every
  subject has items on both sides: an empty list would skip its prefetch queries and pass for growth.

Every support letter and report file is one small PDF on disk, written once.
"""

import argparse
import datetime as dt
import hashlib
import importlib
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/iea_bench"
SEED = 20270601
BATCH = 2000
EMAIL_DOMAIN = "bench.iea.test"
LARGEST_INSTITUTE = "INSHS"
# How the two benchmark calls are told apart from the real ones (their titles end so).
SMALL_CALL_MARK = "(benchmark: small call)"
PANEL_CALL_MARK = "(benchmark: one large panel)"
# Share of the proposals each institute evaluates (percent): the largest panel is a quarter of the call.
INSTITUTE_WEIGHTS = {"INSHS": 25, "INSB": 14, "INEE": 11, "INP": 10, "INC": 9, "INSIS": 8, "INSU": 7,
                     "INS2I": 6, "INSMI": 5, "IN2P3": 5}
# The small officer's past panel, where the light PI's award is (so that both have reports at any scale).
SMALLEST_INSTITUTE = min(INSTITUTE_WEIGHTS, key=INSTITUTE_WEIGHTS.get)
COUNTRIES = ["DE", "IT", "ES", "US", "CA", "BR", "JP", "IN", "CN", "GB", "CH", "BE", "MA", "SN", "AR", "CL", "AU",
             "KR", "MX", "ZA", "VN", "NO", "SE", "FI", "PL"]
WORDS = ["adaptation", "climate", "ocean", "glacier", "polymer", "catalysis", "genome", "neuron", "cortex", "protein", "lattice", "quantum", "photon", "plasma", "galaxy", "seismic", "sediment", "archive", "heritage", "migration", "language", "urban", "river", "soil", "forest", "algorithm", "graph", "network", "robot", "sensor", "fluid", "turbulence", "alloy", "battery", "hydrogen", "enzyme", "microbiome", "epidemic", "vaccine", "memory", "justice", "economy", "literature", "music", "philosophy", "manuscript"]
STAFF_EMAIL = f"staff@{EMAIL_DOMAIN}"
BENCH_PASSWORD = "bench-password-2027"  # noqa: S105 (the benchmark users, on a throwaway database)


# --- Sizes -----------------------------------------------------------------------------------------------------

PAST_PROPOSALS = 370  # per past call, at scale 1; ``--past-proposals 5000`` for ten years of a full call


def sizes(scale: float, past_proposals: int = PAST_PROPOSALS) -> dict:
    def n(value, minimum=1):
        return max(minimum, round(value * scale))

    return {
        "current_proposals": n(5000, 20),
        "past_calls": 9,
        "past_proposals": n(past_proposals, 12),
        "reviewers": n(1000, 40),
        "awards": n(600, 9),
        "units": n(1000, 20),
        "heavy_reviewer_assignments": n(400, 12),
        "heavy_notifications": n(1000, 12),
        "audit_per_proposal": 2,
        "erasure_requests": n(200, 12),
        "panel_proposals": n(5000, 20),
        "panel_reviews_per_proposal": 3,
    }


# --- The one PDF --------------------------------------------------------------------------------------------

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n167\n%%EOF\n"
)
LETTER_NAME = "bench/letter.pdf"


def write_shared_pdf() -> tuple[str, int, str]:
    from django.conf import settings

    path = Path(settings.MEDIA_ROOT) / LETTER_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != MINIMAL_PDF:
        path.write_bytes(MINIMAL_PDF)
    return LETTER_NAME, len(MINIMAL_PDF), hashlib.sha256(MINIMAL_PDF).hexdigest()


# --- Helpers -------------------------------------------------------------------------------------------------

def bulk(model, objects, batch_size=BATCH):
    """bulk_create in batches; returns the saved objects with their primary keys."""
    objects = list(objects)
    done = []
    for start in range(0, len(objects), batch_size):
        done.extend(model.objects.bulk_create(objects[start:start + batch_size]))
    return done


def weighted_codes(rng: random.Random, count: int, *, at_least: int = 0) -> list[str]:
    """``count`` institute codes in the proportions of INSTITUTE_WEIGHTS, exactly (largest remainder), shuffled;
    each institute ``at_least`` times."""
    floor = [code for code in INSTITUTE_WEIGHTS for _ in range(at_least)]
    count -= len(floor)
    total = sum(INSTITUTE_WEIGHTS.values())
    shares = {code: count * weight / total for code, weight in INSTITUTE_WEIGHTS.items()}
    counts = {code: int(share) for code, share in shares.items()}
    for code in sorted(shares, key=lambda c: shares[c] - counts[c], reverse=True)[: count - sum(counts.values())]:
        counts[code] += 1
    codes = floor + [code for code, k in counts.items() for _ in range(k)]
    rng.shuffle(codes)
    return codes


def words(rng: random.Random, k: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(k))


def reference_data():
    """The 10 institutes and 17 delegations (the data migration's lists; test databases have no migrations)."""
    from calls.models import Delegation, Institute

    data = importlib.import_module("calls.migrations.0002_reference_data")
    for code, legal_name, usage_name in data.INSTITUTES:
        Institute.objects.get_or_create(code=code, defaults={"legal_name": legal_name, "usage_name": usage_name})
    for code, name in data.DELEGATIONS:
        Delegation.objects.get_or_create(code=code, defaults={"name": name})
    return {i.code: i for i in Institute.objects.all()}, list(Delegation.objects.order_by("code"))


def call_year(now: dt.datetime) -> int:
    """This year's call if it has closed (end of September), else last year's."""
    return now.year if now.month >= 10 else now.year - 1


# --- The builder ---------------------------------------------------------------------------------------------

class Builder:
    def __init__(self, *, scale: float, now: dt.datetime, log=print, past_proposals: int = PAST_PROPOSALS):
        self.scale = scale
        self.size = sizes(scale, past_proposals)
        self.now = now
        self.rng = random.Random(SEED)  # noqa: S311 (reproducible data, not secrets)
        self.log = log
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self._ref = 0

    def step(self, name, fn, *args):
        started = time.perf_counter()
        result = fn(*args)
        self.timings[name] = round(time.perf_counter() - started, 2)
        self.log(f"  {name}: {self.timings[name]:.1f} s")
        return result

    def count(self, key, n):
        self.counts[key] = self.counts.get(key, 0) + n

    # -- users
    def users(self, prefix: str, n: int, **fields):
        from django.contrib.auth import get_user_model

        User = get_user_model()
        made = bulk(User, (
            User(email=f"{prefix}{i:05d}@{EMAIL_DOMAIN}", full_name=f"{prefix.title()} {i:05d}",
                 password=self.password, language="fr" if i % 3 else "en", date_joined=self.now, **fields)
            for i in range(n)
        ))
        self.count("users", n)
        return made

    def user(self, email, **fields):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create(email=email, full_name=email.split("@")[0], password=self.password,
                                               date_joined=self.now, **fields)
        self.count("users", 1)
        return user

    def build(self) -> dict:
        from django.contrib.auth.hashers import make_password
        from django.db import transaction

        self.password = make_password(BENCH_PASSWORD)
        started = time.perf_counter()
        with transaction.atomic():
            self.step("reference data, units, calls", self.make_reference)
            self.step("people (PIs, reviewers, officers, managers, staff)", self.make_people)
            self.step("proposals, teams, budgets, letters, versions", self.make_proposals)
            self.step("assignments, reviews, scores, conflicts", self.make_reviews)
            self.step("recommendations and decisions", self.make_decisions)
            self.step("awards, tranches, reports, spending", self.make_awards)
            self.step("notifications, audit, erasure requests", self.make_side_tables)
            self.step("the panel call: one panel, its proposals and reviews", self.make_large_panel)
        self.step("analyze", self.analyze)
        # After ANALYZE: PostgreSQL plans the figures' query on the tables' real sizes.
        self.step("the panel tables' figures", self.make_panel_figures)
        self.timings["total"] = round(time.perf_counter() - started, 2)
        return {"scale": self.scale, "sizes": self.size, "counts": self.counts, "timings": self.timings}

    # -- reference data, units and calls
    def make_reference(self):
        from calls.domain import criteria_seed
        from calls.models import Call, CallState, Unit, UnitType

        self.institutes, delegations = reference_data()
        rng = self.rng
        unit_types = [UnitType.UMR] * 6 + [UnitType.UPR, UnitType.UAR, UnitType.IRL]
        units = []
        for i, code in enumerate(weighted_codes(rng, self.size["units"], at_least=1)):
            units.append(Unit(unit_type=unit_types[i % len(unit_types)], number=f"{9000 - i if i < 9000 else i:04d}",
                              acronym=f"B{i:04d}", name=f"Laboratoire {words(rng, 2)} {i}",
                              delegation=delegations[i % len(delegations)], main_institute=self.institutes[code],
                              city=rng.choice(["Paris", "Lyon", "Grenoble", "Marseille", "Toulouse", "Lille"])))
        self.units = bulk(Unit, units)
        self.count("units", len(self.units))
        self.units_by_institute = {}
        for unit in self.units:
            self.units_by_institute.setdefault(unit.main_institute_id, []).append(unit)

        year = call_year(self.now)
        paris = dt.timezone(dt.timedelta(hours=2))

        def window(y):
            return dt.datetime(y, 6, 1, tzinfo=paris), dt.datetime(y, 9, 28, 13, 0, tzinfo=paris)

        calls = []
        for y, state in [(year, CallState.IN_REVIEW)] + [
            (year - k, CallState.ARCHIVED if k > 3 else CallState.DECIDED) for k in range(1, 1 + self.size["past_calls"])
        ] + [(year - 1 - self.size["past_calls"], CallState.IN_REVIEW)]:
            opens, closes = window(y)
            calls.append(Call(year=y, title_fr=f"IEA {y}", title_en=f"IEA {y}", summary_fr=words(rng, 30),
                              summary_en=words(rng, 30), rules_fr=words(rng, 60), rules_en=words(rng, 60), state=state,
                              opens_at=opens, closes_at=closes, total_envelope=Decimal(2_000_000),
                              figures_public=True))  # the public figures page is measured too
        calls = bulk(Call, calls)
        for call in calls:
            criteria_seed(call)
        self.current, self.past, self.small_call = calls[0], calls[1:-1], calls[-1]
        self.small_call.title_en = self.small_call.title_fr = f"IEA {self.small_call.year} {SMALL_CALL_MARK}"
        self.small_call.save(update_fields=["title_en", "title_fr"])
        self.criteria = {c.pk: list(c.criteria.order_by("position")) for c in calls}
        self.count("calls", len(calls))

    # -- people
    def make_people(self):
        from calls.models import Institute
        from reviews.models import Panel, Reviewer

        rng, size = self.rng, self.size
        n_pis = size["current_proposals"] + size["past_calls"] * size["past_proposals"] // 2
        self.pis = self.users("pi", n_pis)
        self.staff = self.user(STAFF_EMAIL, is_staff=True, is_superuser=True)
        self.pi_small = self.user(f"pi-small@{EMAIL_DOMAIN}")
        self.pi_large = self.user(f"pi-large@{EMAIL_DOMAIN}")
        self.officer_small = self.user(f"officer-small@{EMAIL_DOMAIN}")
        self.officer_large = self.user(f"officer-large@{EMAIL_DOMAIN}")
        self.manager_small = self.user(f"manager-small@{EMAIL_DOMAIN}")
        self.manager_large = self.user(f"manager-large@{EMAIL_DOMAIN}")
        reviewer_users = self.users("reviewer", size["reviewers"])
        self.reviewer_small_user = self.user(f"reviewer-small@{EMAIL_DOMAIN}")
        self.reviewer_large_user = self.user(f"reviewer-large@{EMAIL_DOMAIN}")

        reviewers = []
        for user, code in zip(reviewer_users, weighted_codes(rng, len(reviewer_users), at_least=3), strict=True):
            institute = self.institutes[code]
            cnrs = rng.random() < 0.6
            reviewers.append(Reviewer(
                user=user, institute=institute, unit=rng.choice(self.units_by_institute[institute.pk]) if cnrs else None,
                institution="" if cnrs else f"University of {words(rng, 1).title()}", keywords=", ".join(rng.sample(WORDS, 4)),
                sections=f"{rng.randint(1, 41)}", external=not cnrs,
            ))
        largest = self.institutes[LARGEST_INSTITUTE]
        reviewers.append(Reviewer(user=self.reviewer_small_user, institute=largest, institution="Bench University",
                                  keywords="archive, heritage", external=True))
        reviewers.append(Reviewer(user=self.reviewer_large_user, institute=largest, institution="Bench University",
                                  keywords="archive, heritage", external=True))
        self.reviewers = bulk(Reviewer, reviewers)
        self.reviewer_small, self.reviewer_large = self.reviewers[-2], self.reviewers[-1]
        self.pool = {}
        for reviewer in self.reviewers[:-2]:
            self.pool.setdefault(reviewer.institute_id, []).append(reviewer)
        self.count("reviewers", len(self.reviewers))

        panels = [Panel(call=call, institute=institute, review_due_at=call.closes_at + dt.timedelta(days=75))
                  for call in [self.current, *self.past] for institute in self.institutes.values()]
        panels.append(Panel(call=self.small_call, institute=largest,
                            review_due_at=self.small_call.closes_at + dt.timedelta(days=75)))
        panels = bulk(Panel, panels)
        self.panels = {(p.call_id, p.institute_id): p for p in panels}
        self.count("panels", len(panels))
        # The largest institute's officer runs all its panels (as an institute officer); the small officer
        # runs the small call's panel only. Other institutes get an officer each.
        through = Panel.officers.through
        officers = [through(panel_id=p.pk, user_id=self.officer_large.pk) for p in panels
                    if p.institute_id == largest.pk and p.call_id != self.small_call.pk]
        officers.append(through(panel_id=self.panels[(self.small_call.pk, largest.pk)].pk, user_id=self.officer_small.pk))
        # …and one past panel of the smallest institute, so that they have a few reports to review too.
        smallest = self.institutes[SMALLEST_INSTITUTE]
        officers.append(through(panel_id=self.panels[(self.past[-1].pk, smallest.pk)].pk, user_id=self.officer_small.pk))
        largest.officers.add(self.officer_large)
        others = self.users("officer", len(self.institutes) - 1)
        by_institute = dict(zip([i.pk for i in self.institutes.values() if i.code != LARGEST_INSTITUTE], others,
                                strict=True))
        for institute_id, user in by_institute.items():
            Institute.officers.through.objects.create(institute_id=institute_id, user_id=user.pk)
        officers += [through(panel_id=p.pk, user_id=by_institute[p.institute_id].pk) for p in panels
                     if p.institute_id in by_institute]
        bulk(through, officers)

    # -- proposals
    def new_reference(self, call) -> str:
        self._ref += 1
        return f"IEA{call.year % 100:02d}-B{self._ref:06d}"

    def make_proposals(self):
        from proposals.models import (
            BudgetCategory,
            BudgetLine,
            Proposal,
            ProposalState,
            ProposalVersion,
            SupportLetter,
            TeamMember,
            TeamSide,
        )

        rng, size = self.rng, self.size
        letter_name, letter_size, letter_sha = write_shared_pdf()
        plan = []  # (call, pi, institute code, state)
        current_states = ([ProposalState.DRAFT] * 4 + [ProposalState.WITHDRAWN] * 2 + [ProposalState.INELIGIBLE] * 3
                          + [ProposalState.IN_REVIEW] * 61 + [ProposalState.RANKED] * 30)
        pis = iter(self.pis)
        for code in weighted_codes(rng, size["current_proposals"]):
            plan.append((self.current, next(pis), code, rng.choice(current_states)))
        repeat = self.pis[: size["current_proposals"]]
        for k, call in enumerate(self.past):
            for j, code in enumerate(weighted_codes(rng, size["past_proposals"])):
                pi = next(pis, None) if j % 2 else None
                plan.append((call, pi or repeat[(k * 131 + j) % len(repeat)], code, ProposalState.REJECTED))
        for code in [LARGEST_INSTITUTE] * 10:
            plan.append((self.small_call, rng.choice(self.pis), code, ProposalState.IN_REVIEW))
        # The heavy PI: one proposal in the current call and in each past call (all funded); the light PI: one in
        # the current call and one funded in a past call.
        for call in [self.current, *self.past]:
            plan.append((call, self.pi_large, LARGEST_INSTITUTE,
                         ProposalState.IN_REVIEW if call is self.current else ProposalState.REJECTED))
        plan.append((self.current, self.pi_small, LARGEST_INSTITUTE, ProposalState.IN_REVIEW))
        plan.append((self.past[-1], self.pi_small, SMALLEST_INSTITUTE, ProposalState.REJECTED))

        proposals = []
        for call, pi, code, state in plan:
            institute = self.institutes[code]
            unit = rng.choice(self.units_by_institute[institute.pk])
            created = call.opens_at + dt.timedelta(days=rng.randint(0, 100))
            # Most submissions arrive in the last 48 hours.
            submitted = None if state == ProposalState.DRAFT else call.closes_at - dt.timedelta(
                minutes=rng.randint(1, 48 * 60) if rng.random() < 0.8 else rng.randint(48 * 60, 100 * 24 * 60))
            acronym = f"{rng.choice(WORDS)[:6].upper()}{self._ref % 1000}"
            proposals.append(Proposal(
                call=call, pi=pi, reference=self.new_reference(call), state=state, title=words(rng, 8).capitalize(),
                acronym=acronym, abstract=words(rng, 120), keywords=", ".join(rng.sample(WORDS, 4)), unit=unit,
                evaluating_institute=institute if rng.random() < 0.05 else None,
                partner_name=f"Partner {self._ref}", partner_email=f"partner{self._ref}@partner.example.org",
                partner_institution=f"University of {words(rng, 1).title()}", partner_country=rng.choice(COUNTRIES),
                activities=words(rng, 60), ethics_statement=words(rng, 20), created_at=created,
                updated_at=submitted or created, submitted_at=submitted,
            ))
        self.proposals = bulk(Proposal, proposals)
        self.count("proposals", len(self.proposals))

        team, budget, letters = [], [], []
        for proposal in self.proposals:
            for side, k in ((TeamSide.CNRS, 2), (TeamSide.PARTNER, 1)):
                for m in range(k):
                    team.append(TeamMember(proposal=proposal, side=side, name=f"Member {proposal.pk}-{side}-{m}",
                                           email=f"m{proposal.pk}{side}{m}@team.example.org", position="researcher",
                                           institution="", early_career=m == 1))
            for year in (1, 2):
                for category, amount in ((BudgetCategory.MOBILITY, 3000), (BudgetCategory.MEETINGS, 2000),
                                         (BudgetCategory.FIELD, 1000), (BudgetCategory.OTHER, 500)):
                    budget.append(BudgetLine(proposal=proposal, year=year, category=category, amount=Decimal(amount)))
            letters.append(SupportLetter(
                proposal=proposal, file=letter_name, original_name="support-letter.pdf", size=letter_size,
                sha256=letter_sha, pages=1, cofunding=proposal.pk % 4 == 0,
                cofunding_amount=Decimal(5000) if proposal.pk % 4 == 0 else None,
                cofunding_currency="EUR" if proposal.pk % 4 == 0 else "", uploaded_at=proposal.created_at,
                uploaded_by=None if proposal.pk % 5 == 0 else proposal.pi, uploaded_by_partner=proposal.pk % 5 == 0,
            ))
        bulk(TeamMember, team, 5000)
        bulk(BudgetLine, budget, 5000)
        letters = bulk(SupportLetter, letters)
        self.count("team members", len(team))
        self.count("budget lines", len(budget))
        self.count("support letters", len(letters))
        versions = []
        for proposal, letter in zip(self.proposals, letters, strict=True):
            if proposal.submitted_at is None:
                continue
            content = {"reference": proposal.reference, "call": proposal.call.year, "title": proposal.title,
                       "acronym": proposal.acronym, "abstract": proposal.abstract, "keywords": proposal.keywords,
                       "unit": proposal.unit.code, "unit_name": proposal.unit.name,
                       "partner": {"name": proposal.partner_name, "email": proposal.partner_email,
                                   "institution": proposal.partner_institution,
                                   "country": str(proposal.partner_country)},
                       "team": [], "activities": proposal.activities, "ethics_statement": proposal.ethics_statement,
                       "budget": [], "budget_total": "13000.00",
                       "letter": {"name": letter.original_name, "sha256": letter.sha256, "size": letter.size,
                                  "cofunding": letter.cofunding, "cofunding_amount": None, "cofunding_currency": ""}}
            digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
            versions.append(ProposalVersion(proposal=proposal, number=1, submitted_at=proposal.submitted_at,
                                            submitted_by=proposal.pi, content=content, content_sha256=digest,
                                            letter=letter))
        bulk(ProposalVersion, versions)
        self.count("versions", len(versions))

    # -- peer review
    def institute_of(self, proposal):
        return proposal.evaluating_institute_id or proposal.unit.main_institute_id

    def make_reviews(self):
        from proposals.models import ProposalState
        from reviews.models import (
            Assignment,
            AssignmentState,
            Conflict,
            ConflictSource,
            Recommendation,
            Review,
            ReviewState,
            Score,
        )

        rng = self.rng
        reviewed = [ProposalState.IN_REVIEW, ProposalState.RANKED, ProposalState.REJECTED]
        largest = self.institutes[LARGEST_INSTITUTE]
        heavy_left = self.size["heavy_reviewer_assignments"]
        small_left = 10
        assignments, meta, conflicts = [], [], []
        for proposal in self.proposals:
            if proposal.state not in reviewed:
                continue
            institute_id = self.institute_of(proposal)
            panel = self.panels[(proposal.call_id, institute_id)]
            chosen = rng.sample(self.pool[institute_id], 2)
            if proposal.call_id == self.small_call.pk and small_left:
                chosen[0] = self.reviewer_small
                small_left -= 1
            elif institute_id == largest.pk and heavy_left and proposal.call_id == self.current.pk:
                chosen[0] = self.reviewer_large
                heavy_left -= 1
            in_current = proposal.call_id in (self.current.pk, self.small_call.pk)
            due = panel.review_due_at
            for reviewer in chosen:
                roll = rng.random()
                if not in_current or roll < 0.80:
                    state, review_state = AssignmentState.ACCEPTED, ReviewState.SUBMITTED
                elif roll < 0.90:
                    state, review_state = AssignmentState.ACCEPTED, ReviewState.DRAFT
                elif roll < 0.97:
                    state, review_state = AssignmentState.INVITED, None
                else:
                    state, review_state = AssignmentState.DECLINED, None
                assignments.append(Assignment(
                    panel=panel, proposal=proposal, reviewer=reviewer, state=state, due_at=due,
                    decline_reason="Too busy" if state == AssignmentState.DECLINED else "",
                    created_at=proposal.call.closes_at + dt.timedelta(days=20), created_by=self.staff,
                    responded_at=None if state == AssignmentState.INVITED else proposal.call.closes_at + dt.timedelta(days=22),
                    automatic=True,
                ))
                meta.append(review_state)
            if in_current and (rng.random() < 0.03 or not conflicts):
                other = rng.choice(self.pool[institute_id])
                if other not in chosen:
                    conflicts.append(Conflict(proposal=proposal, reviewer=other, source=ConflictSource.DETECTED,
                                              cause="same_unit", detail="", created_at=proposal.call.closes_at))
        assignments = bulk(Assignment, assignments, 5000)
        bulk(Conflict, conflicts)
        self.count("assignments", len(assignments))
        self.count("conflicts", len(conflicts))
        reviews = []
        for assignment, review_state in zip(assignments, meta, strict=True):
            if review_state is None:
                continue
            submitted = assignment.due_at - dt.timedelta(days=rng.randint(0, 20))
            reviews.append(Review(
                assignment=assignment, proposal=assignment.proposal, reviewer=assignment.reviewer, state=review_state,
                comment_for_pi=words(rng, 40), confidential_comment=words(rng, 15),
                recommendation=rng.choice(Recommendation.values), created_at=assignment.created_at,
                updated_at=submitted, submitted_at=submitted if review_state == ReviewState.SUBMITTED else None,
            ))
        reviews = bulk(Review, reviews, 5000)
        self.count("reviews", len(reviews))
        scores = []
        steps = [Decimal(x) / 2 for x in range(11)]
        for review in reviews:
            for criterion in self.criteria[review.proposal.call_id]:
                scores.append(Score(review=review, criterion=criterion, score=rng.choice(steps[4:]),
                                    max_score=criterion.scale_max, comment=words(rng, 8)))
        bulk(Score, scores, 10000)
        self.count("scores", len(scores))

    # -- recommendations and decisions
    def make_decisions(self):
        from proposals.models import ProposalState
        from reviews.models import Decision, DecisionOutcome, PanelRecommendation, Recommendation

        rng, size = self.rng, self.size
        recommendations, decisions = [], []
        ranks: dict[int, int] = {}
        awarded = []
        for proposal in self.proposals:
            panel = self.panels.get((proposal.call_id, self.institute_of(proposal)))
            if proposal.state == ProposalState.RANKED or (proposal.call in self.past and proposal.state == ProposalState.REJECTED):
                ranks[panel.pk] = ranks.get(panel.pk, 0) + 1
                recommendation = rng.choice([Recommendation.FUND, Recommendation.RESERVE, Recommendation.REJECT])
                recommendations.append(PanelRecommendation(
                    proposal=proposal, panel=panel, consensus=words(rng, 50), rank=ranks[panel.pk],
                    recommendation=recommendation,
                    proposed_amount=Decimal(12000) if recommendation == Recommendation.FUND else None,
                    updated_at=proposal.call.closes_at + dt.timedelta(days=80), updated_by=self.officer_large,
                ))
        bulk(PanelRecommendation, recommendations)
        self.count("panel recommendations", len(recommendations))

        # Past calls: the selected proposals become the awards (spread over the calls), the rest rejected or
        # reserve. Current call: a few ranked proposals already decided, not yet mailed.
        past = [p for p in self.proposals if p.call in self.past]
        per_call: dict[int, list] = {}
        for p in past:
            per_call.setdefault(p.call_id, []).append(p)
        n_awards = size["awards"]
        quota = {call.pk: n_awards // len(self.past) + (1 if i < n_awards % len(self.past) else 0)
                 for i, call in enumerate(self.past)}
        changed = []
        for call_id, props in per_call.items():
            selected = set(rng.sample(range(len(props)), min(quota[call_id], len(props))))
            # The subjects' proposals are funded: each PI subject has awards, tranches and reports to list.
            forced = {i for i, p in enumerate(props) if p.pi_id in (self.pi_large.pk, self.pi_small.pk)}
            for i in sorted(forced - selected):
                if selected - forced:
                    selected.discard(min(selected - forced))
                selected.add(i)
            for i, proposal in enumerate(props):
                call = proposal.call
                outcome = DecisionOutcome.SELECTED if i in selected else rng.choice(
                    [DecisionOutcome.REJECTED, DecisionOutcome.REJECTED, DecisionOutcome.RESERVE])
                decided = call.closes_at + dt.timedelta(days=100)
                decisions.append(Decision(
                    proposal=proposal, outcome=outcome, amount=Decimal(rng.choice([10000, 12000, 14000]))
                    if outcome == DecisionOutcome.SELECTED else None, decided_at=decided, decided_by=self.staff,
                    notified_at=decided + dt.timedelta(days=2)))
                proposal.state = {DecisionOutcome.SELECTED: ProposalState.FUNDED,
                                  DecisionOutcome.RESERVE: ProposalState.RESERVE}.get(outcome, ProposalState.REJECTED)
                if outcome == DecisionOutcome.SELECTED:
                    awarded.append((proposal, decisions[-1]))
                changed.append(proposal)
        for proposal in self.proposals:
            if proposal.call_id == self.current.pk and proposal.state == ProposalState.RANKED and rng.random() < 0.15:
                outcome = rng.choice(DecisionOutcome.values)
                decisions.append(Decision(
                    proposal=proposal, outcome=outcome,
                    amount=Decimal(12000) if outcome != DecisionOutcome.REJECTED else None,
                    decided_at=self.now - dt.timedelta(days=1), decided_by=self.staff))
                proposal.state = {DecisionOutcome.SELECTED: ProposalState.SELECTED,
                                  DecisionOutcome.RESERVE: ProposalState.RESERVE}.get(outcome, ProposalState.REJECTED)
                changed.append(proposal)
        bulk(Decision, decisions)
        from proposals.models import Proposal

        Proposal.objects.bulk_update(changed, ["state"], batch_size=BATCH)
        self.count("decisions", len(decisions))
        self.awarded = awarded

    # -- funding
    def make_awards(self):
        from funding.models import (
            Award,
            AwardState,
            Report,
            ReportPeriod,
            ReportSpending,
            ReportState,
            SpendingLine,
            Tranche,
            TrancheState,
        )
        from proposals.models import BudgetCategory

        rng = self.rng
        awards = []
        for proposal, decision in self.awarded:
            start = dt.date(proposal.call.year + 1, 1, 1)
            end = dt.date(start.year + 2, 1, 1) - dt.timedelta(days=1)
            state = AwardState.CLOSED if end < self.now.date() else AwardState.ACTIVE
            awards.append(Award(proposal=proposal, unit=proposal.unit, amount=decision.amount, start_date=start,
                                end_date=end, state=state, created_at=decision.notified_at,
                                closed_at=dt.datetime.combine(end, dt.time(12), dt.UTC) if state == AwardState.CLOSED else None))
        awards = bulk(Award, awards)
        self.count("awards", len(awards))
        tranches, reports, spending = [], [], []
        today = self.now.date()
        for award in awards:
            half = (award.amount / 2).quantize(Decimal("0.01"))
            year2 = dt.date(award.start_date.year + 1, 1, 1)
            t2_released = year2 <= today and rng.random() < 0.9
            tranches.append(Tranche(award=award, number=1, planned_date=award.start_date, amount=half,
                                    state=TrancheState.RELEASED, decided_at=award.created_at, decided_by=self.staff,
                                    received_at=award.created_at + dt.timedelta(days=10), received_by=self.staff))
            tranches.append(Tranche(award=award, number=2, planned_date=year2, amount=award.amount - half,
                                    state=TrancheState.RELEASED if t2_released else TrancheState.PLANNED,
                                    decided_at=dt.datetime.combine(year2, dt.time(9), dt.UTC) if t2_released else None,
                                    decided_by=self.staff if t2_released else None))
            for period, due in ((ReportPeriod.YEAR_1, year2), (ReportPeriod.FINAL, award.end_date)):
                if due - dt.timedelta(days=60) > today:
                    continue
                done = due < today
                state = ReportState.APPROVED if done and rng.random() < 0.9 else rng.choice(
                    [ReportState.DRAFT, ReportState.SUBMITTED, ReportState.COSIGNED])
                at = dt.datetime.combine(min(due, today), dt.time(10), dt.UTC)
                reports.append(Report(
                    award=award, period=period, state=state, scientific_review=words(rng, 80),
                    scientific_pdf=LETTER_NAME if rng.random() < 0.3 else "", cofunding_received=Decimal(1000),
                    cofunding_currency="EUR", updated_at=at, submitted_at=at if state != ReportState.DRAFT else None,
                    cosigned_at=at if state in (ReportState.COSIGNED, ReportState.APPROVED) else None,
                    cosigned_by=award.proposal.partner_name if state in (ReportState.COSIGNED, ReportState.APPROVED) else "",
                    reviewed_at=at if state == ReportState.APPROVED else None,
                    reviewed_by=self.staff if state == ReportState.APPROVED else None,
                ))
            for k in range(rng.randint(2, 6)):
                spending.append(SpendingLine(
                    award=award, date=award.start_date + dt.timedelta(days=30 * k + 5),
                    category=rng.choice(BudgetCategory.values), amount=Decimal(rng.randint(200, 1500)),
                    description=f"Mission {k}", recorded_at=award.created_at, recorded_by=self.staff))
        bulk(Tranche, tranches)  # one row at a time through the tranche-sum trigger, in bulk statements
        reports = bulk(Report, reports)
        for report in reports:
            for category in BudgetCategory.values:
                spending_amount = Decimal(rng.randint(0, 2000))
                spending.append(ReportSpending(report=report, category=category, amount=spending_amount))
        bulk(ReportSpending, [s for s in spending if isinstance(s, ReportSpending)])
        bulk(SpendingLine, [s for s in spending if isinstance(s, SpendingLine)])
        self.count("tranches", len(tranches))
        self.count("reports", len(reports))
        self.count("spending lines", sum(isinstance(s, SpendingLine) for s in spending))

        # Unit managers: the light one manages units until they hold 10 awards (or all of the light institute);
        # the heavy one manages every unit of the largest institute.
        largest = self.institutes[LARGEST_INSTITUTE]
        by_unit: dict[int, int] = {}
        for award in awards:
            by_unit[award.unit_id] = by_unit.get(award.unit_id, 0) + 1
        held = 0
        for unit in sorted(self.units, key=lambda u: u.pk):
            if held >= 10:
                break
            if by_unit.get(unit.pk) and unit.main_institute_id != largest.pk:
                unit.managers.add(self.manager_small)
                held += by_unit[unit.pk]
        through = type(self.units[0]).managers.through
        bulk(through, [through(unit_id=u.pk, user_id=self.manager_large.pk)
                       for u in self.units_by_institute[largest.pk]])

    # -- notifications, audit, erasure requests
    def make_side_tables(self):
        from django.contrib.contenttypes.models import ContentType

        from iea.audit.models import AuditEntry
        from iea.notifications.models import Notification, NotificationState
        from iea.site.privacy.models import ErasureRequest, ErasureState
        from proposals.models import Proposal

        rng, size = self.rng, self.size
        proposal_type = ContentType.objects.get_for_model(Proposal)
        notifications, audit = [], []
        for proposal in self.proposals:
            if proposal.submitted_at is None:
                continue
            notifications.append(Notification(
                kind="proposals.receipt", content_type=proposal_type, object_id=proposal.pk,
                occurrence=proposal.submitted_at.isoformat(), recipient=proposal.pi, email=proposal.pi.email,
                language=proposal.pi.language, due_at=proposal.submitted_at, state=NotificationState.SENT,
                created_at=proposal.submitted_at, sent_at=proposal.submitted_at,
                subject=f"Receipt {proposal.reference}", body=words(rng, 40)))
            audit.append(AuditEntry(created_at=proposal.submitted_at, actor=proposal.pi, action="proposal.submit",
                                    content_type=proposal_type, object_id=str(proposal.pk), from_state="draft",
                                    to_state="submitted", data={"version": 1}))
            audit.append(AuditEntry(created_at=proposal.call.closes_at + dt.timedelta(days=10), actor=self.staff,
                                    action="proposal.screen", content_type=proposal_type, object_id=str(proposal.pk),
                                    from_state="submitted", to_state="eligible"))
        heavy = [p for p in self.proposals if p.pi_id == self.pi_large.pk]
        for k in range(size["heavy_notifications"]):
            proposal = heavy[k % len(heavy)]
            at = self.now - dt.timedelta(hours=k)
            notifications.append(Notification(
                kind="proposals.draft_reminder", content_type=proposal_type, object_id=proposal.pk,
                occurrence=f"bench-{k}", recipient=self.pi_large, email=self.pi_large.email, language="en",
                due_at=at, state=NotificationState.SENT, created_at=at, sent_at=at,
                subject=f"Reminder {k}", body="..."))
        small = [p for p in self.proposals if p.pi_id == self.pi_small.pk]
        for k in range(9):
            at = self.now - dt.timedelta(hours=k)
            notifications.append(Notification(
                kind="proposals.draft_reminder", content_type=proposal_type, object_id=small[0].pk,
                occurrence=f"bench-{k}", recipient=self.pi_small, email=self.pi_small.email, language="en",
                due_at=at, state=NotificationState.SENT, created_at=at, sent_at=at, subject=f"Reminder {k}", body="..."))
        bulk(Notification, notifications, 5000)
        bulk(AuditEntry, audit, 5000)
        self.count("notifications", len(notifications))
        self.count("audit entries", len(audit))
        requests = [ErasureRequest(user=self.pis[i], state=rng.choice(list(ErasureState.values)), reason="bench",
                                   requested_at=self.now - dt.timedelta(days=i),
                                   processed_at=None, blockers=[]) for i in range(size["erasure_requests"])]
        for request in requests:
            if request.state != ErasureState.PENDING:
                request.processed_at = request.requested_at + dt.timedelta(days=1)
                request.processed_by = self.staff
        bulk(ErasureRequest, requests)
        self.count("erasure requests", len(requests))

    # -- the panel call: one panel of 5,000 proposals with 3 submitted reviews each
    def make_large_panel(self):
        """A call of its own, all in the largest institute's panel: every proposal reviewed three times by
        the institute's pool (so each reviewer's calibration spans ~60 reviews), a few conflicts, a third
        recommended and ranked, priorities published. Lighter proposals than the current call's (no team,
        budget, letter or version): only the panel table reads this call."""
        from calls.domain import criteria_seed
        from calls.models import Call, CallState, InstitutePriority
        from proposals.models import Proposal, ProposalState
        from reviews.models import (
            Assignment,
            AssignmentState,
            Conflict,
            ConflictSource,
            Panel,
            PanelRecommendation,
            Recommendation,
            Review,
            ReviewState,
            Score,
        )

        rng, size = self.rng, self.size
        largest = self.institutes[LARGEST_INSTITUTE]
        year = self.small_call.year - 1
        paris = dt.timezone(dt.timedelta(hours=2))
        opens, closes = dt.datetime(year, 6, 1, tzinfo=paris), dt.datetime(year, 9, 28, 13, 0, tzinfo=paris)
        call = Call.objects.create(
            year=year, title_fr=f"IEA {year} {PANEL_CALL_MARK}", title_en=f"IEA {year} {PANEL_CALL_MARK}",
            summary_fr=words(rng, 30), summary_en=words(rng, 30), rules_fr=words(rng, 60), rules_en=words(rng, 60),
            state=CallState.IN_REVIEW, opens_at=opens, closes_at=closes, total_envelope=Decimal(2_000_000))
        criteria_seed(call)
        criteria = list(call.criteria.order_by("position"))
        self.count("calls", 1)
        panel = Panel.objects.create(call=call, institute=largest, reviews_per_proposal=size["panel_reviews_per_proposal"],
                                     review_due_at=closes + dt.timedelta(days=75))
        self.officer_panel = self.user(f"officer-panel@{EMAIL_DOMAIN}")
        panel.officers.add(self.officer_panel)
        self.count("panels", 1)
        InstitutePriority.objects.create(call=call, institute=largest, priority_countries=["BR", "IN", "SN"],
                                         themes_fr="Patrimoine, archives et migrations", themes_en="Heritage, archive, ocean")

        units = self.units_by_institute[largest.pk]
        proposals = []
        for pi in self.pis[: size["panel_proposals"]]:
            proposals.append(Proposal(
                call=call, pi=pi, reference=self.new_reference(call),
                state=ProposalState.RANKED if rng.random() < 0.3 else ProposalState.IN_REVIEW,
                title=words(rng, 8).capitalize(), acronym=f"{rng.choice(WORDS)[:6].upper()}{self._ref % 1000}",
                abstract=words(rng, 60), keywords=", ".join(rng.sample(WORDS, 4)), unit=rng.choice(units),
                partner_name=f"Partner {self._ref}", partner_email=f"partner{self._ref}@partner.example.org",
                partner_institution=f"University of {words(rng, 1).title()}", partner_country=rng.choice(COUNTRIES),
                created_at=opens, updated_at=closes, submitted_at=closes - dt.timedelta(hours=rng.randint(1, 48)),
            ))
        proposals = bulk(Proposal, proposals)
        self.count("proposals", len(proposals))

        pool = self.pool[largest.pk]
        assignments, conflicts = [], []
        for proposal in proposals:
            chosen = rng.sample(pool, min(len(pool), size["panel_reviews_per_proposal"] + 1))
            for reviewer in chosen[: size["panel_reviews_per_proposal"]]:
                assignments.append(Assignment(
                    panel=panel, proposal=proposal, reviewer=reviewer, state=AssignmentState.ACCEPTED,
                    due_at=panel.review_due_at, created_at=closes + dt.timedelta(days=20), created_by=self.staff,
                    responded_at=closes + dt.timedelta(days=22), automatic=True))
            if len(chosen) > size["panel_reviews_per_proposal"] and rng.random() < 0.02:
                # A reviewer of the pool, not assigned, in conflict: hides nothing from this officer.
                conflicts.append(Conflict(proposal=proposal, reviewer=chosen[-1], source=ConflictSource.DETECTED,
                                          cause="same_unit", created_at=closes))
        assignments = bulk(Assignment, assignments, 5000)
        bulk(Conflict, conflicts)
        self.count("assignments", len(assignments))
        self.count("conflicts", len(conflicts))
        reviews = bulk(Review, (
            Review(assignment=a, proposal=a.proposal, reviewer=a.reviewer, state=ReviewState.SUBMITTED,
                   comment_for_pi=words(rng, 20), recommendation=rng.choice(Recommendation.values),
                   created_at=a.created_at, updated_at=a.due_at, submitted_at=a.due_at)
            for a in assignments), 5000)
        self.count("reviews", len(reviews))
        steps = [Decimal(x) / 2 for x in range(11)]
        scores = bulk(Score, (
            Score(review=review, criterion=criterion, score=rng.choice(steps[2:]), max_score=criterion.scale_max)
            for review in reviews for criterion in criteria), 10000)
        self.count("scores", len(scores))
        ranked = [p for p in proposals if p.state == ProposalState.RANKED]
        recommendations = []
        for rank, proposal in enumerate(ranked, start=1):
            recommendation = rng.choice(Recommendation.values)
            recommendations.append(PanelRecommendation(
                proposal=proposal, panel=panel, consensus=words(rng, 20), rank=rank, recommendation=recommendation,
                proposed_amount=Decimal(12000) if recommendation == Recommendation.FUND else None,
                updated_at=closes + dt.timedelta(days=80), updated_by=self.officer_panel))
        bulk(PanelRecommendation, recommendations)
        self.count("panel recommendations", len(recommendations))

    def make_panel_figures(self):
        """What the domain keeps as reviews are submitted (``reviews.domain.panel_figures``), for every panel."""
        from django.db import connection

        from reviews.domain.panel_figures import panel_figures_refresh
        from reviews.models import Panel, PanelFigures

        for panel in Panel.objects.select_related("call"):
            panel_figures_refresh(panel=panel)
        self.count("panel table figures", PanelFigures.objects.count())
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(PanelFigures._meta.db_table)}")

    def analyze(self):
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")


# --- The subjects of the page benchmark ----------------------------------------------------------------------

def subjects() -> dict:
    """Who and what the page benchmark measures, at each size: looked up by their bench names."""
    from django.contrib.auth import get_user_model

    from calls.models import Call, Institute
    from proposals.models import Proposal
    from reviews.models import Panel

    User = get_user_model()

    def user(name):
        return User.objects.get(email=f"{name}@{EMAIL_DOMAIN}")

    calls = list(Call.objects.exclude(title_en__endswith=PANEL_CALL_MARK).order_by("-year"))
    current, small_call = calls[0], calls[-1]
    panel_call = Call.objects.get(title_en__endswith=PANEL_CALL_MARK)
    largest = Institute.objects.get(code=LARGEST_INSTITUTE)
    return {
        "staff": user("staff"),
        "calls": {"small": small_call, "large": current},
        "panels": {"small": Panel.objects.get(call=small_call, institute=largest),
                   "large": Panel.objects.get(call=current, institute=largest)},
        "pi": {"small": user("pi-small"), "large": user("pi-large")},
        "reviewer": {"small": user("reviewer-small"), "large": user("reviewer-large")},
        "officer": {"small": user("officer-small"), "large": user("officer-large")},
        # The panel call's officer and panel: the panel table at 5,000 proposals (issue #18).
        "panel_officer": user("officer-panel"),
        "large_panel": Panel.objects.get(call=panel_call, institute=largest),
        "manager": {"small": user("manager-small"), "large": user("manager-large")},
        "audited_proposal": Proposal.objects.filter(pi=user("pi-large"), call=current).first(),
    }


def build(*, scale: float = 1.0, now: dt.datetime | None = None, log=print,
          past_proposals: int = PAST_PROPOSALS) -> dict:
    """Build the dataset in the current (empty) database; returns the counts and timings."""
    from django.utils import timezone

    return Builder(scale=scale, now=now or timezone.now(), log=log, past_proposals=past_proposals).build()


# --- The script ----------------------------------------------------------------------------------------------

def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
    # The benchmarks measure the application, not the API's rate limits.
    os.environ.setdefault("API_USER_RATE", "1000000/minute")
    os.environ.setdefault("API_ANON_RATE", "1000000/minute")
    import django

    django.setup()


def recreate_database(database_url: str) -> None:
    import psycopg
    from django.db.backends.postgresql.base import DatabaseWrapper  # noqa: F401  (psycopg is the driver)
    from environ import Env

    config = Env.db_url_config(database_url)
    name = config["NAME"]
    if name in ("test", "iea_surge") or name.startswith("test_test_gw"):
        raise SystemExit(f"refusing to drop the database {name!r}: it belongs to CI or to the surge benchmark")
    server = {"host": config.get("HOST") or "127.0.0.1", "port": config.get("PORT") or 5432,
              "user": config.get("USER") or "postgres"}
    if config.get("PASSWORD"):
        server["password"] = config["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def dataset_marker(scale: float, past_proposals: int = PAST_PROPOSALS) -> str:
    """What ``--keep`` compares: the scale, and the past calls' size when it is not the default."""
    return str(scale) if past_proposals == PAST_PROPOSALS else f"{scale} past={past_proposals}"


def built_scale() -> str | None:
    """The marker (``dataset_marker``) of the dataset already in the database, if any."""
    from django.db import connection

    try:
        if "calls_call" not in connection.introspection.table_names():
            return None
    except Exception:  # no database yet
        return None
    marker = Path(os.environ.get("BENCH_STATE", str(BASE_DIR / "var" / "bench" / ".dataset-scale")))
    return marker.read_text().strip() if marker.exists() else None


def markdown(result: dict, *, seconds: float) -> str:
    lines = ["## Dataset", "",
             f"Built on PostgreSQL by `benchmarks/dataset.py` at scale {result['scale']:g} in **{seconds:.0f} s** "
             f"(seed {SEED}; target: under 5 minutes at scale 1), including `migrate`.", "",
             "| table | rows |", "|---|---:|"]
    lines += [f"| {key} | {value:,} |" for key, value in result["counts"].items()]
    lines += ["", "| step | seconds |", "|---|---:|"]
    lines += [f"| {key} | {value:.1f} |" for key, value in result["timings"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(BASE_DIR / "var" / "bench"))
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--keep", action="store_true", help="reuse the database if it holds this scale already")
    parser.add_argument("--past-proposals", type=int, default=PAST_PROPOSALS,
                        help="proposals in each of the 9 past calls at scale 1 (5000: ten years of a full call)")
    args = parser.parse_args(argv)
    wanted = dataset_marker(args.scale, args.past_proposals)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    marker = out / ".dataset-scale"
    os.environ["BENCH_STATE"] = str(marker)
    started = time.perf_counter()
    if args.keep:
        setup_django(database_url)
        if built_scale() == wanted and (out / "dataset.json").exists():
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)  # the code may have new migrations
            print(f"dataset: kept (scale {args.scale:g}), migrated")
            return 0
        from django.db import connections

        connections.close_all()
    recreate_database(database_url)
    setup_django(database_url)
    from django.core.management import call_command

    marker.unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    print(f"dataset: migrated in {migrated:.1f} s; building at scale {args.scale:g}")
    result = build(scale=args.scale, past_proposals=args.past_proposals)
    seconds = time.perf_counter() - started
    result["timings"] = {"migrate": round(migrated, 2), **result["timings"]}
    result["seconds"] = round(seconds, 1)
    result["database"] = database_url.rsplit("/", 1)[-1]
    marker.write_text(wanted)
    (out / "dataset.json").write_text(json.dumps(result, indent=2))
    (out / "dataset.md").write_text(markdown(result, seconds=seconds))
    print(f"dataset: built in {seconds:.1f} s")
    return 0 if args.scale < 1 or seconds < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
