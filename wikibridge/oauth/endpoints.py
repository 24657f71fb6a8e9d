"""The URLs of MediaWiki's OAuth endpoints, from the wiki's script path."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class WikiEndpoints:
    # The folder holding index.php and rest.php, e.g. https://meta.wikimedia.org/w
    script_url: str

    @property
    def index_php(self) -> str:
        return f"{self.script_url}/index.php"

    @property
    def rest_php(self) -> str:
        return f"{self.script_url}/rest.php"

    def special_oauth(self, subpage: str, **query: str) -> str:
        """Special:OAuth/<subpage> through index.php, which works whatever the wiki's article
        path. The title stays unescaped, as the wiki's own clients send it: the OAuth 1.0a
        signature covers the whole query."""
        url = f"{self.index_php}?title=Special:OAuth/{subpage}"
        return f"{url}&{urlencode(query)}" if query else url

    # OAuth 1.0a
    @property
    def initiate(self) -> str:
        return self.special_oauth("initiate")

    def authorize(self, request_token: str, consumer_key: str) -> str:
        return self.special_oauth(
            "authorize", oauth_token=request_token, oauth_consumer_key=consumer_key
        )

    @property
    def token(self) -> str:
        return self.special_oauth("token")

    @property
    def identify(self) -> str:
        return self.special_oauth("identify")

    # OAuth 2.0
    @property
    def oauth2_authorize(self) -> str:
        return f"{self.rest_php}/oauth2/authorize"

    @property
    def oauth2_token(self) -> str:
        return f"{self.rest_php}/oauth2/access_token"

    @property
    def oauth2_profile(self) -> str:
        return f"{self.rest_php}/oauth2/resource/profile"
