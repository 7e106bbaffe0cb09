#!/usr/bin/env bash
# start.sh DIR — start private Postfix, Dovecot and aiosmtpd instances for
# the real-server tests, with all configuration, state, queues, sockets, logs
# and mail stores under DIR, on free loopback ports.  Writes DIR/env (KEY=value
# lines) and DIR/pids (one PID per line).  Stop everything with stop.sh DIR.
#
# Needs root (Postfix's master and Dovecot drop privileges to their system
# users).  Installs missing Debian packages through install.sh.  Nothing under
# /etc is written: every daemon gets its own configuration file from DIR.
# See README.md in this directory.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3 # Debian's python (has python3-aiosmtpd), not a pyenv shim

die() {
	echo "start.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: start.sh DIR"
[ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo $0 $1)"

mkdir -p "$1"
DIR=$(cd "$1" && pwd -P)
case "$DIR" in
*[[:space:]]* | *[\'\"\$\\,=]*) die "DIR must not contain blanks or quoting characters: $DIR" ;;
esac
# Unix socket paths are limited to 107 bytes; Dovecot's longest one is
# $DIR/dovecot/run/anvil-auth-penalty.
[ ${#DIR} -le 70 ] || die "DIR path too long for Unix sockets (${#DIR} > 70 chars): $DIR"
if [ -s "$DIR/pids" ]; then
	die "$DIR/pids exists: servers already started there? run stop.sh $DIR first"
fi

# ---------------------------------------------------------------- packages
if ! command -v postfix >/dev/null || ! command -v dovecot >/dev/null ||
	[ ! -x /usr/lib/dovecot/lmtp ] || [ ! -x /usr/lib/dovecot/submission ] ||
	! $PY -c 'import aiosmtpd' 2>/dev/null ||
	! command -v openssl >/dev/null; then
	"$HERE/install.sh"
fi

T0=$(date +%s.%N)

# ---------------------------------------------------------------- settings
DOMAIN=example.com
PASSWORD=test-password-1
USER_ALICE=alice@$DOMAIN
USER_BOB=bob@$DOMAIN
USER_CAROL=carol@$DOMAIN
FULL_RCPT=full@$DOMAIN
SMALL_RCPT=small@$DOMAIN
SMALL_QUOTA=2048
REFUSED_SENDER=refused-sender@$DOMAIN
REFUSED_RCPT=refused@$DOMAIN
TEMPFAIL_RCPT=tempfail@$DOMAIN
# Postfix's own Maildirs (POSTFIX_MAILDIR/example.com/LOCAL/); jösé tests a
# UTF-8 local part.  Anything else @example.com goes to catchall.
POSTFIX_USERS="alice bob carol jösé"
POSTFIX_CATCHALL=catchall
# A second domain without a catch-all, where an unknown user is refused at
# RCPT TO with Postfix's own "550 5.1.1 ... User unknown".
STRICT_DOMAIN=strict.$DOMAIN
STRICT_USER=known@$STRICT_DOMAIN
UNKNOWN_RCPT=nobody@$STRICT_DOMAIN
SIZE_LIMIT=31457280 # 30 MiB: a 20 MB message passes, a 31 MB one does not
# The OAuth 2.0 authorization server (oauth2_server.py): a client's id is the
# mailbox its tokens are for, its secret this, and it must ask for this scope.
OAUTH2_CLIENT_SECRET=test-client-secret-1
OAUTH2_SCOPE=https://mail.example.com/smtp

# Owner of delivered mail (Postfix virtual(8) and Dovecot LMTP).  When run
# through sudo, the invoking user, so they can read the mail without root;
# otherwise nobody:nogroup.
if [ -n "${SUDO_UID:-}" ] && [ "${SUDO_UID}" -ne 0 ]; then
	MAIL_UID=$SUDO_UID
	MAIL_GID=${SUDO_GID:-$SUDO_UID}
else
	MAIL_UID=$(id -u nobody)
	MAIL_GID=$(getent group nogroup | cut -d: -f3)
fi

# Free loopback ports: bind port 0 for all at once, then release them.
read -r P_PLAIN P_SUB P_SMTPS P_LMTP P_AIO P_AIOS P_SUBM P_SUBX P_OAUTH2 < <($PY - <<'EOF'
import socket
socks = []
for _ in range(9):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)

# DIR and everything on the way to it must be searchable by the postfix,
# dovecot and mail users: the daemons chdir there after dropping root.
chmod 755 "$DIR"
mkdir -p "$DIR/tls" "$DIR/postfix" "$DIR/dovecot" "$DIR/aiosmtpd/mail"
if ! runuser -u postfix -- test -x "$DIR/postfix"; then
	die "$DIR is not reachable by user postfix (a parent directory is not world-searchable?)"
fi
: >"$DIR/pids"

# ---------------------------------------------------------------- TLS
# A throw-away CA and a server certificate for localhost / 127.0.0.1 / ::1.
# EC P-256 keys: generated in milliseconds.
(
	cd "$DIR/tls"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -days 3650 -subj "/CN=smtplib test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
	cat >server.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EOF
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 3650 -extfile server.ext -out server.pem 2>/dev/null
	chmod 600 ./*.key
) || die "openssl failed"
cp "$DIR/tls/ca.pem" "$DIR/ca.pem"

# ---------------------------------------------------------------- Dovecot
DV=$DIR/dovecot
mkdir -p "$DV/mail" "$DV/state"
chown "$MAIL_UID:$MAIL_GID" "$DV/mail"
# passwd-file: user:password:uid:gid:gecos:home:shell:extra fields.  {PLAIN}
# passwords let Dovecot offer CRAM-MD5 too.
cat >"$DV/users" <<EOF
$USER_ALICE:{PLAIN}$PASSWORD::::::
$USER_BOB:{PLAIN}$PASSWORD::::::
$USER_CAROL:{PLAIN}$PASSWORD::::::
$FULL_RCPT:{PLAIN}$PASSWORD::::::userdb_quota_rule=*:storage=1K
$SMALL_RCPT:{PLAIN}$PASSWORD::::::userdb_quota_rule=*:storage=${SMALL_QUOTA}B
EOF
chown root:dovecot "$DV/users"
chmod 640 "$DV/users"

# full@ is over its 1 KiB quota from the start (the seed message below), so
# lmtp_rcpt_check_quota refuses it at RCPT TO.  small@ has an empty mailbox and
# a 2 KiB quota: it passes RCPT TO and a bigger message is refused for it alone
# in the per-recipient replies after DATA.
FULL_MD=$DV/mail/$DOMAIN/${FULL_RCPT%@*}/Maildir
mkdir -p "$FULL_MD/cur" "$FULL_MD/new" "$FULL_MD/tmp"
{
	printf 'From: seed@example.com\r\nTo: %s\r\nSubject: fills the quota\r\n\r\n' "$FULL_RCPT"
	head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 76 | sed 's/$/\r/'
} >"$FULL_MD/cur/1000000000.seed.localhost:2,S"
chown -R "$MAIL_UID:$MAIL_GID" "$DV/mail"

cat >"$DV/dovecot.conf" <<EOF
# Private Dovecot instance for the smtplib tests; generated by start.sh.
# No !include of /etc/dovecot: everything is here.
instance_name = smtplib-test
base_dir = $DV/run
state_dir = $DV/state
log_path = $DV/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
hostname = localhost
postmaster_address = postmaster@$DOMAIN

disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DV/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $DV/users
  default_fields = uid=$MAIL_UID gid=$MAIL_GID home=$DV/mail/%d/%n
}
first_valid_uid = 1
first_valid_gid = 1

mail_location = maildir:~/Maildir
# Keep CRLF line ends in stored messages, so they compare byte for byte
# with what was sent.
mail_save_crlf = yes
mail_plugins = quota
lmtp_rcpt_check_quota = yes
recipient_delimiter = +
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=1G
}

# SASL for Postfix (smtpd_sasl_type = dovecot).
service auth {
  unix_listener $DV/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
# No growing delay after failed logins from one IP (Dovecot's "auth
# penalty"): the tests fail logins on purpose.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service lmtp {
  unix_listener $DV/lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = $P_LMTP
  }
}
EOF

# ------------------------------------------------- Dovecot submission (OAuth)
# Two more Dovecot instances, each only a submission service (RFC 6409) that
# checks OAuth 2.0 bearer tokens with its oauth2 passdb against the token
# introspection endpoint of oauth2_server.py, and relays what it accepts to
# Postfix's plain port.  Two, because the mechanisms a Dovecot offers are
# one list for the instance: SUBM offers OAUTHBEARER and XOAUTH2 (and PLAIN
# and LOGIN against the passwd-file), SUBX offers LOGIN and XOAUTH2 alone,
# the AUTH line of Microsoft 365.  Short directory names: Unix socket paths
# under them must stay within 107 bytes.
dovecot_submission() { # dovecot_submission DIR PORT MECHANISMS
	local d=$1
	mkdir -p "$d/state" "$d/home"
	chown "$MAIL_UID:$MAIL_GID" "$d/home"
	# introspection_mode = post: RFC 7662's POST of "token=...".  Dovecot's
	# auth cache is off by default, so every login asks the endpoint, and a
	# revoked token is refused at once.
	cat >"$d/dovecot-oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = http://127.0.0.1:$P_OAUTH2/introspect
username_attribute = username
active_attribute = active
active_value = true
scope = $OAUTH2_SCOPE
EOF
	cat >"$d/dovecot.conf" <<EOF
# Private Dovecot submission instance for the smtplib tests; generated by
# start.sh.  No !include of /etc/dovecot: everything is here.
instance_name = smtplib-test-$(basename "$d")
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = submission
listen = 127.0.0.1
ssl = no
hostname = localhost
postmaster_address = postmaster@$DOMAIN

# Loopback only: bearer tokens and passwords in clear text are fine here.
disable_plaintext_auth = no
auth_mechanisms = $3
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/dovecot-oauth2.conf.ext
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $DV/users
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$d/home/%d/%n allow_all_users=yes
}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir

submission_relay_host = 127.0.0.1
submission_relay_port = $P_PLAIN
submission_max_mail_size = $SIZE_LIMIT

service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service submission-login {
  inet_listener submission {
    address = 127.0.0.1
    port = $2
  }
}
EOF
}
SUBM=$DIR/subm
SUBX=$DIR/subx
dovecot_submission "$SUBM" "$P_SUBM" "plain login oauthbearer xoauth2"
dovecot_submission "$SUBX" "$P_SUBX" "login xoauth2"
mkdir -p "$DIR/oauth2"

# ---------------------------------------------------------------- Postfix
PF=$DIR/postfix
PFC=$PF/etc # config_directory: kept apart from the queue, which postfix-script
#             would otherwise warn about (it checks the config tree's owners)
mkdir -p "$PFC" "$PF/mail"
# The queue as postfix-files lays it out.  Made here, plus the quick-start
# flag, so that "postfix start" skips its integrity checks (post-install
# create-missing, postsuper, check-warn), which take ~2 s on a new queue.
install -d -o root -g root -m 755 "$PF/queue" "$PF/queue/pid"
install -d -o postfix -g postfix -m 700 "$PF/data"
for q in active bounce corrupt defer deferred flush hold incoming private saved trace; do
	install -d -o postfix -g root -m 700 "$PF/queue/$q"
done
install -d -o postfix -g postdrop -m 730 "$PF/queue/maildrop"
install -d -o postfix -g postdrop -m 710 "$PF/queue/public"
touch "$PF/queue/quick-start"
chown "$MAIL_UID:$MAIL_GID" "$PF/mail"

cat >"$PFC/sender_access" <<EOF
$REFUSED_SENDER REJECT sender refused by test policy
EOF
cat >"$PFC/recipient_access" <<EOF
$REFUSED_RCPT 550 5.1.1 recipient refused by test policy
$TEMPFAIL_RCPT 450 4.2.0 recipient temporarily refused by test policy
EOF
# Where virtual(8) stores mail (relative to virtual_mailbox_base; a trailing
# slash means Maildir).  Known users get their own Maildir, every other
# address in the domain lands in the catch-all one.  (A regexp map with $1
# substitution would give everyone their own, but virtual(8) refuses those.)
{
	for u in $POSTFIX_USERS; do
		echo "$u@$DOMAIN $DOMAIN/$u/"
	done
	echo "@$DOMAIN $DOMAIN/$POSTFIX_CATCHALL/"
	echo "$STRICT_USER $STRICT_DOMAIN/${STRICT_USER%@*}/"
} >"$PFC/virtual_mailbox"

cat >"$PFC/main.cf" <<EOF
# Private Postfix instance for the smtplib tests; generated by start.sh.
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = localhost
mydomain = localdomain
myorigin = \$myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
readme_directory = no
smtpd_banner = \$myhostname ESMTP Postfix (smtplib test)

# Never send anything anywhere: only the test domain is delivered, locally.
local_transport = error:local delivery is disabled
default_transport = error:outbound mail is disabled
relay_transport = error:relaying is disabled
relay_domains =
virtual_mailbox_domains = $DOMAIN $STRICT_DOMAIN
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = texthash:$PFC/virtual_mailbox
virtual_uid_maps = static:$MAIL_UID
virtual_gid_maps = static:$MAIL_GID
virtual_minimum_uid = 1
message_size_limit = $SIZE_LIMIT
virtual_mailbox_limit = 0
smtputf8_enable = yes
# Do not add or rewrite headers (Date:, Message-ID:, From:) for loopback
# clients: a test sees what its client sent plus Postfix's trace headers.
local_header_rewrite_clients =

# Test speed: no tarpitting after errors, no pauses.
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200

smtpd_tls_cert_file = $DIR/tls/server.pem
smtpd_tls_key_file = $DIR/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DV/auth
smtpd_tls_auth_only = no

# Reject at MAIL FROM / RCPT TO themselves, not later at RCPT.
smtpd_delay_reject = no
smtpd_sender_restrictions = check_sender_access texthash:$PFC/sender_access
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$PFC/recipient_access
# Used by the submission and smtps services: AUTH required.
submission_recipient_restrictions = check_recipient_access texthash:$PFC/recipient_access, permit_sasl_authenticated, reject
EOF

# chroot is off everywhere ("n" in column 5): the jail would need copies of
# /etc files and the Dovecot socket inside the queue directory.
cat >"$PFC/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$P_PLAIN inet n - n - - smtpd
  -o syslog_name=postfix/plain
  -o smtpd_tls_security_level=none
127.0.0.1:$P_SUB inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=may
  -o smtpd_tls_auth_only=yes
  -o smtpd_recipient_restrictions=\$submission_recipient_restrictions
127.0.0.1:$P_SMTPS inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_recipient_restrictions=\$submission_recipient_restrictions
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       1       1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

# Postfix refuses to read a configuration or table file modified within the
# last second or two (it may still be being edited) and sleeps until it is
# older: back-date ours rather than wait.
touch -d '-1 minute' "$PFC"/*

# ---------------------------------------------------------------- env file
cat >"$DIR/env" <<EOF
SERVERS_DIR=$DIR
SERVERS_HOST=127.0.0.1
SERVERS_TLS_NAME=localhost
SERVERS_CA=$DIR/ca.pem
SERVERS_CERT=$DIR/tls/server.pem
SERVERS_KEY=$DIR/tls/server.key
POSTFIX_PLAIN_PORT=$P_PLAIN
POSTFIX_SUBMISSION_PORT=$P_SUB
POSTFIX_SMTPS_PORT=$P_SMTPS
POSTFIX_DOMAIN=$DOMAIN
POSTFIX_USER=$USER_ALICE
POSTFIX_PASSWORD=$PASSWORD
POSTFIX_OK_RCPTS=$USER_ALICE,$USER_BOB,$USER_CAROL
POSTFIX_UTF8_RCPT=jösé@$DOMAIN
POSTFIX_CATCHALL=$POSTFIX_CATCHALL
POSTFIX_SIZE_LIMIT=$SIZE_LIMIT
POSTFIX_REFUSED_SENDER=$REFUSED_SENDER
POSTFIX_REFUSED_RCPT=$REFUSED_RCPT
POSTFIX_TEMPFAIL_RCPT=$TEMPFAIL_RCPT
POSTFIX_UNKNOWN_RCPT=$UNKNOWN_RCPT
POSTFIX_MAILDIR=$PF/mail
POSTFIX_LOG=$PF/maillog
POSTFIX_CONFIG_DIR=$PFC
DOVECOT_LMTP_SOCKET=$DV/lmtp
DOVECOT_LMTP_PORT=$P_LMTP
DOVECOT_MAILDIR_ROOT=$DV/mail
DOVECOT_USER=$USER_ALICE
DOVECOT_PASSWORD=$PASSWORD
DOVECOT_OK_RCPTS=$USER_ALICE,$USER_BOB,$USER_CAROL
DOVECOT_FULL_RCPT=$FULL_RCPT
DOVECOT_SMALL_RCPT=$SMALL_RCPT
DOVECOT_SMALL_QUOTA=$SMALL_QUOTA
DOVECOT_LOG=$DV/dovecot.log
AIOSMTPD_PORT=$P_AIO
AIOSMTPD_SMTPS_PORT=$P_AIOS
AIOSMTPD_MAILDIR=$DIR/aiosmtpd/mail
AIOSMTPD_USER=$USER_ALICE
AIOSMTPD_PASSWORD=$PASSWORD
AIOSMTPD_SIZE_LIMIT=$SIZE_LIMIT
AIOSMTPD_REFUSED_SENDER=$REFUSED_SENDER
AIOSMTPD_REFUSED_RCPT=$REFUSED_RCPT
AIOSMTPD_TEMPFAIL_RCPT=$TEMPFAIL_RCPT
AIOSMTPD_LOG=$DIR/aiosmtpd/aiosmtpd.log
DOVECOT_SUBMISSION_PORT=$P_SUBM
DOVECOT_SUBMISSION_LOG=$SUBM/dovecot.log
DOVECOT_SUBMISSION_XOAUTH2_PORT=$P_SUBX
DOVECOT_SUBMISSION_XOAUTH2_LOG=$SUBX/dovecot.log
OAUTH2_TOKEN_URL=http://127.0.0.1:$P_OAUTH2/token
OAUTH2_REVOKE_URL=http://127.0.0.1:$P_OAUTH2/revoke
OAUTH2_INTROSPECTION_URL=http://127.0.0.1:$P_OAUTH2/introspect
OAUTH2_CLIENT_SECRET=$OAUTH2_CLIENT_SECRET
OAUTH2_SCOPE=$OAUTH2_SCOPE
OAUTH2_USERS=$USER_ALICE,$USER_BOB,$USER_CAROL
OAUTH2_LOG=$DIR/oauth2/oauth2.log
EOF

# ---------------------------------------------------------------- start
# Logs to show when a server did not start.
logs_of() {
	case $1 in
	dovecot) echo "$DV/doveconf.err $DV/dovecot.log" ;;
	postfix) echo "$PF/start.log $PF/maillog" ;;
	aiosmtpd) echo "$AIO/aiosmtpd.log" ;;
	submission) echo "$SUBM/doveconf.err $SUBM/dovecot.log $SUBX/doveconf.err $SUBX/dovecot.log $DIR/oauth2/oauth2.log" ;;
	oauth2) echo "$DIR/oauth2/oauth2.log" ;;
	esac
}
fail() {
	local f
	echo "start.sh: $1 did not start" >&2
	for f in $(logs_of "$1"); do
		[ -s "$f" ] || continue
		# The first problems logged (a repeated symptom can fill the tail),
		# then the last lines.
		echo "--- $f: first errors/warnings" >&2
		grep -iE 'fatal|panic|error|warning' "$f" | head -n 10 >&2 || true
		echo "--- $f: last lines" >&2
		tail -n 15 "$f" >&2
	done
	"$HERE/stop.sh" "$DIR" >/dev/null 2>&1 || true
	exit 1
}

# Bounded waits (~10 s) with short polling.  wait_file PATH [PID]: until PATH
# exists; gives up early if process PID has exited.  wait_port PORT: until
# 127.0.0.1:PORT accepts connections.
wait_file() {
	local _
	for _ in $(seq 200); do
		[ -e "$1" ] && return 0
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
	return 1
}
wait_port() {
	local _
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# aiosmtpd first, in the background: Python's start-up overlaps the others.
# setsid: its own session, so it outlives the caller's terminal or job.
AIO=$DIR/aiosmtpd
setsid "$PY" "$HERE/aiosmtpd_server.py" \
	--host 127.0.0.1 --port "$P_AIO" --smtps-port "$P_AIOS" \
	--cert "$DIR/tls/server.pem" --key "$DIR/tls/server.key" \
	--maildir "$AIO/mail" --ready-file "$AIO/ready" \
	--user "$USER_ALICE:$PASSWORD" --user "$USER_BOB:$PASSWORD" \
	--user "$USER_CAROL:$PASSWORD" \
	--refused-sender "$REFUSED_SENDER" --refused-rcpt "$REFUSED_RCPT" \
	--tempfail-rcpt "$TEMPFAIL_RCPT" --size-limit "$SIZE_LIMIT" \
	</dev/null >>"$AIO/aiosmtpd.log" 2>&1 &
AIO_PID=$!
echo "$AIO_PID" >"$AIO/pid"
echo "$AIO_PID" >>"$DIR/pids"

# The OAuth 2.0 server, in the background like aiosmtpd.
setsid "$PY" "$HERE/oauth2_server.py" --host 127.0.0.1 --port "$P_OAUTH2" \
	--user "$USER_ALICE" --user "$USER_BOB" --user "$USER_CAROL" \
	--client-secret "$OAUTH2_CLIENT_SECRET" --scope "$OAUTH2_SCOPE" \
	--ready-file "$DIR/oauth2/ready" \
	</dev/null >>"$DIR/oauth2/oauth2.log" 2>&1 &
OAUTH2_PID=$!
echo "$OAUTH2_PID" >"$DIR/oauth2/pid"
echo "$OAUTH2_PID" >>"$DIR/pids"

# Dovecot before Postfix, whose SASL needs Dovecot's auth socket.
doveconf -c "$DV/dovecot.conf" -n >/dev/null 2>"$DV/doveconf.err" || fail dovecot
dovecot -c "$DV/dovecot.conf" 2>>"$DV/dovecot.log" || fail dovecot
wait_file "$DV/run/master.pid" || fail dovecot
cat "$DV/run/master.pid" >>"$DIR/pids"
if ! { wait_file "$DV/auth" && wait_file "$DV/lmtp" && wait_port "$P_LMTP"; }; then
	fail dovecot
fi
for d in "$SUBM" "$SUBX"; do
	doveconf -c "$d/dovecot.conf" -n >/dev/null 2>"$d/doveconf.err" || fail submission
	dovecot -c "$d/dovecot.conf" 2>>"$d/dovecot.log" || fail submission
	wait_file "$d/run/master.pid" || fail submission
	cat "$d/run/master.pid" >>"$DIR/pids"
done

if ! postfix -c "$PFC" start >"$PF/start.log" 2>&1; then
	# postfix(1) prints its errors only to syslog unless stderr is a
	# terminal; re-run its checks under script(1) to capture them.
	script -qec "postfix -c $PFC check" /dev/null >>"$PF/start.log" 2>&1 || true
	fail postfix
fi
wait_file "$PF/queue/pid/master.pid" || fail postfix
# master.pid is written with padding blanks.
tr -d ' ' <"$PF/queue/pid/master.pid" >>"$DIR/pids"

# The ready file holds the server's own PID, once it listens.
wait_file "$AIO/ready" "$AIO_PID" || fail aiosmtpd
wait_file "$DIR/oauth2/ready" "$OAUTH2_PID" || fail oauth2
if [ "$(cat "$AIO/ready")" != "$AIO_PID" ]; then # setsid forked after all
	cat "$AIO/ready" >>"$DIR/pids"
	cp "$AIO/ready" "$AIO/pid"
fi
if [ "$(cat "$DIR/oauth2/ready")" != "$OAUTH2_PID" ]; then
	cat "$DIR/oauth2/ready" >>"$DIR/pids"
	cp "$DIR/oauth2/ready" "$DIR/oauth2/pid"
fi

# Every endpoint must greet with 220 and answer EHLO/LHLO with 250; the
# implicit-TLS ones after a handshake verified against our CA.  (Postfix
# starts smtpd only when a client connects, so an smtpd configuration error
# shows up here and not at "postfix start".)  Bounded: ~10 s in all.
probe_out=$("$PY" - "$DIR/ca.pem" \
	"dovecot lmtpunix $DV/lmtp" "dovecot lmtp $P_LMTP" \
	"submission smtp $P_SUBM" "submission smtp $P_SUBX" \
	"postfix smtp $P_PLAIN" "postfix smtp $P_SUB" "postfix smtps $P_SMTPS" \
	"aiosmtpd smtp $P_AIO" "aiosmtpd smtps $P_AIOS" <<'EOF'
import socket, ssl, sys, time
ca, specs = sys.argv[1], sys.argv[2:]
deadline = time.time() + 10
tls = ssl.create_default_context(cafile=ca)

def once(kind, addr):
    if kind == "lmtpunix":
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(addr)
    else:
        s = socket.create_connection(("127.0.0.1", int(addr)), timeout=2)
        if kind == "smtps":
            s = tls.wrap_socket(s, server_hostname="localhost")
    with s:
        f = s.makefile("rb")
        def reply(want):
            while True:
                line = f.readline()
                if not line.startswith(want):
                    raise OSError(f"unexpected reply {line!r}")
                if line[3:4] != b"-":
                    return
        reply(b"220")
        verb = b"LHLO" if kind.startswith("lmtp") else b"EHLO"
        s.sendall(verb + b" probe.localhost\r\n")
        reply(b"250")
        s.sendall(b"QUIT\r\n")

for spec in specs:
    service, kind, addr = spec.split(" ")
    while True:
        try:
            once(kind, addr)
            break
        except (OSError, ssl.SSLError) as e:
            if time.time() > deadline:
                print(service)  # the first one that failed
                print(f"start.sh: {kind} {addr}: {e}", file=sys.stderr)
                sys.exit(1)
            time.sleep(0.05)
EOF
) || fail "${probe_out:-probe}"

T1=$(date +%s.%N)
echo "start.sh: servers up in $(awk "BEGIN{printf \"%.2f\", $T1-$T0}")s; env in $DIR/env" >&2
