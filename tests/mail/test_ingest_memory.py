"""A 25 MB attachment piped into `wikibridge ingest` is stored whole within the memory target.

The issue's target: ingest of a 25 MB message in at most 300 MB of resident memory. The pipe
is a real process, as the mail server starts it, measured from a fresh wrapper (bench.peak:
a child's peak would otherwise start at the size of this test process).
"""

from __future__ import annotations

import base64
import hashlib
import random
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.peak import measure
from tests.cli import ROOT
from wikibridge.config import Settings
from wikibridge.files import ContentStore
from wikibridge.models import Attachment

ATTACHMENT_BYTES = 25 * 1024 * 1024
PEAK_LIMIT_MB = 300


def large_message(data: bytes) -> bytes:
    """A scan as mail clients send one: base64 in 76-character lines, 33.8 MB on the wire."""
    return (
        b"From: Photographer <photographer@example.net>\n"
        b"To: permissions-commons@example.org\n"
        b"Subject: Scans of the signed release\n"
        b"Message-ID: <large-scan@example.net>\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b1"\n\n'
        b"--b1\nContent-Type: text/plain; charset=utf-8\n\nThe signed release is attached.\n"
        b"--b1\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="release.pdf"\n\n'
        + base64.encodebytes(data)
        + b"--b1--\n"
    )


def test_a_25_mb_attachment_is_stored_whole_within_300_mb(
    settings: Settings,
    settings_env: dict[str, str],
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    data = random.Random(25).randbytes(ATTACHMENT_BYTES)  # incompressible, like a scan
    message = tmp_path / "large.eml"
    message.write_bytes(large_message(data))
    env = {**settings_env, "PYTHONPATH": str(ROOT)}

    result = measure([sys.executable, "-m", "wikibridge", "ingest"], message, env, ROOT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stored ticket"), result.stdout
    assert result.peak_mb <= PEAK_LIMIT_MB, f"peak {result.peak_mb:.0f} MB"
    with session_factory() as session:
        attachment = session.scalars(
            select(Attachment).where(Attachment.filename == "release.pdf")
        ).one()
    expected = hashlib.sha256(data).hexdigest()
    assert (attachment.blob_sha256, attachment.size) == (expected, ATTACHMENT_BYTES)
    blob = ContentStore(settings.blob_dir).path(attachment.blob_sha256)
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == expected
