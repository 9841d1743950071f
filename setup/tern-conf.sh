#!/bin/sh
# tern-conf: the configuration view (postconf's): every control file with
# its effective value, its default and where the value came from (file,
# default or environment), the programs that read it; a warning for every
# file in control/ that no program reads (a typo, or a qmail file tern
# does not honour: docs/migration-qmail.md).
#
# SECURITY: reads the instance only; changes nothing. Files that may hold
# a password (smtpauth, pgsql*) are never printed, only counted.
set -u
PROG=tern-conf
USAGE="usage: tern-conf [-n | -d | -u] [-c DIR] [NAME...]"

die() { echo "$PROG: fatal: $*" >&2; exit "${EXIT:-111}"; }
usage() { echo "$USAGE" >&2; exit 100; }

# The table: name|kind|default|environment|read by|meaning. Kinds: num (first
# line, a number), line (first line), lines (every line but blanks and #
# comments), secret (lines, never shown), cdb (a compiled table). A default
# "=NAME" is the effective value of control/NAME; "-" means none.
# Keep in step with the programs (smtpd/smtp_conf.c, send/send_conf.c,
# remote/remote_cfg.c, queue/inject_host.c, ...) and docs/migration-qmail.md.
TABLE='me|line|-|-|all|this host'"'"'s name (required)
smtpgreeting|line|=me|-|tern-smtpd|text of the 220 greeting
rcpthosts|lines|-|-|tern-smtpd|domains accepted (missing: relaying refused for all)
morercpthosts|lines|-|-|tern-newmrh|more domains, compiled into morercpthosts.cdb
morercpthosts.cdb|cdb|-|-|tern-smtpd|the compiled morercpthosts
locals|lines|=me|-|tern-smtpd tern-send tern-local|local domains
virtualdomains|lines|-|-|tern-smtpd tern-send tern-local|more local domains (domain:anything)
badmailfrom|lines|-|-|tern-smtpd|envelope senders refused (address or @domain)
badrcptto|lines|-|-|tern-smtpd|envelope recipients refused (address or @domain)
databytes|num|10485760|DATABYTES|tern-smtpd tern-queued tern-inject|largest message in bytes (0: no limit; tern-inject default 0)
maxrcpt|num|100|-|tern-smtpd|recipients per message
maxerrors|num|20|-|tern-smtpd|client errors before disconnection
timeoutsmtpd|num|1200|-|tern-smtpd|seconds per read or write
timeoutsmtpdstress|num|10|-|tern-smtpd|the same under stress
maxcmdline|num|1024|-|tern-smtpd|longest command line in bytes
maxhops|num|100|-|tern-smtpd|Received lines allowed
authfaildelay|num|1000|-|tern-smtpd|milliseconds of delay per AUTH failure
authmaxfail|num|3|-|tern-smtpd|AUTH failures before disconnection
strictpipelining|num|1|-|tern-smtpd|1: refuse improper pipelining
tarpitcount|num|5|-|tern-smtpd|refused recipients before replies slow down (0: never)
tarpitdelay|num|1|-|tern-smtpd|seconds added to each further refusal
tarpitmaxdelay|num|30|-|tern-smtpd|longest wait of one refusal
concurrencylocal|num|10|-|tern-send|local deliveries at once
concurrencyremote|num|20|-|tern-send|remote deliveries at once
queuelifetime|num|604800|-|tern-send|seconds a message may stay queued
retryschedule|lines|60 300 900 1800 3600 7200 14400|-|tern-send|seconds between tries
remotebatch|num|100|-|tern-send|messages per tern-remote run
remoteidle|num|5|-|tern-send|seconds an idle tern-remote run waits
remotelifetime|num|300|-|tern-send|seconds a tern-remote run takes new messages
queueactive|num|20000|-|tern-send|messages held in memory
delaywarning|num|14400|-|tern-send|seconds queued before a delay report (0: none)
firstdelay|num|0|-|tern-send|seconds a new message waits before its first try
bouncemaxbytes|num|10485760|-|tern-send|largest message a RET=FULL bounce returns whole
bouncefrom|line|MAILER-DAEMON|-|tern-send|local part of the bounce sender
bouncehost|line|=me|-|tern-send|domain of the bounce sender
doublebounceto|line|postmaster|-|tern-send|where double bounces go (empty file: dropped)
doublebouncehost|line|=me|-|tern-send|domain added to a doublebounceto without @
smtproutes|lines|-|-|tern-send tern-remote|static routes (domain:relay[:port])
helohost|line|=me|-|tern-remote|name in EHLO
timeoutconnect|num|60|-|tern-remote|seconds to connect
timeoutremote|num|1200|-|tern-remote|seconds per read or write
tlsroutes|lines|-|-|tern-remote|TLS policy per domain
tlsca|line|/etc/ssl/certs/ca-certificates.crt|-|tern-remote|trust anchors for verified TLS
tlsciphersremote|lines|-|-|tern-remote|cipher suites offered (none: forward-secret AEAD only)
smtpauth|secret|-|-|tern-remote|relay credentials
ipme|lines|-|-|tern-remote|this host'"'"'s addresses (none: the interfaces'"'"')
mtaststimeout|num|60|-|tern-remote|seconds to fetch an MTA-STS policy
mtastsmaxbytes|num|65536|-|tern-remote|largest MTA-STS policy
tlsciphers|lines|-|-|tern-tlsd|cipher suites offered (none: forward-secret AEAD only)
injectqueue|line|tern-queue|TERNQUEUE|tern-inject|queue program of local mail
defaulthost|line|=defaultdomain|-|tern-inject|host of bare names
defaultdomain|line|=me|-|tern-inject|added to host names without a dot
plusdomain|line|=me|-|tern-inject|replaces a trailing + of a host name
dkimdomains|lines|-|-|tern-dkimsign|domains and selectors to sign
dkimheaderbytes|num|1048576|-|tern-dkimsign|largest header signed
relaydir|line|relay|RELAY_DIR|tern-relayallow tern-relaycheck|POP-before-SMTP records
relayexpiry|num|180|RELAY_EXPIRY|tern-relayallow tern-relaycheck|minutes a POP login allows relaying
pgsql|secret|-|-|all table readers|PostgreSQL connection (docs/fleet.md)
pgsql-auth|secret|=pgsql|-|tern-checkpassword|connection for password hashes
pgsql-admin|secret|=pgsql-auth|-|tern-passwd tern-newusers tern-pgmigrate|connection that writes the tables'

# qmail's control files that tern does not read (docs/migration-qmail.md):
# named as such in the warning, so a migrating admin knows it is not a typo.
QMAIL_IGNORED="concurrencyincoming envnoathost idhost localiphost percenthack qmqpservers
defaultdelivery outgoingip badhelo badmailfromnorelay spfbehavior mfcheck
tlsserverciphers tlsclientciphers servercert.pem clientcert.pem
dh512.pem dh1024.pem dh2048.pem rsa512.pem relayclients relaydomains relaymailfrom"

mode=all
dir=
while getopts "ndc:u" opt; do
  case $opt in
    n) mode=set ;;
    d) mode=defaults ;;
    u) mode=unknown ;;
    c) dir=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))

# The instance: -c, else $TERN_HOME, else the home compiled into our
# programs (the "tern-home:" mark of lib/control.c, in tern-queue beside us).
if [ -z "$dir" ]; then
  dir=${TERN_HOME:-}
  if [ -z "$dir" ]; then
    bindir=$(cd "$(dirname "$0")" && pwd)
    dir=$(grep -a -o 'tern-home:/[[:print:]]*' "$bindir/tern-queue" 2>/dev/null | head -n 1)
    dir=${dir#tern-home:}
  fi
fi
[ -n "$dir" ] || die "no instance: set TERN_HOME or give -c DIR"
c=$dir/control
[ -d "$c" ] || die "$c is not a directory: no instance there (create one with tern-setup)"

for n in "$@"; do
  echo "$TABLE" | cut -d'|' -f1 | grep -qxF -- "$n" || EXIT=100 die "unknown control file: $n"
done

# lines FILE: the lines that are not blank and not comments, trimmed.
# (controls print as '?': the view is for a terminal)
lines() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]\r]*$//' -e '/^#/d' -e '/^$/d' "$1" | tr -c '[:print:]\n' '?'; }
# first FILE: its first line, trimmed (as control_readline).
first() { sed -n -e '1{s/^[[:space:]]*//' -e 's/[[:space:]\r]*$//' -e 'p' -e '}' "$1" | tr -c '[:print:]\n' '?'; }

# value NAME KIND DEFAULT ENV: sets val and src, the effective value and
# where it came from.
value() {
  f=$c/$1
  if [ "$4" != - ] && eval "[ -n \"\${$4:-}\" ]"; then
    eval "val=\$$4"
    src="env $4"
    return
  fi
  if [ -f "$f" ]; then
    case $2 in
      num|line) val=$(first "$f") ;;
      lines) val=$(lines "$f" | tr '\n' ' ' | sed 's/ $//') ;;
      secret) val="(set: $(lines "$f" | wc -l) line(s), not shown: it may hold a password)" ;;
      cdb) val="(a cdb of $(wc -c < "$f") bytes)" ;;
    esac
    if [ -n "$val" ]; then src=file; return; fi
    if [ "$1" = doublebounceto ]; then val="(empty: double bounces are dropped)"; src=file; return; fi
    src="default (the file is empty)"
  else
    src=default
  fi
  defval "$3"
}

# defval DEFAULT: val = the default, following "=NAME" to that file's
# effective value (a few lookups of the table, in a subshell).
defval() {
  case $1 in
    -) val="(none)" ;;
    =*) val=$(echo "$TABLE" | grep "^${1#=}|" | { IFS='|' read -r n k d e w x; value "$n" "$k" "$d" "$e"; echo "$val"; }) ;;
    *) val=$1 ;;
  esac
}

# show NAME KIND DEFAULT ENV WHO WHAT: the lines of one file.
show() {
  case $3 in -) d="none" ;; =*) d="as ${3#=}" ;; *) d=$3 ;; esac
  if [ "$mode" = defaults ]; then
    case $3 in -) echo "$1 = (none)" ;; =*) echo "$1 = (as ${3#=})" ;; *) echo "$1 = $3" ;; esac
    return
  fi
  value "$1" "$2" "$3" "$4"
  [ "$mode" = set ] && case $src in default*) return ;; esac
  echo "$1 = $val"
  echo "	# from: $src; default: $d; read by: $5; $6"
}

# unknown: the files in control/ that no program reads, one a line.
unknown() {
  for f in "$c"/* "$c"/.[!.]*; do
    [ -e "$f" ] || continue
    n=${f##*/}
    case $n in *.tmp) continue ;; esac   # a program's file being replaced
    echo "$TABLE" | cut -d'|' -f1 | grep -qxF -- "$n" && continue
    echo "$n"
  done
}

if [ "$mode" = unknown ]; then unknown; exit 0; fi
echo "$TABLE" | while IFS='|' read -r name kind def envn who what; do
  if [ $# -gt 0 ]; then
    for n in "$@"; do [ "$n" = "$name" ] && show "$name" "$kind" "$def" "$envn" "$who" "$what"; done
  else
    show "$name" "$kind" "$def" "$envn" "$who" "$what"
  fi
done
[ $# -gt 0 ] || [ "$mode" = defaults ] || unknown | while read -r n; do
  if echo " $QMAIL_IGNORED " | tr '\n' ' ' | grep -qF " $n "; then
    echo "$PROG: warning: control/$n: a qmail file that tern does not read (docs/migration-qmail.md)" >&2
  else
    echo "$PROG: warning: control/$n: no program reads this file (a typo? tern-conf lists the names)" >&2
  fi
done
exit 0
