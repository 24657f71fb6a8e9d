"""`python -m bench ingest ...`: run a benchmark by name."""

import sys

from bench import archive, ingest, pages
from bench.peers import rt

BENCHMARKS = {"ingest": ingest.main, "archive": archive.main, "pages": pages.main, "rt": rt.main}

if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in BENCHMARKS:
        sys.exit(f"usage: python -m bench {{{','.join(BENCHMARKS)}}} [options]")
    BENCHMARKS[name](sys.argv[2:])
