"""``python -m flask_app``: the production server (waitress), debug always off.

python -m flask_app [--host 127.0.0.1] [--port 5000] [--threads 1] [--model FILE] [--db URL]
                    [--allow-saving | --no-saving]
"""

from __future__ import annotations

import argparse
import logging
import sys

from flask import Flask

from digitrec import ModelError, listen
from digitrec.feedback import saving_allowed
from digitrec.listen import add_saving_flags
from digitrec.store import Store, StoreError
from flask_app import create_app

log = logging.getLogger("flask_app")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m flask_app", description="Serve the digitrec web page and API.")
    ap.add_argument(
        "--host",
        type=listen.host,
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
    )
    ap.add_argument("--port", type=listen.port, default=5000, help="default 5000")
    # One: a prediction is pure CPU under one interpreter lock, so extra threads only contend for it
    # (benchmarks/results.md: 1 thread answers more requests, with a lower p99, than 2 or 4). waitress
    # still reads and writes every connection asynchronously, so a slow client holds no thread.
    # For more cores, run more processes (gunicorn -w N).
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="worker threads (default 1; use worker processes, gunicorn -w N, for more cores)",
    )
    ap.add_argument("--model", help="model file (default: $DIGITREC_MODEL, else models/digit_recognizer.keras)")
    ap.add_argument(
        "--db", help="drawing store: a database URL or SQLite file (default: $DIGITREC_DB, else the user data folder)"
    )
    add_saving_flags(ap)
    return ap


def production_app(model: str | None = None, db: str | None = None, allow_saving: bool = False) -> Flask:
    """The app as production serves it: FLASK_DEBUG and friends cannot switch debug on here."""
    app = create_app({"MODEL": model, "DRAWINGS_DB": db, "ALLOW_SAVING": allow_saving})
    app.debug = False  # Flask reads FLASK_DEBUG when it builds the config; that is for `flask run` only
    app.testing = False
    return app


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = production_app(args.model, args.db, saving_allowed(args.host, allow=args.saving))
        # the password hidden, a URL that cannot be read one line now rather than a 503 on every save
        kept = Store.open(args.db).describe() if app.config["ALLOW_SAVING"] else None
    except (ModelError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from waitress import create_server

    p = app.extensions["digitrec"]
    log.info("model %s (%s engine), %d threads", p.path, p.backend, args.threads)  # waitress logs the URL
    if kept:
        log.info("saving drawings: on, kept in %s", kept)
    else:
        log.info("saving drawings: off (--no-saving, $DIGITREC_ALLOW_SAVING=0 or beyond 127.0.0.1; --allow-saving: on)")
    # clear_untrusted_proxy_headers off: a reverse proxy's X-Forwarded-For reaches the app, which trusts it for
    # nothing (remote_addr stays the peer's) but to tell that visitor "on the server", never the store's path.
    listening = dict(host=args.host, port=args.port, threads=args.threads, clear_untrusted_proxy_headers=False)
    try:
        server = create_server(app, ident="digitrec", **listening)
    except OSError as exc:  # an address this machine does not have, a port in use
        print(listen.cannot_listen(f"{args.host}:{args.port}", exc), file=sys.stderr)
        return 2
    server.print_listen("Serving on http://{}:{}")  # what waitress.serve says
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
