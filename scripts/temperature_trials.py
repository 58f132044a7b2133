"""Can a temperature chosen per drawing take the confidence out of the confident mistakes?

    python -m scripts.temperature_trials          # about 4 minutes on 2 free cores

The shipped model's probabilities already carry one temperature (fitted on the validation writers,
folded into its last layer). Here a second, per-drawing inverse temperature exp(w . g(x)) rescales
its log-probabilities, with g(x) from the drawing alone: the probabilities' margin and entropy, the
amount of ink, or the network's last hidden layer (``Predictor.features``). w is fitted by negative
log-likelihood on the VALIDATION writers' canvas renderings and judged on the TEST writers': accuracy
cannot move (a temperature keeps every answer), so the figures are calibration (ECE) and the share
of mistakes that still claim more than 90%. A global temperature is shown beside them for scale.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import minimize

from digitrec.calibrate import expected_calibration_error

L2 = 1e-3  # on every weight but the constant's: the hidden layer has 256 of them


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def describe(name: str, logp: np.ndarray, y: np.ndarray) -> str:
    p = _softmax(logp)
    confidence, wrong = p.max(axis=1), p.argmax(axis=1) != y
    over = int((confidence[wrong] > 0.9).sum())
    return (
        f"{name:<44} ECE {100 * expected_calibration_error(p, y):.2f}%  mistakes over 90%: "
        f"{over} of {int(wrong.sum())} ({100 * over / max(wrong.sum(), 1):.0f}%)  "
        f"right answers over 90%: {100 * (confidence[~wrong] > 0.9).mean():.1f}%"
    )


def inputs(logp: np.ndarray, framed: np.ndarray, features: np.ndarray, kind: str) -> np.ndarray:
    """g(x): a constant, then the columns ``kind`` names (m: margin, e: entropy, i: ink, f: hidden layer)."""
    top = np.sort(logp, axis=1)
    cols = [np.ones(len(logp))]
    if "m" in kind:
        cols += [top[:, -1] - top[:, -2], np.log1p(top[:, -1] - top[:, -2])]
    if "e" in kind:
        cols.append(-(np.exp(logp) * logp).sum(axis=1))
    if "i" in kind:
        ink = framed.reshape(len(framed), -1)
        cols += [ink.mean(axis=1), (ink > 0.5).mean(axis=1)]
    g = np.stack(cols, axis=1)
    return np.concatenate([g, features], axis=1) if "f" in kind else g


def fit(g: np.ndarray, logp: np.ndarray, y: np.ndarray) -> np.ndarray:
    def loss(w: np.ndarray) -> float:
        z = logp * np.exp(g @ w)[:, None]
        z = z - z.max(axis=1, keepdims=True)
        nll = np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]
        return float(nll.mean() + L2 * (w[1:] ** 2).sum())

    return minimize(loss, np.zeros(g.shape[1]), method="L-BFGS-B").x


def main() -> int:
    from digitrec.data.handwriting import load_handwriting, split
    from digitrec.data.renderings import CANVAS_RENDERINGS, framed_renderings
    from digitrec.predict import Predictor

    predictor = Predictor.load()
    groups = split(load_handwriting())
    data = {}
    for group in ("validation", "test"):
        framed, y = framed_renderings(groups[group], 0, list(CANVAS_RENDERINGS))
        logp = np.log(np.clip(predictor.probabilities(framed), 1e-12, 1.0))
        data[group] = (logp, framed, predictor.features(framed), y.astype(int))
    logp, _, _, y = data["test"]
    print("test writers, every canvas rendering:")
    print(describe("as shipped", logp, y))
    for t in (1.2, 1.5, 2.0):
        print(describe(f"one more global temperature x{t}", logp / t, y))
    kinds = {"me": "margin, entropy", "mei": "margin, entropy, ink", "mef": "margin, entropy, hidden layer"}
    logp_v, _, _, y_v = data["validation"]
    for kind, name in kinds.items():
        gv, gt = inputs(*data["validation"][:3], kind), inputs(*data["test"][:3], kind)
        mean, std = gv[:, 1:].mean(axis=0), gv[:, 1:].std(axis=0) + 1e-6
        gv[:, 1:], gt[:, 1:] = (gv[:, 1:] - mean) / std, (gt[:, 1:] - mean) / std
        w = fit(gv, logp_v, y_v)
        print(describe(f"per drawing from {name} (validation)", logp_v * np.exp(gv @ w)[:, None], y_v))
        print(describe(f"per drawing from {name} (test)", logp * np.exp(gt @ w)[:, None], y))
    return 0


if __name__ == "__main__":
    sys.exit(main())
