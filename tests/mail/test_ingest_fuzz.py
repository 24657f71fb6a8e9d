"""Property-based fuzzing of the whole ingest path (spool, parse, store), on SQLite and
PostgreSQL: every generated message is stored exactly once (ingesting it again is a duplicate)
or quarantined with a reason, and kept on disk; no exception escapes, nothing is lost.

Time and memory are bounded: the number of examples comes from the Hypothesis profile
(HYPOTHESIS_PROFILE: ci, the default, dev or fuzz-long; see tests/conftest.py and README), each
message is at most about 64 KiB, and the Python heap's peak during the run is asserted.
"""

from __future__ import annotations

import contextlib
import tracemalloc
from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.mail.test_parse_fuzz import TOKENS, mutated_corpus_message
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.mail.spool import Spool
from wikibridge.models import Article

MAX_PEAK = 256 * 1024 * 1024  # bytes of Python heap for the whole run

hostile_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\r", "\n", "\u202e", "="]),
    max_size=300,
)


@st.composite
def built_message(draw: st.DrawFn) -> bytes:
    """A message a mail program could send, with hostile values in every field."""
    msg = EmailMessage()
    for name in ("From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References"):
        if draw(st.booleans()):
            value = draw(hostile_text).replace("\r", " ").replace("\n", " ").replace("\x00", "")
            # The email package may refuse a value; raw variants come from the mutations.
            with contextlib.suppress(ValueError, TypeError, IndexError):
                msg[name] = value
    msg.set_content(draw(hostile_text))
    if draw(st.booleans()):
        msg.add_alternative(f"<p>{draw(hostile_text)}</p>", subtype="html")
    for _ in range(draw(st.integers(0, 3))):
        name = draw(hostile_text).replace("\x00", "") or "x"
        data = draw(st.binary(max_size=2000))
        with contextlib.suppress(ValueError, TypeError):
            msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():  # fixed boundaries: the email package would draw random ones
            part.set_boundary(f"=_fuzz_{i}_{draw(st.integers(0, 99))}")
    try:
        raw = msg.as_bytes()
    except (ValueError, TypeError, UnicodeError, LookupError):
        raw = str(msg).encode("utf-8", "surrogateescape")
    if draw(st.booleans()):  # and some raw damage on top
        pos = draw(st.integers(0, len(raw)))
        raw = raw[:pos] + draw(st.sampled_from(TOKENS)) + raw[pos:]
    return raw[: 64 * 1024]


messages = st.one_of(mutated_corpus_message(), built_message(), st.binary(max_size=2000))


def test_every_message_is_stored_once_or_quarantined(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    ingestor = Ingestor(settings, session_factory)
    spool = Spool(settings.data_dir)
    stored: set[str] = set()
    quarantined: set[str] = set()

    @given(messages)
    def ingest_twice(raw: bytes) -> None:
        first = ingestor.ingest(raw)
        known = first.sha256 in stored
        if known:
            assert first.status == "duplicate", first
        elif first.status == "quarantined":
            assert first.reason, first
            quarantined.add(first.sha256)
        else:
            assert first.status == "stored", first
            assert first.article_id is not None and first.ticket_number
            stored.add(first.sha256)
        again = ingestor.ingest(raw)
        assert again.status == ("quarantined" if first.sha256 in quarantined else "duplicate")
        assert spool.raw.get(first.sha256) == raw  # kept either way
        assert spool.pending() == []

    tracemalloc.start()
    try:
        ingest_twice()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with session_factory() as s:
        articles = s.scalar(select(func.count()).select_from(Article))
    print(f"stored={len(stored)} quarantined={len(quarantined)} peak_heap={peak // 1024} KiB")
    assert articles == len(stored)
    assert {e.sha256 for e in spool.quarantined()} == quarantined
    assert peak < MAX_PEAK
