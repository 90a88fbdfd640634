"""Affinity (issue #20): the TF-IDF model at the issue's size, and what it changes in automatic assignment.

    .venv/bin/python benchmarks/affinity.py --out var/bench [--scale 1]

No database: the text model (``reviews.domain.affinity``) and the solver (``reviews.domain.solver``) are pure,
so the data is built in memory, seeded. At scale 1: **5,000 proposals × 1,000 reviewers**, texts written
from 24 research topics (ocean acidification, medieval law, quantum optics…), each a vocabulary of terms
in French and in English, with plurals and the accents people type or forget:

- a proposal: a topic (and, one time in three, a second one), a title of 8–12 words, an abstract of
  ~150 words — a third topic terms, the rest common academic wording and stop words —, 3–5 keywords; 60 %
  in French, 40 % in English;
- a reviewer: a main topic and a secondary one, 4–6 keywords, 10–30 publications (title, ~120-word
  abstract, keywords), each in French or English at random — as a HAL export mixes them.

(a) **Time and memory**: a child process builds the documents, then fits the model and computes every
proposal's best ``TOP_K`` reviewers with their matching words (``affinity_fit`` + ``AffinityModel.top``,
what the background task runs). Wall time per phase; peak resident memory of the process (VmHWM) before
the fit (the texts) and at the end, so the model's own share is the difference.

(b) **What it changes** — same data, same run: the solver (3 reviews per proposal, load cap ceil(mean) + 1,
no conflicts) is run with the TF-IDF affinities (top 50 per proposal, as stored), with today's keyword-only
affinities (``matching.affinities``: shared keywords, or a reviewer's keyword in the title), and a random
assignment with the same coverage and the same load cap. Each assignment is rated by the TF-IDF score of its
pairs (``AffinityModel.scores``, exact even for pairs not stored) and by the ground truth the generator
knows: the share of pairs where the reviewer's main or secondary topic is the proposal's.

(c) **The background task on PostgreSQL** (``affinities_compute``, what the officer's button queues): the panel
of ``benchmarks/assignment.py`` (5,000 eligible proposals, 1,000 reviewers) with the texts above written into
the proposals, the pool's keywords and 19,700 publications; read, compute, replace the stored rows (COPY). In
``BENCH_DATABASE_URL``'s database (created, migrated, dropped here); skipped, and said so, without PostgreSQL.

No target is set by the issue for (b); (a) is expected to fit in memory (< 2 GiB) and to run in minutes.
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _bench  # noqa: E402

NAME = "affinity"
BASE_DIR = _bench.BASE_DIR
SEED = 20
REVIEWS = 3
MEMORY_LIMIT_MIB = 2048

# Each topic: (French term, English term) pairs. Some terms are shared by two topics, as in real fields.
TOPICS = {
    "ocean acidification": [("acidification", "acidification"), ("océan", "ocean"), ("corail", "coral"),
                            ("récif", "reef"), ("carbonate", "carbonate"), ("calcification", "calcification"),
                            ("plancton", "plankton"), ("pH marin", "marine pH"), ("aragonite", "aragonite")],
    "glaciology": [("glacier", "glacier"), ("calotte glaciaire", "ice sheet"), ("fonte", "melting"),
                   ("névé", "firn"), ("carotte de glace", "ice core"), ("banquise", "sea ice"),
                   ("climat", "climate"), ("moraine", "moraine"), ("permafrost", "permafrost")],
    "medieval law": [("droit canonique", "canon law"), ("manuscrit", "manuscript"), ("médiéval", "medieval"),
                     ("coutume", "custom"), ("juriste", "jurist"), ("glose", "gloss"), ("concile", "council"),
                     ("décrétale", "decretal"), ("seigneurie", "lordship")],
    "quantum optics": [("photon", "photon"), ("intrication", "entanglement"), ("cavité optique", "optical cavity"),
                       ("laser", "laser"), ("qubit", "qubit"), ("décohérence", "decoherence"),
                       ("interféromètre", "interferometer"), ("atome froid", "cold atom")],
    "catalysis": [("catalyseur", "catalyst"), ("zéolithe", "zeolite"), ("oxydation", "oxidation"),
                  ("hydrogénation", "hydrogenation"), ("nanoparticule", "nanoparticle"), ("ligand", "ligand"),
                  ("cinétique", "kinetics"), ("sélectivité", "selectivity")],
    "neuroscience": [("neurone", "neuron"), ("cortex", "cortex"), ("synapse", "synapse"), ("mémoire", "memory"),
                     ("plasticité", "plasticity"), ("hippocampe", "hippocampus"), ("imagerie cérébrale", "brain imaging"),
                     ("sommeil", "sleep")],
    "genomics": [("génome", "genome"), ("séquençage", "sequencing"), ("épigénétique", "epigenetics"),
                 ("mutation", "mutation"), ("transcriptome", "transcriptome"), ("gène", "gene"),
                 ("phylogénie", "phylogeny"), ("méthylation", "methylation")],
    "epidemiology": [("épidémie", "epidemic"), ("vaccin", "vaccine"), ("transmission", "transmission"),
                     ("cohorte", "cohort"), ("pathogène", "pathogen"), ("immunité", "immunity"),
                     ("surveillance sanitaire", "health surveillance"), ("zoonose", "zoonosis")],
    "urban sociology": [("ville", "city"), ("urbain", "urban"), ("quartier", "neighbourhood"),
                        ("ségrégation", "segregation"), ("logement", "housing"), ("gentrification", "gentrification"),
                        ("mobilité", "mobility"), ("enquête ethnographique", "ethnographic survey")],
    "migration studies": [("migration", "migration"), ("frontière", "border"), ("diaspora", "diaspora"),
                          ("réfugié", "refugee"), ("asile", "asylum"), ("mobilité", "mobility"),
                          ("citoyenneté", "citizenship"), ("transnational", "transnational")],
    "linguistics": [("langue", "language"), ("syntaxe", "syntax"), ("phonologie", "phonology"),
                    ("corpus", "corpus"), ("dialecte", "dialect"), ("morphologie", "morphology"),
                    ("créole", "creole"), ("acquisition du langage", "language acquisition")],
    "machine learning": [("apprentissage profond", "deep learning"), ("réseau de neurones", "neural network"),
                         ("algorithme", "algorithm"), ("optimisation", "optimisation"), ("graphe", "graph"),
                         ("classification", "classification"), ("données massives", "big data"),
                         ("inférence", "inference")],
    "robotics": [("robot", "robot"), ("capteur", "sensor"), ("commande", "control"), ("manipulation", "manipulation"),
                 ("locomotion", "locomotion"), ("vision artificielle", "computer vision"), ("drone", "drone"),
                 ("actionneur", "actuator")],
    "fluid mechanics": [("turbulence", "turbulence"), ("écoulement", "flow"), ("fluide", "fluid"),
                        ("vortex", "vortex"), ("couche limite", "boundary layer"), ("convection", "convection"),
                        ("simulation numérique", "numerical simulation"), ("viscosité", "viscosity")],
    "batteries": [("batterie", "battery"), ("électrolyte", "electrolyte"), ("lithium", "lithium"),
                  ("électrode", "electrode"), ("hydrogène", "hydrogen"), ("stockage d'énergie", "energy storage"),
                  ("corrosion", "corrosion"), ("alliage", "alloy")],
    "astrophysics": [("galaxie", "galaxy"), ("étoile", "star"), ("trou noir", "black hole"), ("cosmologie", "cosmology"),
                     ("exoplanète", "exoplanet"), ("télescope", "telescope"), ("matière noire", "dark matter"),
                     ("spectroscopie", "spectroscopy")],
    "seismology": [("séisme", "earthquake"), ("sismique", "seismic"), ("faille", "fault"), ("tectonique", "tectonics"),
                   ("volcan", "volcano"), ("magma", "magma"), ("sédiment", "sediment"), ("croûte", "crust")],
    "soil ecology": [("sol", "soil"), ("microbiome", "microbiome"), ("forêt", "forest"), ("biodiversité", "biodiversity"),
                     ("carbone", "carbon"), ("litière", "litter"), ("champignon", "fungus"), ("rivière", "river")],
    "heritage archaeology": [("patrimoine", "heritage"), ("fouille", "excavation"), ("céramique", "pottery"),
                             ("archive", "archive"), ("néolithique", "neolithic"), ("datation", "dating"),
                             ("musée", "museum"), ("épigraphie", "epigraphy")],
    "economics": [("économie", "economy"), ("inégalité", "inequality"), ("marché du travail", "labour market"),
                  ("croissance", "growth"), ("fiscalité", "taxation"), ("commerce", "trade"), ("monnaie", "currency"),
                  ("pauvreté", "poverty")],
    "philosophy": [("philosophie", "philosophy"), ("éthique", "ethics"), ("ontologie", "ontology"),
                   ("phénoménologie", "phenomenology"), ("justice", "justice"), ("épistémologie", "epistemology"),
                   ("métaphysique", "metaphysics"), ("raison", "reason")],
    "musicology": [("musique", "music"), ("partition", "score"), ("opéra", "opera"), ("harmonie", "harmony"),
                   ("rythme", "rhythm"), ("instrument", "instrument"), ("chanson", "song"), ("ethnomusicologie", "ethnomusicology")],
    "polymers": [("polymère", "polymer"), ("copolymère", "copolymer"), ("gel", "gel"), ("rhéologie", "rheology"),
                 ("membrane", "membrane"), ("biomatériau", "biomaterial"), ("cristallisation", "crystallisation"),
                 ("nanocomposite", "nanocomposite")],
    "plasma physics": [("plasma", "plasma"), ("fusion", "fusion"), ("tokamak", "tokamak"), ("confinement", "confinement"),
                       ("champ magnétique", "magnetic field"), ("ion", "ion"), ("laser", "laser"),
                       ("instabilité", "instability")],
}
COMMON = {
    "fr": ["nous", "proposons", "étudier", "analyser", "projet", "recherche", "approche", "nouvelle", "méthode", "résultats", "données", "modèle", "comparaison", "terrain", "collaboration", "partenaire", "laboratoire", "équipe", "international", "échange", "doctorant", "mission", "atelier", "publication", "objectif", "question", "enjeu", "mesure", "expérience", "théorie", "évolution", "processus", "rôle", "effet", "impact", "dynamique", "échelle", "système", "analyse", "contexte", "perspective"],
    "en": ["we", "propose", "study", "analyse", "project", "research", "approach", "new", "method", "results", "data", "model", "comparison", "field", "collaboration", "partner", "laboratory", "team", "international", "exchange", "student", "mission", "workshop", "publication", "aim", "question", "challenge", "measurement", "experiment", "theory", "evolution", "process", "role", "effect", "impact", "dynamics", "scale", "system", "analysis", "context", "perspective"],
}
STOP = {
    "fr": ["le", "la", "les", "de", "des", "du", "et", "en", "dans", "pour", "sur", "avec", "une", "un", "au", "aux", "par", "ce", "cette", "ces", "qui", "que", "est", "sont", "nos", "notre"],
    "en": ["the", "of", "and", "in", "to", "for", "on", "with", "a", "an", "by", "this", "these", "which", "that", "is", "are", "our", "we", "its", "from", "at", "as"],
}


# The long tail real abstracts have (names of species, sites, methods, instruments…): 30,000 rare words drawn
# with a Zipf-like law, so that the vocabulary — hence the matrices — has a realistic size, not 24 topics' worth.
_SYLLABLES = ["ba", "co", "di", "fu", "ga", "hi", "jo", "ka", "li", "mo", "nu", "pa", "qui", "ro", "sa", "te", "vi",
              "xa", "yo", "ze", "tran", "ple", "ster", "gro"]
LONG_TAIL = sorted({"".join(random.Random(n).choices(_SYLLABLES, k=random.Random(-n).randint(3, 5)))  # noqa: S311
                    for n in range(36_000)})[:30_000]
_TAIL_WEIGHTS = [1 / (rank + 10) for rank in range(len(LONG_TAIL))]
TAIL_SHARE = 0.08
_TAIL_CUMULATIVE = list(__import__("itertools").accumulate(_TAIL_WEIGHTS))


def _fold(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _term(rng: random.Random, topic: str, language: str) -> str:
    french, english = rng.choice(TOPICS[topic])
    term = french if language == "fr" else english
    roll = rng.random()
    if roll < 0.25:
        term = " ".join(word + ("x" if word.endswith("au") else "s") if not word.endswith(("s", "x")) else word
                        for word in term.split())  # plurals
    elif roll < 0.35 and language == "fr":
        term = _fold(term)  # accents forgotten
    return term


def _text(rng: random.Random, topics: list[str], language: str, words: int, topical: float) -> str:
    out = []
    while len(out) < words:
        roll = rng.random()
        if roll < TAIL_SHARE:
            out.extend(rng.choices(LONG_TAIL, cum_weights=_TAIL_CUMULATIVE, k=1))
            continue
        roll = rng.random()
        if roll < topical:
            out.extend(_term(rng, rng.choice(topics), language).split())
        elif roll < topical + 0.35:
            out.append(rng.choice(STOP[language]))
        else:
            out.append(rng.choice(COMMON[language]))
    return " ".join(out[:words])


def _keywords(rng: random.Random, topics: list[str], language: str, count: int) -> str:
    return ", ".join(dict.fromkeys(_term(rng, rng.choice(topics), language) for _ in range(count)))


def build(scale: float) -> dict:
    """The proposals and reviewers as plain tuples, with each one's topics (the ground truth)."""
    rng = random.Random(SEED)  # noqa: S311 (reproducible data)
    names = list(TOPICS)
    n_proposals, n_reviewers = max(20, round(5000 * scale)), max(10, round(1000 * scale))
    proposals = []
    for i in range(n_proposals):
        topic = rng.choice(names)
        topics = [topic, rng.choice(names)] if rng.random() < 1 / 3 else [topic]
        language = "fr" if rng.random() < 0.6 else "en"
        proposals.append({"id": i + 1, "topic": topic, "title": _text(rng, [topic], language, rng.randint(8, 12), 0.45),
                          "abstract": _text(rng, topics, language, rng.randint(130, 170), 0.3),
                          "keywords": _keywords(rng, [topic], language, rng.randint(3, 5))})
    reviewers = []
    for j in range(n_reviewers):
        main, second = rng.sample(names, 2)
        publications = []
        for _ in range(rng.randint(10, 30)):
            language = rng.choice(("fr", "en"))
            topics = [main] if rng.random() < 0.7 else [second]
            publications.append((_text(rng, topics, language, rng.randint(8, 14), 0.45),
                                 _text(rng, topics, language, rng.randint(100, 140), 0.3),
                                 _keywords(rng, topics, language, rng.randint(2, 4))))
        reviewers.append({"id": 100_000 + j, "topics": (main, second),
                          "keywords": _keywords(rng, [main, main, second], rng.choice(("fr", "en")), rng.randint(4, 6)),
                          "publications": publications})
    return {"proposals": proposals, "reviewers": reviewers}


def documents(data: dict):
    from reviews.domain.affinity import proposal_document, reviewer_document

    return ([proposal_document(id=p["id"], title=p["title"], abstract=p["abstract"], keywords=p["keywords"])
             for p in data["proposals"]],
            [reviewer_document(id=r["id"], keywords=r["keywords"], publications=r["publications"])
             for r in data["reviewers"]])


# --- (a) time and memory, in a child process ---------------------------------------------------------------------

def measure(scale: float) -> dict:
    """Run in the child: build, fit, top; the wall time of each phase and the peak memory after each."""
    from reviews.domain.affinity import TOP_K, affinity_fit

    pid = os.getpid()
    started = time.perf_counter()
    data = build(scale)
    proposals, reviewers = documents(data)
    built = time.perf_counter()
    cpu_built = time.process_time()
    words = sum(len(text.split()) for d in [*proposals, *reviewers] for text in (*d.texts, *d.keywords))
    peak_texts = _bench.status_kib(pid, "VmHWM")
    model = affinity_fit(proposals, reviewers)
    fitted, cpu_fitted = time.perf_counter(), time.process_time()
    matches = model.top(top_k=TOP_K)
    done, cpu_done = time.perf_counter(), time.process_time()
    return {
        "fit_cpu_s": cpu_fitted - cpu_built, "top_cpu_s": cpu_done - cpu_fitted, "compute_cpu_s": cpu_done - cpu_built,
        "proposals": len(proposals), "reviewers": len(reviewers),
        "publications": sum(len(r["publications"]) for r in data["reviewers"]), "words": words,
        "vocabulary": len(model.vocabulary), "stored_pairs": len(matches),
        "proposals_matched": len({m.proposal_id for m in matches}),
        "build_s": built - started, "fit_s": fitted - built, "top_s": done - fitted, "compute_s": done - built,
        "peak_texts_mib": peak_texts / 1024, "peak_mib": _bench.status_kib(pid, "VmHWM") / 1024,
        "sample": {"proposal": data["proposals"][0]["title"], "topic": data["proposals"][0]["topic"],
                   "best": [(m.score, m.terms) for m in matches[:3]]},
    }


def measure_in_child(scale: float) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--scale", f"{scale:g}"]
    output = subprocess.run(command, cwd=BASE_DIR, check=True, capture_output=True, text=True,  # noqa: S603
                            env={**os.environ, "PYTHONPATH": str(BASE_DIR)}).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- (b) the three assignments -----------------------------------------------------------------------------------

def random_assignment(proposal_ids: list[int], reviewer_ids: list[int], *, need: int, cap: int, seed: int) -> list:
    """Each proposal gets ``need`` distinct reviewers drawn at random among those under ``cap``: the same coverage
    and the same load limit as the solver's, no preference."""
    rng = random.Random(seed)  # noqa: S311
    loads = dict.fromkeys(reviewer_ids, 0)
    open_ = list(reviewer_ids)
    pairs = []
    order = list(proposal_ids)
    rng.shuffle(order)
    for proposal_id in order:
        chosen = rng.sample(open_, min(need, len(open_)))
        for reviewer_id in chosen:
            pairs.append((proposal_id, reviewer_id))
            loads[reviewer_id] += 1
        open_ = [r for r in open_ if loads[r] < cap]
    return pairs


def compare(scale: float) -> dict:
    from reviews.domain.affinity import TOP_K, affinity_fit
    from reviews.domain.matching import ProposalNeed, ReviewerCapacity, affinities
    from reviews.domain.solver import solve

    data = build(scale)
    proposals, reviewers = documents(data)
    model = affinity_fit(proposals, reviewers)
    tfidf = {(m.proposal_id, m.reviewer_id): m.score for m in model.top(top_k=TOP_K)}
    keyword = affinities(proposals={p["id"]: (p["keywords"], p["title"]) for p in data["proposals"]},
                         reviewers={r["id"]: r["keywords"] for r in data["reviewers"]})
    needs = [ProposalNeed(p["id"], REVIEWS) for p in data["proposals"]]
    pool = [ReviewerCapacity(r["id"], 0) for r in data["reviewers"]]
    cap = math.ceil(REVIEWS * len(needs) / len(pool)) + 1
    topic_of = {p["id"]: p["topic"] for p in data["proposals"]}
    topics_of = {r["id"]: r["topics"] for r in data["reviewers"]}

    def rate(pairs, seconds):
        scores = model.scores(pairs)
        values = list(scores.values())
        loads = {}
        for _, reviewer_id in pairs:
            loads[reviewer_id] = loads.get(reviewer_id, 0) + 1
        return {
            "pairs": len(pairs), "seconds": seconds,
            "mean_affinity": sum(values) / len(values) if values else 0.0,
            "median_affinity": sorted(values)[len(values) // 2] if values else 0,
            "zero_affinity_share": sum(1 for v in values if v == 0) / len(values) if values else 0.0,
            "topic_match_share": sum(1 for p, r in pairs if topic_of[p] in topics_of[r]) / len(pairs) if pairs else 0.0,
            "main_topic_share": sum(1 for p, r in pairs if topic_of[p] == topics_of[r][0]) / len(pairs) if pairs else 0.0,
            "max_load": max(loads.values(), default=0),
        }

    results = {}
    for name, affinity in (("tfidf", tfidf), ("keywords", keyword)):
        started = time.perf_counter()
        solution = solve(proposals=needs, reviewers=pool, conflicts=set(), existing=set(), affinity=affinity)
        results[name] = rate(solution.pairs, time.perf_counter() - started)
        results[name]["uncovered"] = len(solution.uncovered)
    started = time.perf_counter()
    pairs = random_assignment([p.id for p in needs], [r.id for r in pool], need=REVIEWS, cap=cap, seed=SEED)
    results["random"] = rate(pairs, time.perf_counter() - started)
    per_proposal = {}
    for proposal_id, _ in pairs:
        per_proposal[proposal_id] = per_proposal.get(proposal_id, 0) + 1
    results["random"]["uncovered"] = sum(1 for p in needs if per_proposal.get(p.id, 0) < REVIEWS)
    return {"cap": cap, "keyword_pairs": len(keyword), "tfidf_pairs": len(tfidf),
            "proposals_with_a_keyword_match": len({p for p, _ in keyword}), **results}


# --- (c) the background task on PostgreSQL ---------------------------------------------------------------------

def task_on_postgres(scale: float) -> dict:
    """Build the panel in the benchmark's own database, write the texts into it, run ``affinities_compute``."""
    from benchmarks import assignment

    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/iea_bench_affinity")
    url = _bench.database_url()
    env = _bench.base_env(url)
    _bench.database_create(url)
    try:
        _bench.migrate(env)
        _bench.django_setup({**env, "CELERY_TASK_ALWAYS_EAGER": "1"})
        from django.utils import timezone

        from proposals.models import Proposal
        from reviews.domain.affinities import affinities_compute
        from reviews.models import Publication, Reviewer
        from reviews.selectors import panel_affinities

        now = timezone.now()
        data = assignment.build(scale=scale, now=now)
        texts = build(scale)
        proposals = list(Proposal.objects.filter(call__panels=data["panel"]).order_by("pk"))
        for proposal, text in zip(proposals, texts["proposals"], strict=False):
            proposal.title, proposal.abstract, proposal.keywords = (text["title"][:250], text["abstract"],
                                                                    text["keywords"][:300])
        Proposal.objects.bulk_update(proposals, ["title", "abstract", "keywords"], batch_size=1000)
        reviewers = list(Reviewer.objects.filter(institute__panels=data["panel"]).order_by("pk"))
        publications = []
        for reviewer, text in zip(reviewers, texts["reviewers"], strict=False):
            reviewer.keywords = text["keywords"][:400]
            publications.extend(Publication(user_id=reviewer.user_id, source="hal_bibtex", key=f"bench-{k}",
                                            title=title, abstract=abstract, keywords=words, imported_at=now)
                                for k, (title, abstract, words) in enumerate(text["publications"]))
        Reviewer.objects.bulk_update(reviewers, ["keywords"], batch_size=1000)
        Publication.objects.bulk_create(publications, batch_size=2000)
        started, cpu = time.perf_counter(), time.process_time()
        result = affinities_compute(panel_id=data["panel"], now=timezone.now())
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        read_back = len(panel_affinities(data["panel"]))
        return {"proposals": result.proposals, "reviewers": result.reviewers, "publications": len(publications),
                "stored": result.stored, "wall_s": wall, "cpu_s": cpu, "phases": result.seconds,
                "selector_s": time.perf_counter() - started, "selector_rows": read_back,
                "peak_mib": _bench.status_kib(os.getpid(), "VmHWM") / 1024}
    finally:
        from django.db import connections

        connections.close_all()
        _bench.database_drop(url)


def task_in_child(scale: float) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child-task", "--scale", f"{scale:g}"]
    finished = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True,  # noqa: S603
                              env={**os.environ, "PYTHONPATH": str(BASE_DIR)}, check=False)
    if finished.returncode != 0:
        return {"skipped": (finished.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(finished.stdout.strip().splitlines()[-1])


# --- The report --------------------------------------------------------------------------------------------------

def problems(result: dict) -> list[str]:
    found = []
    a, b = result["model"], result["assignment"]
    if a["peak_mib"] > MEMORY_LIMIT_MIB:
        found.append(f"peak memory {a['peak_mib']:.0f} MiB (limit {MEMORY_LIMIT_MIB} MiB)")
    if not b["tfidf"]["mean_affinity"] > b["keywords"]["mean_affinity"] > b["random"]["mean_affinity"]:
        found.append("TF-IDF assignment is not better than keyword-only, itself better than random")
    return found


def markdown(result: dict, *, scale: float) -> str:
    a, b = result["model"], result["assignment"]
    lines = [
        f"## Affinity: TF-IDF for {a['proposals']:,} proposals × {a['reviewers']:,} reviewers, and the assignment "
        "it gives",
        "",
        f"`benchmarks/affinity.py` at scale {scale:g}, in memory (no database): synthetic French and English texts "
        f"from 24 research topics and a long tail of 30,000 rare words — {a['publications']:,} publications, {a['words']:,} words in all, "
        f"{a['vocabulary']:,} stems after folding, stop words and stemming.",
        "",
        "(a) The model, as the background task computes it (one process; peak resident memory from /proc):",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| build the documents (generator) | {a['build_s']:.1f} s |",
        f"| fit: analyse the texts, TF-IDF matrix — wall / CPU | {a['fit_s']:.1f} s / {a['fit_cpu_s']:.1f} s |",
        f"| best {result['top_k']} reviewers per proposal with their words (blocks of proposals) — wall / CPU | "
        f"{a['top_s']:.1f} s / {a['top_cpu_s']:.1f} s |",
        f"| **compute in all (fit + top)** — wall / CPU | **{a['compute_s']:.1f} s** / {a['compute_cpu_s']:.1f} s |",
        f"| peak memory: texts alone / at the end | {a['peak_texts_mib']:.0f} MiB / **{a['peak_mib']:.0f} MiB** |",
        f"| pairs stored (score > 0, ≤ {result['top_k']} per proposal) | {a['stored_pairs']:,} "
        f"({a['proposals_matched']:,} proposals with a match) |",
        "",
        f"(b) Automatic assignment on the same data, {REVIEWS} reviews per proposal, load cap {b['cap']} "
        "(ceil(mean) + 1), no conflicts. Each assignment is rated by the TF-IDF score of its pairs (0–1000, exact "
        "for every pair, stored or not) and by the generator's truth (reviewer's main or secondary topic = the "
        "proposal's):",
        "",
        "| assignment | mean affinity | median | pairs scoring 0 | right topic | main topic | busiest | solve |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in (("tfidf", "solver, TF-IDF affinity"), ("keywords", "solver, keyword-only (today's)"),
                       ("random", "random, same coverage and cap")):
        row = b[key]
        lines.append(f"| {label} | **{row['mean_affinity']:.0f}** | {row['median_affinity']} | "
                     f"{row['zero_affinity_share']:.1%} | {row['topic_match_share']:.1%} | {row['main_topic_share']:.1%} "
                     f"| {row['max_load']} | {row['seconds']:.1f} s |")
    lines += [
        "",
        f"Keyword-only matching finds a shared keyword for {b['keyword_pairs']:,} pairs "
        f"({b['proposals_with_a_keyword_match']:,} proposals have at least one); it cannot match across languages "
        f"nor plurals, which TF-IDF on stems does ({b['tfidf_pairs']:,} pairs kept).",
        "",
    ]
    c = result.get("task") or {"skipped": "not run"}
    if "skipped" in c:
        lines += [f"(c) The background task on PostgreSQL: not measured ({c['skipped']}).", ""]
    else:
        phases = c["phases"]
        lines += [
            f"(c) The background task on PostgreSQL (`affinities_compute`): {c['proposals']:,} proposals, "
            f"{c['reviewers']:,} reviewers, {c['publications']:,} publications read from the database; "
            f"**{c['wall_s']:.1f} s** wall ({c['cpu_s']:.1f} s CPU): read {phases['read']:.1f} s, compute "
            f"{phases['compute']:.1f} s, replace the stored rows {phases['store']:.1f} s ({c['stored']:,} rows, COPY); "
            f"peak memory of the process {c['peak_mib']:.0f} MiB (the generator's texts included). Automatic "
            f"assignment reads them back (`panel_affinities`, one query) in {c['selector_s']:.1f} s.",
            "",
        ]
    lines += [
        "Checks: peak memory under 2 GiB; mean affinity TF-IDF > keyword-only > random — "
        + ("held." if not result["problems"] else "**missed**: " + "; ".join(result["problems"])),
        "",
        f"The machine's load average during the run: {result['loadavg']} (2 cores, shared): wall times are "
        "stretched by the other work; the CPU times are this process's own.",
        "",
        f"Reproduce: `{_bench.command_line()}` (smaller: `--scale 0.2` is 1,000 × 200).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "var" / "bench")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-task", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-database", action="store_true", help="skip (c), the task on PostgreSQL")
    options = parser.parse_args()
    if options.child:
        print(json.dumps(measure(options.scale)))
        return 0
    if options.child_task:
        print(json.dumps(task_on_postgres(options.scale)))
        return 0
    from reviews.domain.affinity import TOP_K

    started = time.perf_counter()
    sys.stderr.write(f"affinity: (a) the model at scale {options.scale:g}, in a child process…\n")
    model = measure_in_child(options.scale)
    sys.stderr.write(f"affinity: (a) {model['compute_s']:.1f} s, {model['peak_mib']:.0f} MiB; (b) the assignments…\n")
    assignment = compare(options.scale)
    task = {"skipped": "--no-database"} if options.no_database else task_in_child(options.scale)
    result = {"scale": options.scale, "top_k": TOP_K, "model": model, "assignment": assignment, "task": task,
              "seconds": time.perf_counter() - started,
              "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3])}
    result["problems"] = problems(result)
    text = markdown(result, scale=options.scale)
    _bench.write_results(options.out, NAME, result, text)
    print(text)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
