"""A small text classifier the clinic's own data trains at start-up.

Multinomial logistic regression (scikit-learn) over an analysed message's word stems and stem
pairs, weighted by TF-IDF. Triage learns emergencies from labelled messages with it; search
learns which passage content staff wrote each example question for. scikit-learn fits it;
scoring one message is done here from the fitted arrays, the same arithmetic as
TfidfVectorizer.transform + predict_proba without their per-call overhead. The fitted arrays
can be saved and loaded (bot/cache.py), so a cached start needs no fitting and no scikit-learn.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

ARRAYS = ("features", "idf", "weights", "bias", "classes")


class StemClassifier:
    def __init__(self, features: Sequence[str], idf: np.ndarray, weights: np.ndarray, bias: np.ndarray,
                 classes: Sequence[str]) -> None:
        """A fitted model: feature i is `features[i]`; weights are features x scores."""
        self._feature = {str(term): i for i, term in enumerate(features)}
        self._idf = np.asarray(idf, dtype=np.float64)
        self._weights = np.ascontiguousarray(weights, dtype=np.float64)
        self._bias = np.asarray(bias, dtype=np.float64)
        self.classes: tuple[str, ...] = tuple(str(c) for c in classes)
        if not (len(self._feature) == len(self._idf) == self._weights.shape[0] and self._weights.shape[1] == len(self._bias)):
            raise ValueError("inconsistent classifier arrays")

    @classmethod
    def fit(cls, texts: Sequence[Sequence[str]], labels: Sequence[str], regularisation: float) -> "StemClassifier":
        """`texts` are stem sequences; at least two distinct labels are needed."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", lowercase=False)
        model = LogisticRegression(C=regularisation, max_iter=5000).fit(
            vectorizer.fit_transform([" ".join(t) for t in texts]), list(labels))
        features = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        return cls(features, vectorizer.idf_, model.coef_.T, model.intercept_, [str(c) for c in model.classes_])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"features": np.asarray(list(self._feature), dtype=str), "idf": self._idf, "weights": self._weights,
                "bias": self._bias, "classes": np.asarray(self.classes, dtype=str)}

    @staticmethod
    def valid(arrays: Mapping[str, np.ndarray]) -> bool:
        """Whether saved arrays make a usable model (a damaged cache file may not)."""
        try:
            StemClassifier.from_arrays(arrays)
        except (KeyError, ValueError, IndexError, TypeError, AttributeError):
            return False
        return True

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> "StemClassifier":
        return cls(arrays["features"].tolist(), arrays["idf"], arrays["weights"], arrays["bias"],
                   arrays["classes"].tolist())

    def chances(self, stems: Sequence[str]) -> dict[str, float]:
        """Each class's probability, by name."""
        return dict(zip(self.classes, self.probabilities(stems).tolist()))

    def probabilities(self, stems: Sequence[str]) -> np.ndarray:
        """One probability per class, in the order of `classes`."""
        counts: dict[int, int] = {}
        for term in (*stems, *(f"{a} {b}" for a, b in zip(stems, stems[1:]))):
            i = self._feature.get(term)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        scores = self._bias.copy()
        if counts:
            index = np.fromiter(counts, dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self._idf[index]
            scores = scores + (values / np.linalg.norm(values)) @ self._weights[index]
        if len(self.classes) == 2:  # scikit-learn fits one score, for the second class, when there are two
            scores = np.array([0.0, scores[0]])
        p = np.exp(scores - scores.max())
        return p / p.sum()
