"""digitrec.calibrate: how far confidence is from accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec.calibrate import calibration_error, expected_calibration_error


def test_calibration_error_is_the_gap_between_claims_and_hits():
    sure = np.full(10, 0.95)
    assert calibration_error(sure, np.arange(10) < 5) == pytest.approx(0.45)  # claims 95%, half right
    assert calibration_error(np.full(4, 0.75), np.array([1, 1, 1, 0])) == pytest.approx(0.0)
    # Two bins, each weighed by its share: 0.2 claimed and 0 right, 0.9 claimed and all right.
    claims = np.array([0.2, 0.2, 0.9, 0.9])
    assert calibration_error(claims, np.array([0, 0, 1, 1])) == pytest.approx(0.5 * 0.2 + 0.5 * 0.1)
    with pytest.raises(ValueError, match="confidences"):
        calibration_error(sure, np.ones(3, bool))


def test_a_classifiers_error_is_that_of_its_top_claims():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=200)
    labels = rng.integers(0, 10, 200)
    expected = calibration_error(probs.max(axis=1), probs.argmax(axis=1) == labels)
    assert expected_calibration_error(probs, labels) == pytest.approx(expected)
