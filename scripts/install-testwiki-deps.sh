#!/bin/sh
# Install the Debian packages the test wiki needs: MediaWiki 1.39 on SQLite, served by PHP's
# built-in web server. Idempotent: returns at once when everything is installed already.
# The package list keeps apache out (micro-httpd satisfies the web server dependency).
set -eu

PACKAGES="mediawiki php-sqlite3 php-cli php8.2-cgi micro-httpd netcat-traditional php-curl php-gd"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ] && command -v php >/dev/null 2>&1 && [ -f /usr/share/mediawiki/api.php ]; then
    echo "test wiki packages already installed"
    exit 0
fi

if [ "$(id -u)" != "0" ]; then
    echo "missing packages:$missing; run this script as root" >&2
    exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PACKAGES
