"""Which login an on-wiki action uses.

Bot tasks use the bot account's BotPassword from the settings ([wiki] bot_username and
bot_password). A volunteer's action uses that volunteer's own login and never the bot's: until
the volunteer's OAuth access token is available to the worker, such an action waits with a
clear reason instead of being made under another account.
"""

from __future__ import annotations

from collections.abc import Callable

from wikibridge.config import Settings
from wikibridge.models import Volunteer

from .actions import NoCredentials
from .base import BotPassword, Credentials


def credentials_from_settings(settings: Settings) -> Callable[[Volunteer | None], Credentials]:
    def credentials_for(volunteer: Volunteer | None) -> Credentials:
        if volunteer is None:
            if not (settings.wiki.bot_username and settings.wiki.bot_password):
                raise NoCredentials("no bot login: set [wiki] bot_username and bot_password")
            return BotPassword(settings.wiki.bot_username, settings.wiki.bot_password)
        raise NoCredentials(
            f"no stored wiki login for {volunteer.username}: they must log in to wikibridge again"
        )

    return credentials_for
