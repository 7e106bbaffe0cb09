#!/bin/sh
# Installs what the benchmark needs beyond Go: Postfix's smtp-sink (package
# postfix, preseeded "No configuration" so that no mail system is set up)
# and python3. Any system Postfix that the install started is stopped: the
# benchmark runs its own smtp-sink on a free loopback port.
set -e
if command -v smtp-sink >/dev/null 2>&1 || [ -x /usr/sbin/smtp-sink ]; then
	echo "smtp-sink: present"
else
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends postfix
	if command -v systemctl >/dev/null 2>&1; then systemctl stop postfix 2>/dev/null || true; fi
	service postfix stop 2>/dev/null || true
fi
command -v python3 >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 python3
