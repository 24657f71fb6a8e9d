"""The `wikibridge` command.

Subcommands import what they need when they run, so that `wikibridge ingest`, spawned once per
message by the mail server, starts without loading the web app or the wiki libraries.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import click

from wikibridge.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

F = TypeVar("F", bound=Callable[..., Any])
MBOX_BATCH = 100  # messages per database commit when importing an archive


@dataclass
class Runtime:
    """Settings and database handles for one command run; built lazily."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        from wikibridge.db import make_engine

        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from wikibridge.db import make_sessionmaker

        return make_sessionmaker(self.engine)

    def require_schema(self) -> None:
        """Refuse to run against a database whose schema is not at the head revision."""
        from wikibridge import schema

        try:
            schema.require_head(self.engine)
        except schema.SchemaMismatch as e:
            raise click.ClickException(str(e)) from None


pass_runtime = click.make_pass_decorator(Runtime)


class WikibridgeGroup(click.Group):
    """Turns an unreachable database into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as e:
            from sqlalchemy.exc import OperationalError

            if isinstance(e, OperationalError):
                first = str(e.orig or e).strip().splitlines()[0]
                raise click.ClickException(f"cannot reach the database: {first}") from None
            raise


@click.group(cls=WikibridgeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wikibridge")
@click.pass_context
def main(ctx: click.Context) -> None:
    """wikibridge: e-mail tickets for wiki volunteers.

    Settings come from the TOML file named by WIKIBRIDGE_CONFIG and from WIKIBRIDGE_*
    environment variables (see config.example.toml).
    """
    try:
        ctx.obj = Runtime(load_settings())
    except ConfigError as e:
        if ctx.invoked_subcommand == "ingest":
            # The mail server keeps the message and retries: an operator can fix the setting.
            click.echo(f"wikibridge: configuration error: {e}", err=True)
            sys.exit(75)
        raise click.ClickException(f"configuration error: {e}") from None


@main.group()
def db() -> None:
    """Create or migrate the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option(
    "--no-backup",
    is_flag=True,
    help="Do not back up the database and files first (into the data directory's backups/).",
)
@pass_runtime
def db_upgrade(rt: Runtime, revision: str, no_backup: bool) -> None:
    """Create the schema, or migrate it to the newest revision.

    A database that has tables is backed up first (`wikibridge backup` into
    DATA_DIR/backups/), unless --no-backup; a new, empty one is not.
    """
    from wikibridge import schema

    before = schema.current_revision(rt.engine)
    if not no_backup and not schema.is_empty(rt.engine) and before != schema.head_revision():
        from wikibridge.maintenance.commands import backup_before_upgrade

        backup_before_upgrade(rt, before)
    schema.upgrade(rt.engine, revision)
    after = schema.current_revision(rt.engine)
    where = rt.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"{where}: schema already at {after}")
    else:
        click.echo(f"{where}: schema upgraded from {before or 'empty'} to {after}")


@db.command("current")
@pass_runtime
def db_current(rt: Runtime) -> None:
    """Print the schema revision of the database and the one this version needs."""
    from wikibridge import schema

    current = schema.current_revision(rt.engine)
    click.echo(f"database: {current or 'empty'}\nneeded:   {schema.head_revision()}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_runtime
def status(rt: Runtime, as_json: bool) -> None:
    """Counts an operator watches: tickets, articles, spool, jobs."""
    from wikibridge.mail.spool import Spool
    from wikibridge.store import status as store_status

    rt.require_schema()
    with rt.sessions() as session:
        counts = store_status.counts(session)
    spool = Spool(rt.settings.data_dir)
    counts["spool_waiting"] = spool.count("incoming")
    counts["quarantined"] = spool.count("quarantine")
    if as_json:
        click.echo(json.dumps(counts, sort_keys=True))
        return
    labels = {
        "tickets": "tickets",
        "open_tickets": "  of them open",
        "articles": "articles",
        "spool_waiting": "messages waiting in the spool",
        "quarantined": "quarantined messages",
        "jobs_pending": "jobs pending",
        "jobs_failed": "jobs failed",
    }
    for key, label in labels.items():
        click.echo(f"{label:32} {counts[key]:>10}")


@main.command()
@click.option("--queue", default="", help="Queue for new tickets (else the routing rules decide).")
@click.option(
    "--mbox",
    "mbox_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Import every message of an mbox file instead of one message on standard input.",
)
@pass_runtime
def ingest(rt: Runtime, queue: str, mbox_path: str | None) -> None:
    """Store one RFC 5322 message read from standard input (an MTA pipe).

    Exits 0 once the message is stored (or quarantined with a reason), 75 (EX_TEMPFAIL) when
    it cannot be stored now, so that the mail server keeps it and tries again.
    """
    if mbox_path:
        from wikibridge.mail.ingest import EX_TEMPFAIL, Ingestor

        _ingest_schema_check(rt, EX_TEMPFAIL)
        _ingest_mbox(Ingestor(rt.settings, rt.sessions), mbox_path, queue)
        return
    code = ingest_message(rt, sys.stdin.buffer.read(), queue)
    if code:
        sys.exit(code)


def ingest_message(rt: Runtime, raw: bytes, queue: str) -> int:
    """Store one piped message in this process; the exit code for the mail server.

    Also the fallback of the pipe's fast path (wikibridge.entry) when no listener runs.
    """
    from wikibridge.mail.ingest import EX_TEMPFAIL, Ingestor, TempFail

    _ingest_schema_check(rt, EX_TEMPFAIL)
    if not raw:
        click.echo("wikibridge ingest: no message on standard input", err=True)
        return EX_TEMPFAIL
    ingestor = Ingestor(rt.settings, rt.sessions)
    try:
        outcome = ingestor.ingest(raw, source="pipe", queue=queue)
    except TempFail as e:
        click.echo(f"wikibridge ingest: temporary failure, will be retried: {e}", err=True)
        return EX_TEMPFAIL
    except Exception as e:  # noqa: BLE001 - never bounce mail because of our own bug
        click.echo(f"wikibridge ingest: unexpected error, will be retried: {e!r}", err=True)
        return EX_TEMPFAIL
    if outcome.status == "quarantined":
        click.echo(f"quarantined {outcome.sha256}: {outcome.reason}", err=True)
    else:
        click.echo(f"{outcome.status} ticket {outcome.ticket_number} article {outcome.article_id}")
    return 0


def _ingest_schema_check(rt: Runtime, tempfail: int) -> None:
    """An old or missing schema: exit 75 before touching the message, so the mail server keeps
    it until an operator has run `wikibridge db upgrade`. An unreachable database is not
    decided here: ingest spools the message and tempfails as always."""
    from sqlalchemy.exc import OperationalError

    from wikibridge import schema

    try:
        schema.require_head(rt.engine)
    except schema.SchemaMismatch as e:
        click.echo(f"wikibridge ingest: {e}; the message will be retried", err=True)
        sys.exit(tempfail)
    except OperationalError:
        pass


def _ingest_mbox(ingestor: Any, path: str, queue: str) -> None:
    """Import an archive; stops at the first temporary failure (run it again to go on:
    messages already stored are recognised as duplicates)."""
    import mailbox

    from wikibridge.mail.ingest import EX_TEMPFAIL, TempFail

    box = mailbox.mbox(path, create=False)
    keys = box.keys()
    counts: dict[str, int] = {}
    with click.progressbar(length=len(keys), label="importing", file=sys.stderr) as bar:
        for start in range(0, len(keys), MBOX_BATCH):
            batch = [box.get_bytes(k) for k in keys[start : start + MBOX_BATCH]]
            try:
                outcomes = ingestor.ingest_many(batch, source="mbox", queue=queue)
            except TempFail as e:
                click.echo(f"temporary failure after {start} message(s): {e}", err=True)
                sys.exit(EX_TEMPFAIL)
            for outcome in outcomes:
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
            bar.update(len(batch))
    ingestor.checkpoint()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(f"{sum(counts.values())} message(s): {summary or 'none'}")


@main.group()
def spool() -> None:
    """The raw-mail spool: retry waiting messages, inspect the quarantine."""


@spool.command("reprocess")
@click.option("--quarantined", is_flag=True, help="Also retry quarantined messages.")
@pass_runtime
def spool_reprocess(rt: Runtime, quarantined: bool) -> None:
    """Store every message waiting in the spool (after the database was down)."""
    from wikibridge.mail.ingest import Ingestor, TempFail

    rt.require_schema()
    ingestor = Ingestor(rt.settings, rt.sessions)
    ingestor.recover_journals()
    if quarantined:
        for entry in ingestor.spool.quarantined():
            ingestor.spool.release(entry.sha256)
    waiting = ingestor.spool.pending()
    counts: dict[str, int] = {}
    with click.progressbar(waiting, label="reprocessing", file=sys.stderr) as bar:
        for entry in bar:
            try:
                outcome = ingestor.store(entry)
            except TempFail as e:
                raise click.ClickException(f"stopped at {entry.sha256}: {e}") from None
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(f"{len(waiting)} message(s) reprocessed" + (f": {summary}" if summary else ""))


@spool.command("list")
@pass_runtime
def spool_list(rt: Runtime) -> None:
    """List quarantined and waiting messages with their reasons."""
    from wikibridge.mail.spool import Spool

    s = Spool(rt.settings.data_dir)
    for entry in s.pending():
        click.echo(f"waiting      {entry.sha256}  {entry.received_at}  {entry.source}")
    for entry in s.quarantined():
        click.echo(f"quarantined  {entry.sha256}  {entry.received_at}  {entry.reason}")


class LazyCommand(click.Command):
    """A command that imports its module only when it runs (e.g. the web app's Flask)."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name, help=help)
        self.target = target  # "module:attribute"

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        import importlib

        module, _, attribute = self.target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command.make_context(info_name, args, parent, **extra)


main.add_command(LazyCommand("serve", "webapp.commands:serve", "Run the web app (gunicorn)."))


def _register_commands() -> None:
    # Imported in a function: these modules import this one back, and mypy can type an
    # import cycle only when the names of the other side are used inside functions.
    from wikibridge.admin.commands import make_admin_command
    from wikibridge.jobs.commands import jobs_command, worker_command
    from wikibridge.mail.commands import fetch_mail_command, lmtp_command
    from wikibridge.maintenance.commands import (
        backup_command,
        check_command,
        purge_command,
        restore_command,
    )

    for command in (worker_command, jobs_command, fetch_mail_command, lmtp_command):
        main.add_command(command)
    for command in (backup_command, restore_command, check_command, purge_command):
        main.add_command(command)
    main.add_command(make_admin_command)


_register_commands()

if __name__ == "__main__":
    main()
