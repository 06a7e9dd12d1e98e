"""Classification metrics (scikit-learn) and the confusion-matrix figure."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str],
                          ) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the normalised confusion matrix."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    idx = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=idx, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=idx, normalize="true")
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=idx, average="macro",
                                         zero_division=0)), 4),
        "n": len(y_true),
        "per_class": {labels[i]: {"precision": round(float(p[i]), 4),
                                  "recall": round(float(r[i]), 4),
                                  "f1": round(float(f[i]), 4), "support": int(s[i])}
                      for i in idx},
        "confusion_matrix": np.nan_to_num(cm).round(4).tolist(),
        "labels": labels,
    }


def group_accuracy(groups: list[str], y_true: np.ndarray, y_pred: np.ndarray,
                   ) -> dict[str, dict[str, float]]:
    """Clips and accuracy per group (speaker), hardest first.

    On a speaker-disjoint test set a few speakers can hold most of the errors; this shows
    whether a figure is carried by many speakers or decided by one.
    """
    names, hit = np.asarray(groups), np.asarray(y_true) == np.asarray(y_pred)
    out = {str(g) or "(none)": {"n": int((names == g).sum()),
                                "accuracy": round(float(hit[names == g].mean()), 4)}
           for g in np.unique(names)}
    return dict(sorted(out.items(), key=lambda kv: (kv[1]["accuracy"], -kv[1]["n"])))


def plot_confusion(report: dict[str, Any], title: str = "Confusion matrix") -> Figure:
    """Row-normalised confusion matrix as a labelled heat map."""
    cm = np.asarray(report["confusion_matrix"])
    labels = report["labels"]
    size = max(5.0, 0.45 * len(labels) + 2)
    fig = Figure(figsize=(size, size * 0.85), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    if len(labels) <= 20:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if cm[i, j] >= 0.01:
                    ax.text(j, i, f"{cm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if cm[i, j] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="true",
           title=f"{title}\naccuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return fig
