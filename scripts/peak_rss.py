"""Run a command and report its peak resident memory, as the kernel counted it.

    python scripts/peak_rss.py COMMAND [ARGS...]

The command inherits standard input and output; its exit status is this program's, and the
last line on standard error is `peak_rss_kib=N`. Measure through this small process rather
than from a large one: Linux counts a child's peak from the moment it is forked, so a
command started straight from a big parent (a test run, say) would be charged the parent's
memory until it execs.
"""

import os
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: peak_rss.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    process = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(process.pid, 0)
    print(f"peak_rss_kib={usage.ru_maxrss}", file=sys.stderr)  # KiB on Linux
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
