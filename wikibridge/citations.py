"""The checks the citation watcher makes for each ticket citation it finds on a wiki.

For each citation, in order, the first failing check gives the reason:

1. the number is well-formed with a valid check digit ("malformed ticket number",
   "bad check digit");
2. a ticket has that number ("no such ticket") and it was not removed ("ticket was removed");
3. for a permission template: the ticket is in a permissions queue ("not a permissions
   ticket") and names that page -- an action of the ticket on the page is recorded, or the
   file's name appears in the subject or body of one of its articles ("ticket does not name
   this file");
4. the editor was a volunteer with access to the ticket's queue (a grant on it or a queue
   above it, not revoked) when the edit was made ("editor is not a volunteer with access").
   An account in `bots` passes instead when an action of the ticket on that page is recorded.

A ticket merged into another counts with the tickets it lives on in. :func:`check_citations`
checks a whole batch with a fixed number of queries (at most five per chunk of
:data:`CHUNK` citations, and one more per step along merge chains, where a cited ticket was
merged), whatever the batch's size.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from wikibridge.store import access as access_store
from wikibridge.store import verify as store
from wikibridge.tickets.numbers import check_digit, is_valid
from wikibridge.wiki import sites

OK = "ok"
MALFORMED = "malformed ticket number"
BAD_CHECK_DIGIT = "bad check digit"
NO_SUCH_TICKET = "no such ticket"
REMOVED = "ticket was removed"
NOT_PERMISSIONS = "not a permissions ticket"
FILE_NOT_NAMED = "ticket does not name this file"
NO_ACCESS = "editor is not a volunteer with access"

CHUNK = 500  # citations per round of queries (keeps the statements' parameters bounded)
FILE_NAMESPACES = ("file", "image")


@dataclass(frozen=True, slots=True)
class Citation:
    """A ticket number cited on a wiki: in a permission template (``template=True``) or in a
    link or edit summary. `when` is the time of the edit (timezone-aware)."""

    number: str
    wiki: str  # site code or API URL, as queues name their wiki
    page: str  # the page's title, e.g. "File:Sunset.jpg"
    editor: str  # the wiki username that made the edit
    when: datetime
    template: bool = False


@dataclass(frozen=True, slots=True)
class CitationResult:
    ok: bool
    reason: str  # OK, or one of the reasons above


def check_citation(
    session: Session,
    number: str,
    *,
    wiki: str,
    page: str,
    editor: str,
    when: datetime,
    template: bool,
    bots: Collection[str] = (),
) -> CitationResult:
    citation = Citation(number, wiki, page, editor, when, template)
    return check_citations(session, [citation], bots=bots)[0]


def check_citations(
    session: Session, citations: Sequence[Citation], *, bots: Collection[str] = ()
) -> list[CitationResult]:
    """One result per citation, in order."""
    results: list[CitationResult] = []
    for start in range(0, len(citations), CHUNK):
        results.extend(_check_chunk(session, citations[start : start + CHUNK], bots))
    return results


def number_problem(number: str) -> str:
    """Why a string is not a valid ticket number ("" when it is one)."""
    if is_valid(number):
        return ""
    digits = number.isascii() and number.isdigit() and len(number) >= 16
    if digits and check_digit(number[:-1]) != int(number[-1]):
        return BAD_CHECK_DIGIT
    return MALFORMED


def wiki_key(wiki: str) -> str:
    """One spelling per wiki: "commons" and its API URL compare equal."""
    try:
        return sites.api_url(wiki)
    except ValueError:
        return wiki.strip().lower()


def normal_title(title: str) -> str:
    """A title as MediaWiki stores it: underscores as spaces, first letter (of the namespace
    and of the name) upper case."""
    title = " ".join(title.replace("_", " ").split())
    if ":" in title:
        prefix, rest = title.split(":", 1)
        if prefix.strip().lower() in FILE_NAMESPACES:
            rest = rest.strip()
            return f"{prefix.strip().capitalize()}:{rest[:1].upper()}{rest[1:]}"
    return title[:1].upper() + title[1:]


def _needles(title: str) -> tuple[str, ...]:
    """What a mail naming the page would contain: the file's name with spaces or underscores,
    lower case (and as written, for letters the database cannot lower-case)."""
    name = normal_title(title)
    if ":" in name and name.split(":", 1)[0].lower() in FILE_NAMESPACES:
        name = name.split(":", 1)[1]
    forms = (name.lower(), name)
    return tuple(dict.fromkeys(f for form in forms for f in (form, form.replace(" ", "_"))))


def _check_chunk(
    session: Session, citations: Sequence[Citation], bots: Collection[str]
) -> list[CitationResult]:
    results = _results(session, citations, bots)
    done = [r for r in results if r is not None]
    assert len(done) == len(citations)
    return done


def _results(
    session: Session, citations: Sequence[Citation], bots: Collection[str]
) -> list[CitationResult | None]:
    for c in citations:
        if c.when.tzinfo is None:
            raise ValueError("a citation's time must be timezone-aware (UTC)")
    results: list[CitationResult | None] = [None] * len(citations)
    valid: dict[int, Citation] = {}
    for i, c in enumerate(citations):
        problem = number_problem(c.number)
        if problem:
            results[i] = CitationResult(False, problem)
        else:
            valid[i] = c
    chains = store.cited_tickets(session, {c.number for c in valid.values()})
    pending: dict[int, Citation] = {}
    for i, c in valid.items():
        chain = chains.get(c.number)
        if not chain:
            results[i] = CitationResult(False, NO_SUCH_TICKET)
        elif chain[0].removed:
            results[i] = CitationResult(False, REMOVED)
        elif c.template and not any(t.queue_kind == "permissions" for t in chain):
            results[i] = CitationResult(False, NOT_PERMISSIONS)
        else:
            pending[i] = c
    if not pending:
        return results

    # Recorded actions on the cited pages: they name the page, and vouch for the bot's edits.
    bot_names = {normal_title(b) for b in bots}
    ids_of = {i: [t.id for t in chains[c.number]] for i, c in pending.items()}
    wants_actions = {
        i for i, c in pending.items() if c.template or normal_title(c.editor) in bot_names
    }
    acted: set[tuple[int, str, str]] = set()
    if wants_actions:
        rows = store.actions_on_pages(
            session,
            (t for i in wants_actions for t in ids_of[i]),
            {form for i in wants_actions for form in _title_forms(pending[i].page)},
        )
        acted = {(t, wiki_key(w), normal_title(p)) for t, w, p in rows}

    def has_action(i: int) -> bool:
        c = pending[i]
        key, title = wiki_key(c.wiki), normal_title(c.page)
        return any((t, key, title) in acted for t in ids_of[i])

    # Template citations without a recorded action: does a mail name the file?
    unnamed = [i for i in pending if pending[i].template and not has_action(i)]
    named = store.articles_mention(
        session, [(ids_of[i], _needles(pending[i].page)) for i in unnamed]
    )
    for i, found in zip(unnamed, named, strict=True):
        if not found:
            results[i] = CitationResult(False, FILE_NOT_NAMED)
            del pending[i]

    # The editor's access at the time of the edit.
    for i in [i for i in pending if normal_title(pending[i].editor) in bot_names]:
        results[i] = CitationResult(True, OK) if has_action(i) else CitationResult(False, NO_ACCESS)
        del pending[i]
    if pending:
        editors = {normal_title(c.editor) for c in pending.values()}
        grants = access_store.grants(session, usernames=editors)
        queue_ids = {t.queue_id for i in pending for t in chains[pending[i].number]}
        paths = access_store.queue_paths(session, queue_ids)
        by_editor: dict[str, list[access_store.Grant]] = {}
        for g in grants:
            by_editor.setdefault(normal_title(g.username), []).append(g)
        for i, c in pending.items():
            mine = by_editor.get(normal_title(c.editor), [])
            ok = any(
                g.covers(paths.get(t.queue_id, [t.queue_id]), c.when)
                for t in chains[c.number]
                for g in mine
            )
            results[i] = CitationResult(True, OK) if ok else CitationResult(False, NO_ACCESS)
    return results


def _title_forms(title: str) -> set[str]:
    return {title, normal_title(title)}
