"""Peak memory of `wikibridge ingest` storing one large message (25 MB by default).

    python -m bench memory [--megabytes 25] [--database sqlite|postgres]

Builds a message with a PDF-like attachment of the given size (base64 on the wire, so the
message itself is about a third larger), pipes it into a fresh `wikibridge ingest` process on
an empty database, and reports the child's peak resident memory (measured by bench.peak from a
fresh process: see there why), the time taken and whether it was stored. Target of the
million-ticket issue: at most 300 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

from bench.peak import measure
from bench.targets import create_database, drop_database
from wikibridge import schema
from wikibridge.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def big_message(megabytes: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Photographer <photographer@example.net>"
    msg["To"] = "permissions-commons@example.org"
    msg["Subject"] = "Scans of the signed release"
    msg["Message-ID"] = "<big-scan@example.net>"
    msg.set_content("The signed release form is attached.")
    data = os.urandom(megabytes * 1024 * 1024)
    msg.add_attachment(data, maintype="application", subtype="pdf", filename="release.pdf")
    return msg.as_bytes()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench memory", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--megabytes", type=int, default=25)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wb-bench-memory-") as tmp:
        directory = Path(tmp)
        url = create_database(args.database, directory)
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        raw = big_message(args.megabytes)
        message = directory / "message.eml"
        message.write_bytes(raw)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")},
            "WIKIBRIDGE_DATA_DIR": str(directory / "data"),
            "WIKIBRIDGE_DATABASE_URL": url,
            "WIKIBRIDGE_SECRET_KEY": "bench",
            # Large enough for the message (the default cap refuses bigger mail).
            "WIKIBRIDGE_MAIL_MAX_MESSAGE_BYTES": str(len(raw) * 2),
            "PYTHONPATH": str(ROOT),
        }
        try:
            result = measure([sys.executable, "-m", "wikibridge", "ingest"], message, env, ROOT)
        finally:
            drop_database(url)  # a PostgreSQL database outlives the temporary directory
    status = "stored" if result.returncode == 0 else f"exit {result.returncode}"
    print(
        f"ingest of a {len(raw) / 1024 / 1024:.1f} MB message ({args.megabytes} MB attachment) "
        f"on {args.database}: {status} in {result.seconds:.2f} s, "
        f"peak RSS {result.peak_mb:.0f} MB (target 300 MB)"
    )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
