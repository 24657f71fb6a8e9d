"""`wikibridge make-admin`: name the first global admin (and any later one) from the shell."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from wikibridge.cli import Runtime

# As in wikibridge.jobs.commands: the group's context object is the Runtime.
pass_runtime = click.pass_obj


@click.command("make-admin")
@click.argument("username")
@click.option("--remove", is_flag=True, help="Take the global admin right away instead.")
@pass_runtime
def make_admin_command(rt: Runtime, username: str, remove: bool) -> None:
    """Make the volunteer USERNAME a global admin (approving them), or no longer one.

    They must have logged in once. Global admins approve volunteers and grant queue access in
    the web app; everything they do there is in the audit log.
    """
    from wikibridge.admin.base import Invalid
    from wikibridge.admin.volunteers import make_global_admin

    rt.require_schema()
    try:
        with rt.sessions.begin() as session:
            volunteer = make_global_admin(session, username, admin=not remove)
            name = volunteer.username
    except Invalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name} is {'no longer ' if remove else ''}a global admin")
