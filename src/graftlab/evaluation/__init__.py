"""graftlab.evaluation: metrics, calibration, evaluation and prediction of saved models.

``full_metrics`` turns probabilities and labels into every number the CLI and the run report
show; ``evaluate`` and ``predict`` run a saved model over images with its own preprocessing.
"""

from graftlab.evaluation.calibration import expected_calibration_error, reliability_bins
from graftlab.evaluation.evaluate import evaluate
from graftlab.evaluation.metrics import classification_metrics, full_metrics
from graftlab.evaluation.predict import expand_inputs, predict, write_predictions

__all__ = [
    "classification_metrics",
    "evaluate",
    "expand_inputs",
    "expected_calibration_error",
    "full_metrics",
    "predict",
    "reliability_bins",
    "write_predictions",
]
