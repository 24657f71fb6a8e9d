"""The `wikibridge` command's entry point, with a fast path for the mail server's pipe.

The mail server starts `wikibridge ingest` once per message. When a `wikibridge lmtp` runs,
the message is handed over to it through a unix socket (wikibridge.mail.handoff) before
anything heavy is imported: no click, no SQLAlchemy, no models, a few tens of milliseconds
instead of half a second. Anything else, or no listener, goes the usual way (wikibridge.cli).
"""

from __future__ import annotations

import sys

from wikibridge.config import ConfigError, load_settings


def pipe_queue(args: list[str]) -> str | None:
    """The --queue of a plain `ingest` of standard input ("" without one); None for any
    other command line (--mbox, --help, a typo), which the full command line handles."""
    if not args or args[0] != "ingest":
        return None
    rest = args[1:]
    if not rest:
        return ""
    if len(rest) == 2 and rest[0] == "--queue":
        return rest[1]
    if len(rest) == 1 and rest[0].startswith("--queue="):
        return rest[0].removeprefix("--queue=")
    return None


def fast_ingest(queue: str) -> int | None:
    """Hand the message on standard input to the listener; the exit code, or None when the
    full command line must decide (a configuration error it reports, an empty message)."""
    from wikibridge.mail import handoff

    try:
        settings = load_settings()
    except ConfigError:
        return None  # the full command reports it and exits 75
    raw = sys.stdin.buffer.read()
    if not raw:
        return None  # stdin stays empty: the full command says so and exits 75
    try:
        reply = handoff.hand_over(handoff.socket_path(settings.data_dir), raw, queue)
    except handoff.NotHandedOver:
        reply = None  # no listener: store it here, as without one
    except handoff.ReplyLost:
        # The listener may have stored it before the connection broke. Storing it here too
        # is safe: ingest is idempotent on the raw bytes (the spool is content-addressed and
        # the article's raw hash unique), so the second store answers "duplicate" with the
        # same ticket; and it gives the mail server a definite answer now, instead of a
        # retry later that would go through the same steps.
        reply = None
    if reply is not None:
        out, err = reply.report()
        if out:
            print(out)
        if err:
            print(err, file=sys.stderr)
        return reply.exit_code
    from wikibridge.cli import Runtime, ingest_message

    return ingest_message(Runtime(settings), raw, queue)


def main() -> None:
    queue = pipe_queue(sys.argv[1:])
    if queue is not None:
        code = fast_ingest(queue)
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    from wikibridge.cli import main as cli_main

    cli_main()
