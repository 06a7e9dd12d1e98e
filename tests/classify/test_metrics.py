"""Classification metrics."""

from __future__ import annotations

import numpy as np

from earful.classify.metrics import classification_report, group_accuracy


def test_group_accuracy_lists_the_hardest_speaker_first() -> None:
    groups = ["ann", "ann", "bob", "bob", "bob", "cy", ""]
    y_true = np.array([0, 1, 0, 1, 1, 0, 1])
    y_pred = np.array([0, 1, 1, 0, 1, 0, 0])
    out = group_accuracy(groups, y_true, y_pred)
    assert list(out) == ["(none)", "bob", "ann", "cy"]
    assert out["bob"] == {"n": 3, "accuracy": round(1 / 3, 4)}
    assert out["ann"]["accuracy"] == 1.0 and out["(none)"]["n"] == 1


def test_report_counts_and_normalises() -> None:
    report = classification_report(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ["a", "b"])
    assert report["accuracy"] == 0.75 and report["n"] == 4
    assert report["confusion_matrix"] == [[0.5, 0.5], [0.0, 1.0]]
    assert report["per_class"]["b"]["precision"] == round(2 / 3, 4)
