"""Envelope addresses of MAIL FROM and RCPT TO, parsed fast when they are plain.

aiosmtpd parses each one with the standard library's RFC 5322 header parser
(``email._header_value_parser.get_angle_addr``), which builds a token tree in Python: for
``<reader@example.net>`` that cost as much CPU as reading the whole message. Nearly every
address a mail server sends is ``<dot-atom@domain>``; those are taken apart with one regular
expression here, with the same result. Anything else (quoted local parts, address literals,
comments, UTF-8) returns None and goes to aiosmtpd's parser as before.
"""

from __future__ import annotations

import re

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABELS = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# "<local@domain>", then the parameters (SIZE=..., BODY=...). The header parser skips the
# blanks after ">" and would read a "(" there as a comment: such a line is left to it.
_PLAIN = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@{_LABELS})>[ \t]*(?![ \t(])(.*)", re.DOTALL)


def plain_address(arg: str) -> tuple[str, str] | None:
    """(address, rest of the line) for a plain ``<local@domain> ...``, else None."""
    match = _PLAIN.fullmatch(arg)
    if match is None:
        return None
    return match.group(1), match.group(2)
