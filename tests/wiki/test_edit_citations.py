"""Finding ticket citations in edit summaries and in the permission templates an edit added."""

from __future__ import annotations

from datetime import UTC, datetime

from wikibridge.wiki.edit_citations import (
    EditCitation,
    added_template_numbers,
    edit_citations,
    summary_numbers,
)

A = "2016060210016939"
B = "2013102810001251"
C = "2022031410007974"


def test_summary_forms() -> None:
    assert summary_numbers(f"Removing unsourced claims per [[ticket:{A}]] ([[WP:VRT]])") == [A]
    assert summary_numbers(f"per [[:Ticket:{A}|VRT]] and Ticket#{B}, ticket # {C}") == [A, B, C]
    assert summary_numbers(f"ticket:{A} (see [[ticket:{A}]])") == [A]
    url = f"https://ticket.wikimedia.org/otrs/index.pl?Action=AgentTicketZoom&TicketNumber={B}"
    assert summary_numbers(f"permission: {url}") == [B]
    # Not citations: other numbers, too short a number, a ticket id rather than its number.
    assert summary_numbers("Revision 123456789012 undone; ticket:1234") == []
    assert summary_numbers("index.pl?Action=AgentTicketZoom&TicketID=12345678901") == []


def test_bad_numbers_are_kept_for_the_checks() -> None:
    bad = A[:-1] + "0"
    assert summary_numbers(f"per [[ticket:{bad}]]") == [bad]


def test_templates_added_by_the_edit() -> None:
    old = f"{{{{Information|permission={{{{PermissionOTRS|id={A}}}}}}}}}"
    # Renamed (same ticket, same kind): not new. Another ticket: new.
    new = (
        f"{{{{Information|permission={{{{PermissionTicket|id={A}}}}} "
        f"{{{{PermissionTicket|{B}}}}}}}}}"
    )
    assert added_template_numbers(new, old) == [("PermissionTicket", B)]
    # Moved to the end of the page: not new.
    assert added_template_numbers(f"Text\n{{{{PermissionOTRS|id={A}}}}}", old) == []
    # Received made confirmed for the same ticket: new.
    received = f"{{{{Permission received|id={C}|year=2024|month=1|day=2}}}}"
    confirmed = f"{{{{permissionTicket|id={C}|user=Bob}}}}"
    assert added_template_numbers(confirmed, received) == [("permissionTicket", C)]
    # Older templates cite an address with the number in it.
    otrs = f"{{{{PermissionOTRS|1=https://ticket.wikimedia.org/otrs/index.pl?TicketNumber={B}}}}}"
    assert added_template_numbers(otrs, "") == [("PermissionOTRS", B)]
    # Other templates citing numbers do not count.
    assert added_template_numbers(f"{{{{Cite|id={A}}}}}", "") == []


def test_edit_citations() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    found = edit_citations(
        wiki="https://commons.wikimedia.org/w/api.php",
        page="File:X.png",
        editor="Alice",
        when=when,
        revid=7,
        comment=f"Permission confirmed per [[ticket:{A}]]",
        new_text=f"{{{{PermissionTicket|id={A}|user=Alice}}}}",
        old_text="{{Permission pending}}",
    )
    common = ("https://commons.wikimedia.org/w/api.php", "File:X.png", "Alice", when)
    assert found == [
        EditCitation(A, *common, template=False, revid=7, source="summary"),
        EditCitation(A, *common, template=True, revid=7, source="PermissionTicket"),
    ]
    hidden = edit_citations(
        wiki="w", page="P", editor="E", when=when, revid=1, comment="", new_text=None, old_text=""
    )
    assert hidden == []
