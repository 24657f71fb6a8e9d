"""`python -m bench NAME ...`: run a benchmark by name (see README's Performance section)."""

import sys

from bench import archive, ingest, memory, pages, report, verify_load
from bench.peers import rt

BENCHMARKS = {
    "ingest": ingest.main,
    "archive": archive.main,
    "pages": pages.main,
    "verify": verify_load.main,
    "rt": rt.main,
    "report": report.main,
    "memory": memory.main,
}

if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in BENCHMARKS:
        sys.exit(f"usage: python -m bench {{{','.join(BENCHMARKS)}}} [options]")
    BENCHMARKS[name](sys.argv[2:])
