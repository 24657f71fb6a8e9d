"""Reading DATA in pieces gives what reading it line by line (as aiosmtpd does) gives."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from wikibridge.mail.data import (
    TOO_LONG_REPLY,
    TOO_MUCH_REPLY,
    Refused,
    read_data,
    undouble_dots,
)

MAX_LINE = 1001  # aiosmtpd's line_length_limit


def on_the_wire(lines: list[bytes]) -> bytes:
    """What a client sends for these lines: a leading dot doubled, then the lone dot."""
    return b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)


def read(
    wire: bytes,
    *,
    chunks: list[int] | None = None,
    limit: int = MAX_LINE,
    max_bytes: int | None = None,
) -> tuple[bytes | Refused, bytes]:
    """Feed the bytes to a reader (split where `chunks` says, as the network may deliver
    them); what read_data returns and what it leaves in the reader for the next command."""

    async def run() -> tuple[bytes | Refused, bytes]:
        reader = asyncio.StreamReader(limit=limit)

        async def feed() -> None:
            rest = wire
            for size in chunks or []:
                reader.feed_data(rest[:size])
                rest = rest[size:]
                await asyncio.sleep(0)
            reader.feed_data(rest)
            reader.feed_eof()

        feeding = asyncio.ensure_future(feed())
        result = await read_data(reader, max_bytes=max_bytes, max_line=MAX_LINE)
        await feeding
        return result, await reader.read()

    return asyncio.run(run())


line = st.one_of(
    st.sampled_from([b"", b".", b"..", b".x", b"x.", b"\r", b"\n", b"a\nb", b". ", b"\r\n"]),
    st.binary(max_size=40).map(lambda b: b.replace(b"\r\n", b"")),
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(line, max_size=30).map(
        lambda ls: [x.replace(b"\r\n", b"") for x in ls if not x.endswith(b"\r")]
    ),
    chunks=st.lists(st.integers(min_value=1, max_value=9), max_size=40),
    limit=st.sampled_from([4, 7, 64, MAX_LINE]),
)
def test_any_message_split_anywhere_comes_back_whole(
    lines: list[bytes], chunks: list[int], limit: int
) -> None:
    wire = on_the_wire(lines) + b".\r\nQUIT\r\n"

    content, left = read(wire, chunks=chunks, limit=limit)

    assert content == b"".join(x + b"\r\n" for x in lines)
    assert left == b"QUIT\r\n"  # the next command stays for the command loop


def test_empty_message() -> None:
    assert read(b".\r\nNOOP\r\n") == (b"", b"NOOP\r\n")


def test_a_dot_not_alone_on_its_line_does_not_end_the_data() -> None:
    wire = b"Subject: x\r\n\r\nEnd of sentence.\r\n.\r\n"
    assert read(wire, chunks=[14, 1, 1, 1, 1]) == (b"Subject: x\r\n\r\nEnd of sentence.\r\n", b"")


def test_the_dot_after_a_crlf_split_between_reads_ends_the_data() -> None:
    # "\r" and "\n" of the line end arrive apart, the reader's limit forcing a partial read.
    wire = b"abcdefgh\r\n.\r\nRSET\r\n"
    assert read(wire, chunks=[9, 1], limit=4) == (b"abcdefgh\r\n", b"RSET\r\n")


def test_too_much_data_is_refused_after_reading_to_the_end() -> None:
    wire = b"x" * 70 + b"\r\n" + (b"y" * 70 + b"\r\n") * 50 + b".\r\nQUIT\r\n"
    assert read(wire, max_bytes=2000) == (Refused(TOO_MUCH_REPLY), b"QUIT\r\n")
    content, _ = read(wire, max_bytes=len(wire))
    assert isinstance(content, bytes)


def test_a_line_longer_than_the_limit_is_refused() -> None:
    long_line = b"z" * (MAX_LINE - 1)  # with its CRLF, one more than the limit
    assert read(long_line + b"\r\n.\r\n") == (Refused(TOO_LONG_REPLY), b"")
    ok = b"z" * (MAX_LINE - 2) + b"\r\n"
    assert read(ok + b".\r\n") == (ok, b"")


def test_undouble_dots_removes_one_leading_dot_per_line() -> None:
    assert undouble_dots(b"..a\r\n.b\r\nc.\r\n...\r\n") == b".a\r\nb\r\nc.\r\n..\r\n"
