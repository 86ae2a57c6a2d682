"""Sections of docs/benchmarks.md that a script of their own writes and the others keep.

Each section sits between `<!-- name -->` and `<!-- /name -->`: scripts/soak.py writes
`soak`, scripts/benchmark_import.py writes `import`, and scripts/benchmark.py, which writes
the rest of the file anew, carries both over as they are.
"""

import re
from pathlib import Path

NAMES = ("import", "soak")


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name} -->", f"<!-- /{name} -->"


def kept_blocks(text: str) -> list[str]:
    """The script-owned sections of a report, in NAMES order."""
    found = []
    for name in NAMES:
        begin, end = markers(name)
        match = re.search(re.escape(begin) + ".*?" + re.escape(end), text, re.S)
        if match:
            found.append(match.group(0))
    return found


def write_block(path: Path, name: str, block: str) -> None:
    """Put `block` (which starts and ends with its markers) in place of the section of that
    name, or at the end of the file if it has none yet."""
    begin, end = markers(name)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + block + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")
