"""Full-text search within the volunteer's queues, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import Article, Queue, Ticket
from wikibridge.store import articles, volunteers
from wikibridge.tickets import search as search_mod
from wikibridge.tickets.search import QueryError, SearchForm, SearchPage, search, segments

from .webapp import helpers

NASTY = ('" OR 1=1 --', "a*", "NEAR(", "'", "%", "_", "\\", ";", "--", '"', "-", "()", "*")


def mail(
    session: Session,
    ticket: Ticket,
    body: str,
    subject: str = "Question",
    *,
    sender: str = "reader@example.net",
    at: datetime | None = None,
) -> Article:
    article = Article(
        ticket_id=ticket.id,
        kind="inbound",
        subject=subject,
        body_text=body,
        sender=sender,
        sender_address=sender,
    )
    if at is not None:
        article.created_at = at
    return articles.add(session, article)


def new_ticket(
    session: Session, q: Queue, body: str, subject: str = "Question", **kw: object
) -> Ticket:
    t = helpers.ticket(session, q, subject)
    mail(session, t, body, subject, **kw)  # type: ignore[arg-type]
    return t


def scope_of(session: Session, *queues: Queue) -> Scope:
    v = helpers.volunteer(session, f"V{len(queues)}-{queues[0].id if queues else 0}")
    for q in queues:
        volunteers.grant(session, v.id, q.id, "ro")
    session.commit()
    return access.scope_for(session, v)


def run(session: Session, scope: Scope, text: str, **kw: object) -> SearchPage:
    page = search(session, scope, SearchForm(text=text, **kw))  # type: ignore[arg-type]
    assert page is not None
    return page


def numbers(page: SearchPage) -> list[str]:
    return [r.ticket.number for r in page.results]


@pytest.fixture
def info(session: Session) -> Queue:
    return helpers.queue(session, "info-en")


def test_a_word_from_a_mail_body_is_found_and_highlighted(session: Session, info: Queue) -> None:
    hit = new_ticket(session, info, "The birth date of the actor is wrong in the article.")
    new_ticket(session, info, "Please add a photo of the town hall.")
    scope = scope_of(session, info)
    page = run(session, scope, "ACTOR")
    assert numbers(page) == [hit.number]
    assert page.total == 1
    result = page.results[0]
    assert result.queue_name == "info-en"
    assert ("actor", True) in result.snippet
    assert "birth date" in "".join(text for text, _ in result.snippet)


def test_a_phrase_matches_only_those_words_in_that_order(session: Session, info: Queue) -> None:
    exact = new_ticket(session, info, "I think the article is wrong about my uncle.")
    new_ticket(session, info, "Wrong: the is article about my uncle.")
    scope = scope_of(session, info)
    assert numbers(run(session, scope, '"article is wrong"')) == [exact.number]
    assert len(run(session, scope, "article is wrong").results) == 2


def test_a_rare_word_and_more_matches_rank_first(session: Session, info: Queue) -> None:
    old = datetime.now(UTC) - timedelta(days=3)
    both = new_ticket(session, info, "A defamation claim about the article.", at=old)
    common = [
        new_ticket(session, info, f"The article number {i} needs a source.") for i in range(5)
    ]
    scope = scope_of(session, info)

    page = run(session, scope, "defamation or article")
    assert numbers(page)[0] == both.number  # the rare word, and both words
    assert page.total == 6
    # Equal matches: newest first.
    assert numbers(page)[1:] == [t.number for t in reversed(common)]
    assert numbers(run(session, scope, "defamation")) == [both.number]
    assert numbers(run(session, scope, "defamation article")) == [both.number]
    assert both.number not in numbers(run(session, scope, "article -defamation"))


def test_a_match_in_the_subject_weighs_more(session: Session, info: Queue) -> None:
    body = new_ticket(session, info, "We found the lighthouse keeper's diary.", "A question")
    subject = new_ticket(session, info, "See the attached scan.", "Lighthouse diary", at=None)
    body_later = new_ticket(session, info, "Another lighthouse, in the body.", "Hello")
    scope = scope_of(session, info)
    assert numbers(run(session, scope, "lighthouse")) == [
        subject.number,
        body_later.number,
        body.number,
    ]


def test_a_ticket_appears_once_with_its_best_article(session: Session, info: Queue) -> None:
    t = new_ticket(session, info, "First mail mentions the castle.")
    mail(session, t, "Second mail: castle, castle and the castle gate.")
    mail(session, t, "A note without it.")
    scope = scope_of(session, info)
    page = run(session, scope, "castle")
    assert numbers(page) == [t.number]
    assert page.total == 1
    assert "gate" in "".join(text for text, _ in page.results[0].snippet)


def test_queues_outside_the_scope_never_show_not_even_in_counts(session: Session) -> None:
    info = helpers.queue(session, "info-en")
    wp = helpers.queue(session, "info-en::Wikipedia")
    press = helpers.queue(session, "press")
    mine = new_ticket(session, wp, "The embargoed report is attached.")
    for _ in range(3):
        new_ticket(session, press, "The embargoed report, confidential press material.")
    scope = scope_of(session, info)  # info-en and, inherited, info-en::Wikipedia

    page = run(session, scope, "embargoed")
    assert numbers(page) == [mine.number] and page.total == 1
    assert run(session, scope, "confidential press").total == 0
    assert run(session, scope, "embargoed", queue_id=wp.id).total == 1
    assert search(session, scope, SearchForm(text="embargoed", queue_id=press.id)) is None
    nobody = search(session, access.NOBODY, SearchForm(text="embargoed"))
    assert nobody is not None and nobody.results == [] and nobody.total == 0
    # A number typed into the box is found only in a visible queue.
    other = new_ticket(session, press, "x")
    session.commit()
    assert run(session, scope, mine.number).exact == mine
    assert run(session, scope, other.number).exact is None


def test_sql_and_fts_syntax_neither_fails_nor_leaks(session: Session, info: Queue) -> None:
    press = helpers.queue(session, "press")
    mine = new_ticket(session, info, "secret plans for the article about 1=1 and NEAR")
    new_ticket(session, press, "secret plans of the press team, NEAR 1=1 OR a*")
    scope = scope_of(session, info)
    for nasty in NASTY:
        for text in (nasty, f"secret {nasty}", f"{nasty}secret", f"secret{nasty}plans", nasty * 3):
            try:
                page = run(session, scope, text)
            except QueryError as error:
                assert str(error)
                continue
            assert set(numbers(page)) <= {mine.number}, text
            assert page.total <= 1
    for text in ('secret" --', "secret%", "secret*", "secret NEAR(", "secret '"):
        assert numbers(run(session, scope, text)) == [mine.number], text


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Type a word"), ("   ", "Type a word"), ("x", "at least 2"), ("-word", "only exclude")],
)
def test_empty_and_very_short_queries_say_why(
    session: Session, info: Queue, text: str, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        search(session, scope_of(session, info), SearchForm(text=text))


def test_the_index_follows_inserts_updates_and_deletes(session: Session, info: Queue) -> None:
    t = new_ticket(session, info, "A question about a lighthouse.")
    scope = scope_of(session, info)
    assert run(session, scope, "windmill").total == 0
    later = mail(session, t, "A follow-up about the windmill.")
    session.commit()
    assert numbers(run(session, scope, "windmill")) == [t.number]
    later.body_text = "A follow-up about the watermill."
    session.commit()
    assert run(session, scope, "windmill").total == 0
    assert run(session, scope, "watermill").total == 1
    session.delete(later)
    session.commit()
    assert run(session, scope, "watermill").total == 0
    assert run(session, scope, "lighthouse").total == 1


def test_filters_state_dates_sender(session: Session, info: Queue) -> None:
    day = datetime(2025, 3, 10, 12, tzinfo=UTC)
    a = new_ticket(session, info, "tree house", sender="ann@example.org", at=day)
    b = new_ticket(
        session, info, "tree house", sender="bob@ex_mple.org", at=day + timedelta(days=2)
    )
    c = new_ticket(session, info, "tree house", sender="cy@example.org", at=day + timedelta(days=5))
    c.state = "closed successful"
    removed = new_ticket(session, info, "tree house")
    removed.removed_at = day
    scope = scope_of(session, info)
    assert run(session, scope, "tree").total == 3
    assert numbers(run(session, scope, "tree", state="closed")) == [c.number]
    assert set(numbers(run(session, scope, "tree", state="open"))) == {a.number, b.number}
    assert run(session, scope, "tree", state="no such state").total == 3
    page = run(session, scope, "tree", since=date(2025, 3, 11), until=date(2025, 3, 12))
    assert numbers(page) == [b.number]
    assert numbers(run(session, scope, "tree", until=date(2025, 3, 10))) == [a.number]
    assert numbers(run(session, scope, "tree", sender="ANN@example.org")) == [a.number]
    assert set(numbers(run(session, scope, "tree", sender="@example.org"))) == {a.number, c.number}
    assert numbers(run(session, scope, "tree", sender="@ex_mple.org")) == [b.number]
    assert run(session, scope, "tree", sender="@ex%").total == 0  # no wildcards
    with pytest.raises(QueryError, match="start date"):
        run(session, scope, "tree", since=date(2025, 3, 12), until=date(2025, 3, 11))


def test_pages_cover_every_hit_once(session: Session, info: Queue) -> None:
    made = {new_ticket(session, info, f"orchard number {i}").number for i in range(7)}
    scope = scope_of(session, info)
    seen: list[str] = []
    for page_no in (1, 2, 3):
        page = search(session, scope, SearchForm(text="orchard", page=page_no), page_size=3)
        assert page is not None and page.total == 7 and page.pages == 3
        seen += numbers(page)
    assert sorted(seen) == sorted(made)
    past = search(session, scope, SearchForm(text="orchard", page=9), page_size=3)
    assert past is not None and past.results == []


def test_work_is_bounded(session: Session, info: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(6):
        new_ticket(session, info, f"meadow {i}")
    scope = scope_of(session, info)
    monkeypatch.setattr(search_mod, "CANDIDATES", 4)
    page = run(session, scope, "meadow")
    assert page.capped and page.total == 4
    monkeypatch.setattr(search_mod, "MAX_PAGES", 2)
    page = search(session, scope, SearchForm(text="meadow", page=50), page_size=1)
    assert page is not None and page.page == 2 and page.beyond_last_page


def test_highlight_marks_split_into_plain_pieces() -> None:
    s, e = search_mod.store.MARK_START, search_mod.store.MARK_END
    assert segments(f"a {s}<b>{e} c") == [("a ", False), ("<b>", True), (" c", False)]
    assert segments(f"{e}{e}x{s}") == [("x", False)]
    assert segments("") == []


def test_results_can_be_ordered_by_date(session: Session, info: Queue) -> None:
    old = new_ticket(session, info, "harbour harbour harbour")
    old.created_at = datetime(2024, 1, 1, tzinfo=UTC)
    new = new_ticket(session, info, "harbour and many other words in a longer text")
    scope = scope_of(session, info)
    assert numbers(run(session, scope, "harbour", sort="newest")) == [new.number, old.number]
    assert numbers(run(session, scope, "harbour", sort="oldest")) == [old.number, new.number]
    assert numbers(run(session, scope, "harbour", sort="DROP TABLE")) == numbers(
        run(session, scope, "harbour", sort="relevance")
    )
