"""What every part of a benchmark run is given: its mode (``Context``) and where progress goes (``log``)."""

from __future__ import annotations

import dataclasses
import sys
import time


@dataclasses.dataclass
class Context:
    """What a measurement is run with: ``tiny`` mode proves it works in seconds."""

    tiny: bool = False

    def n(self, full: int, tiny: int) -> int:
        return tiny if self.tiny else full


def log(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
