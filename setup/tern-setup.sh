#!/bin/sh
# tern-setup: creates a complete tern instance (control files, rules, users,
# certificate, queue, relay table, s6 service directories) in one directory.
#
# SECURITY: runs as whoever calls it. It writes only below DIR, never runs
# anything it reads from DIR, and never puts the demo password on a command
# line (it goes to the hashing program on stdin). With -r (as root) it hands
# each file to the one user that needs it (conf-users) and nobody else.
set -u
umask 022
PROG=tern-setup
USAGE="usage: tern-setup [-f] [-r] [-P|-C] [-d domain] [-n host] [-i address] [-u] [-o offset] [-p service=port] [-z zone] [-g ms] [-b bindir] [-U usersfile] [-M port] DIR
       tern-setup -c DIR   (check an instance: see tern-check)"

die() { echo "$PROG: fatal: $*" >&2; exit "${EXIT:-111}"; }
usage() { echo "$USAGE" >&2; exit 100; }
warn() { echo "$PROG: warning: $*" >&2; }

# Where our programs live: the directory this script was installed in.
bindir=$(cd "$(dirname "$0")" && pwd) || die "unable to find my directory"

domain=tern.test
host=
listen=0.0.0.0
offset=0
unpriv=0
force=0
privsep=0
zones=
usersfile=
check=0
# GREETDELAY on port 25: ms of silence before the greeting (docs/smtpd.md).
greetdelay=1000
# The five listening services and their standard ports (name=port).
ports="smtp=25 submission=587 smtps=465 pop3=110 pop3s=995"
overrides=
# -M: the metrics service (tern-metrics, HTTP on 127.0.0.1 only); off by default.
metricsport=

# Ports 25, 587 and 465 pooled by default (docs/pool.md); -C: the classic
# fork+exec chain per connection.
pool=1

while getopts "cfrPCd:n:i:uo:p:z:g:b:U:M:" opt; do
  case $opt in
    c) check=1 ;;
    f) force=1 ;;
    r) privsep=1 ;;
    P) pool=1 ;;
    C) pool=0 ;;
    d) domain=$OPTARG ;;
    n) host=$OPTARG ;;
    i) listen=$OPTARG ;;
    u) unpriv=1 ;;
    o) offset=$OPTARG ;;
    p) overrides="$overrides $OPTARG" ;;
    z) zones="$zones $OPTARG" ;;
    g) greetdelay=$OPTARG ;;
    b) bindir=$OPTARG ;;
    U) usersfile=$OPTARG ;;
    M) metricsport=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
[ "$check" = 1 ] && exec "$bindir/tern-check" "$1"

EXIT=100
# Everything that lands in a file or a run script is checked here, so a
# value can never smuggle shell syntax or a second line into either.
# (case, not grep: grep would judge a value with a newline line by line)
valid_name() {
  case $1 in ''|*[!A-Za-z0-9.-]*|[.-]*|*[.-]) return 1 ;; esac
  [ ${#1} -le 253 ]
}
only() { case $2 in ''|*[!$1]*) return 1 ;; esac; }
valid_name "$domain" || die "bad domain: $domain"
[ -n "$host" ] || host="mail.$domain"
valid_name "$host" || die "bad host name: $host"
only '0-9A-Fa-f.:' "$listen" || die "bad listen address: $listen"
only 0-9 "$offset" && [ ${#offset} -le 5 ] || die "bad port offset: $offset"
only 0-9 "$greetdelay" && [ ${#greetdelay} -le 5 ] && [ "$greetdelay" -le 60000 ] ||
  die "bad greeting delay (milliseconds, 0 to 60000): $greetdelay"
[ -z "$metricsport" ] || { only 0-9 "$metricsport" && [ ${#metricsport} -le 5 ] && [ "$metricsport" -ge 1 ] &&
  [ "$metricsport" -le 65535 ]; } || die "bad metrics port: $metricsport"
for z in $zones; do valid_name "$z" || die "bad DNSBL zone: $z"; done
case $bindir in /*) ;; *) bindir=$(cd "$bindir" && pwd) || die "no such directory: $bindir" ;; esac
only 'A-Za-z0-9/._+-' "$bindir" || die "bindir with unsafe characters: $bindir"

# port NAME: the port a service listens on, after -u, -o and -p.
port() {
  p=
  for o in $overrides; do
    case $o in "$1"=*) p=${o#*=} ;; esac
  done
  if [ -z "$p" ]; then
    for o in $ports; do
      case $o in "$1"=*) p=${o#*=} ;; esac
    done
    if [ "$unpriv" = 1 ]; then
      # 2525, 2587, 2465, 2110, 2995: the customary unprivileged ports.
      if [ "$p" = 25 ]; then p=2525; else p=$((p + 2000)); fi
    fi
    p=$((p + offset))
  fi
  only 0-9 "$p" && [ ${#p} -le 5 ] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] ||
    die "bad port for $1: $p"
  echo "$p"
}
for o in $overrides; do
  case ${o%%=*} in smtp|submission|smtps|pop3|pop3s) ;; *) die "unknown service in -p $o" ;; esac
done
for s in smtp submission smtps pop3 pop3s; do port "$s" >/dev/null || exit 100; done

dir=$1
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
only 'A-Za-z0-9/._+-' "$dir" || die "instance directory with unsafe characters: $dir"
EXIT=111
if [ -e "$dir/control" ] && [ "$force" = 0 ]; then
  EXIT=100 die "$dir already holds an instance (control/ exists); use -f to rewrite it"
fi

# The users of conf-users, in its order; only used with -r.
set_users() {
  set -- ternd ternq terns ternr ternl ternt terna ternlog ternk
  if [ -n "$usersfile" ]; then
    # shellcheck disable=SC2046
    set -- $(sed -n '1,9p' "$usersfile") || die "unable to read $usersfile"
    [ $# -eq 9 ] || die "$usersfile must name 9 users on its first 9 lines"
  fi
  u_net=$1 u_queue=$2 u_send=$3 u_remote=$4 u_local=$5 u_tls=$6 u_auth=$7 u_log=$8 u_dkim=$9
  for u in "$@"; do id -u "$u" >/dev/null 2>&1 || die "no such user: $u (make install creates them)"; done
}
if [ "$privsep" = 1 ]; then
  [ "$(id -u)" = 0 ] || EXIT=100 die "-r (privilege separation) needs root"
  set_users
fi

missing=

# write_new FILE LINE...: writes FILE atomically unless it exists (so -f
# never overwrites what an admin changed).
write_new() {
  f=$1; shift
  [ -e "$f" ] && return 0
  printf '%s\n' "$@" > "$f.tmp" && mv -f "$f.tmp" "$f" || die "unable to write $f"
}

# have PROG: PROG is among our programs (the others may not be built yet).
have() { [ -x "$bindir/$1" ] || { missing="$missing $1"; return 1; }; }

make_control() {
  c=$dir/control
  mkdir -p "$c" || die "unable to create $c"
  write_new "$c/me" "$host"
  write_new "$c/rcpthosts" "$domain" "$host"
  write_new "$c/locals" "$domain" "$host"
  write_new "$c/defaultdomain" "$domain"
  write_new "$c/helohost" "$host"
  write_new "$c/smtpgreeting" "$host"
  write_new "$c/bouncefrom" "MAILER-DAEMON"
  write_new "$c/bouncehost" "$host"
  write_new "$c/doublebounceto" "postmaster@$domain"
  write_new "$c/databytes" 26214400
  write_new "$c/concurrencylocal" 10
  write_new "$c/concurrencyremote" 20
  write_new "$c/queuelifetime" 604800
  write_new "$c/timeoutsmtpd" 1200
  write_new "$c/timeoutremote" 1200
}

make_rules() {
  # The clients that may relay have their mail DKIM-signed: TERNQUEUE puts
  # tern-dkimsign before tern-queue for them, and for nobody else, so a
  # stranger's message costs no extra program (docs/dkim.md).
  sign=
  have tern-dkimsign && sign=",TERNQUEUE=\"$bindir/tern-dkimsign\""
  write_new "$dir/rules" \
    "# tcprules for the smtp service (port 25): compile with" \
    "#   tern-tcprules rules.cdb rules.tmp < rules" \
    "# Only this host may relay without authenticating. Never give" \
    "# RELAYCLIENT to a catch-all: tern-check refuses it (an open relay)." \
    "127.0.0.1:allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"$sign" \
    "[::1]:allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"$sign" \
    ":allow"
  if have tern-tcprules; then
    (cd "$dir" && "$bindir/tern-tcprules" rules.cdb rules.tmp < rules) ||
      die "tern-tcprules refused $dir/rules"
  fi
}

make_queue() {
  q=$dir/queue
  mkdir -p "$q/tmp" "$q/mess" "$q/state" "$q/job" "$dir/relay" "$dir/mtasts" "$dir/tlsrpt" || die "unable to create $q"
  # The 256 buckets up front, so that owners and modes are set once here.
  set --
  for h in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
    for l in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do set -- "$@" "$q/mess/$h$l" "$q/state/$h$l"; done
  done
  mkdir -p "$@" || die "unable to create the buckets in $q"
  [ -p "$q/trigger" ] || mkfifo -m 0600 "$q/trigger" || die "unable to create $q/trigger"
  # the queue writer's socket lives here: only the SMTP side's group may enter
  mkdir -p "$dir/queued" && chmod 750 "$dir/queued" || die "unable to create $dir/queued"
  chmod 700 "$q/tmp" "$q/job" "$dir/relay" "$dir/mtasts" "$dir/tlsrpt"
  chmod 750 "$q" "$q/mess" "$q/state"
}

make_tls() {
  t=$dir/tls
  mkdir -p "$t" || die "unable to create $t"
  [ -e "$t/key.pem" ] && return 0
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -keyout "$t/key.pem.tmp" -out "$t/cert.pem.tmp" -days 825 \
    -subj "/CN=$host" -addext "subjectAltName=DNS:$host" 2>/dev/null) ||
    die "openssl could not make a certificate"
  chmod 600 "$t/key.pem.tmp" && chmod 644 "$t/cert.pem.tmp" &&
    mv -f "$t/cert.pem.tmp" "$t/cert.pem" && mv -f "$t/key.pem.tmp" "$t/key.pem" ||
    die "unable to install the certificate in $t"
}

# make_dkim: a DKIM key for the domain, named in control/dkimdomains, so
# that mail from our own users is signed from the start; the record to
# publish is printed (docs/dkim.md). Local mail (tern-inject) goes through
# tern-dkimsign too (control/injectqueue). Done once: an instance that has
# a dkimdomains file keeps its keys and selectors as they are.
make_dkim() {
  mkdir -p "$dir/dkim" && chmod 700 "$dir/dkim" || die "unable to create $dir/dkim"
  have tern-dkimsign || return 0
  write_new "$dir/control/injectqueue" tern-dkimsign
  [ -e "$dir/control/dkimdomains" ] && return 0
  have tern-dkimkey || return 0
  sel=s$(date -u +%Y%m)
  echo "$PROG: DKIM key for $domain, selector $sel; publish this TXT record in the DNS of $domain:"
  # the record to stdout; its advice (to edit dkimdomains) we follow ourselves
  { err=$(TERN_HOME=$dir "$bindir/tern-dkimkey" "$domain" "$sel" 2>&1 1>&3); } 3>&1 ||
    die "tern-dkimkey could not make a key for $domain: $err"
  write_new "$dir/control/dkimdomains" \
    "# author domain:selector[,selector...][:signing domain] (docs/dkim.md)" \
    "$domain:$sel"
}

# hash_password: reads a password on stdin, prints its crypt(3) hash.
hash_password() {
  if [ -x "$bindir/tern-passwd" ]; then
    "$bindir/tern-passwd" -h
  else
    # Until tern-passwd exists: SHA-512 crypt, which crypt(3) checks too.
    openssl passwd -6 -stdin
  fi
}

make_users() {
  mkdir -p "$dir/mail/demo/Maildir/cur" "$dir/mail/demo/Maildir/new" "$dir/mail/demo/Maildir/tmp" ||
    die "unable to create the demo Maildir"
  chmod 700 "$dir/mail/demo" "$dir/mail/demo/Maildir"
  if [ ! -e "$dir/users" ]; then
    pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=\n') || die "unable to read /dev/urandom"
    hash=$(printf '%s\n' "$pw" | hash_password) || die "unable to hash the demo password"
    case $hash in '$'*) ;; *) die "the password hash looks wrong: $hash" ;; esac
    (umask 077 && write_new "$dir/users" \
      "# address:crypt(3) hash:Maildir (relative to TERN_HOME); compile with tern-newusers" \
      "demo@$domain:$hash:mail/demo/Maildir/")
    echo "$PROG: demo account demo@$domain password $pw"
    echo "$PROG: (printed only this once; change it with tern-passwd)"
  fi
  write_new "$dir/aliases" \
    "# address: target[, target...]; compile with tern-newusers" \
    "postmaster@$domain: demo@$domain" \
    "abuse@$domain: demo@$domain" \
    "# cron and scripts mail root (sendmail root: root@$domain, control/defaultdomain)" \
    "root@$domain: postmaster@$domain"
  if have tern-newusers; then
    # passwd.cdb holds the hashes: made private from the start.
    (umask 077 && TERN_HOME=$dir exec "$bindir/tern-newusers") || die "tern-newusers refused $dir/users"
    chmod 644 "$dir/users.cdb" "$dir/aliases.cdb" && chmod 600 "$dir/passwd.cdb" ||
      die "unable to set the modes of the tables in $dir"
  fi
  [ "$privsep" = 1 ] && own_users
  return 0
}

# uidgid USER: "-u UID -g GID" for tern-tcpserver's privilege drop.
uidgid() { echo "-u $(id -u "$1") -g $(id -g "$1")"; }

# run_head NAME: the start every run script shares: logs to stdout (the
# log service), TERN_HOME, our programs first on PATH, and the checker, so a
# configuration that would make an open relay or leak a secret never starts.
run_head() {
  cat <<HEAD
#!/bin/sh
# $1: written by tern-setup; tern-check runs first and refuses to start a
# service over an insecure instance (its reason is in log/$1/current).
exec 2>&1
TERN_HOME=$dir
PATH=$bindir:\$PATH
export TERN_HOME PATH
tern-check "\$TERN_HOME" || exec sleep 5
HEAD
}

# The exec chain of each service (ARCHITECTURE.md, "The flow of a message").
# tern-tcpserver refuses to run a program as root unless told (-u 0): a
# plain instance runs everything as whoever ran tern-setup, and says so.
self_ids() { echo "-u $(id -u) -g $(id -g)"; }

# On submission and smtps every client has logged in: all their mail goes
# through tern-dkimsign, which signs what has a key (docs/dkim.md). Port 25
# gets it per client, from the rules (make_rules).
queue_env() {
  have tern-dkimsign || return 0
  echo "TERNQUEUE=$bindir/tern-dkimsign"
  echo "export TERNQUEUE"
}

# chain_tls [-x] [-w] USER PORT TLSFLAGS APP...: a TLS front end before APP
# (-x: with the rules, rules.cdb; -w: pooled, docs/pool.md: tern-tcpserver
# -w keeps tern-tlsd workers, each owning one resident APP worker, which
# must be pool-aware: tern-smtpd). With -r, tern-tcpserver stays root so that
# tern-tlsd can read the key and drop to the TLS user; the application drops
# to USER (u_net, or u_local for POP3, which serves the Maildirs) before it
# reads a byte; it never sees the key: tern-tlsd starts it first.
chain_tls() {
  rules= poolw=
  while :; do
    case $1 in
      -x) rules="-x \"\$TERN_HOME/rules.cdb\" "; shift ;;
      -w) poolw="-w 1000 -k 4 "; shift ;;
      *) break ;;
    esac
  done
  user=$1 p=$2 flags=$3; shift 3
  app= drop=$(self_ids)
  if [ "$privsep" = 1 ]; then
    drop="-u 0 -g 0"
    flags="$flags $(uidgid "$u_tls")"
    app="s6-applyuidgid $(uidgid "$user") -G '' "
  fi
  [ -n "$poolw" ] && echo "# pooled: each worker serves up to 1000 sessions; 4 idle ones kept ready"
  echo "exec tern-tcpserver -v $rules-c 40 -C 10 $poolw$drop $listen $p \\"
  echo "  tern-tlsd$flags -k \"\$TERN_HOME/tls/key.pem\" -c \"\$TERN_HOME/tls/cert.pem\" \\"
  echo "  $app$*"
}

# Port 25: STARTTLS through tern-tlsd as on 587 (the same privilege
# model), then POP-before-SMTP, the blocklists, the server. GREETDELAY makes
# clients that talk before the greeting show themselves (RELAYCLIENT ones
# are not made to wait).
chain_smtp() {
  app="tern-relaycheck \\" rbl=
  for z in $zones; do rbl="${rbl:-  tern-rblsmtpd}"" -r $z"; done
  [ -n "$rbl" ] && app="$app
$rbl \\"
  app="$app
  tern-smtpd"
  echo "# the pause before the greeting, in ms (0: none); see tern-smtpd(8)"
  echo "GREETDELAY=$greetdelay"
  echo "export GREETDELAY"
  chain_tls -x "${u_net:-}" "$(port smtp)" "" "$app"
}

# Port 25 pooled (-P, docs/pool.md): the same privilege model and STARTTLS,
# with resident workers: tern-tcpserver -w hands each connection to a
# tern-tlsd worker (the TLS user, the key) that owns one tern-smtpd worker
# (the SMTP user); POP-before-SMTP and the blocklists in-process (-P, -r).
chain_smtp_pool() {
  rbl=
  for z in $zones; do rbl="$rbl -r $z"; done
  echo "# the pause before the greeting, in ms (0: none); see tern-smtpd(8)"
  echo "GREETDELAY=$greetdelay"
  echo "export GREETDELAY"
  chain_tls -x -w "${u_net:-}" "$(port smtp)" "" "tern-smtpd -P$rbl"
}

# submission and smtps: the same TLS front end, and the signing filter.
chain_submit() {
  queue_env
  chain_tls "$@"
}

chain_send() {
  if [ "$privsep" = 1 ]; then echo "exec s6-setuidgid $u_send tern-send"; else echo "exec tern-send"; fi
}

# The metrics service: loopback only whatever -i says (the counters tell
# an outsider about the mail flow); with -r it runs as the log user, which
# reads the logs; the queue gauges need read access to queue/mess
# (docs/metrics.md).
chain_metrics() {
  ids=$(self_ids)
  [ "$privsep" = 1 ] && ids=$(uidgid "$u_log")
  echo "exec tern-tcpserver -v -c 4 $ids 127.0.0.1 $metricsport tern-metrics"
}

# The resident queue writer (tern-queued(8)) as the queue user; it lets in
# tern-smtpd's user (-u) besides its own. tern-smtpd uses it when its socket
# answers and falls back to tern-queue otherwise.
chain_queued() {
  if [ "$privsep" = 1 ]; then
    echo "exec s6-setuidgid $u_queue tern-queued -u $(id -u "$u_net")"
  else
    echo "exec tern-queued"
  fi
}

# TLS reports (RFC 8460, docs/mtasts.md): tern-tlsrpt as the remote-delivery
# user, who owns tlsrpt/ and mtasts/; it reports finished days only and
# remembers what it sent, so running it every hour is safe and catches up
# after downtime. s6 starts it again when the sleep ends; with -r the
# sleep runs as that user too (nothing of a service stays root but s6).
chain_tlsrpt() {
  if [ "$privsep" = 1 ]; then
    echo "exec s6-setuidgid $u_remote sh -c 'tern-tlsrpt; exec sleep 3600'"
  else
    echo "tern-tlsrpt"
    echo "exec sleep 3600"
  fi
}

# service NAME CHAIN...: service/NAME with its run script and log/.
service() {
  name=$1; shift
  s=$dir/service/$name
  mkdir -p "$s/log" "$dir/log/$name" || die "unable to create $s"
  { run_head "$name"; "$@"; } > "$s/run.tmp" && chmod 755 "$s/run.tmp" &&
    mv -f "$s/run.tmp" "$s/run" || die "unable to write $s/run"
  # s6-supervise kills what does not stop within 5 s of being told to.
  echo 5000 > "$s/timeout-kill" || die "unable to write $s/timeout-kill"
  setuid=; [ "$privsep" = 1 ] && setuid="s6-setuidgid $u_log "
  printf '#!/bin/sh\n# the log of %s: timestamped, rotated at 1 MB, 10 files kept\nexec %ss6-log -b n10 s1000000 T %s\n' \
    "$name" "$setuid" "$dir/log/$name" > "$s/log/run.tmp" && chmod 755 "$s/log/run.tmp" &&
    mv -f "$s/log/run.tmp" "$s/log/run" || die "unable to write $s/log/run"
}

make_services() {
  pop="tern-pop3d tern-checkpassword tern-relayallow tern-pop3d -m"
  if [ "$pool" = 1 ]; then service smtp chain_smtp_pool; else service smtp chain_smtp; fi
  w=; [ "$pool" = 1 ] && w=-w
  service submission chain_submit $w "${u_net:-}" "$(port submission)" "" "tern-smtpd -s tern-checkpassword true"
  service smtps chain_submit $w "${u_net:-}" "$(port smtps)" " -i" "tern-smtpd -s tern-checkpassword true"
  service pop3 chain_tls "${u_local:-}" "$(port pop3)" "" "$pop"
  service pop3s chain_tls "${u_local:-}" "$(port pop3s)" " -i" "$pop"
  service send chain_send
  have tern-tlsrpt && service tlsrpt chain_tlsrpt
  [ -n "$metricsport" ] && service metrics chain_metrics
  have tern-queued && service queued chain_queued
  return 0
}

# set_owners: -r, privilege separation. Each file belongs to the one user
# that must write it; secrets are readable by their one reader only.
set_owners() {
  q=$dir/queue
  chown -R root:root "$dir/control" "$dir/service" "$dir/rules" &&
    chown "$u_queue:$u_queue" "$q" "$q/tmp" "$q/mess" "$q/trigger" && chmod 660 "$q/trigger" &&
    chown "$u_queue:$u_queue" "$q"/mess/?? &&
    chown "$u_queue:$u_net" "$dir/queued" && chmod 750 "$dir/queued" &&
    chmod 770 "$q"/mess/?? && chmod 750 "$q/mess" &&
    chown -R "$u_send:$u_send" "$q/state" "$q/job" &&
    chmod 700 "$q/state" "$q"/state/?? "$q/job" &&
    chown "$u_local:$u_net" "$dir/relay" && chmod 2770 "$dir/relay" &&
    chown -R "$u_remote:$u_remote" "$dir/mtasts" "$dir/tlsrpt" && chmod 700 "$dir/mtasts" "$dir/tlsrpt" &&
    chown "$u_tls:$u_tls" "$dir/tls/key.pem" && chmod 400 "$dir/tls/key.pem" &&
    chown -R "$u_dkim:$u_dkim" "$dir/dkim" && chmod -R go-rwx "$dir/dkim" &&
    chown -R "$u_log:$u_log" "$dir/log" ||
    die "unable to set owners and modes in $dir"
}

own_users() {
  chown -R "$u_local:$u_local" "$dir/mail" &&
    chown "$u_auth:$u_auth" "$dir/users" && chmod 600 "$dir/users" ||
    die "unable to set owners of $dir/users and $dir/mail"
  if [ -e "$dir/passwd.cdb" ]; then
    chown "$u_auth:$u_auth" "$dir/passwd.cdb" && chmod 600 "$dir/passwd.cdb" ||
      die "unable to set the owner of $dir/passwd.cdb"
  fi
}

mkdir -p "$dir" || die "unable to create $dir"
make_control
make_rules
make_queue
make_tls
make_dkim
make_services
[ "$privsep" = 1 ] && set_owners
make_users

echo "$PROG: instance ready in $dir"
# The programs find the compiled home (conf-home) by themselves; any other
# instance needs TERN_HOME in the admin's shell: the one line to paste.
if [ "$dir" != "@TERN_HOME_DEFAULT@" ]; then
  echo "$PROG: to use it from a shell: export TERN_HOME=$dir PATH=$bindir:\$PATH"
fi
for s in smtp submission smtps pop3 pop3s; do
  printf '%s: %s %s:%s\n' "$PROG" "$s" "$listen" "$(port "$s")"
done
[ -n "$missing" ] && { warn "not compiled because these programs are missing:$missing"; exit 111; }
exit 0
