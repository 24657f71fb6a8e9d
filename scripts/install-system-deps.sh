#!/bin/sh
# Debian packages and services the test suite uses, installed when missing (idempotent):
#   PostgreSQL (a second database next to the embedded SQLite), dovecot (a real IMAP server),
#   MediaWiki 1.39 with PHP (a real wiki), Chromium (real browser for page tests), wrk (HTTP
#   load for the scale-out test).
# Also starts PostgreSQL when it is installed but not running, and makes sure the `test`
# database answers on 127.0.0.1:5432 for the user postgres.
set -eu

PACKAGES="postgresql dovecot-imapd dovecot-lmtpd \
mediawiki php-sqlite3 php-cli php8.2-cgi micro-httpd netcat-traditional php-curl php-gd \
chromium openssl wrk"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" != "0" ]; then
        echo "missing Debian packages:$missing (run as root to install them)" >&2
        exit 1
    fi
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Services must not be started by the package scripts; we start what we need ourselves.
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# PostgreSQL on 127.0.0.1:5432 with trust for local tests.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
    if [ -z "$version" ]; then
        echo "PostgreSQL is installed but has no cluster" >&2
        exit 1
    fi
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! grep -q "wikibridge-tests" "$hba"; then
        # A throw-away test machine: trust loopback connections, as CI machines do.
        sed -i '1i host all all 127.0.0.1/32 trust # wikibridge-tests' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
fi
if ! psql -h 127.0.0.1 -U postgres -d test -c "select 1" >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c "create database test" >/dev/null
fi
echo "system dependencies ready"
