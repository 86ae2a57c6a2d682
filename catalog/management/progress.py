"""A progress bar on standard error that stays quiet when it is not a terminal."""

import sys

from tqdm import tqdm


def progress(iterable=None, *, total=None, desc=None, unit="image"):
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    )
