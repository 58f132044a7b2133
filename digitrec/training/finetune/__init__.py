"""Fine-tuning on the saved drawings without forgetting MNIST or other writers.

``tuning`` is the recipe and the run (``finetune``), ``data`` what it reads (saved drawings, the
MNIST replay, validation writers), ``report`` the card and report it writes.
"""

from digitrec.training.finetune.report import format_report
from digitrec.training.finetune.tuning import FinetuneConfig, finetune, prepare

__all__ = ["FinetuneConfig", "finetune", "format_report", "prepare"]
