"""The `wikibridge fetch-mail` and `wikibridge lmtp` commands.

Registered on the main command group at the end of ``wikibridge/cli.py``. The mail modules
(imaplib, aiosmtpd, the ingest pipeline) are imported when a command runs, not when the
command line starts.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wikibridge.cli import Runtime, pass_runtime

if TYPE_CHECKING:
    from wikibridge.config import ImapMailbox
    from wikibridge.mail.imap import FetchReport

log = logging.getLogger(__name__)

# The same values as wikibridge.mail.imap and .lmtp, which are not imported just for --help.
DEFAULT_LIMIT = 200
DEFAULT_LMTP_HOST = "127.0.0.1"
DEFAULT_LMTP_PORT = 8024


@click.command("fetch-mail")
@click.option(
    "--mailbox",
    "names",
    multiple=True,
    metavar="NAME",
    help="Fetch only this [[imap]] mailbox (repeat for several); default: all of them.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many messages per mailbox and run; the rest waits for the next run.",
)
@click.option("--loop", is_flag=True, help="Keep polling until stopped (SIGTERM, Ctrl-C).")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds between polls with --loop.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every message fetched.")
@pass_runtime
def fetch_mail_command(
    rt: Runtime, names: tuple[str, ...], limit: int, loop: bool, interval: float, verbose: bool
) -> None:
    """Store new mail from the configured IMAP mailboxes ([[imap]] in the settings).

    A message is marked \\Seen (or deleted, with delete = true) only after it is stored, so
    nothing is lost when the database or the connection fails: the next run takes it again,
    and a message stored twice is recognised as a duplicate. Exits 1 when a mailbox failed.
    """
    from wikibridge.mail.imap import fetch_all
    from wikibridge.mail.ingest import Ingestor

    # Looping, it is a service: the log says what happened. Once, the summary lines say it,
    # and only errors without a line of their own (bugs) are logged.
    _setup_logging(logging.INFO if verbose or loop else logging.ERROR)
    mailboxes = _chosen_mailboxes(rt, names)
    _check_schema(rt)
    ingestor = Ingestor(rt.settings, rt.sessions)
    if loop:
        log.info("fetch-mail: polling %d mailbox(es) every %g s", len(mailboxes), interval)
    with _stop_on_signals() as stop:
        while True:
            reports = fetch_all(mailboxes, ingestor, limit=limit, should_stop=stop.is_set)
            if not loop:
                break
            # A mailbox with more than --limit waiting goes on at once, the others wait.
            pause = 1.0 if any(r.more for r in reports) else interval
            if stop.wait(pause):
                log.info("fetch-mail: stopped")
                return
    if _print_reports(reports):
        raise SystemExit(1)


@click.command("lmtp")
@click.option("--host", default=DEFAULT_LMTP_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_LMTP_PORT,
    show_default=True,
    help="TCP port to listen on.",
)
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Listen on this unix socket instead of a TCP port.",
)
@click.option(
    "--socket-mode",
    default="660",
    show_default=True,
    help="Octal permissions of the unix sockets, the LMTP one and the ingest handoff (the mail "
    "server's user must be able to write).",
)
@click.option(
    "--ingest-socket/--no-ingest-socket",
    default=True,
    show_default=True,
    help="Also take messages from `wikibridge ingest` pipes, on DATA_DIR/spool/ingest.sock.",
)
@pass_runtime
def lmtp_command(
    rt: Runtime,
    host: str,
    port: int,
    socket_path: Path | None,
    socket_mode: str,
    ingest_socket: bool,
) -> None:
    """Receive mail from the mail server over LMTP until stopped (SIGTERM, Ctrl-C).

    Replies 250 once a message is stored, 451 when it cannot be stored now (the mail server
    keeps it and retries). Point Postfix at it with, e.g.,
    `mailbox_transport = lmtp:inet:127.0.0.1:8024` or a transport map entry.

    Unless --no-ingest-socket, `wikibridge ingest` pipes started by the mail server hand
    their messages over to this listener too (through DATA_DIR/spool/ingest.sock), which
    stores them in the same batches and answers once they are committed: the pipe then
    starts without loading the database libraries. Without a listener the pipe stores the
    message itself.
    """
    from wikibridge.mail.handoff import MAX_SOCKET_PATH, HandoffError
    from wikibridge.mail.handoff import socket_path as handoff_path
    from wikibridge.mail.ingest import Ingestor
    from wikibridge.mail.lmtp import LmtpHandler, make_controller, serve

    _setup_logging(logging.INFO)
    # aiosmtpd logs every command of every connection at INFO (MAIL, RCPT, DATA ...): five
    # lines per message that cost CPU and repeat what our one line per delivery says.
    # Its warnings and errors still show.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        mode = int(socket_mode, 8)
    except ValueError:
        raise click.BadParameter("must be octal, e.g. 660", param_hint="--socket-mode") from None
    _check_schema(rt)
    handler = LmtpHandler(Ingestor(rt.settings, rt.sessions))
    controller = make_controller(
        handler,
        host=host,
        port=port,
        socket_path=socket_path,
        max_message_bytes=rt.settings.mail.max_message_bytes,
    )
    where = str(socket_path) if socket_path else f"{host}:{port}"
    handoff = None
    ingest_path = handoff_path(rt.settings.data_dir)
    if ingest_socket and len(os.fsencode(ingest_path)) > MAX_SOCKET_PATH:
        # Not fatal: the pipes store their messages themselves, as without a listener.
        log.warning("lmtp: %s is too long for a unix socket; no ingest handoff", ingest_path)
    elif ingest_socket:
        handoff = handler.handoff_server(
            ingest_path, max_bytes=rt.settings.mail.max_message_bytes, mode=mode
        )

    def started() -> None:
        if socket_path is not None:
            socket_path.chmod(mode)
        log.info("lmtp: listening on %s", where)
        if handoff is not None:
            log.info("lmtp: taking ingest pipes on %s", handoff.path)

    try:
        with _stop_on_signals() as stop:
            serve(controller, handler, stop, on_start=started, handoff=handoff)
    except HandoffError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(f"cannot listen on {where}: {e.strerror or e}") from None
    log.info("lmtp: stopped")


def _chosen_mailboxes(rt: Runtime, names: tuple[str, ...]) -> list[ImapMailbox]:
    configured = list(rt.settings.imap)
    if not configured:
        where = rt.settings.config_file or "the file named by WIKIBRIDGE_CONFIG"
        raise click.ClickException(
            f"no IMAP mailbox is configured: add an [[imap]] table (name, host, username, "
            f"password, ...) to {where}; see config.example.toml"
        )
    if not names:
        return configured
    by_name = {m.name: m for m in configured}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise click.ClickException(
            f"no [[imap]] mailbox named {', '.join(unknown)}; "
            f"configured: {', '.join(sorted(by_name))}"
        )
    return [by_name[n] for n in dict.fromkeys(names)]


def _check_schema(rt: Runtime) -> None:
    """Refuse a database with an old schema; carry on when it cannot be reached at all.

    An unreachable database is what TempFail handles: IMAP mail stays unseen, LMTP answers
    451, and both recover by themselves once the database is back.
    """
    from sqlalchemy.exc import OperationalError

    try:
        rt.require_schema()
    except OperationalError as e:
        first = str(e.orig or e).strip().splitlines()[0]
        click.echo(f"warning: cannot reach the database now: {first}", err=True)


def _print_reports(reports: list[FetchReport]) -> bool:
    """Print one line per mailbox; True when any of them failed."""
    failed = False
    for report in reports:
        if report.ok:
            click.echo(report.summary())
        else:
            failed = True
            click.echo(f"error: {report.summary()}", err=True)
    return failed


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT: the current message is finished, then we stop."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals go to the main thread only (a command run inside a test)
        return

    def handle(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _setup_logging(level: int) -> None:
    # Only when nobody configured logging yet (tests, an embedding program).
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
