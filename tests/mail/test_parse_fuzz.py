"""parse_message never raises, and what it returns can always be stored: on arbitrary bytes and
on corpus messages with bytes flipped, inserted, deleted, spliced and cut."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mail.mailcorpus import corpus_files
from wikibridge.mail.parse import ParsedMessage, parse_message

CORPUS = [path.read_bytes() for path in corpus_files()]

# Bytes that matter to a MIME parser, so mutations hit structure rather than only text.
TOKENS = [
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n\r\n",
    b"\xff\xfe",
    b"\xc3",
    b":",
    b";",
    b'"',
    b"\\",
    b"<",
    b">",
    b"=?",
    b"?=",
    b"=?utf-8?b?",
    b"=?x-unknown?q?=FF",
    b"--",
    b"boundary=",
    b"charset=",
    b"filename*0*=utf-8''%",
    b"Content-Type: multipart/mixed; boundary=x\n",
    b"Content-Type: message/rfc822\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"\n--x\n",
    b"\n--x--\n",
    b"=\n",
]

# At least 200 examples (it is fast); more under the dev and fuzz-long profiles (README).
FUZZ = settings(
    max_examples=max(200, settings().max_examples),
    deadline=None,
    database=None,  # no example directory in the working tree; failures print their input
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated_corpus_message(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        pos = draw(st.integers(min_value=0, max_value=len(raw)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut", "repeat"]))
        if op == "flip" and pos < len(raw):
            raw[pos] = draw(st.integers(min_value=0, max_value=255))
        elif op == "insert":
            raw[pos:pos] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del raw[pos : pos + draw(st.integers(min_value=1, max_value=64))]
        elif op == "cut":
            del raw[pos:]
        else:  # repeat a slice: deeper nesting, repeated headers and boundaries
            raw[pos:pos] = raw[pos : pos + draw(st.integers(min_value=1, max_value=200))] * 3
    return bytes(raw)


def assert_storable(msg: ParsedMessage) -> None:
    """The promise ingest relies on: every text field can go into PostgreSQL as it is."""
    texts = [getattr(msg, f.name) for f in dataclasses.fields(msg)]
    texts = [t for t in texts if isinstance(t, str)]
    texts += msg.to + msg.cc + msg.in_reply_to + msg.references
    for att in msg.attachments:
        texts += [att.filename, att.content_type, att.content_id]
        assert isinstance(att.data, bytes)
    for text in texts:
        assert "\x00" not in text
        text.encode("utf-8")
    assert len(msg.sender_address) <= 254
    assert len(msg.message_id) <= 1000


@FUZZ
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    assert_storable(parse_message(raw))


@FUZZ
@given(mutated_corpus_message())
def test_mutated_corpus_messages_never_raise(raw: bytes) -> None:
    assert_storable(parse_message(raw))
