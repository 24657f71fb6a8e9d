"""wikibridge.mail.mime gives exactly what the email library gives, only with fewer copies:
the tree read in slices equals ``message_from_bytes``, and a decoded payload equals
``get_payload(decode=True)``, on the corpus, on mutated corpus mail and on odd base64."""

from __future__ import annotations

import email
import email.policy
from email.message import Message

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.mail.mailcorpus import corpus_files
from tests.mail.test_parse_fuzz import FUZZ, mutated_corpus_message
from wikibridge.mail import mime

CORPUS = {path.name: path.read_bytes() for path in corpus_files()}


def library_tree(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def shape(msg: Message) -> list[tuple[object, ...]]:
    """Everything the parser decided, part by part: headers, payload, defects."""
    out: list[tuple[object, ...]] = []
    for part in msg.walk():
        # As parsed: get_payload() would render 8-bit bytes in the part's charset parameter.
        body = None if part.is_multipart() else part._payload
        defects = [type(d).__name__ for d in part.defects]
        out.append((list(part.raw_items()), body, defects, part.get_unixfrom()))
    return out


def payloads(msg: Message) -> list[bytes | None]:
    return [mime.decoded_payload(part) for part in msg.walk()]


def library_payloads(msg: Message) -> list[bytes | None]:
    out: list[bytes | None] = []
    for part in msg.walk():
        data = part.get_payload(decode=True)
        out.append(data if isinstance(data, bytes) else None)
    return out


def assert_same_as_library(raw: bytes) -> None:
    ours, theirs = mime.read_tree(raw), library_tree(raw)
    assert shape(ours) == shape(theirs)
    assert payloads(ours) == library_payloads(theirs)


@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize("feed", [1, 2, 7, mime.FEED_BYTES])
def test_corpus_reads_and_decodes_as_the_library_does(
    name: str, feed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small slices cut CRLF pairs, boundaries and headers at every position.
    monkeypatch.setattr(mime, "FEED_BYTES", feed)
    assert_same_as_library(CORPUS[name])


@FUZZ
@given(mutated_corpus_message(), st.integers(min_value=1, max_value=64))
def test_mutated_mail_reads_and_decodes_as_the_library_does(raw: bytes, feed: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mime, "FEED_BYTES", feed)
        assert_same_as_library(raw)


# Pieces of base64 bodies as they come: valid quads, short and padded ends, padding in the
# middle, characters outside the alphabet, line ends of every kind, 8-bit bytes.
BASE64_PIECES = [
    b"QUJD",
    b"ZGVm",
    b"QQ==",
    b"QUI=",
    b"Q",
    b"=",
    b"==",
    b"===",
    b"\n",
    b"\r\n",
    b"\r",
    b" ",
    b"\t",
    b"!",
    b"-_",
    b"\x85",
    b"\xff",
    b"\x0b",
]


def base64_message(body: bytes, encoding: bytes = b"base64") -> bytes:
    return (
        b"From: a@example.org\nContent-Type: application/octet-stream\n"
        b"Content-Transfer-Encoding: " + encoding + b"\n\n" + body
    )


@FUZZ
@given(st.lists(st.sampled_from(BASE64_PIECES), max_size=30))
def test_any_base64_body_decodes_as_the_library_decodes_it(pieces: list[bytes]) -> None:
    assert_same_as_library(base64_message(b"".join(pieces)))


@pytest.mark.parametrize(
    ("body", "plain"),
    [
        (b"QUJD\nZGVm\n", True),
        (b"QUJD\r\nQQ==\r\n", True),
        (b"QUI=\n", True),
        (b"QU\n=\r\n=\n", True),  # padding across line breaks
        (b"", True),
        (b"QUJ\n", False),  # missing padding: the library repairs it
        (b"QQ==QUJD\n", False),  # data after padding
        (b"Q===\n", False),  # too much padding: the library keeps the text as it is
        (b"QUJDQ===\n", False),
        (b"QUJD ZGVm\n", False),  # a space: the library drops it
    ],
)
def test_only_well_formed_base64_takes_the_direct_way(body: bytes, plain: bool) -> None:
    text = body.decode("ascii")
    assert (mime.decode_plain_base64(text) is not None) is plain
    assert_same_as_library(base64_message(body))


def test_the_transfer_encoding_is_read_as_the_library_reads_it() -> None:
    assert_same_as_library(base64_message(b"QUJD\n", b"BASE64"))
    assert_same_as_library(base64_message(b"QUJD\n", b"base64 "))  # not base64 to the library


def test_eight_bit_bytes_under_an_odd_charset_parameter_are_left_to_the_library() -> None:
    # get_payload() without decoding raises here (it decodes the 8-bit byte with the charset
    # parameter, an RFC 2231 tuple); get_payload(decode=True) does not.
    raw = (
        b"From: a@example.org\nContent-Type: application/octet-stream; charset*=utf-8''x\n"
        b"Content-Transfer-Encoding: base64\n\nQUJD\xff\n"
    )
    assert_same_as_library(raw)
    assert mime.decoded_payload(mime.read_tree(raw)) == b"ABC"
