#!/usr/bin/env bash
# stop.sh DIR — stop the servers that start.sh DIR started, and nothing else:
# Postfix and Dovecot through their own configuration under DIR, aiosmtpd by
# its PID; then wait for every PID listed in DIR/pids to exit.  The files under
# DIR (mail, logs) are left in place.  Safe to run twice.
set -uo pipefail

[ $# -eq 1 ] || {
	echo "usage: stop.sh DIR" >&2
	exit 2
}
DIR=$(cd "$1" 2>/dev/null && pwd -P) || {
	echo "stop.sh: no such directory: $1" >&2
	exit 1
}

# A process counts as gone once it is a zombie too: on machines whose PID 1
# does not reap orphans (some containers), daemons stay <defunct> forever.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# Is PID one of ours?  Guards against a recycled PID: Postfix's master runs
# in DIR/postfix/queue, each Dovecot's in its run directory under DIR,
# aiosmtpd and the OAuth 2.0 server have DIR in their command lines.
ours() {
	local cwd
	cwd=$(readlink "/proc/$1/cwd" 2>/dev/null)
	case "$cwd/" in "$DIR"/*) return 0 ;; esac
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$DIR/"
}

pf_master=$(tr -d ' ' <"$DIR/postfix/queue/pid/master.pid" 2>/dev/null)
if [ -n "$pf_master" ] && alive "$pf_master" && ours "$pf_master"; then
	postfix -c "$DIR/postfix/etc" stop >/dev/null 2>&1
fi
# SIGTERM to Dovecot's master is what "dovecot stop" does, but that command
# then waits ~3 s for the master to vanish when PID 1 leaves it a zombie.
for f in "$DIR/dovecot/run/master.pid" "$DIR/subm/run/master.pid" "$DIR/subx/run/master.pid" \
	"$DIR/aiosmtpd/pid" "$DIR/oauth2/pid"; do
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	if alive "$pid" && ours "$pid"; then
		kill -TERM "$pid"
	fi
done

[ -f "$DIR/pids" ] || exit 0
status=0
while read -r pid; do
	[ -n "$pid" ] || continue
	# Bounded wait (~10 s), then SIGKILL that one process as a last resort.
	for _ in $(seq 200); do
		alive "$pid" || break
		sleep 0.05
	done
	if alive "$pid" && ours "$pid"; then
		echo "stop.sh: PID $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) still running; sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
		status=1
	fi
done <"$DIR/pids"
rm -f "$DIR/pids" "$DIR/aiosmtpd/pid" "$DIR/oauth2/pid"
exit $status
