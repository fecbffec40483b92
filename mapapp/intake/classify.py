"""Which category a message is about: the layer files' keywords and hashtags, beside a character n-gram model.

Keywords (layers/*.yaml, synchronised into `categories.keywords`) are matched on folded text, lower case
with spaces and punctuation removed, so "가로 등이 나갔어요" and "street-light" still match "가로등" and
"streetlight". Typos, slang and words nobody listed are left to a multinomial naive Bayes model over
character 2–4-grams of the same folded text, trained on the labelled examples shipped in
`mapapp/intake/data/labelled.jsonl` (and any exported triage decisions in MAPAPP_INTAKE_EXAMPLES_DIR).
The two are mixed; the confidence is the mixed score of the best category, the evidence the words found.
A hashtag of an active disaster layer ('#침수') keeps the message on that layer's categories.
"""

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

NONE = "none"  # the label of a message that reports no problem (venting, thanks, questions)
DATA_DIR = Path(__file__).parent / "data"
LABELLED = DATA_DIR / "labelled.jsonl"
KEYWORD_WEIGHT = 0.6  # the rest is the model's (chosen on the training part, see tests/intake/test_accuracy.py)
NONE_WEIGHT = 0.5  # the keyword vote for "no problem" when nothing matched; one keyword outweighs it
HASHTAG = re.compile(r"#[^\s#]+")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN = re.compile(r"[a-zA-Z]")


def fold(text: str) -> str:
    """Lower case, compatibility-normalised, letters and digits only: spacing and punctuation never matter."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def hashtags(text: str) -> set[str]:
    """The hashtags of a text, lower case ('#Flood!' → '#flood')."""
    return {re.sub(r"[^\w#]+$", "", t.lower()) for t in HASHTAG.findall(unicodedata.normalize("NFKC", text))}


def language(text: str) -> str:
    """'ko' when the text has Hangul, else 'en'."""
    return "ko" if len(HANGUL.findall(text)) >= max(1, len(LATIN.findall(text)) // 8) else "en"


@dataclass(frozen=True)
class CategoryTerms:
    """One category as the classifier sees it."""

    slug: str
    layer: str
    layer_active: bool
    name_ko: str
    name_en: str
    terms: tuple[str, ...]  # as written in the layer file (ko and en), for the evidence
    hashtags: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The current categories with their keywords, and the hashtags of active disaster layers."""

    categories: tuple[CategoryTerms, ...]
    layer_hashtags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def category(self, slug: str) -> CategoryTerms | None:
        """The category with this slug, if current."""
        return next((c for c in self.categories if c.slug == slug), None)


@dataclass(frozen=True)
class Classification:
    """The best category (None: no problem reported), its confidence, the words that matched, the candidates."""

    category: str | None
    layer: str | None
    confidence: float
    evidence: list[str]
    candidates: list[dict[str, Any]]
    hashtag_layer: str | None = None


class NaiveBayes:
    """Multinomial naive Bayes over character 2–4-grams of folded text (Laplace smoothing)."""

    def __init__(self, alpha: float = 0.3, sizes: tuple[int, ...] = (2, 3, 4)) -> None:
        self.alpha = alpha
        self.sizes = sizes
        self.labels: list[str] = []
        self._index: dict[str, int] = {}
        self._log_prior = np.empty(0)
        self._log_like = np.empty((0, 0))
        self._log_unseen = np.empty(0)

    def features(self, text: str) -> Counter[str]:
        """The character n-grams of the folded text."""
        folded = fold(text)
        return Counter(folded[i : i + n] for n in self.sizes for i in range(len(folded) - n + 1))

    def fit(self, examples: Iterable[tuple[str, str]]) -> "NaiveBayes":
        """Learn from (text, label) pairs."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        docs: Counter[str] = Counter()
        for text, label in examples:
            counts[label].update(self.features(text))
            docs[label] += 1
        vocabulary = sorted(set().union(*counts.values())) if counts else []
        self.labels = sorted(counts)
        self._index = {gram: i for i, gram in enumerate(vocabulary)}
        # One row per n-gram, one column per label: log P(gram | label); unseen grams get the smoothed floor.
        self._log_like = np.empty((len(vocabulary), len(self.labels)))
        self._log_unseen = np.empty(len(self.labels))
        self._log_prior = np.empty(len(self.labels))
        total_docs = sum(docs.values())
        for j, label in enumerate(self.labels):
            total = sum(counts[label].values()) + self.alpha * (len(vocabulary) + 1)
            self._log_prior[j] = math.log(docs[label] / total_docs)
            self._log_unseen[j] = math.log(self.alpha / total)
            column = np.full(len(vocabulary), self._log_unseen[j])
            for gram, c in counts[label].items():
                column[self._index[gram]] = math.log((c + self.alpha) / total)
            self._log_like[:, j] = column
        return self

    def probabilities(self, text: str) -> dict[str, float]:
        """P(label | text) for every label (empty when untrained)."""
        if not self.labels:
            return {}
        grams = self.features(text)
        known = [(self._index[g], n) for g, n in grams.items() if g in self._index]
        unseen = sum(grams.values()) - sum(n for _, n in known)
        scores = self._log_prior + unseen * self._log_unseen
        if known:
            rows, weights = zip(*known, strict=True)
            scores = scores + np.asarray(weights, dtype=float) @ self._log_like[list(rows)]
        # Many n-grams make the posterior overconfident; a temperature keeps it usable as a vote.
        temperature = max(1.0, math.sqrt(sum(grams.values())))
        exp = np.exp((scores - scores.max()) / temperature)
        return {label: float(v) for label, v in zip(self.labels, exp / exp.sum(), strict=True)}


def read_examples(path: Path) -> list[dict[str, Any]]:
    """Labelled examples from a JSON-lines file: {"text": ..., "category": slug or null, ...} per line."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            examples.append(json.loads(line))
    return examples


def training_examples(extra_dir: Path | None = None) -> list[tuple[str, str]]:
    """(text, label) for the shipped training part and every exported decision file in `extra_dir`."""
    rows = [r for r in read_examples(LABELLED) if r.get("split") == "train"]
    if extra_dir is not None and extra_dir.is_dir():
        for path in sorted(extra_dir.glob("*.jsonl")):
            rows.extend(read_examples(path))
    return [(str(r["text"]), r.get("category") or NONE) for r in rows]


@lru_cache(maxsize=4)
def trained_model(extra_dir: Path | None = None) -> NaiveBayes:
    """The model, trained once per process (a few hundred examples: milliseconds)."""
    return NaiveBayes().fit(training_examples(extra_dir))


@lru_cache(maxsize=1024)
def _folded_terms(category: CategoryTerms) -> tuple[tuple[str, str], ...]:
    """(folded, as written) of a category's terms, folded once per vocabulary."""
    return tuple((fold(t), t) for t in category.terms if len(fold(t)) >= 2)


def keyword_scores(text: str, vocabulary: Vocabulary) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Per category: a score from the words and hashtags found, and those words (the evidence)."""
    folded, tags = fold(text), hashtags(text)
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for category in vocabulary.categories:
        found = [(key, term) for key, term in _folded_terms(category) if key in folded]
        # A term inside a longer one that also matched ("가로등" in "가로등고장") is not counted twice.
        keys = [k for k, _ in found]
        found = [(k, t) for k, t in found if not any(k != other and k in other for other in keys)]
        score = sum(1 + min(len(k), 8) / 8 for k, _ in found)
        words = [t for _, t in found]
        for tag in category.hashtags:
            if tag.lower() in tags:
                score += 3.0
                words.append(tag)
        if score:
            scores[category.slug], evidence[category.slug] = score, words
    return scores, evidence


def classify(text: str, vocabulary: Vocabulary, model: NaiveBayes | None = None) -> Classification:
    """The category a message is about, with confidence, evidence and the scored candidates."""
    scores, evidence = keyword_scores(text, vocabulary)
    total = sum(scores.values())
    labels = [c.slug for c in vocabulary.categories] + [NONE]
    keyword_part = {label: scores.get(label, 0.0) / (total + NONE_WEIGHT) for label in labels}
    keyword_part[NONE] = NONE_WEIGHT / (total + NONE_WEIGHT)
    model_part = (model or trained_model()).probabilities(text)
    mixed = {
        label: KEYWORD_WEIGHT * keyword_part[label] + (1 - KEYWORD_WEIGHT) * model_part.get(label, 0.0)
        for label in labels
    }
    tags = hashtags(text)
    hashtag_layer = next(
        (layer for layer, layer_tags in vocabulary.layer_hashtags.items() if tags & {t.lower() for t in layer_tags}),
        None,
    )
    if hashtag_layer is not None:
        # Citizens agreed on this hashtag for the disaster: it is a report, and one of the layer's kinds.
        on_layer = {c.slug for c in vocabulary.categories if c.layer == hashtag_layer}
        mixed = {label: (v if label in on_layer else v * 0.2) for label, v in mixed.items()}
        norm = sum(mixed.values()) or 1.0
        mixed = {label: v / norm for label, v in mixed.items()}
    ranked = sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))
    best, confidence = ranked[0]
    candidates = [{"category": label if label != NONE else None, "score": round(v, 3)} for label, v in ranked[:4]]
    if best == NONE:
        return Classification(None, None, round(confidence, 3), [], candidates, hashtag_layer)
    category = vocabulary.category(best)
    words = list(evidence.get(best, []))
    if hashtag_layer is not None:
        words += sorted(t for t in tags if t in {x.lower() for x in vocabulary.layer_hashtags[hashtag_layer]})
    return Classification(
        best, category.layer if category else None, round(confidence, 3), words, candidates, hashtag_layer
    )
