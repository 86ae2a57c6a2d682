"""A progress bar on standard error that stays quiet when it is not a terminal."""

import sys

from tqdm import tqdm


def on_terminal() -> bool:
    return sys.stderr.isatty()


def progress(iterable=None, *, total=None, desc=None, unit="image"):
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not on_terminal(),
        leave=False,
    )


def reading(stream, *, total=None, desc=None):
    """A context manager giving `stream` back with a bar of the bytes read from it; a stream
    of entries is read before they are known, so its bytes are what can be counted."""
    return tqdm.wrapattr(
        stream,
        "read",
        total=total,
        desc=desc,
        file=sys.stderr,
        disable=not on_terminal(),
        leave=False,
    )
