"""Volunteers: approval once identified, deactivation, grants of queue access, the public list.

Deactivation and revocation need nothing more than the change here: the web app loads the
volunteer and their access again on every request, so the next request already sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import NOBODY, Scope
from wikibridge.models import ACCESS_LEVELS, Queue, QueueAccess, Volunteer
from wikibridge.store import admin_queues, admin_volunteers, volunteers

from .base import Invalid, found, record, require

LEVEL_NAMES = {"ro": "read only", "rw": "read and write", "admin": "queue admin"}


@dataclass(frozen=True)
class Grant:
    queue: Queue
    level: str
    granted_at: datetime
    granted_by: str  # username, "" when unknown


@dataclass(frozen=True)
class VolunteerRow:
    volunteer: Volunteer
    grants: list[Grant]  # only on queues the viewer administers

    @property
    def status(self) -> str:
        return status_of(self.volunteer)


def status_of(volunteer: Volunteer) -> str:
    if not volunteer.active:
        return "deactivated"
    return "approved" if volunteer.approved else "waiting"


def listing(session: Session, scope: Scope) -> list[VolunteerRow]:
    """Everyone, waiting for approval first, with the grants this scope may see."""
    require(access.can_admin_any(scope))
    people = admin_volunteers.all_volunteers(session)
    grants = _grants(session, scope, admin_volunteers.all_grants(session))
    return [VolunteerRow(v, grants.get(v.id, [])) for v in people]


def detail(session: Session, scope: Scope, volunteer_id: int) -> VolunteerRow:
    require(access.can_admin_any(scope))
    volunteer = found(volunteers.get(session, volunteer_id))
    grants = _grants(session, scope, admin_volunteers.grants_of(session, volunteer_id))
    return VolunteerRow(volunteer, grants.get(volunteer.id, []))


def approve(session: Session, scope: Scope, volunteer_id: int, identified: bool) -> Volunteer:
    """Approve a volunteer who has identified with the Foundation (the admin confirms it)."""
    require(access.can_manage_volunteers(scope))
    volunteer = found(volunteers.get(session, volunteer_id))
    if not volunteer.active:
        raise Invalid(f"{volunteer.username} is deactivated; reactivate them first.")
    if volunteer.approved:
        raise Invalid(f"{volunteer.username} is already approved.")
    if not identified:
        raise Invalid(
            "Approve only volunteers who have identified with the Foundation: "
            "tick the box to confirm that they have."
        )
    volunteer.identified = True
    volunteer.approved = True
    session.flush()
    _record(session, scope, "volunteer_approved", volunteer, identified=True)
    return volunteer


def deactivate(session: Session, scope: Scope, volunteer_id: int) -> Volunteer:
    """Reject a waiting volunteer, or take an approved one off every queue; grants are kept."""
    require(access.can_manage_volunteers(scope))
    volunteer = found(volunteers.get(session, volunteer_id))
    if volunteer.id == scope.volunteer_id:
        raise Invalid("You cannot deactivate yourself.")
    if not volunteer.active:
        raise Invalid(f"{volunteer.username} is already deactivated.")
    volunteer.active = False
    session.flush()
    action = "volunteer_deactivated" if volunteer.approved else "volunteer_rejected"
    _record(session, scope, action, volunteer)
    return volunteer


def reactivate(session: Session, scope: Scope, volunteer_id: int) -> Volunteer:
    require(access.can_manage_volunteers(scope))
    volunteer = found(volunteers.get(session, volunteer_id))
    if volunteer.active:
        raise Invalid(f"{volunteer.username} is active.")
    volunteer.active = True
    session.flush()
    _record(session, scope, "volunteer_reactivated", volunteer)
    return volunteer


def grant(
    session: Session, scope: Scope, volunteer_id: int, queue_id: int, level: str
) -> QueueAccess:
    """Give a level on a queue; it covers the queues below it too."""
    require(access.can_admin_queue(scope, queue_id))
    queue = found(admin_queues.get(session, queue_id))
    volunteer = found(volunteers.get(session, volunteer_id))
    if level not in ACCESS_LEVELS:
        raise Invalid(f"The access level must be one of: {', '.join(ACCESS_LEVELS)}.")
    existing = admin_volunteers.grant_of(session, volunteer.id, queue.id)
    before = existing.level if existing is not None else None
    if existing is not None and before == level:
        return existing
    row = volunteers.grant(session, volunteer.id, queue.id, level, granted_by_id=scope.volunteer_id)
    _record(
        session,
        scope,
        "access_granted",
        volunteer,
        queue_id=queue.id,
        queue=queue.name,
        before=before,
        after=level,
    )
    return row


def revoke(session: Session, scope: Scope, volunteer_id: int, queue_id: int) -> None:
    """Take back a grant. Access inherited from a grant on a parent queue stays."""
    require(access.can_admin_queue(scope, queue_id))
    queue = found(admin_queues.get(session, queue_id))
    volunteer = found(volunteers.get(session, volunteer_id))
    row = found(admin_volunteers.grant_of(session, volunteer.id, queue.id))
    before = row.level
    # The row stays, with its end time: public verification asks who had access when.
    volunteers.revoke(session, volunteer.id, queue.id)
    _record(
        session,
        scope,
        "access_revoked",
        volunteer,
        queue_id=queue.id,
        queue=queue.name,
        before=before,
        after=None,
    )


def set_public_listing(session: Session, volunteer: Volunteer, listed: bool) -> None:
    """A volunteer's own choice to appear on the public volunteer list."""
    if volunteer.public_listing == listed:
        return
    volunteer.public_listing = listed
    session.flush()
    record(
        session,
        Scope(volunteer.id),
        "public_listing_changed",
        target_id=volunteer.id,
        before=not listed,
        after=listed,
    )


def public_usernames(session: Session) -> list[str]:
    """The public volunteer list: usernames of approved, active volunteers who opted in."""
    return admin_volunteers.public_usernames(session)


def make_global_admin(session: Session, username: str, admin: bool = True) -> Volunteer:
    """The operator's way to name (or remove) a global admin, from the command line.

    The volunteer must have logged in once. Naming an admin also approves them: the operator
    vouches that they have identified. Recorded in the audit log without an acting volunteer.
    """
    matches = admin_volunteers.by_username(session, username)
    if not matches:
        raise Invalid(f"there is no volunteer {username!r}: they must log in once first")
    if len(matches) > 1:
        raise Invalid(f"several volunteers are named {username!r}")
    volunteer = matches[0]
    if admin and not volunteer.active:
        raise Invalid(f"{username} is deactivated")
    before = {"is_admin": volunteer.is_admin, "approved": volunteer.approved}
    volunteer.is_admin = admin
    if admin and not volunteer.approved:
        volunteer.approved = volunteer.identified = True
    session.flush()
    after = {"is_admin": volunteer.is_admin, "approved": volunteer.approved}
    if before != after:
        record(
            session,
            NOBODY,
            "global_admin_set",
            target_id=volunteer.id,
            target=username,
            before=before,
            after=after,
            by="command line",
        )
    return volunteer


def _grants(session: Session, scope: Scope, rows: list[QueueAccess]) -> dict[int, list[Grant]]:
    queue_by_id = {q.id: q for q in admin_queues.all_queues(session)}
    names = volunteers.usernames(session, (r.granted_by_id for r in rows))
    out: dict[int, list[Grant]] = {}
    for r in rows:
        q = queue_by_id.get(r.queue_id)
        if q is None or not access.can_admin_queue(scope, q.id):
            continue
        by = names.get(r.granted_by_id, "") if r.granted_by_id else ""
        out.setdefault(r.volunteer_id, []).append(Grant(q, r.level, r.granted_at, by))
    for grants in out.values():
        grants.sort(key=lambda g: g.queue.name)
    return out


def _record(
    session: Session, scope: Scope, action: str, target: Volunteer, **detail: object
) -> None:
    record(session, scope, action, target_id=target.id, target=target.username, **detail)
