"""Which login an on-wiki action uses.

Bot tasks use the bot account's BotPassword from the settings ([wiki] bot_username and
bot_password). A volunteer's action uses that volunteer's own login and never the bot's: the
OAuth 1.0a access token their last wiki login obtained (sealed in the database, opened here
with the key derived from secret_key). Without one, the action waits with a clear reason
instead of being made under another account.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import Settings
from wikibridge.models import Volunteer
from wikibridge.oauth.errors import OAuthError
from wikibridge.oauth.sealing import TOKENS, Sealer
from wikibridge.store import oauth_tokens

from .actions import NoCredentials
from .base import BotPassword, Credentials, OAuth1Token


def credentials_from_settings(
    settings: Settings, sessions: sessionmaker[Session] | None = None
) -> Callable[[Volunteer | None], Credentials]:
    def credentials_for(volunteer: Volunteer | None) -> Credentials:
        if volunteer is None:
            if not (settings.wiki.bot_username and settings.wiki.bot_password):
                raise NoCredentials("no bot login: set [wiki] bot_username and bot_password")
            return BotPassword(settings.wiki.bot_username, settings.wiki.bot_password)
        if sessions is not None:
            token = _volunteer_token(settings, sessions, volunteer)
            if token is not None:
                return token
        raise NoCredentials(
            f"no stored wiki login for {volunteer.username}: they must log in to wikibridge again"
        )

    return credentials_for


def _volunteer_token(
    settings: Settings, sessions: sessionmaker[Session], volunteer: Volunteer
) -> OAuth1Token | None:
    with sessions() as session:
        stored = oauth_tokens.current(session, volunteer.id)
    if stored is None or stored.protocol != "1.0a":
        # OAuth 2.0 bearer tokens are not supported by the edit adapter yet.
        return None
    try:
        data = Sealer(settings.secret_key, TOKENS).open(stored.sealed)
    except OAuthError:
        return None  # sealed with another secret_key: the volunteer must log in again
    return OAuth1Token(
        consumer_key=settings.oauth.consumer_key,
        consumer_secret=settings.oauth.consumer_secret,
        access_token=str(data.get("key", "")),
        access_secret=str(data.get("secret", "")),
    )
