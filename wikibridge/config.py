"""Settings: one TOML file plus ``WIKIBRIDGE_*`` environment variables.

Nothing is read at import time: callers build a :class:`Settings` with :func:`load_settings`
and pass it on. Every problem with a setting raises :class:`ConfigError` with a sentence an
operator can act on; the command line prints it without a traceback.

This module is imported by the ingest pipe, so it stays light: standard library only.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "WIKIBRIDGE_"
SMTP_SECURITY = ("plain", "starttls", "tls")
IMAP_SECURITY = ("plain", "starttls", "tls")
OAUTH_PROTOCOLS = ("1.0a", "2.0")
# Where the wiki sends the browser back after login; registered with the OAuth consumer.
OAUTH_CALLBACK_PATH = "/oauth/callback"


class ConfigError(Exception):
    """A setting is missing or invalid; the message says which and how to fix it."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "plain"  # plain, starttls or tls
    username: str = ""
    password: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class ImapMailbox:
    name: str
    host: str
    username: str
    password: str
    port: int = 993
    security: str = "tls"  # plain, starttls or tls
    folder: str = "INBOX"
    queue: str = ""  # queue for new tickets from this mailbox; empty: routing rules decide
    delete: bool = False  # delete after storing instead of marking \Seen


@dataclass(frozen=True)
class MailSettings:
    # Domain used in generated Message-IDs.
    domain: str = "wikibridge.invalid"
    # Addresses of the system itself: mail from them is never auto-answered (loop guard).
    system_addresses: tuple[str, ...] = ()
    fallback_queue: str = "Raw"
    spam_queue: str = "Junk"
    # Where editors' review requests of on-wiki actions go (a queue of kind "review").
    review_queue: str = "Review"
    spam_score_threshold: float = 5.0
    auto_reply_daily_cap: int = 5
    # Largest message accepted by ingest, in bytes; bigger ones are quarantined, not dropped.
    max_message_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True)
class OAuthSettings:
    """Wiki login (MediaWiki's Extension:OAuth) with a consumer registered on the wiki."""

    # The wiki's script path, the folder holding index.php and rest.php, e.g.
    # https://meta.wikimedia.org/w (a URL ending in /index.php is accepted too).
    wiki_url: str = ""
    consumer_key: str = ""
    consumer_secret: str = ""
    protocol: str = "1.0a"  # as registered: 1.0a or 2.0
    # Shown on the login button; default: the wiki's host name.
    wiki_name: str = ""
    # The `iss` the wiki puts into identify tokens: its $wgCanonicalServer. Default: the scheme
    # and host of wiki_url, which is right unless the wiki is reached under another name.
    issuer: str = ""
    # How often, in seconds, a logged-in volunteer's access token is shown to the wiki again,
    # so a revoked grant or a new block ends the session; 0: only at login.
    recheck_seconds: int = 900
    timeout: float = 15.0

    @property
    def configured(self) -> bool:
        return bool(self.wiki_url and self.consumer_key and self.consumer_secret)

    @property
    def script_url(self) -> str:
        url = self.wiki_url.strip().rstrip("/")
        return url.removesuffix("/index.php").rstrip("/")

    @property
    def canonical_server(self) -> str:
        if self.issuer:
            return self.issuer.rstrip("/")
        parts = urlsplit(self.script_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def display_name(self) -> str:
        return self.wiki_name or urlsplit(self.script_url).hostname or "your wiki"


@dataclass(frozen=True)
class WikiSettings:
    # Wikimedia's User-Agent policy asks for a name and a way to contact the operator.
    user_agent: str = "wikibridge/0.1"
    # The policy page cited in edit summaries, per wiki: "WIKI=[[LINK]]" entries, WIKI as in
    # a queue's wiki (site code or API URL). Wikis not listed use a known default or this one.
    policy_links: tuple[str, ...] = ()
    default_policy_link: str = "[[WP:VRT]]"
    # Seconds of replication lag at which the wiki asks bots to wait (maxlag).
    maxlag: int = 5
    timeout: float = 30.0
    # Retries of one API call within a job (network errors, lag); the outbox retries the job.
    max_retries: int = 2
    # The bot account for bot tasks (BotPassword login name "User@appid" and its password).
    bot_username: str = ""
    bot_password: str = ""


@dataclass(frozen=True)
class TicketSettings:
    # A volunteer's lock on a ticket lasts this long after their last action on it.
    lock_minutes: int = 30
    # Largest total size of the files attached to one reply, in bytes.
    max_attachment_bytes: int = 10 * 1024 * 1024
    # `wikibridge purge` refuses to remove more than this share of all tickets at once
    # (0.1 = 10 %) unless run with --allow-large.
    purge_max_share: float = 0.1


@dataclass(frozen=True)
class VerifySettings:
    # Public verification, per client address and web worker process: lookups per minute, and
    # review requests per hour. Citation bots that check many edits need a higher lookup limit
    # or their own address allowance at the proxy.
    lookups_per_minute: int = 60
    reviews_per_hour: int = 5


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    # DateChecksum SystemID: two digits inside every ticket number (VRTS uses 10).
    system_id: str = "10"
    demo: bool = False
    public_url: str = "http://127.0.0.1:5000"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    imap: tuple[ImapMailbox, ...] = ()
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    wiki: WikiSettings = field(default_factory=WikiSettings)
    tickets: TicketSettings = field(default_factory=TicketSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)
    config_file: Path | None = None

    @property
    def oauth_callback_url(self) -> str:
        """The callback URL to register with the wiki's OAuth consumer."""
        return self.public_url.rstrip("/") + OAUTH_CALLBACK_PATH

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def default_data_dir() -> Path:
    return Path.cwd() / "data"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file named by ``WIKIBRIDGE_CONFIG`` (if any), then apply the environment."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    config_file: Path | None = None
    if env.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(env[ENV_PREFIX + "CONFIG"]).expanduser()
        raw = _read_toml(config_file)

    data_dir = Path(
        env.get(ENV_PREFIX + "DATA_DIR") or raw.get("data_dir") or default_data_dir()
    ).expanduser()
    if config_file is not None and not data_dir.is_absolute():
        data_dir = (config_file.parent / data_dir).resolve()
    data_dir = data_dir.absolute()

    database_url = (
        env.get(ENV_PREFIX + "DATABASE_URL")
        or raw.get("database_url")
        or f"sqlite:///{data_dir / 'wikibridge.sqlite3'}"
    )
    _check_database_url(database_url)

    secret_key = env.get(ENV_PREFIX + "SECRET_KEY") or raw.get("secret_key") or ""
    demo = _to_bool(env.get(ENV_PREFIX + "DEMO", raw.get("demo", False)), "demo")
    if not secret_key:
        if demo:
            secret_key = "demo-only-secret-key-do-not-use-in-production"
        else:
            secret_key = _generated_secret(data_dir)

    system_id = str(env.get(ENV_PREFIX + "SYSTEM_ID") or raw.get("system_id", "10"))
    if not (system_id.isdigit() and len(system_id) == 2):
        raise ConfigError(f"system_id must be two digits (VRTS uses 10), not {system_id!r}")

    smtp = _section(SmtpSettings, raw.get("smtp", {}), "smtp", env)
    if smtp.security not in SMTP_SECURITY:
        raise ConfigError(f"smtp.security must be one of {', '.join(SMTP_SECURITY)}")
    mail = _section(MailSettings, raw.get("mail", {}), "mail", env)
    mailboxes = tuple(_mailbox(i, m) for i, m in enumerate(raw.get("imap", [])))
    oauth = _oauth(_section(OAuthSettings, raw.get("oauth", {}), "oauth", env))
    wiki = _section(WikiSettings, raw.get("wiki", {}), "wiki", env)
    ticket_settings = _section(TicketSettings, raw.get("tickets", {}), "tickets", env)
    if ticket_settings.lock_minutes < 1:
        raise ConfigError("tickets.lock_minutes must be at least 1")
    if ticket_settings.max_attachment_bytes < 0:
        raise ConfigError("tickets.max_attachment_bytes must not be negative")
    if not 0 <= ticket_settings.purge_max_share <= 1:
        raise ConfigError("tickets.purge_max_share must be between 0 and 1 (0.1 = 10 %)")
    verify = _section(VerifySettings, raw.get("verify", {}), "verify", env)
    if verify.lookups_per_minute < 1 or verify.reviews_per_hour < 1:
        raise ConfigError("verify.lookups_per_minute and reviews_per_hour must be at least 1")

    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        system_id=system_id,
        demo=demo,
        public_url=str(env.get(ENV_PREFIX + "PUBLIC_URL") or raw.get("public_url", ""))
        or "http://127.0.0.1:5000",
        smtp=smtp,
        mail=mail,
        imap=mailboxes,
        oauth=oauth,
        wiki=wiki,
        tickets=ticket_settings,
        verify=verify,
        config_file=config_file,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(
            f"the configuration file {path} (WIKIBRIDGE_CONFIG) does not exist"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"the configuration file {path} is not valid TOML: {e}") from None


def _check_database_url(url: str) -> None:
    if not url.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            "database_url must be sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, "
            f"not {url.split(':', 1)[0]!r}"
        )


def _generated_secret(data_dir: Path) -> str:
    """A secret kept in the data directory, so a fresh install works and restarts keep sessions."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    import secrets

    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _to_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _coerce(kind: Any, value: Any, name: str) -> Any:
    try:
        if kind in ("int", int):
            return int(value)
        if kind in ("float", float):
            return float(value)
        if kind in ("bool", bool):
            return _to_bool(value, name)
        if kind in ("tuple[str, ...]",):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} has an invalid value {value!r}") from None


def _section(cls: Any, raw: Mapping[str, Any], prefix: str, env: Mapping[str, str]) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[{prefix}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"unknown setting(s) in [{prefix}]: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, f in known.items():
        env_name = f"{ENV_PREFIX}{prefix.upper()}_{name.upper()}"
        if env_name in env:
            values[name] = _coerce(f.type, env[env_name], env_name)
        elif name in raw:
            values[name] = _coerce(f.type, raw[name], f"{prefix}.{name}")
    return cls(**values)


def _mailbox(index: int, raw: Any) -> ImapMailbox:
    where = f"[[imap]] number {index + 1}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    missing = [k for k in ("name", "host", "username", "password") if not raw.get(k)]
    if missing:
        raise ConfigError(f"{where} is missing {', '.join(missing)}")
    box: ImapMailbox = _section(ImapMailbox, raw, "imap", {})
    if box.security not in IMAP_SECURITY:
        raise ConfigError(f"{where}: security must be one of {', '.join(IMAP_SECURITY)}")
    return box


def _oauth(oauth: OAuthSettings) -> OAuthSettings:
    if oauth.protocol not in OAUTH_PROTOCOLS:
        raise ConfigError(
            f"oauth.protocol must be one of {', '.join(OAUTH_PROTOCOLS)} (as the consumer was "
            f"registered on the wiki), not {oauth.protocol!r}"
        )
    if oauth.wiki_url and urlsplit(oauth.wiki_url).scheme not in ("http", "https"):
        raise ConfigError(
            "oauth.wiki_url must be the wiki's script path, e.g. https://meta.wikimedia.org/w, "
            f"not {oauth.wiki_url!r}"
        )
    if oauth.recheck_seconds < 0:
        raise ConfigError("oauth.recheck_seconds must be 0 (never) or a number of seconds")
    return oauth
