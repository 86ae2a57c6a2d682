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
