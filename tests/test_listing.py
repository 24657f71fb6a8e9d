"""Queue page cursors."""

from __future__ import annotations

from datetime import UTC, datetime

from wikibridge.tickets.listing import decode_cursor, encode_cursor


def test_cursor_round_trip_keeps_microseconds() -> None:
    when = datetime(2025, 3, 4, 17, 40, 51, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(when, 42)) == (when, 42)


def test_broken_cursors_are_refused() -> None:
    for text in ("", "abc", "1.", ".5", "1.2.3", "1e9.5", "99999999999999999999999.1", "1.-2"):
        assert decode_cursor(text) is None, text
