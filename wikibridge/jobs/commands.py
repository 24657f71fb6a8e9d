"""`wikibridge worker` and `wikibridge jobs`: run the outbox, and look after failed jobs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from wikibridge.cli import Runtime

# `wikibridge.cli` imports this module at its end to register the commands, so this module does
# not import it back: the group's context object *is* the Runtime (what cli.pass_runtime finds),
# and importing this module first, or type-checking it, needs no import cycle.
pass_runtime = click.pass_obj

_LIST_LIMIT = 50


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs that are due, then exit (for cron).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between polls for due jobs.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=1000),
    default=10,
    show_default=True,
    help="Jobs claimed at a time.",
)
@pass_runtime
def worker_command(rt: Runtime, once: bool, interval: float, batch: int) -> None:
    """Send queued mail and carry out other outbox jobs.

    Runs until SIGTERM or SIGINT, which let the current job finish. Failed attempts are tried
    again with growing delays; `wikibridge jobs` lists what is waiting or has failed.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from wikibridge.jobs.base import JobContext
    from wikibridge.jobs.worker import Worker, stop_on_signals

    rt.require_schema()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    worker = Worker(JobContext(rt.settings, rt.sessions), batch=batch)
    stop_on_signals(worker)
    if not once:
        worker.run_forever(interval)
        return
    try:
        outcomes = worker.run_once()
    except SQLAlchemyError as e:
        raise click.ClickException(f"database error: {str(e).strip().splitlines()[0]}") from None
    summary = ", ".join(f"{n} {state}" for state, n in sorted(outcomes.items()))
    click.echo(f"{sum(outcomes.values())} job(s) run" + (f": {summary}" if summary else ""))


@click.command("jobs")
@click.option("--failed", "only_failed", is_flag=True, help="List failed jobs only.")
@click.option("--retry", "retry_id", type=int, help="Put the failed job with this id back.")
@pass_runtime
def jobs_command(rt: Runtime, only_failed: bool, retry_id: int | None) -> None:
    """List outbox jobs that are waiting, running or failed (newest first), or retry one."""
    from wikibridge.store import jobs as store

    rt.require_schema()
    if retry_id is not None:
        with rt.sessions.begin() as session:
            if not store.retry_failed(session, retry_id):
                raise click.ClickException(f"there is no failed job {retry_id}")
        click.echo(f"job {retry_id} will be tried again")
        return
    states = ("failed",) if only_failed else ("pending", "running", "failed")
    with rt.sessions() as session:
        rows = store.listing(session, states, limit=_LIST_LIMIT)
    if not rows:
        click.echo("no failed jobs" if only_failed else "no jobs waiting or failed")
        return
    click.echo(f"{'id':>8}  {'kind':<12} {'state':<8} tries  {'next run (UTC)':<19}  ticket")
    for job, number in rows:
        when = job.run_after.strftime("%Y-%m-%d %H:%M:%S")
        ticket = number or "-"
        click.echo(
            f"{job.id:>8}  {job.kind:<12} {job.state:<8} {job.attempts:>2}/{job.max_attempts:<2}"
            f"  {when}  {ticket}"
        )
        if job.last_error:
            click.echo(f"          {job.last_error.splitlines()[0][:200]}")
    if len(rows) == _LIST_LIMIT:
        click.echo(f"(the newest {_LIST_LIMIT} shown)")
