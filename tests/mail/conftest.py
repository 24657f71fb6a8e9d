"""A real SMTP server on loopback, and a certificate for its TLS."""

from tests.smtpserver import smtp_server, tls_files  # noqa: F401
