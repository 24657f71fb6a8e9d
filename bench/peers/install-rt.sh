#!/bin/sh
# Install Request Tracker 5 with its SQLite backend from Debian, for `python -m bench rt`.
# Run as root; running it again does nothing when RT is already there.
#
# - debconf is preseeded so that dbconfig-common does not set up a database (the benchmark
#   makes its own, in a temporary directory, with rt-setup-database);
# - no service is started while the packages install (a policy-rc.d that refuses, unless the
#   machine already has one), and the mail server the packages pull in (exim4, when the machine
#   had none) is stopped and kept from starting at boot: nothing is left listening. RT's own
#   web server is started by the benchmark only, on loopback, and stopped at its end.
set -eu

installed=$(dpkg-query -W -f='${db:Status-Status}\n' request-tracker5 rt5-db-sqlite 2>/dev/null |
    grep -c '^installed$' || true)

if [ "$installed" != 2 ]; then
    debconf-set-selections <<'SEL'
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/rtname string rt.example
request-tracker5 request-tracker5/organization string rt.example
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1
SEL

    policy=/usr/sbin/policy-rc.d
    made_policy=no
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=yes
    fi
    trap 'if [ "$made_policy" = yes ]; then rm -f "$policy"; fi' EXIT

    # A mail server already on the machine is someone's: only one that comes with RT is stopped.
    had_mta=no
    if dpkg-query -W -f='${db:Status-Status}\n' default-mta mail-transport-agent exim4-daemon-light \
        exim4-daemon-heavy postfix 2>/dev/null | grep -q '^installed$'; then
        had_mta=yes
    fi

    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        request-tracker5 rt5-db-sqlite

    if [ "$had_mta" = no ] && [ -x /etc/init.d/exim4 ]; then
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            systemctl disable --now exim4.service exim4-base.timer >/dev/null 2>&1 || true
        else
            /etc/init.d/exim4 stop >/dev/null 2>&1 || true
            update-rc.d exim4 disable >/dev/null 2>&1 || true
        fi
    fi
fi

for tool in /usr/sbin/rt-setup-database-5 /usr/bin/rt-mailgate \
    /usr/share/request-tracker5/libexec/rt-server; do
    if [ ! -x "$tool" ]; then
        echo "install-rt: $tool is missing" >&2
        exit 1
    fi
done
echo "Request Tracker $(dpkg-query -W -f='${Version}' request-tracker5) is installed."
