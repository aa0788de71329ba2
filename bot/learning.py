"""A small text classifier the clinic's own data trains at start-up.

Multinomial logistic regression (scikit-learn) over an analysed message's word stems and stem
pairs, weighted by TF-IDF. Triage learns emergencies from labelled messages with it; search
learns which passage content staff wrote each example question for. scikit-learn fits it;
scoring one message is done here from the fitted arrays, the same arithmetic as
TfidfVectorizer.transform + predict_proba without their per-call overhead.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


class StemClassifier:
    def __init__(self, texts: Sequence[Sequence[str]], labels: Sequence[str], regularisation: float) -> None:
        """`texts` are stem sequences; at least two distinct labels are needed."""
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", lowercase=False)
        model = LogisticRegression(C=regularisation, max_iter=5000).fit(
            vectorizer.fit_transform([" ".join(t) for t in texts]), list(labels))
        self._feature = {str(term): i for term, i in vectorizer.vocabulary_.items()}
        self._idf = vectorizer.idf_
        self._weights = np.ascontiguousarray(model.coef_.T)  # features x classes
        self._bias = model.intercept_
        self.classes: tuple[str, ...] = tuple(str(c) for c in model.classes_)

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
