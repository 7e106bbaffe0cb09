#!/usr/bin/env bash
# Installs, from Debian's packages, everything testdata/servers/start.sh needs.
# Safe to run repeatedly; does nothing when all packages are already present.
#
# Postfix is preseeded to "No configuration" so that installing it writes no
# main.cf and starts no system postfix on port 25.  The package scripts are
# also told (through a temporary policy-rc.d, removed again afterwards) not to
# start any daemon: our servers run as private instances under a temp dir.
set -euo pipefail

PKGS=(postfix dovecot-core dovecot-lmtpd dovecot-submissiond python3-aiosmtpd python3-dkim openssl python3)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi

echo "install.sh: installing ${missing[*]}" >&2
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections

# Keep maintainer scripts from starting system daemons (exit 101 = "action
# forbidden", see /usr/share/doc/init-system-helpers/README.policy-rc.d).
created_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	created_policy=1
fi
cleanup() {
	if [ -n "$created_policy" ]; then
		$SUDO rm -f /usr/sbin/policy-rc.d
	fi
}
trap cleanup EXIT

apt_install() {
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}"
}
# Package lists may be missing (fresh machine) or stale: update when a
# package has no install candidate, or when the first try fails.
for p in "${missing[@]}"; do
	# (no "| grep -q": with pipefail, grep's early exit fails the pipe)
	policy=$(apt-cache policy "$p" 2>/dev/null || true)
	if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
		$SUDO apt-get update -q
		break
	fi
done
apt_install || { $SUDO apt-get update -q && apt_install; }
