"""Real mail servers for tests: Debian's dovecot as a throw-away IMAP server on loopback.

Each :class:`DovecotServer` lives in its own temporary directory (configuration, sockets,
state, log and maildir) and listens on free loopback ports: plain IMAP (STARTTLS offered
when TLS is on) and IMAPS. It runs as the current user; as root it needs an unprivileged
user for the login processes and the mail owner (dovecot refuses to run either as root),
``nobody``, which every Debian system has.

When dovecot is not installed the tests that need it skip, or fail under CI=true.
"""

from __future__ import annotations

import contextlib
import dataclasses
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.databases import in_ci
from wikibridge.config import ImapMailbox

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")
DH_PARAMS = Path("/usr/share/dovecot/dh.pem")
USERNAME = "wikibridge"
PASSWORD = "imap-test-password"
START_TIMEOUT = 20.0


def find_dovecot() -> str | None:
    # /usr/sbin is not on an unprivileged user's PATH on Debian: look there too.
    found = shutil.which("dovecot")
    if found:
        return found
    return next((p for p in DOVECOT_PATHS if os.access(p, os.X_OK)), None)


def require_dovecot() -> str:
    path = find_dovecot()
    if path is None:
        message = "dovecot is not installed (Debian packages dovecot-core and dovecot-imapd)"
        if in_ci():
            pytest.fail(message + " (CI=true: never skip)")
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class _Users:
    internal: str  # dovecot's own helper processes
    login: str  # imap-login, which must not be root
    mail_uid: int  # owner of the maildir and of the imap processes
    mail_gid: int


def _users() -> _Users:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return _Users(me.pw_name, me.pw_name, me.pw_uid, me.pw_gid)
    nobody = pwd.getpwnam("nobody")
    return _Users("root", "nobody", nobody.pw_uid, nobody.pw_gid)


class DovecotServer:
    """A dovecot instance in a temporary directory; start(), stop(), restart()."""

    host = "127.0.0.1"

    def __init__(self, *, tls: bool = True) -> None:
        self.dovecot = require_dovecot()
        # Not pytest's tmp_path: unix socket paths have a length limit, and the unprivileged
        # mail user must be able to traverse the directories above the maildir.
        self.dir = Path(tempfile.mkdtemp(prefix="wb-dovecot-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.cafile: Path | None = None
        self.username = USERNAME
        self.password = PASSWORD
        self._proc: subprocess.Popen[bytes] | None = None
        self._users = _users()
        if tls:
            self.cafile = self._make_certificate()
        self._write_config()

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        assert self._proc is None, "dovecot already running"
        # The child keeps its own copy of the log file descriptor.
        with open(self.dir / "stderr.log", "ab") as stderr:
            self._proc = subprocess.Popen(
                [self.dovecot, "-F", "-c", str(self.dir / "dovecot.conf")],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its own process group: stop() can reach every child
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise RuntimeError(f"dovecot exited with {code}:\n{self.log_tail()}")
            if self._greets():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer within {START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pgid = proc.pid  # the session leader: its pid is the group id
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        # The master stops its children on SIGTERM; anything left of this group goes now.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("dovecot.log", "stderr.log"):
            with contextlib.suppress(OSError):
                text += (self.dir / name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # --- what tests use ------------------------------------------------------------------

    def mailbox(self, folder: str, *, security: str = "plain", **fields: Any) -> ImapMailbox:
        """Settings for fetching ``folder`` of the test account."""
        mailbox = ImapMailbox(
            name=folder.lower(),
            host=self.host,
            port=self.tls_port if security == "tls" else self.port,
            security=security,
            username=self.username,
            password=self.password,
            folder=folder,
        )
        return dataclasses.replace(mailbox, **fields)

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.username, self.password)
        return conn

    def create_folder(self, folder: str) -> None:
        with self._session() as conn:
            typ, data = conn.create(_quote(folder))
            assert typ == "OK", data

    def append(self, folder: str, raw: bytes, *, seen: bool = False) -> None:
        """Deliver a message into a folder, as the mail server would."""
        with self._session() as conn:
            typ, data = conn.append(_quote(folder), r"(\Seen)" if seen else "", None, raw)
            assert typ == "OK", data

    def uids(self, folder: str, criterion: str = "ALL") -> list[int]:
        with self._session() as conn:
            typ, data = conn.select(_quote(folder), readonly=True)
            assert typ == "OK", data
            typ, data = conn.uid("SEARCH", criterion)
            assert typ == "OK", data
            return sorted(int(u) for u in (data[0] or b"").split())

    @contextlib.contextmanager
    def _session(self) -> Iterator[imaplib.IMAP4]:
        conn = self.client()
        try:
            yield conn
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()

    # --- setup ---------------------------------------------------------------------------

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as s:
                return s.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def _make_certificate(self) -> Path | None:
        openssl = shutil.which("openssl")
        if openssl is None:
            return None
        cert, key = self.dir / "cert.pem", self.dir / "key.pem"
        subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert

    def _write_config(self) -> None:
        d, users = self.dir, self._users
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir()
        home = d / "mail" / self.username
        home.mkdir()
        if os.geteuid() == 0:
            os.chown(d / "mail", users.mail_uid, users.mail_gid)
            os.chown(home, users.mail_uid, users.mail_gid)
        (d / "users").write_text(
            f"{self.username}:{{PLAIN}}{self.password}:{users.mail_uid}:{users.mail_gid}"
            f"::{home}::\n"
        )
        if self.cafile is not None:
            tls = f"ssl = yes\nssl_cert = <{self.cafile}\nssl_key = <{d / 'key.pem'}\n"
            if DH_PARAMS.exists():
                tls += f"ssl_dh = <{DH_PARAMS}\n"
        else:
            tls = "ssl = no\n"
        imaps = (
            f"  inet_listener imaps {{\n    address = {self.host}\n    port = {self.tls_port}\n"
            "    ssl = yes\n  }\n"
            if self.cafile is not None
            else "  inet_listener imaps {\n    port = 0\n  }\n"
        )
        (d / "dovecot.conf").write_text(
            f"""# Throw-away test instance; see tests/mailservers.py.
base_dir = {d / "run"}
state_dir = {d / "state"}
instance_name = wikibridge-test-{self.port}
protocols = imap
listen = {self.host}
log_path = {d / "dovecot.log"}
{tls}# Plain LOGIN without TLS on the plain port: loopback only, test account only.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {users.internal}
default_internal_group = {_group(users.internal)}
default_login_user = {users.login}
first_valid_uid = {min(users.mail_uid, 500)}
mail_location = maildir:~/Maildir
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d / "users"}
}}
userdb {{
  driver = passwd-file
  args = {d / "users"}
}}
# No chroot: only root may chroot, and the sandbox gains nothing in a test.
service anvil {{
  chroot =
  # No socket for the auth penalty: tests log in wrongly on purpose and should not wait.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
{imaps}}}
"""
        )


def _group(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
