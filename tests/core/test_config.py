from pathlib import Path

import pytest

from wikibridge.config import ConfigError, load_settings


def test_defaults_put_everything_in_the_data_dir(tmp_path: Path) -> None:
    s = load_settings({"WIKIBRIDGE_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'wikibridge.sqlite3'}"
    assert s.system_id == "10"
    # A secret is generated once and kept, so sessions survive a restart.
    assert s.secret_key and load_settings({"WIKIBRIDGE_DATA_DIR": str(tmp_path)}).secret_key == (
        s.secret_key
    )


def test_file_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "wb.toml"
    cfg.write_text(
        'data_dir = "d"\nsecret_key = "k"\n[smtp]\nhost = "mail.example.org"\nport = 587\n'
        'security = "starttls"\n[[imap]]\nname = "info"\nhost = "imap.example.org"\n'
        'username = "u"\npassword = "p"\nqueue = "info-en"\n'
    )
    s = load_settings({"WIKIBRIDGE_CONFIG": str(cfg), "WIKIBRIDGE_SMTP_PORT": "2525"})
    assert s.data_dir == tmp_path / "d"
    assert s.smtp.host == "mail.example.org" and s.smtp.port == 2525
    assert s.imap[0].queue == "info-en" and s.imap[0].security == "tls"
    assert s.tickets.lock_minutes == 30
    s = load_settings({"WIKIBRIDGE_CONFIG": str(cfg), "WIKIBRIDGE_TICKETS_LOCK_MINUTES": "45"})
    assert s.tickets.lock_minutes == 45


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (None, {"WIKIBRIDGE_CONFIG": "/nonexistent/wb.toml"}, "does not exist"),
        ("data_dir = [", {}, "not valid TOML"),
        ("[smtp]\nport = 'x'", {}, "smtp.port"),
        ("[smtp]\nsecurity = 'ssl3'", {}, "smtp.security"),
        ("[smtp]\nhots = 'x'", {}, "unknown setting"),
        ("[[imap]]\nname = 'a'", {}, "missing host"),
        ("", {"WIKIBRIDGE_DATABASE_URL": "mysql://x"}, "database_url"),
        ("", {"WIKIBRIDGE_SYSTEM_ID": "1"}, "system_id"),
        ("", {"WIKIBRIDGE_DEMO": "perhaps"}, "demo"),
        ("[tickets]\nlock_minutes = 0", {}, "lock_minutes must be at least 1"),
        ("", {"WIKIBRIDGE_TICKETS_MAX_ATTACHMENT_BYTES": "lots"}, "MAX_ATTACHMENT_BYTES"),
    ],
)
def test_clear_errors(tmp_path: Path, text: str | None, env: dict[str, str], message: str) -> None:
    environ = {"WIKIBRIDGE_DATA_DIR": str(tmp_path), **env}
    if text is not None:
        cfg = tmp_path / "wb.toml"
        cfg.write_text(text)
        environ.setdefault("WIKIBRIDGE_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=message):
        load_settings(environ)
