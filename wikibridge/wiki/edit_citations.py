"""Ticket citations in edits: in the edit summary, and in permission templates an edit added.

Pure functions over the edit's summary and the wikitext of the revision and its parent; what
the citations are worth is for the checks to say (:mod:`wikibridge.verify`). Anything that
looks like a citation is kept, also a number with a wrong check digit: a citation that does
not check out is what the report is for.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import mwparserfromhell

from .permission import RECEIVED_TEMPLATES, TICKET_TEMPLATES, template_name

# Templates whose id cites a ticket (PermissionTicket and its older names, Permission received).
CITING_TEMPLATES = TICKET_TEMPLATES | RECEIVED_TEMPLATES

_DIGITS = r"(\d{10,20})(?!\d)"
SUMMARY_PATTERNS = (
    # [[ticket:N]], [[:ticket:N|...]], ticket:N, Ticket#N, Ticket #N, VRT ticket # N
    re.compile(r"\bticket\s*[:#]\s*" + _DIGITS, re.IGNORECASE),
    # VRTS (OTRS) zoom links: ...index.pl?Action=AgentTicketZoom&TicketNumber=N
    re.compile(r"\bTicketNumber=" + _DIGITS, re.IGNORECASE),
)
_TEMPLATE_NUMBER = re.compile(r"(?<!\d)(\d{8,20})(?!\d)")


@dataclass(frozen=True)
class EditCitation:
    """One ticket cited by one edit: what the checks take (number, wiki, page, editor, when,
    template), and where the edit and the citation are (revid, source) for the report."""

    number: str  # as cited: digits, not necessarily a valid ticket number
    wiki: str  # the wiki's API URL
    page: str
    editor: str
    when: datetime
    template: bool  # cited by a permission template the edit added (else by its summary)
    revid: int = 0
    source: str = ""  # "summary", or the template's name as written


def summary_numbers(comment: str) -> list[str]:
    """Ticket numbers an edit summary cites, in order, each once."""
    found: dict[str, None] = {}
    for pattern in SUMMARY_PATTERNS:
        for match in pattern.finditer(comment):
            found.setdefault(match.group(1), None)
    return sorted(found, key=comment.find)


def template_numbers(text: str) -> list[tuple[str, str, str]]:
    """(kind, template name as written, number) of each citing template on the page, in order;
    kind is "ticket" (permission confirmed) or "received"."""
    found = []
    for template in mwparserfromhell.parse(text).filter_templates(recursive=True):
        name = template_name(template)
        if name not in CITING_TEMPLATES:
            continue
        kind = "received" if name in RECEIVED_TEMPLATES else "ticket"
        for param in template.params:
            if str(param.name).strip() in ("id", "1", "ticket"):
                for number in _TEMPLATE_NUMBER.findall(str(param.value)):
                    found.append((kind, str(template.name).strip(), number))
    return found


def added_template_numbers(new_text: str, old_text: str) -> list[tuple[str, str]]:
    """(template name, number) of the citing templates of the new revision that the parent did
    not have. A tag that moved, or was renamed ({{PermissionOTRS}} to {{PermissionTicket}}), is
    not new; a received tag made a confirmed one for the same ticket is."""
    old = Counter((kind, number) for kind, _, number in template_numbers(old_text))
    added = []
    for kind, name, number in template_numbers(new_text):
        if old[(kind, number)] > 0:
            old[(kind, number)] -= 1
        else:
            added.append((name, number))
    return added


def edit_citations(
    *,
    wiki: str,
    page: str,
    editor: str,
    when: datetime,
    revid: int,
    comment: str,
    new_text: str | None,
    old_text: str,
) -> list[EditCitation]:
    """Every citation of one edit: its summary's, then the templates it added (``new_text``
    None: the revision's text is hidden or was not read)."""

    def cite(number: str, template: bool, source: str) -> EditCitation:
        return EditCitation(number, wiki, page, editor, when, template, revid, source)

    found = [cite(n, False, "summary") for n in summary_numbers(comment)]
    if new_text is not None:
        found += [cite(n, True, name) for name, n in added_template_numbers(new_text, old_text)]
    return found
