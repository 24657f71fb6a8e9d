"""Permission templates on realistic Commons file description pages."""

from __future__ import annotations

from datetime import date

import pytest

from wikibridge.wiki.permission import (
    add_permission_received,
    add_permission_ticket,
    cited_tickets,
)

N = "2022031410007974"
OTHER = "2016060210016939"
TAG = f"{{{{PermissionTicket|id={N}|user=Alice}}}}"

# As the UploadWizard writes them, with a pending tag in the permission field.
WIZARD_PENDING = """\
=={{int:filedesc}}==
{{Information
|description={{en|1=Main street of Springfield in winter, looking north}}
|date=2024-01-02 13:45:10
|source=Own work
|author=[[User:Carol|Carol]]
|permission={{Permission pending|year=2024|month=January|day=2}}
|other versions=
}}
{{Location|47.5|8.5}}

=={{int:license-header}}==
{{self|cc-by-sa-4.0}}

[[Category:Springfield]]
[[Category:Winter in Springfield]]
"""

# Older upload: no permission field at all, OTRS pending at the top of the page.
OLD_OTRS_PENDING = """\
{{OTRS pending|year=2019|month=May|day=3}}
== Summary ==
{{Information
|Description={{de|1=Rathaus}} {{en|1=Town hall}}
|Source=Press office of Springfield
|Date=2019-05-01
|Author=Dan
|other_versions=
}}

== Licensing ==
{{cc-by-4.0}}
"""

# Information with an empty permission field and a licence below.
EMPTY_PERMISSION = """\
== {{int:filedesc}} ==
{{Information
 |description = {{en|1=A portrait}}
 |date        = 2020
 |source      = sent by the photographer
 |author      = Erin
 |permission  =
 |other versions =
}}

== {{int:license-header}} ==
{{cc-by-sa-4.0}}
"""

# No {{Information}}: another infobox ({{Artwork}}) and a licensing section.
ARTWORK = """\
=={{int:filedesc}}==
{{Artwork
 |artist = Frank
 |title = {{en|Harbour at dusk}}
 |source = the artist
}}

== {{int:license-header}} ==
{{cc-by-4.0}}
[[Category:Paintings]]
"""


def test_replaces_pending_in_the_permission_field() -> None:
    result = add_permission_ticket(WIZARD_PENDING, N, "Alice")
    assert f"|permission={TAG}\n|other versions=" in result
    assert "Permission pending" not in result
    # Everything else is as it was.
    assert result.replace(TAG, "{{Permission pending|year=2024|month=January|day=2}}") == (
        WIZARD_PENDING
    )


def test_replaces_old_otrs_pending_where_it_stands() -> None:
    result = add_permission_ticket(OLD_OTRS_PENDING, N, "Alice")
    assert result.startswith(TAG + "\n== Summary ==")
    assert "OTRS pending" not in result


def test_fills_an_empty_permission_field_keeping_the_layout() -> None:
    result = add_permission_ticket(EMPTY_PERMISSION, N, "Alice")
    assert f" |permission  = {TAG}\n |other versions =" in result
    assert result.count("PermissionTicket") == 1


def test_appends_to_a_permission_field_with_text() -> None:
    text = EMPTY_PERMISSION.replace("|permission  =", "|permission  = See below.")
    result = add_permission_ticket(text, N, "Alice")
    assert f"|permission  = See below. {TAG}\n" in result


def test_adds_a_permission_field_before_other_versions() -> None:
    result = add_permission_ticket(OLD_OTRS_PENDING.split("\n", 1)[1], N, "Alice")
    assert f"|Author=Dan\n|Permission={TAG}\n|other_versions=\n}}}}" in result


def test_without_information_goes_under_the_licensing_heading() -> None:
    result = add_permission_ticket(ARTWORK, N, "Alice")
    assert f"== {{{{int:license-header}}}} ==\n{TAG}\n{{{{cc-by-4.0}}}}" in result


def test_plain_licensing_heading_and_end_of_page() -> None:
    text = "A scan.\n\n== Licensing ==\n{{PD-old}}\n"
    assert add_permission_ticket(text, N, "Bob") == (
        f"A scan.\n\n== Licensing ==\n{{{{PermissionTicket|id={N}|user=Bob}}}}\n{{{{PD-old}}}}\n"
    )
    bob = TAG.replace("Alice", "Bob")
    assert add_permission_ticket("Just text.", N, "Bob") == f"Just text.\n{bob}"
    assert add_permission_ticket("", N, "Bob") == TAG.replace("Alice", "Bob") + "\n"


@pytest.mark.parametrize(
    "existing",
    [
        f"{{{{PermissionTicket|id={N}|user=Bob}}}}",
        f"{{{{PermissionOTRS|id={N}|user=Bob}}}}",
        f"{{{{permissionOTRS-ID|1={N}}}}}",
        f"{{{{Template:PermissionOTRS|ticket=https://ticket.wikimedia.org/otrs/index.pl?"
        f"Action=AgentTicketZoom&TicketNumber={N}}}}}",
    ],
)
def test_never_a_duplicate(existing: str) -> None:
    text = WIZARD_PENDING.replace("{{Permission pending|year=2024|month=January|day=2}}", existing)
    assert add_permission_ticket(text, N, "Alice") == text


def test_another_ticket_does_not_count() -> None:
    other = f"{{{{PermissionTicket|id={OTHER}}}}}"
    text = EMPTY_PERMISSION.replace("|permission  =", f"|permission  = {other}")
    result = add_permission_ticket(text, N, "Alice")
    assert cited_tickets(result) == {N, OTHER}


def test_received_tag_is_replaced_by_the_ticket_and_extra_pending_removed() -> None:
    text = (
        "{{Permission pending|year=2024|month=March|day=1}}\n"
        "{{Information|description=x|permission="
        f"{{{{Permission received|id={N}|year=2024|month=March|day=2|user=Bob}}}}}}}}\n"
    )
    result = add_permission_ticket(text, N, "Alice")
    assert result == f"{{{{Information|description=x|permission={TAG}}}}}\n"


def test_permission_received() -> None:
    result = add_permission_received(WIZARD_PENDING, N, "Alice", date(2024, 3, 5), "")
    tag = f"{{{{Permission received|id={N}|year=2024|month=March|day=5|user=Alice|reason=}}}}"
    assert f"|permission={tag}\n" in result
    assert "Permission pending" not in result
    # Again: no change; and not after the permission was confirmed.
    assert add_permission_received(result, N, "Bob", date(2024, 3, 6)) == result
    confirmed = add_permission_ticket(result, N, "Alice")
    assert "Permission received" not in confirmed
    assert add_permission_received(confirmed, N, "Bob", date(2024, 3, 6)) == confirmed


@pytest.mark.parametrize(
    ("number", "user"),
    [("2022031410007975", "Alice"), (N, "Al|ice"), (N, "}}{{Delete"), (N, "A\nB"), (N, " ")],
)
def test_refuses_bad_values(number: str, user: str) -> None:
    with pytest.raises(ValueError):
        add_permission_ticket(WIZARD_PENDING, number, user)
    with pytest.raises(ValueError):
        add_permission_received(WIZARD_PENDING, number, user, date(2024, 1, 1))


def test_reason_without_markup() -> None:
    with pytest.raises(ValueError):
        add_permission_received(WIZARD_PENDING, N, "Alice", date(2024, 1, 1), "a|b")
