"""A real MediaWiki 1.39 test wiki for tests: Debian's package on SQLite, served on loopback.

Debian's read-only tree (``/usr/share/mediawiki``) runs with a LocalSettings.php kept in the
wiki's own directory (MediaWiki reads the ``MW_CONFIG_FILE`` environment variable) and a
document root of symlinks, so nothing outside that directory is written. PHP's built-in web
server (``php -S``, several workers) serves it on ``127.0.0.1`` and a free port.

Install the packages with ``scripts/install-testwiki-deps.sh`` (as root). Then::

    wiki = TestWiki(some_dir).setup()   # installs once; later calls reuse the installation
    wiki.edit("Sandbox", "Hello", "test edit", user="Alice")
    wiki.stop()

Every account logs in with a BotPassword (``account.bot_username`` / ``account.bot_password``),
which is how volunteers' credentials are simulated: no OAuth extension is packaged.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    import mwclient
    from pywikibot.site import APISite

MEDIAWIKI_DIR = Path("/usr/share/mediawiki")
INSTALL_DEPS_SCRIPT = (
    Path(__file__).resolve().parent.parent / "scripts" / "install-testwiki-deps.sh"
)

HOST = "127.0.0.1"
DB_NAME = "testwiki"
SITE_NAME = "Wikibridge Test Wiki"
META_NAMESPACE = "Commons"
APP_ID = "wikibridge"
USER_AGENT = "wikibridge-tests/0.1"
STATE_VERSION = 1

ADMIN = "Admin"
BOT = "WikibridgeBot"
USERS = ("Alice", "Bob", "Mallory")

#: BotPassword grants of every account (rights are still limited by the account's groups).
GRANTS = (
    "basic",
    "highvolume",
    "editpage",
    "editprotected",
    "createeditmovepage",
    "uploadfile",
    "uploadeditmovefile",
    "rollback",
    "delete",
    "patrol",
    "protect",
    "editmyoptions",
    "editmywatchlist",
    "viewmywatchlist",
    "viewdeleted",
)
#: The administrator's BotPassword has these too.
ADMIN_GRANTS = (*GRANTS, "blockusers", "editinterface", "editsiteconfig", "mergehistory")

#: Entries of MediaWiki's tree that the document root links to.
DOCROOT_ENTRIES = (
    "api.php",
    "index.php",
    "load.php",
    "rest.php",
    "img_auth.php",
    "thumb.php",
    "thumb_handler.php",
    "opensearch_desc.php",
    "resources",
    "skins",
    "extensions",
)

POLICY_PAGE = f"{META_NAMESPACE}:VRT"

_PAGES: dict[str, str] = {
    "Template:PermissionTicket": """\
<div class="permissionticket" style="border:1px solid #6a6; background:#efe; padding:0.5em;">\
'''Permission:''' the permission for this work is archived in the \
[[@POLICY@|Volunteer Response Team]] system under ticket \
[[ticket:{{{id|}}}|#{{{id|}}}]]{{#if:{{{user|}}}|, \
verified by [[User:{{{user}}}|{{{user}}}]]}}.</div>\
<includeonly>[[Category:Items with VRT permission confirmed]]</includeonly><noinclude>
Parameters: <code>id</code> (ticket number), <code>user</code> (the volunteer who verified it).
</noinclude>""",
    "Template:Permission pending": """\
<div class="permissionpending" style="border:1px solid #aa6; background:#ffe; padding:0.5em;">\
Permission for this work has been sent to the [[@POLICY@|Volunteer Response Team]] and is \
waiting to be processed{{#if:{{{year|}}}| (since {{{year}}}-{{{month|}}}-\
{{{day|}}})}}.</div>\
<includeonly>[[Category:VRT pending]]</includeonly><noinclude>
Parameters: <code>year</code>, <code>month</code>, <code>day</code>.
</noinclude>""",
    "Template:Permission received": """\
<div class="permissionreceived" style="border:1px solid #66a; background:#eef; padding:0.5em;">\
The [[@POLICY@|Volunteer Response Team]] has received an e-mail about this work \
(ticket [[ticket:{{{id|}}}|#{{{id|}}}]]{{#if:{{{user|}}}|, \
[[User:{{{user}}}|{{{user}}}]]}}), but it is not sufficient yet.</div>\
<includeonly>[[Category:VRT received]]</includeonly><noinclude>
Parameters: <code>id</code>, <code>user</code>, <code>year</code>, <code>month</code>,
<code>day</code>.
</noinclude>""",
    "Template:No permission since": """\
<div class="nopermission" style="border:1px solid #a66; background:#fee; padding:0.5em;">\
This work has no evidence of permission since {{{year|}}}-{{{month|}}}-{{{day|}}}. \
Unless permission is sent, it may be deleted after seven days.</div>\
<includeonly>[[Category:Media without permission]]</includeonly><noinclude>
Parameters: <code>year</code>, <code>month</code>, <code>day</code>.
</noinclude>""",
    "Template:Information": """\
{| class="fileinfotpl" style="border:1px solid #aaa;"
! Description
| {{{description|{{{Description|}}}}}}
|-
! Date
| {{{date|{{{Date|}}}}}}
|-
! Source
| {{{source|{{{Source|}}}}}}
|-
! Author
| {{{author|{{{Author|}}}}}}
|-
! Permission
| {{{permission|{{{Permission|}}}}}}
|-
! Other versions
| {{{other versions|{{{other_versions|{{{Other versions|}}}}}}}}}
|}<noinclude>
Parameters: <code>description</code>, <code>date</code>, <code>source</code>,
<code>author</code>, <code>permission</code>, <code>other versions</code>.
</noinclude>""",
    POLICY_PAGE: """\
The '''Volunteer Response Team''' (VRT) answers e-mail sent to the project, in particular
permission statements (releases) from copyright holders.

== Permission ==
When a copyright holder sends a release, a volunteer checks it and tags the file with
<code><nowiki>{{PermissionTicket|id=TICKET|user=VOLUNTEER}}</nowiki></code>.
Files waiting for an answer carry <code><nowiki>{{Permission pending}}</nowiki></code>.
Ticket numbers link to the ticket system through the <code>ticket:</code> interwiki prefix.
""",
}
#: Pages created once when the wiki is installed: title -> wikitext.
PAGES = {title: text.replace("@POLICY@", POLICY_PAGE) for title, text in _PAGES.items()}


class TestWikiError(RuntimeError):
    """The test wiki could not be set up or did not answer as expected."""


class ApiError(TestWikiError):
    """The wiki's API returned an error."""

    def __init__(self, code: str, info: str) -> None:
        super().__init__(f"{code}: {info}")
        self.code = code
        self.info = info


@dataclass(frozen=True)
class Account:
    """A wiki account and its BotPassword (application id ``app_id``)."""

    username: str
    password: str
    bot_password: str
    groups: tuple[str, ...] = ()
    grants: tuple[str, ...] = GRANTS
    app_id: str = APP_ID

    @property
    def bot_username(self) -> str:
        """The BotPassword login name, ``User@appid``."""
        return f"{self.username}@{self.app_id}"


def deps_installed() -> bool:
    """Whether PHP (with SQLite and GD) and Debian's MediaWiki are installed."""
    if shutil.which("php") is None or not (MEDIAWIKI_DIR / "api.php").is_file():
        return False
    check = "exit(extension_loaded('pdo_sqlite') && extension_loaded('gd') ? 0 : 1);"
    return subprocess.run(["php", "-r", check], capture_output=True).returncode == 0


def install_deps() -> None:
    """Install the Debian packages (needs root; quick when they are installed already)."""
    subprocess.run(["sh", str(INSTALL_DEPS_SCRIPT)], check=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def make_png(width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small solid-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class TestWiki:
    """A MediaWiki installation in ``directory``, and its web server while it runs."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        directory: Path | str,
        *,
        workers: int = 4,
        ticket_url: str = f"http://{HOST}/ticket/$1",
    ) -> None:
        self.directory = Path(directory).resolve()
        self.workers = workers
        self.ticket_url = ticket_url
        self.port: int | None = None
        self.accounts: dict[str, Account] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._sessions: dict[str, requests.Session] = {}
        self._atexit_registered = False

    # -- paths and URLs -------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.directory / "LocalSettings.php"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def database_file(self) -> Path:
        return self.data_dir / f"{DB_NAME}.sqlite"

    @property
    def upload_dir(self) -> Path:
        return self.directory / "images"

    @property
    def docroot(self) -> Path:
        return self.directory / "docroot"

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def log_file(self) -> Path:
        return self.directory / "server.log"

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise TestWikiError("the test wiki is not set up")
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api.php"

    @property
    def index_url(self) -> str:
        return f"{self.base_url}/index.php"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/rest.php"

    def page_url(self, title: str) -> str:
        return f"{self.index_url}/{title.replace(' ', '_')}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def server_pid(self) -> int | None:
        """The web server's process id, which is also its process group id."""
        return None if self._process is None else self._process.pid

    # -- accounts -------------------------------------------------------------------------

    @property
    def admin(self) -> Account:
        return self.accounts[ADMIN]

    @property
    def bot(self) -> Account:
        return self.accounts[BOT]

    def account(self, user: str | Account) -> Account:
        if isinstance(user, Account):
            return user
        try:
            return self.accounts[user]
        except KeyError:
            raise TestWikiError(f"no test account {user!r}") from None

    # -- lifecycle ------------------------------------------------------------------------

    def setup(self) -> TestWiki:
        """Install the wiki unless it is installed already, then (re)start the server."""
        if not deps_installed():
            raise TestWikiError(
                "PHP and MediaWiki are not installed: run scripts/install-testwiki-deps.sh as root"
            )
        self.stop()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        state = self._load_state()
        if state is None:
            state = self._install()
        self.accounts = {
            name: Account(
                **{**fields, "groups": tuple(fields["groups"]), "grants": tuple(fields["grants"])}
            )
            for name, fields in state["accounts"].items()
        }
        self._set_interwiki()
        self._start()
        if not state.get("pages"):
            for title, text in PAGES.items():
                self.edit(title, text, "Set up the test wiki", user=ADMIN)
            state["pages"] = True
            self._save_state(state)
        return self

    def stop(self) -> None:
        """Stop the web server and its workers (they share its process group).

        SIGINT makes ``php -S`` reap its workers; SIGTERM would leave them as zombies.
        """
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
        process, self._process = self._process, None
        if process is None:
            return
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if process.poll() is None or _group_alive(process.pid):
                _signal_group(process.pid, sig)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
            deadline = time.monotonic() + 2
            while _group_alive(process.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if not _group_alive(process.pid):
                return

    def teardown(self) -> None:
        """Stop the server and remove the wiki's directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> TestWiki:
        return self.setup()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- installation ---------------------------------------------------------------------

    def _load_state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        if state.get("version") != STATE_VERSION or not self.database_file.is_file():
            return None
        return state

    def _save_state(self, state: Mapping[str, Any]) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MW_CONFIG_FILE"] = str(self.config_file)
        env["MW_INSTALL_PATH"] = str(MEDIAWIKI_DIR)
        return env

    def maintenance(self, script: str, *args: str) -> str:
        """Run a maintenance script (e.g. ``runJobs.php``) on this wiki; returns its output."""
        return self._php((script, *args))[0]

    def run_jobs(self) -> str:
        """Run the job queue now (links tables of pages using an edited template, ...)."""
        return self.maintenance("runJobs.php")

    def _php(self, *commands: tuple[str, ...]) -> list[str]:
        """Run maintenance scripts, (script, *args) each, side by side; raise if one fails.

        SQLite makes concurrent writers wait (MediaWiki's CLI transactions are IMMEDIATE).
        """
        processes = [
            (
                command[0],
                subprocess.Popen(
                    ["php", str(MEDIAWIKI_DIR / "maintenance" / command[0]), *command[1:]],
                    cwd=self.directory,
                    env=self._env(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
            for command in commands
        ]
        failures = []
        outputs = []
        for script, process in processes:
            output, _ = process.communicate()
            outputs.append(output)
            if process.returncode != 0:
                failures.append(f"{script} failed ({process.returncode}):\n{output}")
        if failures:
            raise TestWikiError("\n".join(failures))
        return outputs

    def _install(self) -> dict[str, Any]:
        """A fresh installation; anything left by an interrupted one is removed first."""
        for name in ("install", "data", "images", "docroot", "LocalSettings.php", "state.json"):
            path = self.directory / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        (self.directory / "install").mkdir()
        self.data_dir.mkdir()
        self.upload_dir.mkdir()

        def secret() -> str:
            return "Pw" + secrets.token_urlsafe(18)  # never starts with "-"

        accounts = [
            Account(
                ADMIN,
                secret(),
                secrets.token_hex(16),
                ("sysop", "bureaucrat", "interface-admin"),
                ADMIN_GRANTS,
            ),
            Account(BOT, secret(), secrets.token_hex(16), ("bot",)),
            *(Account(name, secret(), secrets.token_hex(16)) for name in USERS),
        ]
        admin = accounts[0]
        self._php(
            (
                "install.php",
                "--dbtype=sqlite",
                f"--dbpath={self.data_dir}",
                f"--dbname={DB_NAME}",
                f"--server={self.base_url}",
                "--scriptpath=",
                "--lang=en",
                "--skins=Vector",
                f"--confpath={self.directory / 'install'}",
                f"--pass={admin.password}",
                SITE_NAME,
                admin.username,
            )
        )
        with sqlite3.connect(self.database_file) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
        self._write_config()

        def bot_password(account: Account) -> tuple[str, ...]:
            return (
                "createBotPassword.php",
                f"--appid={account.app_id}",
                f"--grants={','.join(account.grants)}",
                account.username,
                account.bot_password,
            )

        others = accounts[1:]
        self._php(
            bot_password(admin),  # the installer made the administrator
            *(
                (
                    "createAndPromote.php",
                    *(["--bot"] if "bot" in a.groups else []),
                    a.username,
                    a.password,
                )
                for a in others
            ),
        )
        self._php(*(bot_password(account) for account in others))
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "accounts": {account.username: asdict(account) for account in accounts},
            "pages": False,
        }
        self._save_state(state)
        return state

    def _write_config(self) -> None:
        upload_dir = _php_string(str(self.upload_dir))
        self.config_file.write_text(
            f"""<?php
// The test wiki's settings: the installer's, then these. Rewritten whenever the server starts.
require __DIR__ . '/install/LocalSettings.php';

$wgServer = {_php_string(self.base_url)};
$wgCanonicalServer = $wgServer;
$wgSitename = {_php_string(SITE_NAME)};
$wgMetaNamespace = {_php_string(META_NAMESPACE)};
$wgShowExceptionDetails = true;
$wgMainCacheType = CACHE_NONE;
$wgEnableEmail = false;
$wgEnableUserEmail = false;
$wgEmailAuthentication = false;

$wgEnableUploads = true;
$wgUseImageMagick = false;
$wgFileExtensions = [ 'jpg', 'jpeg', 'png', 'gif', 'svg', 'pdf' ];
$wgUploadDirectory = {upload_dir};
$wgUploadPath = "$wgScriptPath/images";

$wgRateLimits = [];
$wgPasswordAttemptThrottle = [];
$wgAccountCreationThrottle = [];
$wgGroupPermissions['*']['createaccount'] = true;
$wgGroupPermissions['bot']['noratelimit'] = true;
$wgGroupPermissions['user']['noratelimit'] = true;
// On 1.39 only the suppress group may delete revisions by default.
$wgGroupPermissions['sysop']['deleterevision'] = true;
$wgGroupPermissions['sysop']['deletelogentry'] = true;

wfLoadExtension( 'ParserFunctions' );
"""
        )

    def _write_docroot(self) -> None:
        self.docroot.mkdir(exist_ok=True)
        links = {name: MEDIAWIKI_DIR / name for name in DOCROOT_ENTRIES}
        links["images"] = self.upload_dir
        for name, target in links.items():
            link = self.docroot / name
            if link.is_symlink() and Path(os.readlink(link)) == target:
                continue
            link.unlink(missing_ok=True)
            link.symlink_to(target)

    def _set_interwiki(self) -> None:
        with sqlite3.connect(self.database_file) as db:
            db.execute(
                "INSERT OR REPLACE INTO interwiki"
                " (iw_prefix, iw_url, iw_api, iw_wikiid, iw_local, iw_trans)"
                " VALUES ('ticket', ?, '', '', 0, 0)",
                (self.ticket_url,),
            )

    # -- server ---------------------------------------------------------------------------

    def _start(self) -> None:
        self._write_docroot()
        for attempt in range(3):
            if attempt:
                self.port = free_port()
            self._write_config()
            env = self._env()
            env["PHP_CLI_SERVER_WORKERS"] = str(self.workers)
            with self.log_file.open("ab") as log:
                self._process = subprocess.Popen(
                    [
                        "php",
                        "-d",
                        "upload_max_filesize=20M",
                        "-d",
                        "post_max_size=24M",
                        "-S",
                        f"{HOST}:{self.port}",
                        "-t",
                        str(self.docroot),
                    ],
                    cwd=self.docroot,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if not self._atexit_registered:
                atexit.register(self.stop)  # no stray servers if the caller never stops
                self._atexit_registered = True
            if self._wait_ready():
                return
            self.stop()
        tail = self.log_file.read_text(errors="replace")[-2000:]
        raise TestWikiError(f"the test wiki's server did not start:\n{tail}")

    def _wait_ready(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        params = {"action": "query", "meta": "siteinfo", "format": "json"}
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                response = requests.get(self.api_url, params=params, timeout=10)
                if response.ok and "query" in response.json():
                    return True
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.05)
        return False

    # -- API ------------------------------------------------------------------------------

    def session(self, user: str | Account | None = None) -> requests.Session:
        """A requests session, logged in with the account's BotPassword unless ``user`` is None."""
        key = "" if user is None else self.account(user).username
        session = self._sessions.get(key)
        if session is not None:
            return session
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        if user is not None:
            account = self.account(user)
            token = self._call(
                session, {"action": "query", "meta": "tokens", "type": "login"}, post=False
            )["query"]["tokens"]["logintoken"]
            result = self._call(
                session,
                {
                    "action": "login",
                    "lgname": account.bot_username,
                    "lgpassword": account.bot_password,
                    "lgtoken": token,
                },
                post=True,
            )["login"]
            if result.get("result") != "Success":
                raise TestWikiError(f"login as {account.bot_username} failed: {result}")
        self._sessions[key] = session
        return session

    def _call(
        self,
        session: requests.Session,
        params: Mapping[str, Any],
        *,
        post: bool,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        data = {"format": "json", "formatversion": "2", **params}
        if post or files:
            response = session.post(self.api_url, data=data, files=files, timeout=60)
        else:
            response = session.get(self.api_url, params=data, timeout=60)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        if "error" in result:
            error = result["error"]
            raise ApiError(error.get("code", "?"), error.get("info", str(error)))
        return result

    def api(
        self,
        params: Mapping[str, Any],
        *,
        user: str | Account | None = None,
        post: bool = False,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Call api.php (formatversion 2) as ``user`` (anonymous when None); raise ApiError."""
        return self._call(self.session(user), params, post=post, files=files)

    def csrf_token(self, user: str | Account) -> str:
        result = self.api({"action": "query", "meta": "tokens"}, user=user)
        return str(result["query"]["tokens"]["csrftoken"])

    def write(self, params: Mapping[str, Any], *, user: str | Account, **files: Any) -> Any:
        """POST a write action with a CSRF token; return the action's part of the result."""
        full = {**params, "token": self.csrf_token(user)}
        return self.api(full, user=user, post=True, files=files or None)[params["action"]]

    # -- helpers for tests ----------------------------------------------------------------

    def edit(
        self, title: str, text: str, summary: str = "", *, user: str | Account = ADMIN, **extra: Any
    ) -> dict[str, Any]:
        """Save ``text`` to ``title``; returns the API's edit result (newrevid, ...)."""
        params = {"action": "edit", "title": title, "text": text, "summary": summary, **extra}
        result: dict[str, Any] = self.write(params, user=user)
        if result.get("result") != "Success":
            raise TestWikiError(f"edit of {title!r} failed: {result}")
        return result

    def upload(
        self,
        filename: str,
        *,
        text: str = "",
        comment: str = "",
        user: str | Account = ADMIN,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        """Upload a file (by default a small PNG) with ``text`` as its description page."""
        if content is None:
            seed = zlib.crc32(filename.encode())
            content = make_png(rgb=(seed & 255, (seed >> 8) & 255, (seed >> 16) & 255))
        params = {
            "action": "upload",
            "filename": filename,
            "text": text,
            "comment": comment,
            "ignorewarnings": "1",
        }
        result: dict[str, Any] = self.write(params, user=user, file=(filename, content))
        if result.get("result") != "Success":
            raise TestWikiError(f"upload of {filename!r} failed: {result}")
        return result

    def revision_delete(
        self,
        revid: int,
        *,
        hide: tuple[str, ...] = ("content",),
        reason: str = "",
        user: str | Account = ADMIN,
    ) -> dict[str, Any]:
        """Hide parts (content, comment, user) of a revision."""
        params = {
            "action": "revisiondelete",
            "type": "revision",
            "ids": str(revid),
            "hide": "|".join(hide),
            "reason": reason,
        }
        result: dict[str, Any] = self.write(params, user=user)
        return result

    def recent_changes(self, limit: int = 50, **params: Any) -> list[dict[str, Any]]:
        """Recent changes, newest first."""
        query = {
            "action": "query",
            "list": "recentchanges",
            "rcprop": "title|ids|user|comment|timestamp|flags|loginfo|sizes",
            "rclimit": str(limit),
            **params,
        }
        changes: list[dict[str, Any]] = self.api(query)["query"]["recentchanges"]
        return changes

    def page_text(self, title: str) -> str | None:
        """The current wikitext of a page, or None when it does not exist."""
        query = {
            "action": "query",
            "prop": "revisions",
            "titles": title,
            "rvprop": "content",
            "rvslots": "main",
        }
        page = self.api(query)["query"]["pages"][0]
        if page.get("missing") or page.get("invalid"):
            return None
        return str(page["revisions"][0]["slots"]["main"]["content"])

    def revisions(
        self, title: str, *, content: bool = False, user: str | Account | None = None
    ) -> list[dict[str, Any]]:
        """A page's revisions, newest first (hidden parts show as e.g. ``texthidden``)."""
        props = "ids|user|comment|timestamp|flags|size|sha1" + ("|content" if content else "")
        query = {
            "action": "query",
            "prop": "revisions",
            "titles": title,
            "rvprop": props,
            "rvslots": "main",
            "rvlimit": "max",
        }
        page = self.api(query, user=user)["query"]["pages"][0]
        revisions: list[dict[str, Any]] = page.get("revisions", [])
        return revisions


# -- pywikibot ------------------------------------------------------------------------------


def prepare_pywikibot() -> None:
    """Point pywikibot at a private temporary directory, without loading any user-config.py.

    Must run before pywikibot is first imported; later calls do nothing. pywikibot only takes
    ``PYWIKIBOT_DIR`` when it holds a user-config.py (else it writes cookies, API caches and
    logs to the current directory), so an empty one is created there.
    """
    if "PYWIKIBOT_DIR" not in os.environ:
        base = Path(tempfile.mkdtemp(prefix="pywikibot-"))
        (base / "user-config.py").write_text("# not loaded: PYWIKIBOT_NO_USER_CONFIG=2\n")
        os.environ["PYWIKIBOT_DIR"] = str(base)
        atexit.register(shutil.rmtree, base, ignore_errors=True)  # runs after pywikibot's own
    os.environ.setdefault("PYWIKIBOT_NO_USER_CONFIG", "2")


def pywikibot_site(wiki: TestWiki, user: str | Account | None = None) -> APISite:
    """A pywikibot site for the test wiki, logged in with ``user``'s BotPassword.

    pywikibot keeps one cookie jar per process and cookies do not depend on the port, so
    use one logged-in account per wiki in a process (e.g. the bot; others via the API).
    """
    prepare_pywikibot()
    import pywikibot
    from pywikibot import config
    from pywikibot.login import ClientLoginManager, LoginStatus

    family = f"testwiki{wiki.port}"
    config.family_files[family] = wiki.api_url
    config.put_throttle = 0
    config.maxlag = 0
    config.max_retries = 2
    config.retry_wait = 1
    account = None if user is None else wiki.account(user)
    site = pywikibot.Site(family, family, user=account.username if account else None)
    if account is None or site.logged_in():
        return site
    manager = ClientLoginManager(
        site=site, user=account.bot_username, password=account.bot_password
    )
    if not manager.login():
        raise TestWikiError(f"pywikibot login as {account.bot_username} failed")
    site.login()
    if site._loginstatus != LoginStatus.AS_USER:
        raise TestWikiError(f"pywikibot is not logged in as {account.username}")
    return site


def mwclient_site(wiki: TestWiki, user: str | Account | None = None) -> mwclient.Site:
    """An mwclient site for the test wiki, logged in with ``user``'s BotPassword."""
    import mwclient

    site = mwclient.Site(
        f"{HOST}:{wiki.port}",
        path="/",
        scheme="http",
        clients_useragent=USER_AGENT,
        max_retries=2,
        retry_timeout=1,
    )
    if user is not None:
        account = wiki.account(user)
        site.login(account.bot_username, account.bot_password)
    return site
