"""Reading the message data of an SMTP/LMTP DATA command, in pieces rather than line by line.

aiosmtpd reads DATA one line at a time: per line an ``await``, a log call and a few list and
bytearray operations, which for a typical message of ~90 lines cost more CPU than anything
else the listener does on its event loop. Here the stream is read up to each ``.<CRLF>``
(or a reader-buffer's worth when there is none), so a message takes a handful of reads, and
the checks aiosmtpd makes per line -- the data size limit, the line length limit, removing
the dot a client doubles at the start of a line (RFC 5321 4.5.2) -- run over whole pieces
in C (``bytes.split``, ``bytes.replace``).

The result is the same bytes aiosmtpd would hand the handler, and the same refusals.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

END = b".\r\n"
CRLF = b"\r\n"
TOO_LONG_REPLY = "500 Line too long (see RFC5321 4.5.3.1.6)"
TOO_MUCH_REPLY = "552 Error: Too much mail data"


@dataclass(frozen=True)
class Refused:
    """The data was read to its end but cannot be accepted: the reply that says why."""

    reply: str


async def read_data(
    reader: asyncio.StreamReader, *, max_bytes: int | None, max_line: int
) -> bytes | Refused:
    """Read up to the line holding a lone dot; the content without it, dots undoubled.

    ``max_bytes``: more data than this is refused (552) and, as it arrives, thrown away, so
    a client cannot fill our memory; None: no limit. ``max_line``: a line longer than this,
    its CRLF included, is refused (500). Either way the client's data is read to its end,
    so the connection stays in step for the next command.
    """
    pieces: list[bytes] = []
    size = 0
    too_much = False
    # The last two bytes read: the dot of ".\r\n" ends the data when they are a CRLF. The
    # data starts at the start of a line, as if after one.
    tail = CRLF
    while True:
        try:
            piece = await reader.readuntil(END)
        except asyncio.LimitOverrunError as e:
            # No ".\r\n" within the reader's limit: take what is safely before any that
            # may still come (the reader keeps the bytes it could start with).
            piece = await reader.read(e.consumed)
        last = piece.endswith(END) and (tail + piece[-5:-3])[-2:] == CRLF
        if last:
            piece = piece[:-3]  # the CRLF before the dot ends the last line: it stays
        size += len(piece)
        if max_bytes and size > max_bytes:
            too_much = True
            pieces.clear()
        elif not too_much:
            pieces.append(piece)
        if last:
            break
        tail = (tail + piece[-2:])[-2:]
    if too_much:
        return Refused(TOO_MUCH_REPLY)
    data = b"".join(pieces)
    if _longest_line(data) > max_line:
        return Refused(TOO_LONG_REPLY)
    return undouble_dots(data)


def _longest_line(data: bytes) -> int:
    """Length of the longest line, its CRLF included (lines end with CRLF, as on the wire)."""
    return max(map(len, data.split(CRLF))) + len(CRLF)


def undouble_dots(data: bytes) -> bytes:
    """Remove the dot that starts a line: the client added it (RFC 5321 4.5.2).

    Like aiosmtpd, the first dot of every line that starts with one goes, not only of "..".
    """
    if data.startswith(b"."):
        data = data[1:]
    return data.replace(b"\r\n.", b"\r\n")
