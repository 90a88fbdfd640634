"""Affinity between proposals and reviewers: a TF-IDF text model (scikit-learn), pure — no database, so the
benchmark and the tests use it without Django's models. The panel-wide run that reads and stores it is
``reviews.domain.affinities``.

The documents (``proposal_document``, ``reviewer_document``):

- a proposal is its title, abstract and keywords; a reviewer is their expertise keywords and their publications'
  titles, abstracts and keywords. Names, institutions and units are not topics, so they stay out (they are what
  conflicts of interest compare).
- Keywords are chosen words: they count ``KEYWORD_WEIGHT`` times.

The words (``Analyzer``): lowercased, accents stripped (``océan`` and ``ocean`` are one word), French and
English stop words removed (stopwordsiso's lists), words shorter than three letters and numbers dropped, then
reduced to their Snowball stem (snowballstemmer) so that ``océans``, ``océanique`` and ``ocean`` meet, as do
``climatique`` and ``climate``. The stemmer is chosen per text — an abstract, a title, a keyword list — by the
language whose stop words it uses more; a text without any (a keyword list, a short title) gives the French and
the English stem of each word when they differ. Detecting per text rather than per document matters because a
reviewer's publications mix both languages. Each stem remembers the surface form it was most often written in,
so the officer reads ``océan``, not ``ocean`` or ``océ``.

The model (``affinity_fit``): TfidfVectorizer on the panel's proposals and pool together (idf is relative to
what this panel's texts share), sublinear term frequency (a word said ten times is not ten times the topic),
rows L2-normalised, so the cosine is a sparse dot product. ``AffinityModel.top`` computes it in blocks of
proposals (a block × pool dense array at most), keeps for each proposal the ``top_k`` best reviewers with a
score above 0 (argpartition), and names for each pair the words whose product of weights is largest.

Why at most ``TOP_K`` per proposal: the officer looks at the first ten; automatic assignment needs a few
reviewers per proposal and alternatives when the best are full or in conflict; 50 leaves it room while a panel
of 5,000 proposals and 1,000 reviewers stores at most 250,000 rows instead of five million. A pair not stored
scores 0, as it does in keyword matching when no keyword is shared.
"""

import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import snowballstemmer
import stopwordsiso
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

TOP_K = 50  # reviewers kept per proposal (see above)
TERMS = 6  # matching words kept per pair
KEYWORD_WEIGHT = 3  # a keyword counts as this many words of running text
SCALE = 1000  # score = round(cosine × SCALE), as Affinity.score stores it
BLOCK = 256  # proposals per block of the product (a BLOCK × pool float64 array at a time)
MIN_LENGTH = 3

_WORD = re.compile(r"[^\W\d_]+")


def _fold(word: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", word) if not unicodedata.combining(char))


@lru_cache(maxsize=1)
def _stop_words() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(all stop words, French-only ones, English-only ones), folded. The exclusive ones tell the language."""
    french = {_fold(word.casefold()) for word in stopwordsiso.stopwords("fr")}
    english = {_fold(word.casefold()) for word in stopwordsiso.stopwords("en")}
    return frozenset(french | english), frozenset(french - english), frozenset(english - french)


class Analyzer:
    """Text → stems, remembering each stem's surface forms. One per fit: the stems' caches and the forms are
    the corpus's. Callable, as TfidfVectorizer's ``analyzer``: the documents it gets are lists of texts."""

    def __init__(self):
        self.stop, self.french_only, self.english_only = _stop_words()
        self.french = snowballstemmer.stemmer("french")
        self.english = snowballstemmer.stemmer("english")
        self.folded: dict[str, str] = {}  # surface → folded, or "" for a word dropped
        self.stems: dict[tuple[str, str], tuple[str, ...]] = {}  # (folded, language) → stems
        self.forms: defaultdict[str, Counter] = defaultdict(Counter)  # stem → surface forms → count

    def _fold(self, surface: str) -> str:
        folded = self.folded.get(surface)
        if folded is None:
            folded = _fold(surface)
            if len(folded) < MIN_LENGTH or folded in self.stop:
                folded = ""
            self.folded[surface] = folded
        return folded

    def _stems(self, folded: str, language: str) -> tuple[str, ...]:
        key = (folded, language)
        stems = self.stems.get(key)
        if stems is None:
            if language == "fr":
                stems = (self.french.stemWord(folded),)
            elif language == "en":
                stems = (self.english.stemWord(folded),)
            else:
                stems = tuple(dict.fromkeys((self.french.stemWord(folded), self.english.stemWord(folded))))
            self.stems[key] = stems
        return stems

    def language(self, surfaces: Sequence[str]) -> str:
        """"fr", "en", or "" when the text uses no stop word of either (keywords, short titles)."""
        french = english = 0
        for surface in surfaces:
            folded = _fold(surface)
            french += folded in self.french_only
            english += folded in self.english_only
        return "fr" if french > english else "en" if english > french else ""

    def text(self, text: str, weight: int = 1) -> list[str]:
        """The stems of one text (one language), each ``weight`` times."""
        surfaces = _WORD.findall((text or "").casefold())
        language = self.language(surfaces)
        stems = []
        for surface in surfaces:
            folded = self._fold(surface)
            if not folded:
                continue
            for stem in self._stems(folded, language):
                self.forms[stem][surface] += weight
                stems.extend([stem] * weight)
        return stems

    def __call__(self, document: "Document") -> list[str]:
        stems = []
        for text in document.texts:
            stems.extend(self.text(text))
        for text in document.keywords:
            stems.extend(self.text(text, KEYWORD_WEIGHT))
        return stems

    def readable(self, stem: str) -> str:
        """The surface form this stem was most often written in (ties: the first met)."""
        forms = self.forms.get(stem)
        return forms.most_common(1)[0][0] if forms else stem


@dataclass(frozen=True)
class Document:
    """A proposal's or reviewer's text: running texts (each detected in its own language) and keyword lists."""

    id: int
    texts: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


def proposal_document(*, id: int, title: str, abstract: str, keywords: str) -> Document:  # noqa: A002 -- a record's id
    return Document(id=id, texts=(title or "", abstract or ""), keywords=(keywords or "",))


def reviewer_document(*, id: int, keywords: str, publications: Iterable[tuple[str, str, str]]) -> Document:  # noqa: A002
    """``publications``: (title, abstract, keywords) of each of the reviewer's publications."""
    texts, publication_keywords = [], []
    for title, abstract, words in publications:
        texts.extend((title or "", abstract or ""))
        publication_keywords.append(words or "")
    return Document(id=id, texts=tuple(texts), keywords=(keywords or "", *publication_keywords))


@dataclass(frozen=True)
class Match:
    proposal_id: int
    reviewer_id: int
    score: int  # 1–1000
    terms: list[str]  # readable matching words, best first


@dataclass
class AffinityModel:
    proposal_ids: list[int]
    reviewer_ids: list[int]
    proposals: object  # CSR, one L2-normalised row per proposal
    reviewers: object  # CSR, one L2-normalised row per reviewer
    vocabulary: list[str]  # column → readable word
    seconds: dict[str, float] = field(default_factory=dict)

    def top(self, *, top_k: int = TOP_K, terms: int = TERMS, block: int = BLOCK) -> list[Match]:
        """For each proposal, its ``top_k`` best reviewers with a score of at least 1 (of 1000), best first,
        with the ``terms`` words that weigh most in each match."""
        started = time.perf_counter()
        matches: list[Match] = []
        n_reviewers = len(self.reviewer_ids)
        if not n_reviewers or not self.proposal_ids:
            return matches
        k = min(top_k, n_reviewers)
        reviewers_t = self.reviewers.T.tocsr()
        for start in range(0, len(self.proposal_ids), block):
            rows = self.proposals[start:start + block]
            cosine = (rows @ reviewers_t).toarray()
            if k < n_reviewers:
                best = np.argpartition(-cosine, k - 1, axis=1)[:, :k]
            else:
                best = np.tile(np.arange(n_reviewers), (cosine.shape[0], 1))
            for offset in range(cosine.shape[0]):
                chosen = best[offset]
                scores = np.rint(cosine[offset, chosen] * SCALE).astype(int)
                keep = scores > 0
                if not keep.any():
                    continue
                chosen, scores = chosen[keep], scores[keep]
                order = np.argsort(-scores, kind="stable")
                chosen, scores = chosen[order], scores[order]
                words = self._terms(rows[offset], chosen, terms)
                proposal_id = self.proposal_ids[start + offset]
                matches.extend(Match(proposal_id, self.reviewer_ids[j], min(int(score), SCALE), pair_words)
                               for j, score, pair_words in zip(chosen, scores, words, strict=True))
        self.seconds["top"] = time.perf_counter() - started
        return matches

    def _terms(self, row, chosen, count: int) -> list[list[str]]:
        """The words of the largest products of weights between the proposal ``row`` and each chosen reviewer:
        one sub-matrix (chosen reviewers × the proposal's words) per proposal."""
        columns = row.indices
        weights = self.reviewers[chosen][:, columns].toarray() * row.data
        found = []
        for products in weights:
            positive = np.flatnonzero(products > 0)
            ranked = positive[np.argsort(-products[positive], kind="stable")]
            # Two stems can read the same (a French and an English stem of one keyword): each word once.
            words = list(dict.fromkeys(self.vocabulary[columns[i]] for i in ranked[:2 * count]))
            found.append(words[:count])
        return found

    def scores(self, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """The score (0–1000) of any pairs, stored or not — the benchmark rates other assignments with it."""
        proposal_row = {pid: i for i, pid in enumerate(self.proposal_ids)}
        reviewer_row = {rid: j for j, rid in enumerate(self.reviewer_ids)}
        pairs = list(pairs)
        if not pairs:
            return {}
        left = self.proposals[[proposal_row[p] for p, _ in pairs]]
        right = self.reviewers[[reviewer_row[r] for _, r in pairs]]
        cosine = np.asarray(left.multiply(right).sum(axis=1)).ravel()
        return {pair: min(int(round(value * SCALE)), SCALE) for pair, value in zip(pairs, cosine, strict=True)}


def affinity_fit(proposals: Sequence[Document], reviewers: Sequence[Document]) -> AffinityModel:
    """The TF-IDF model of a panel: fitted on its proposals and its pool together."""
    started = time.perf_counter()
    analyzer = Analyzer()
    documents = [*proposals, *reviewers]
    analyzed = [analyzer(document) for document in documents]
    vocabulary: list[str] = []
    if any(analyzed):
        vectorizer = TfidfVectorizer(analyzer=lambda stems: stems, sublinear_tf=True, norm="l2", dtype=np.float64)
        matrix = vectorizer.fit_transform(analyzed).tocsr()
        vocabulary = [analyzer.readable(stem) for stem in vectorizer.get_feature_names_out()]
    else:  # no word at all: nothing matches (TfidfVectorizer refuses an empty vocabulary)
        matrix = csr_matrix((len(documents), 1))
    n = len(proposals)
    return AffinityModel(
        proposal_ids=[document.id for document in proposals], reviewer_ids=[document.id for document in reviewers],
        proposals=matrix[:n], reviewers=matrix[n:], vocabulary=vocabulary or [""],
        seconds={"fit": time.perf_counter() - started},
    )
