"""Settings every test (and every notebook run by nbval) shares."""

import os
from pathlib import Path

_shared = Path(__file__).resolve().parent.parent / "shared" / "data"
for _var, _folder in (("DIGITREC_MNIST_DIR", "mnist"), ("DIGITREC_HANDWRITING_DIR", "handwriting")):
    if _var not in os.environ and (_shared / _folder).is_dir():
        os.environ[_var] = str(_shared / _folder)
os.environ.setdefault("DIGITREC_QUICK", "1")  # notebooks: a data subset and one epoch
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MPLBACKEND", "Agg")

# Child processes (nbval's notebook kernels, scripts run by the tests) import this checkout's digitrec,
# not whichever checkout the environment's editable install points at (another git worktree), nor none.
_root = str(Path(__file__).resolve().parent)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_root, os.environ.get("PYTHONPATH", "")) if p)
