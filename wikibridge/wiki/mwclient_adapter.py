"""The wiki API through mwclient: the only module of wikibridge that imports mwclient.

A :class:`WikiSession` is one login (a BotPassword or a volunteer's OAuth token) with its own
HTTP session and cookies. Make a new one per job and close it: one volunteer's session must
never carry another's edit. Writes pass ``assertuser``, so the wiki itself refuses an edit when
the session is not the volunteer's account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import mwclient
import mwclient.errors as mwerrors
import requests

from .base import (
    BotPassword,
    Credentials,
    EditResult,
    OAuth1Token,
    Page,
    Revision,
    RollbackResult,
    WikiError,
)
from .errors import describe


class WikiSession:
    def __init__(
        self,
        api_url: str,
        credentials: Credentials | None = None,
        *,
        user_agent: str = "wikibridge/0.1",
        maxlag: int = 5,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry_wait: int = 5,
    ) -> None:
        parts = urlsplit(api_url)
        directory, _, script = parts.path.rpartition("/")
        name, dot, ext = script.partition(".")
        if parts.scheme not in ("http", "https") or name != "api" or not dot:
            raise WikiError("badurl", f"{api_url!r} is not an API URL (…/api.php)")
        self.api_url = api_url
        self.maxlag = maxlag
        oauth = credentials if isinstance(credentials, OAuth1Token) else None
        self._site = self._guard(
            lambda: mwclient.Site(
                parts.netloc,
                path=directory + "/",
                ext="." + ext,
                scheme=parts.scheme,
                clients_useragent=user_agent,
                max_retries=max_retries,
                retry_timeout=retry_wait,
                max_lag=maxlag,
                connection_options={"timeout": timeout},
                consumer_token=oauth.consumer_key if oauth else None,
                consumer_secret=oauth.consumer_secret if oauth else None,
                access_token=oauth.access_token if oauth else None,
                access_secret=oauth.access_secret if oauth else None,
            )
        )
        if isinstance(credentials, BotPassword):
            self._guard(lambda: self._site.login(credentials.username, credentials.password))
        # mwclient reads the user from every query's userinfo (at login too): anonymous or not.
        self.username: str | None = str(self._site.username) if self._site.logged_in else None
        if credentials is not None and self.username is None:
            raise WikiError("notloggedin", "the login did not take effect")

    def close(self) -> None:
        self._site.connection.close()

    def __enter__(self) -> WikiSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ------------------------------------------------------------------------------

    def page(self, title: str) -> Page:
        """The page's latest revision and text (``exists`` False when there is none)."""
        query = self._query(
            prop="info|revisions", titles=title, rvprop="ids|timestamp|user|content"
        )
        page = query["query"]["pages"][0]
        if page.get("missing") or page.get("invalid") or not page.get("revisions"):
            return Page(title=page.get("title", title), exists=False)
        rev = page["revisions"][0]
        return Page(
            title=page["title"],
            exists=True,
            revid=int(rev["revid"]),
            timestamp=str(rev["timestamp"]),
            user=str(rev.get("user", "")),
            text=str(rev["slots"]["main"].get("content", "")),
            redirect=bool(page.get("redirect")),
        )

    def user_exists(self, name: str) -> bool:
        users = self._query(list="users", ususers=name)["query"]["users"]
        return bool(users) and not users[0].get("missing") and not users[0].get("invalid")

    def revision(self, revid: int) -> Revision | None:
        # The content is asked for only to learn whether it is hidden (texthidden).
        query = self._query(prop="revisions", revids=str(revid), rvprop=_RVPROP + "|content")
        pages = query["query"].get("pages", [])
        if not pages:
            return None
        return _revision(pages[0]["title"], pages[0]["revisions"][0])

    def revisions_after(self, title: str, revid: int, limit: int = 500) -> list[Revision]:
        """The page's revisions newer than ``revid`` (0: all), oldest first."""
        params: dict[str, Any] = {
            "prop": "revisions",
            "titles": title,
            "rvprop": _RVPROP,
            "rvdir": "newer",
            "rvlimit": str(min(limit, 500)),
        }
        if revid:
            params["rvstartid"] = str(revid)
        page = self._query(**params)["query"]["pages"][0]
        revs = [_revision(page["title"], r) for r in page.get("revisions", [])]
        return [r for r in revs if r.revid > revid]

    def recent_changes(self, limit: int = 50, **filters: str) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = self._query(
            list="recentchanges",
            rcprop="title|ids|user|comment|timestamp|loginfo",
            rclimit=str(limit),
            **filters,
        )["query"]["recentchanges"]
        return changes

    # -- writes -----------------------------------------------------------------------------

    def edit(
        self,
        title: str,
        text: str,
        summary: str,
        *,
        baserevid: int,
        assertuser: str | None = None,
    ) -> EditResult:
        """Save ``text`` over revision ``baserevid``; another's edit since then that MediaWiki
        cannot merge is an edit conflict.

        No basetimestamp: with one, MediaWiki (1.39) takes "no other user edited after that
        second" for "no conflict" and silently overwrites an edit saved in the same second as
        the base revision. The revision id alone has no such blind spot.
        """
        return self._edit(
            assertuser,
            title=title,
            text=text,
            summary=summary,
            baserevid=str(baserevid),
            nocreate="1",
        )

    def undo(
        self, title: str, revid: int, summary: str, *, assertuser: str | None = None
    ) -> EditResult:
        return self._edit(assertuser, title=title, undo=str(revid), summary=summary, nocreate="1")

    def new_section(
        self, title: str, heading: str, text: str, summary: str, *, assertuser: str | None = None
    ) -> EditResult:
        """A message in a new section (the usual way to write on a user's talk page)."""
        return self._edit(
            assertuser,
            title=title,
            section="new",
            sectiontitle=heading,
            text=text,
            summary=summary,
        )

    def rollback(
        self, title: str, user: str, summary: str, *, assertuser: str | None = None
    ) -> RollbackResult:
        """Revert the consecutive latest edits of ``user`` (needs the rollback right)."""
        result = self._write(
            "rollback", assertuser, "rollback", title=title, user=user, summary=summary
        )
        return RollbackResult(
            revid=int(result["revid"]),
            old_revid=int(result["old_revid"]),
            last_revid=int(result["last_revid"]),
        )

    def hide_revision(
        self,
        title: str,
        revid: int,
        parts: tuple[str, ...],
        reason: str,
        *,
        assertuser: str | None = None,
    ) -> None:
        """Revision deletion: hide the revision's content, comment and/or user from the public."""
        result = self._write(
            "revisiondelete",
            assertuser,
            "csrf",
            type="revision",
            target=title,
            ids=str(revid),
            hide="|".join(parts),
            reason=reason,
        )
        for item in result.get("items", []):
            if item.get("errors"):
                error = item["errors"][0]
                raise describe(str(error.get("code", "revdelete")), str(error.get("message", "")))

    # -- plumbing ---------------------------------------------------------------------------

    def _edit(self, assertuser: str | None, **params: str) -> EditResult:
        result = self._write("edit", assertuser, "csrf", **params)
        if result.get("result") != "Success":  # e.g. a CAPTCHA or an extension's hook
            raise WikiError("editfailed", f"the wiki did not save the edit: {result}")
        if result.get("nochange"):
            return EditResult(revid=None)
        return EditResult(revid=int(result["newrevid"]), previous=int(result.get("oldrevid", 0)))

    def _write(self, action: str, assertuser: str | None, token: str, **params: str) -> Any:
        params = {**params, "assert": "user"}
        if assertuser:
            params["assertuser"] = assertuser
        try:
            return self._post(action, token, False, params)
        except WikiError as e:
            if e.code != "badtoken":
                raise
        # Tokens end with the session they belong to; one fresh token, then give up.
        return self._post(action, token, True, params)

    def _post(self, action: str, token: str, fresh: bool, params: dict[str, str]) -> Any:
        def call() -> Any:
            return self._call(action, token=self._site.get_token(token, force=fresh), **params)

        return self._guard(call)[action]

    def _query(self, **params: Any) -> Any:
        return self._guard(lambda: self._call("query", http_method="GET", **params))

    def _call(self, action: str, http_method: str = "POST", **params: Any) -> Any:
        # Revision content comes from the main slot; formatversion 2 gives booleans and lists.
        if "rvprop" in params:
            params.setdefault("rvslots", "main")
        return self._site.api(
            action, http_method, formatversion="2", maxlag=str(self.maxlag), **params
        )

    @staticmethod
    def _guard(call: Callable[[], Any]) -> Any:
        """Run an mwclient call, turning its exceptions into WikiError."""
        try:
            return call()
        except mwerrors.OAuthAuthorizationError as e:
            raise describe("mwoauth-invalid-authorization", str(e.info)) from e
        except mwerrors.LoginError as e:
            raise WikiError("loginfailed", f"the login was refused: {e.info}") from e
        except mwerrors.APIError as e:
            raise describe(str(e.code), str(e.info)) from e
        except mwerrors.MaximumRetriesExceeded as e:
            raise describe("maxlag", "the wiki kept asking to wait") from e
        except (requests.ConnectionError, requests.Timeout) as e:
            raise WikiError("network", f"the wiki did not answer: {e}", retryable=True) from e
        except requests.HTTPError as e:
            status = e.response.status_code if e.response is not None else 0
            raise WikiError(
                "http", f"the wiki answered HTTP {status}", retryable=status >= 500
            ) from e
        except mwerrors.MwClientError as e:
            raise WikiError(
                "client", f"the wiki's answer was not understood: {e}", retryable=True
            ) from e


_RVPROP = "ids|user|comment|timestamp|flags"


def _revision(title: str, rev: dict[str, Any]) -> Revision:
    slot = rev.get("slots", {}).get("main", {})
    return Revision(
        revid=int(rev["revid"]),
        parentid=int(rev.get("parentid", 0)),
        title=title,
        user=str(rev.get("user", "")),
        comment=str(rev.get("comment", "")),
        timestamp=str(rev.get("timestamp", "")),
        texthidden=bool(rev.get("texthidden") or slot.get("texthidden")),
        commenthidden=bool(rev.get("commenthidden")),
        userhidden=bool(rev.get("userhidden")),
    )
