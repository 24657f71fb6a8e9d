"""The abuse suite: hostile input, each case with its expected outcome.

Count the cases: ``pytest --collect-only -q tests/abuse | tail -1``.

Mail [test_mail] -- stored once or quarantined with a reason, never lost:
- a message over max_message_bytes -> quarantined with the reason, raw bytes kept, no ticket
- MIME nested 400 deep (multipart; message/rfc822) -> stored, in bounded time
- unknown, overlong and UTF-7 charsets -> stored as readable text, no NUL
- a charset bomb of 3,000 encoded words -> stored, subject bounded, bounded time
- 5,000 links in HTML -> stored in bounded time
- 1,000 recipients -> stored; the acknowledgement goes to the sender only
- attachment names with ../, an absolute or Windows path, a NUL, an RTL override, Windows
  device names (CON, nul.txt, COM1.pdf), only dots, 5,000 characters -> a safe, stable name
- forged sender (the queue's own address) and invented internal headers -> flagged
  from_system, never acknowledged
- loops: an out-of-office answering our acknowledgement ten times, a storm of 40 bounces, one
  sender flooding 30 messages -> no ping-pong, no answer to bounces, acknowledgements capped
- guessed ticket numbers: a wrong check digit -> a new ticket; a stranger with the number of a
  ticket in another queue -> a ticket of its own, flagged and audited; the requester's ticket
  and its reply form stay theirs (see also tests/mail/test_ingest.py)

Web [test_web] -- 404, 400 or a same-site redirect; nothing changed, nothing shown:
- another queue's ticket, reply form, attachment (also through one's own ticket's URL) and
  queue by number or id -> 404
- a POST with no, a forged, or another session's CSRF token -> 400, no change
- return URLs to other sites (//, /\\, \\\\, tab, javascript:, http:/, CR/LF) -> a path here
- CR, LF, NEL or U+2028 in a reply's To, Cc or Subject -> 400 with the text kept, nothing sent
- SQL and FTS syntax, NUL bytes, unknown sort keys and filters in search -> no error, no leak
- guessing numbers at the verify API -> 429 with Retry-After after the limit

Wiki [test_wiki]:
- mail content in the ticket and in every request field -> the edit summary is the number and
  fixed text only
- a page deleted, moved (now a redirect) or protected after the request -> no edit, the action
  fails with the reason

More of the same kind elsewhere: hostile HTML mail (tests/webapp/test_security.py,
tests/test_sanitize.py), every route for an unapproved or unauthorised volunteer
(tests/webapp/test_every_route.py), the API's scope (tests/webapp/test_api.py), the fuzzing
of the parser (tests/mail/test_parse_fuzz.py) and of the whole ingest
(tests/mail/test_ingest_fuzz.py).
"""
