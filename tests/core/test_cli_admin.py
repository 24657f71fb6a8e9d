"""`wikibridge make-admin`: the operator names the first global admin."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.admin_audit import last, reload
from tests.cli import wikibridge
from tests.webapp import helpers


def test_make_admin_approves_and_can_be_undone(
    session: Session, settings_env: dict[str, str]
) -> None:
    first = helpers.volunteer(session, "First Admin", approved=False)
    session.commit()
    result = wikibridge("make-admin", "First Admin", env=settings_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == "First Admin is a global admin"
    reload(session, first)
    assert first.is_admin and first.approved and first.identified
    who, detail = last(session, "global_admin_set")
    assert who is None and detail["by"] == "command line"
    assert detail["after"] == {"is_admin": True, "approved": True}

    result = wikibridge("make-admin", "--remove", "First Admin", env=settings_env)
    assert result.returncode == 0, result.stderr
    reload(session, first)
    assert not first.is_admin and first.approved


def test_make_admin_needs_a_known_volunteer(settings_env: dict[str, str]) -> None:
    result = wikibridge("make-admin", "Nobody", env=settings_env)
    assert result.returncode == 1
    assert "there is no volunteer 'Nobody': they must log in once first" in result.stderr.decode()
