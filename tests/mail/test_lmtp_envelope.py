"""The fast envelope address parser agrees with the header parser aiosmtpd uses."""

from __future__ import annotations

from email._header_value_parser import get_angle_addr

from hypothesis import example, given, settings
from hypothesis import strategies as st

from wikibridge.mail.envelope import plain_address


def header_parser(arg: str) -> tuple[str, str] | None:
    try:
        address, rest = get_angle_addr(arg)
    except Exception:  # noqa: BLE001 - any refusal of the header parser
        return None
    return address.addr_spec, rest


PIECE = st.text(alphabet="<>@.aZ0+-_=!' \t()\"[]\\:,;é", max_size=8)
# Mostly shaped like "<local@domain> rest", with anything in the parts.
SHAPED = st.builds(
    lambda lead, local, domain, tail: f"{lead}<{local}@{domain}>{tail}", PIECE, PIECE, PIECE, PIECE
)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(SHAPED, st.text(alphabet="<>@.aZ0+-_=!' \t()\"[]\\:,;é", max_size=24)))
@example("<reader@example.net>")
@example("<a.b+c@mail.example.org> SIZE=1200 BODY=8BITMIME")
@example("<a@b>  (comment) SIZE=1")
@example("<a@b>\tx")
def test_a_plain_address_is_read_as_the_header_parser_reads_it(arg: str) -> None:
    fast = plain_address(arg)
    if fast is not None:
        assert fast == header_parser(arg)


def test_common_addresses_take_the_fast_way() -> None:
    assert plain_address("<info-en@example.org>") == ("info-en@example.org", "")
    assert plain_address("<bounce+x=y@lists.example.net> SIZE=42") == (
        "bounce+x=y@lists.example.net",
        "SIZE=42",
    )


def test_unusual_addresses_are_left_to_the_header_parser() -> None:
    for arg in ['<"a b"@example.org>', "<a@[192.0.2.1]>", "<>", " <a@b>", "<a@b> (c)", "a@b"]:
        assert plain_address(arg) is None
