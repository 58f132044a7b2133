"""Where a server listens: ``--host`` and ``--port`` checked as its command line reads them.

    parser.add_argument("--host", type=listen.host, default="127.0.0.1")
    parser.add_argument("--port", type=listen.port, default=5000)

A name that does not resolve, or a port outside 1-65535, is then a usage error (one line, exit 2), as
``--port abc`` is, rather than a traceback from the server (or, from waitress, another port: it wraps 70000
round to 4464). ``cannot_listen`` words what is left: an address this machine does not have, a port in use.
``add_saving_flags`` gives every front end the same ``--allow-saving`` / ``--no-saving``.
"""

from __future__ import annotations

import argparse
import socket

from digitrec.feedback import ALLOW_ENV


def host(value: str) -> str:
    """``value`` if it names an interface to listen on (an address, or a name that resolves)."""
    try:
        socket.getaddrinfo(value, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:  # socket.gaierror; a label too long for IDNA
        raise argparse.ArgumentTypeError(
            f"cannot listen on {value!r}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    return value


def port(value: str) -> int:
    """``value`` as a TCP port number, 1 to 65535."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}: expected a number from 1 to 65535") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {number}: expected a number from 1 to 65535")
    return number


def cannot_listen(where: str, exc: OSError) -> str:
    """The one line for a server that could not listen at ``where`` ("host:port")."""
    return f"error: cannot listen on {where}: {exc.strerror or exc}"


def add_saving_flags(parser: argparse.ArgumentParser, allow: bool = True) -> None:
    """``--no-saving`` (and for a server, ``allow``, ``--allow-saving``): ``args.saving`` is then True,
    False or None (neither given), what ``saving_allowed`` takes."""
    flags = parser.add_mutually_exclusive_group()
    if allow:
        flags.add_argument(
            "--allow-saving",
            dest="saving",
            action="store_const",
            const=True,
            help="let visitors save drawings even when served beyond 127.0.0.1",
        )
    flags.add_argument(
        "--no-saving",
        dest="saving",
        action="store_const",
        const=False,
        help=f"save no drawings, not even on 127.0.0.1 (as {ALLOW_ENV}=0): behind a reverse proxy, say",
    )
