"""The text model of affinity (``reviews.domain.affinity``): pure, no database."""

from reviews.domain.affinity import (
    SCALE,
    Analyzer,
    affinity_fit,
    proposal_document,
    reviewer_document,
)

OCEAN_FR = proposal_document(
    id=1, title="L'acidification des océans et les récifs coralliens",
    abstract="Nous étudions comment l'acidification des océans modifie la calcification des coraux et la chimie "
             "des carbonates dans les récifs du Pacifique.",
    keywords="océan, acidification, corail")
OCEAN_EN = proposal_document(
    id=2, title="Ocean acidification and coral reefs",
    abstract="We study how ocean acidification changes the calcification of corals and the carbonate chemistry "
             "of Pacific reefs.",
    keywords="ocean, acidification, coral")
LAW_EN = proposal_document(
    id=3, title="Medieval canon law manuscripts",
    abstract="We edit the manuscripts of medieval canon law written in the twelfth century by the monks.",
    keywords="law, manuscripts, middle ages")
EMPTY = proposal_document(id=4, title="", abstract="", keywords="")

OCEANOGRAPHER = reviewer_document(id=10, keywords="biogéochimie marine", publications=[
    ("Ocean acidification reduces coral calcification", "Coral reefs under ocean acidification lose calcification.",
     "carbonate chemistry; coral"),
    ("Acidification des océans en Méditerranée", "Mesures de l'acidification des océans et des carbonates.", ""),
])
HISTORIAN = reviewer_document(id=11, keywords="droit médiéval, manuscrits", publications=[
    ("Le droit canonique au Moyen Âge", "Édition des manuscrits du droit canonique médiéval du douzième siècle.", ""),
])
NOBODY = reviewer_document(id=12, keywords="", publications=[])


def _scores(matches):
    return {(match.proposal_id, match.reviewer_id): match.score for match in matches}


def test_ocean_acidification_matches_the_oceanographer_over_the_medieval_historian_in_both_languages():
    model = affinity_fit([OCEAN_FR, OCEAN_EN, LAW_EN, EMPTY], [OCEANOGRAPHER, HISTORIAN, NOBODY])
    scores = _scores(model.top())

    for proposal in (1, 2):
        assert scores[(proposal, 10)] > 100
        assert scores.get((proposal, 11), 0) < scores[(proposal, 10)] / 5
    # Across languages: the English proposal on canon law matches the French publication on "droit canonique".
    assert scores[(3, 11)] > scores.get((3, 10), 0)
    assert scores[(3, 11)] > 50


def test_the_matching_words_are_readable_forms_of_the_texts():
    model = affinity_fit([OCEAN_FR], [OCEANOGRAPHER, HISTORIAN])
    [best, *_] = model.top()

    assert best.reviewer_id == 10
    assert "acidification" in best.terms
    # Shown as written (accents kept), never the folded stem: "océans" or "ocean", not "ocean"-less "océ".
    assert all(term in {"acidification", "océans", "ocean", "océan", "coral", "corail", "calcification", "carbonates",
                        "carbonate", "coraux", "reefs", "récifs", "chemistry", "chimie"} for term in best.terms), best.terms
    assert len(best.terms) == len(set(best.terms))


def test_the_top_k_cut_keeps_the_best_reviewers_best_first():
    reviewers = [reviewer_document(id=100 + i, keywords=" ".join(["ocean acidification"] + ["coral"] * i),
                                   publications=[]) for i in range(6)]
    model = affinity_fit([OCEAN_EN], reviewers)
    every = model.top(top_k=50)
    three = model.top(top_k=3)

    assert len(every) == 6
    assert [m.reviewer_id for m in three] == [m.reviewer_id for m in every][:3]
    assert [m.score for m in every] == sorted((m.score for m in every), reverse=True)


def test_empty_texts_match_nothing_and_do_not_fail():
    assert affinity_fit([EMPTY], [NOBODY]).top() == []
    assert affinity_fit([], [OCEANOGRAPHER]).top() == []
    assert affinity_fit([OCEAN_EN], []).top() == []
    model = affinity_fit([OCEAN_EN, EMPTY], [OCEANOGRAPHER, NOBODY])
    assert {(m.proposal_id, m.reviewer_id) for m in model.top()} == {(2, 10)}


def test_the_same_text_scores_the_maximum_and_scores_of_any_pair_agree_with_the_top():
    same = reviewer_document(id=20, keywords=OCEAN_EN.keywords[0],
                             publications=[(OCEAN_EN.texts[0], OCEAN_EN.texts[1], "")])
    model = affinity_fit([OCEAN_EN, LAW_EN], [same, HISTORIAN])
    top = _scores(model.top())

    assert top[(2, 20)] == SCALE
    assert model.scores(list(top)) == top
    assert model.scores([(2, 11)]) == {(2, 11): top.get((2, 11), 0)}


def test_the_analyzer_folds_accents_drops_stop_words_and_picks_the_stemmer_by_language():
    analyzer = Analyzer()
    assert analyzer.text("Les océans") == analyzer.text("the oceans") == ["ocean"]
    assert analyzer.text("les politiques climatiques") == ["polit", "climat"]
    assert analyzer.text("the climate of the ocean") == ["climat", "ocean"]
    # Keywords have no stop words to tell the language: both stems, when they differ.
    assert analyzer.text("climatique") == ["climat", "climatiqu"]
    assert analyzer.readable("ocean") == "océans"
