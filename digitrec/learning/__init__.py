"""Learn my handwriting: a user's personal model, fine-tuned in a worker process, answering that user.

``job`` is one Learn (what ``python -m digitrec learn`` runs; it imports TensorFlow, so only a worker
process or the command line calls it), ``queue`` the apps' bounded queue of worker processes, ``models``
who answers a user (their personal model, cached on local disk, or the app's own).
"""

from digitrec.learning.job import MIN_DRAWINGS, TooFewDrawings, check_enough
from digitrec.learning.models import OUTDATED, PersonalModels, personal_dir
from digitrec.learning.queue import LIMIT, AlreadyLearning, Job, Learner, LearnRefused, QueueFull

__all__ = [
    "LIMIT",
    "MIN_DRAWINGS",
    "OUTDATED",
    "AlreadyLearning",
    "Job",
    "LearnRefused",
    "Learner",
    "PersonalModels",
    "QueueFull",
    "TooFewDrawings",
    "check_enough",
    "personal_dir",
]
