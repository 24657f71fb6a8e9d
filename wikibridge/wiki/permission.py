"""Permission templates on file description pages, edited as parsed wikitext.

Pure functions: wikitext in, wikitext out, unchanged when nothing needs doing (the caller then
makes no edit). mwparserfromhell, not regular expressions: templates nest ({{Information}}
holds {{Permission pending}} in its |permission= field, descriptions hold {{en|...}}), and
a regular expression cannot tell a template's end from its parameters' ends.

Placement follows Commons' practice: the |permission= field of {{Information}} when the page
has one, else right under the licensing heading, else the end of the page. A pending or
received tag is replaced where it stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import mwparserfromhell
from mwparserfromhell.nodes import Heading, Template, Text
from mwparserfromhell.nodes.extras import Parameter
from mwparserfromhell.wikicode import Wikicode

from wikibridge.tickets.numbers import is_valid

TICKET_TEMPLATES = frozenset({"permissionticket", "permissionotrs", "permissionotrs-id"})
PENDING_TEMPLATES = frozenset({"permission pending", "otrs pending"})
RECEIVED_TEMPLATES = frozenset({"permission received", "otrs received"})
NO_PERMISSION_TEMPLATES = frozenset({"no permission since"})
INFORMATION_TEMPLATES = frozenset({"information"})
LICENSE_HEADINGS = frozenset(
    {"{{int:license-header}}", "{{int:license}}", "licensing", "license", "licence"}
)
MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)

# Values written into template parameters: no markup that could end or nest a template.
_PLAIN = re.compile(r"[^\[\]{}|<>=\n\r\t]*")
_NUMBER = re.compile(r"(?<!\d)\d{16}(?!\d)")


def template_name(template: Template) -> str:
    """A template's name as MediaWiki resolves it, lower-cased: "Template:OTRS_pending" ->
    "otrs pending" (the first letter is case-insensitive on the wiki; we ignore case)."""
    name = str(template.name).strip().replace("_", " ")
    if name.lower().startswith("template:"):
        name = name[len("template:") :]
    return " ".join(name.split()).lower()


def cited_tickets(text: str, names: Iterable[str] = TICKET_TEMPLATES) -> set[str]:
    """Ticket numbers cited by these templates anywhere on the page (old ones cite a URL)."""
    wanted = set(names)
    found: set[str] = set()
    for template in mwparserfromhell.parse(text).filter_templates(recursive=True):
        if template_name(template) in wanted:
            for param in template.params:
                if str(param.name).strip() in ("id", "1", "ticket"):
                    found.update(_NUMBER.findall(str(param.value)))
    return found


def add_permission_ticket(text: str, number: str, user: str) -> str:
    """Tag the page with ``{{PermissionTicket|id=N|user=U}}``, replacing pending/received tags.

    Unchanged when a PermissionTicket (or an older name) already cites this ticket.
    """
    _check(number, user)
    if number in cited_tickets(text):
        return text
    tag = f"{{{{PermissionTicket|id={number}|user={user}}}}}"
    return _place(text, tag, PENDING_TEMPLATES | RECEIVED_TEMPLATES)


def add_permission_received(text: str, number: str, user: str, on: date, reason: str = "") -> str:
    """Mark the page ``{{Permission received|id=N|year=|month=|day=|user=|reason=}}``.

    Replaces a pending tag. Unchanged when the page already carries a received tag for this
    ticket, or a permission tag for it (received is not a step back from confirmed).
    """
    _check(number, user)
    if not _PLAIN.fullmatch(reason):
        raise ValueError(f"the reason {reason!r} contains wiki markup")
    if number in cited_tickets(text, TICKET_TEMPLATES | RECEIVED_TEMPLATES):
        return text
    tag = (
        f"{{{{Permission received|id={number}|year={on.year}|month={MONTHS[on.month - 1]}"
        f"|day={on.day}|user={user}|reason={reason}}}}}"
    )
    return _place(text, tag, PENDING_TEMPLATES)


def add_no_permission_since(text: str, on: date) -> str:
    """Mark the page ``{{No permission since|day=|month=|year=}}``, replacing pending/received
    tags. Unchanged when the page carries that tag already."""
    code = mwparserfromhell.parse(text)
    if any(template_name(t) in NO_PERMISSION_TEMPLATES for t in code.filter_templates()):
        return text
    tag = f"{{{{No permission since|day={on.day}|month={MONTHS[on.month - 1]}|year={on.year}}}}}"
    return _place(text, tag, PENDING_TEMPLATES | RECEIVED_TEMPLATES)


@dataclass(frozen=True)
class WaitingTag:
    """A pending or received tag on a page: since when (None: no valid date), which ticket it
    cites ("" for none)."""

    name: str  # lower case, as :func:`template_name` gives it
    since: date | None
    number: str = ""


def waiting_tags(text: str) -> list[WaitingTag]:
    """The page's {{Permission pending}} and {{Permission received}} tags (and older names)."""
    found = []
    for template in mwparserfromhell.parse(text).filter_templates(recursive=True):
        name = template_name(template)
        if name not in PENDING_TEMPLATES | RECEIVED_TEMPLATES:
            continue
        values = {str(p.name).strip(): str(p.value).strip() for p in template.params}
        numbers = _NUMBER.findall(values.get("id", values.get("1", "")))
        since = _date(values.get("year", ""), values.get("month", ""), values.get("day", ""))
        found.append(WaitingTag(name, since, numbers[0] if numbers else ""))
    return found


def _date(year: str, month: str, day: str) -> date | None:
    names = [m.lower() for m in MONTHS]
    month = month.lower()
    if month.isdigit():
        month_number = int(month)
    else:
        month_number = next(
            (i for i, m in enumerate(names, 1) if len(month) >= 3 and m.startswith(month)), 0
        )
    try:
        return date(int(year), month_number, int(day))
    except ValueError:
        return None


def _check(number: str, user: str) -> None:
    if not is_valid(number):
        raise ValueError(f"{number!r} is not a valid ticket number")
    if not user.strip() or not _PLAIN.fullmatch(user):
        raise ValueError(f"{user!r} is not a plain user name")


def _place(text: str, tag: str, replaces: frozenset[str]) -> str:
    code = mwparserfromhell.parse(text)
    info = next(
        (
            t
            for t in code.filter_templates(recursive=False)
            if template_name(t) in INFORMATION_TEMPLATES
        ),
        None,
    )
    field = _permission_field(info) if info is not None else None
    in_field = {id(t) for t in field.value.filter_templates()} if field is not None else set()
    old = [t for t in code.filter_templates(recursive=True) if template_name(t) in replaces]
    if old:
        # The tag in the permission field is the one to replace; others are leftovers.
        old.sort(key=lambda t: id(t) not in in_field)
        code.replace(old[0], tag)
        for template in old[1:]:
            _remove_with_line(code, template)
        return str(code)
    if info is not None:
        _add_to_permission_field(info, field, tag)
        return str(code)
    heading = next(
        (h for h in code.filter_headings(recursive=False) if _is_license_heading(h)), None
    )
    if heading is not None:
        code.insert_after(heading, "\n" + tag)
        return str(code)
    if not text.strip():
        return tag + "\n"
    return text.rstrip("\n") + "\n" + tag + ("\n" if text.endswith("\n") else "")


def _permission_field(info: Template) -> Parameter | None:
    for key in ("permission", "Permission"):
        if info.has(key):
            return info.get(key)
    return None


def _add_to_permission_field(info: Template, field: Parameter | None, tag: str) -> None:
    if field is not None:
        raw = str(field.value)
        core = raw.strip()
        if core:
            lead = raw[: len(raw) - len(raw.lstrip())]
            field.value = lead + f"{core} {tag}" + raw[len(raw.rstrip()) :]
        else:  # keep the line break that ends an empty field in a one-per-line layout
            rest = raw.lstrip(" \t")
            lead = raw[: len(raw) - len(rest)] or (" " if _spaced(info) else "")
            field.value = lead + tag + rest
        return
    # Keep the usual field order: permission comes before "other versions" when present.
    following = next(
        (k for k in ("other versions", "other_versions", "Other versions") if info.has(k)), None
    )
    key = "Permission" if info.has("Description") or info.has("Source") else "permission"
    if following is not None:
        info.add(key, tag, before=following)
    else:
        info.add(key, tag)


def _spaced(info: Template) -> bool:
    """Whether the page writes "|key = value" (a space before values) rather than "|key=value"."""
    values = [str(p.value) for p in info.params if str(p.value).strip()]
    return bool(values) and sum(v.startswith(" ") for v in values) * 2 > len(values)


def _is_license_heading(heading: Heading) -> bool:
    return " ".join(str(heading.title).split()).lower() in LICENSE_HEADINGS


def _remove_with_line(code: Wikicode, template: Template) -> None:
    """Remove a tag; a top-level line it had to itself goes too, not left blank."""
    nodes = code.nodes
    index = next((i for i, node in enumerate(nodes) if node is template), None)
    if index is not None and index + 1 < len(nodes):
        before = str(nodes[index - 1]) if index > 0 else "\n"
        after = nodes[index + 1]
        if before.endswith("\n") and isinstance(after, Text) and after.value.startswith("\n"):
            after.value = after.value[1:]
    code.remove(template)
