"""Volunteer operations that are not about one ticket: logins, for now."""

from __future__ import annotations

from sqlalchemy.orm import Session

from wikibridge.models import Volunteer, utcnow
from wikibridge.oauth import AccountBlocked, Identity
from wikibridge.store import audit, oauth_tokens
from wikibridge.store import volunteers as store


class VolunteerInactive(Exception):
    """The wiki account is fine, but its volunteer was deactivated here."""


def record_login(session: Session, volunteer: Volunteer, method: str) -> None:
    """Note a login on the volunteer and in the audit log (the caller commits)."""
    volunteer.last_login_at = utcnow()
    audit.record(session, "login", volunteer_id=volunteer.id, method=method)


def log_in_with_wiki(
    session: Session, identity: Identity, protocol: str, sealed_token: bytes
) -> Volunteer:
    """The volunteer for a verified wiki identity, with the login's (sealed) access token.

    Volunteers are keyed by the wiki's central id, so a renamed account stays the same
    volunteer under its new name. A first login creates a volunteer who is not approved yet.
    A blocked account never logs in. The caller commits.
    """
    if identity.blocked:
        raise AccountBlocked(identity.username)
    volunteer, created = store.get_or_create(session, identity.central_id, identity.username)
    if created:
        audit.record(
            session, "volunteer_created", volunteer_id=volunteer.id, username=identity.username
        )
    elif volunteer.username != identity.username:
        audit.record(
            session,
            "volunteer_renamed",
            volunteer_id=volunteer.id,
            old=volunteer.username,
            new=identity.username,
        )
        volunteer.username = identity.username
    if not volunteer.active:
        raise VolunteerInactive(volunteer.username)
    oauth_tokens.replace(session, volunteer.id, protocol, sealed_token)
    record_login(session, volunteer, f"oauth {protocol}")
    return volunteer


def end_wiki_login(session: Session, volunteer_id: int, reason: str) -> None:
    """Forget the volunteer's access tokens: at logout, or when the wiki refuses them."""
    if oauth_tokens.revoke_all(session, volunteer_id):
        audit.record(session, "oauth_token_revoked", volunteer_id=volunteer_id, reason=reason)
