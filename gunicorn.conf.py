"""gunicorn settings for the Flask app; gunicorn reads this file from the directory it starts in.

    gunicorn 'flask_app:create_app()'                       # one worker per CPU core, 127.0.0.1:8000
    gunicorn -w 4 -b 0.0.0.0:8000 'flask_app:create_app()'  # flags override these settings
    WEB_CONCURRENCY=3 gunicorn 'flask_app:create_app()'

Each worker is a separate process that imports the app and loads the model once, at boot (the
model is ~0.4 MB of weights and a worker ~85 MB of RSS in all, so no --preload is needed), and
then serves many requests. Workers share one listening socket: the kernel hands each
new connection to an idle worker. See docs/performance.md for measurements.
"""

import os

# NumPy's BLAS needs no setting here: loading the model limits it to one thread per process
# (digitrec.engines.numpy_net.limit_blas_threads, $DIGITREC_BLAS_THREADS), what workers sharing the cores need.


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Inference is CPU-bound: one worker per core. More workers only queue for the same cores.
workers = int(os.environ.get("WEB_CONCURRENCY", _cores()))
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # 0.0.0.0:8000 (-b) to serve other machines
timeout = 30
# gunicorn 27's control socket (for gunicornc) lives at one path per user: two servers would fight over it.
control_socket_disable = True
# The pid in every access-log line shows which worker answered (tests/test_serving.py reads it).
accesslog = "-"
access_log_format = '%(h)s pid=%(p)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker):
    """Log, once per worker, that this worker has its own model loaded and ready."""
    app = worker.wsgi
    config = getattr(app, "config", None)
    if config is not None and config.get("ALLOW_SAVING") is None:
        # Neither create_app's config nor $DIGITREC_ALLOW_SAVING (1 on, 0 off) said: saving corrections is
        # on only when every address it listens on is this machine's own. Behind a reverse proxy: =0.
        from digitrec.feedback import is_loopback

        config["ALLOW_SAVING"] = all(is_loopback(bind.rsplit(":", 1)[0]) for bind in worker.cfg.bind)
    predictor = getattr(app, "extensions", {}).get("digitrec")
    if predictor is not None:
        worker.log.info(
            "worker pid=%s loaded model %s (%s engine)", os.getpid(), predictor.path.name, predictor.backend
        )
