"""The `wikibridge backup`, `restore`, `check` and `purge` commands.

Registered on the main command group at the end of ``wikibridge/cli.py``; the work is imported
when a command runs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wikibridge.cli import Runtime, pass_runtime

if TYPE_CHECKING:
    from wikibridge.maintenance.backup import Manifest
    from wikibridge.tickets.retention import PurgePlan

EX_PROBLEMS = 1
# Ticket numbers listed by a dry run before "... and N more".
LIST_LIMIT = 200


@contextmanager
def _bar(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error, when that is a terminal (not in cron's mail)."""
    if not sys.stderr.isatty() or not length:
        yield lambda _n: None
        return
    with click.progressbar(length=length, label=f"{label:18}", file=sys.stderr) as bar:
        yield bar.update


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@pass_runtime
def backup_command(rt: Runtime, dest: Path) -> None:
    """Back up the database, raw mail and attachment blobs into DEST (a new or empty folder),
    while everything keeps running.

    DEST gets the database (a SQLite copy or a pg_dump custom-format file), raw/, blobs/,
    spool/ and manifest.json (counts, schema revision, SHA-256 of every file), written last.
    Exits 1 when a file was missing or damaged (the manifest lists them).
    """
    manifest = _backup(rt, dest)
    click.echo(_summary(dest, manifest))
    if manifest.problems:
        for problem in manifest.problems:
            click.echo(f"PROBLEM {problem}", err=True)
        raise SystemExit(EX_PROBLEMS)


def _backup(rt: Runtime, dest: Path) -> Manifest:
    from wikibridge.maintenance.backup import BackupError, run_backup
    from wikibridge.maintenance.database import DatabaseCopyError

    try:
        return run_backup(rt.engine, rt.settings.data_dir, dest, _bar)
    except (BackupError, DatabaseCopyError) as e:
        raise click.ClickException(str(e)) from None


def _summary(dest: Path, manifest: Manifest) -> str:
    c = manifest.counts
    return (
        f"backup in {dest} (schema {manifest.schema_revision}, {manifest.created_at}): "
        f"{c.get('tickets', 0)} tickets, {c.get('articles', 0)} articles, "
        f"{c.get('attachments', 0)} attachments, {len(manifest.raw)} raw messages, "
        f"{len(manifest.blobs)} blobs, {len(manifest.incoming)} waiting, "
        f"{len(manifest.quarantine)} quarantined"
    )


def backup_before_upgrade(rt: Runtime, revision: str | None) -> None:
    """`wikibridge db upgrade`'s safety net, in DATA_DIR/backups/."""
    from wikibridge.maintenance.backup import default_upgrade_folder

    folder = default_upgrade_folder(rt.settings.data_dir, revision)
    click.echo(f"backing up before the upgrade into {folder} (skip with --no-backup)", err=True)
    manifest = _backup(rt, folder)
    if manifest.problems:
        raise click.ClickException(
            f"the backup in {folder} found {len(manifest.problems)} problem(s) "
            "(see its manifest.json); not upgrading. Fix them, or upgrade with --no-backup"
        )
    click.echo(_summary(folder, manifest), err=True)


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_runtime
def restore_command(rt: Runtime, src: Path) -> None:
    """Restore the backup in SRC into an empty database and data directory, then verify it
    against its manifest and check it (as `wikibridge check`). Exits 1 when they differ."""
    from wikibridge.maintenance.backup import BackupError
    from wikibridge.maintenance.database import DatabaseCopyError
    from wikibridge.maintenance.restore import run_restore

    try:
        report = run_restore(rt.engine, rt.settings.data_dir, src, _bar)
    except (BackupError, DatabaseCopyError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"restored from {src}: {_summary(src, report.manifest).split(': ', 1)[1]}")
    for difference in report.differences:
        click.echo(f"PROBLEM {difference}", err=True)
    if report.check is not None:
        for line in report.check.lines():
            click.echo(line, err=not report.ok and line.startswith("PROBLEM"))
    if not report.ok:
        raise SystemExit(EX_PROBLEMS)
    click.echo("restore verified against the manifest")


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_runtime
def check_command(rt: Runtime, as_json: bool) -> None:
    """Check integrity: the schema is at head; every raw message and attachment blob the
    database points at is present and matches its SHA-256; no orphan files. Exits 1 and
    lists the problems when there are any."""
    from wikibridge.maintenance.check import run_check

    report = run_check(rt.engine, rt.settings.data_dir, _bar)
    if as_json:
        click.echo(json.dumps(report.to_json(), sort_keys=True))
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        raise SystemExit(EX_PROBLEMS)


@click.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    help="Purge closed tickets closed more than DAYS days ago.",
    metavar="DAYS",
)
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Purge closed tickets closed before this day (YYYY-MM-DD, UTC).",
)
@click.option("--execute", is_flag=True, help="Really purge (without it: only show what would go).")
@click.option(
    "--allow-large",
    is_flag=True,
    help="Allow removing more than tickets.purge_max_share of all tickets.",
)
@pass_runtime
def purge_command(
    rt: Runtime, days: int | None, before: datetime | None, execute: bool, allow_large: bool
) -> None:
    """Delete the content of closed tickets closed before a cutoff; a dry run unless --execute.

    A purged ticket keeps its number (verification says "removed"); its articles,
    attachments and the files no longer used are deleted. Tickets cited by an on-wiki action
    are never purged. Every purge is written to the audit log.
    """
    from wikibridge.maintenance.purge import remove_unreferenced
    from wikibridge.tickets import retention

    if (days is None) == (before is None):
        raise click.UsageError("give exactly one of --older-than DAYS and --before DATE")
    if before is not None:
        cutoff = before.replace(tzinfo=UTC)
    else:
        cutoff = datetime.now(UTC) - timedelta(days=days or 0)
    rt.require_schema()
    max_share = rt.settings.tickets.purge_max_share
    with rt.sessions() as session, session.begin():
        plan = retention.plan_purge(session, cutoff)
        _describe(plan, execute)
        try:
            retention.refuse_if_large(plan, max_share, allow_large)
        except retention.PurgeRefused as e:
            raise click.ClickException(str(e)) from None
        if not execute or not plan.count:
            if not execute:
                click.echo("dry run: nothing was changed; add --execute to purge")
            return
        try:
            result = retention.execute_purge(session, plan, by="wikibridge purge")
        except retention.PurgeRefused as e:
            raise click.ClickException(str(e)) from None
    with rt.sessions() as session:
        files = remove_unreferenced(
            session, rt.settings.data_dir, result.raw_hashes, result.blob_hashes
        )
    click.echo(
        f"purged {result.tickets} ticket(s): {result.articles} article(s), "
        f"{result.attachments} attachment(s), {files.raw} raw message(s) and "
        f"{files.blobs} blob(s) deleted"
    )


def _describe(plan: PurgePlan, execute: bool) -> None:
    when = plan.cutoff.isoformat(timespec="seconds").replace("+00:00", "Z")
    verb = "purging" if execute else "would purge"
    click.echo(
        f"{verb} {plan.count} of {plan.live_total} ticket(s) ({plan.share:.1%}), "
        f"closed tickets closed before {when}"
    )
    numbers = plan.numbers
    for number in numbers[:LIST_LIMIT]:
        click.echo(f"  {number}")
    if len(numbers) > LIST_LIMIT:
        click.echo(f"  ... and {len(numbers) - LIST_LIMIT} more")
    if plan.kept_cited:
        click.echo(
            f"kept, cited by an on-wiki action: {len(plan.kept_cited)} "
            f"({', '.join(plan.kept_cited[:20])}{' ...' if len(plan.kept_cited) > 20 else ''})"
        )
    if plan.kept_busy:
        click.echo(
            f"kept, with outbox work waiting: {len(plan.kept_busy)} "
            f"({', '.join(plan.kept_busy[:20])}{' ...' if len(plan.kept_busy) > 20 else ''})"
        )
