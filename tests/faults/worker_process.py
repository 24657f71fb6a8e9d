"""A worker process for the kill tests: `python -m tests.faults.worker_process`.

It runs one pass of the real worker (the real handlers, SMTP and wiki code) with the settings
in the environment, and, when FAULT_PAUSE names a point, stops there: it writes its process id
to FAULT_MARKER and sleeps, so that the test can SIGKILL it at that very point.

- ``before_send``: the claim is committed, the article read; the SMTP conversation not begun.
- ``before_edit``: the claim is committed and the page read; the edit not sent.
- ``after_edit``: the wiki saved the edit; its outcome is not recorded.

FAULT_LEASE is the lease in seconds (short, so the restarted worker may take the job over);
FAULT_LOGINS a JSON object: wiki user name -> [bot user name, bot password].
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from wikibridge.config import load_settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.jobs import send_mail
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.worker import Backoff, Worker
from wikibridge.models import Volunteer
from wikibridge.wiki.base import BotPassword, Credentials
from wikibridge.wiki.mwclient_adapter import WikiSession


def hold() -> None:
    Path(os.environ["FAULT_MARKER"]).write_text(str(os.getpid()))
    time.sleep(600)


def pause_at(point: str) -> None:
    if point == "before_send":
        real_send = send_mail.send

        def send(*args: Any, **kwargs: Any) -> Any:
            hold()
            return real_send(*args, **kwargs)

        send_mail.send = send  # type: ignore[assignment]
    elif point in ("before_edit", "after_edit"):
        real_edit = WikiSession.edit

        def edit(self: WikiSession, *args: Any, **kwargs: Any) -> Any:
            if point == "before_edit":
                hold()
            result = real_edit(self, *args, **kwargs)
            hold()
            return result

        WikiSession.edit = edit  # type: ignore[method-assign]


def main() -> None:
    settings = load_settings(dict(os.environ))
    pause_at(os.environ.get("FAULT_PAUSE", ""))
    logins = json.loads(os.environ.get("FAULT_LOGINS", "{}"))

    def credentials_for(volunteer: Volunteer | None) -> Credentials:
        username, password = logins[volunteer.username if volunteer else ""]
        return BotPassword(username, password)

    engine = make_engine(settings.database_url)
    lease = float(os.environ.get("FAULT_LEASE", "2"))
    worker = Worker(
        JobContext(settings, make_sessionmaker(engine), credentials_for=credentials_for),
        lease=timedelta(seconds=lease),
        job_budget=timedelta(seconds=lease / 2),
        backoff=Backoff(base=0.001, cap=0.01),
    )
    print(json.dumps(dict(worker.run_once())))
    engine.dispose()


if __name__ == "__main__":
    main()
