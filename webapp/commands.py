"""`wikibridge serve`: the web app under gunicorn.

This module is imported only when the command runs (see the end of ``wikibridge/cli.py``), and
it imports Flask only inside the gunicorn workers, which build the app with the factory.
"""

from __future__ import annotations

import dataclasses
import gc
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from wikibridge.cli import Runtime, pass_runtime
from wikibridge.config import Settings


class WebServer(BaseApplication):
    """gunicorn running :func:`webapp.create_app` in each worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 24+ opens a control socket in the home directory; nothing here uses it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        from webapp import create_app

        app = create_app(self.settings)
        settle()
        return app


def settle() -> None:
    """Move what start-up made (modules, the app, compiled templates and queries) out of the
    garbage collector's sight. Otherwise every full collection walks all of it again: at 200
    articles a ticket page then takes 70 ms instead of 20 now and then (measured, p95)."""
    gc.collect()
    gc.freeze()


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Processes."
)
@click.option(
    "--demo",
    is_flag=True,
    help="Demo mode (also WIKIBRIDGE_DEMO=true): upgrade the schema, seed sample queues, "
    "mail and a volunteer, and offer a demo login to this machine.",
)
@pass_runtime
def serve(rt: Runtime, host: str, port: int, workers: int, demo: bool) -> None:
    """Run the web app (gunicorn) until stopped with SIGTERM or Ctrl-C."""
    settings = rt.settings
    if demo and not settings.demo:
        settings = dataclasses.replace(settings, demo=True)
        rt = Runtime(settings)
    if settings.demo:
        _prepare_demo(rt)
    else:
        rt.require_schema()
    rt.engine.dispose()  # the workers open their own connections after the fork
    options = {
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "accesslog": "-",
        "errorlog": "-",
        "graceful_timeout": 10,
        "proc_name": "wikibridge-web",
    }
    click.echo(f"wikibridge: serving on http://{bind_address(host, port)}/", err=True)
    WebServer(settings, options).run()


def _prepare_demo(rt: Runtime) -> None:
    from webapp.demo import seed
    from wikibridge import schema

    schema.upgrade(rt.engine)
    result = seed(rt.settings, rt.sessions)
    click.echo(
        f"wikibridge: demo mode: {len(result.tickets)} sample messages "
        f"({result.stored} new), demo login offered on loopback only",
        err=True,
    )
