#!/bin/sh
# tern-check: refuses an instance that would be an open relay or an insecure
# server, saying for each problem what to change. Run scripts call it first.
#
# SECURITY: reads the instance only; changes nothing. It checks the rules
# text (what the admin edits) and that its cdb is not older, so a catch-all
# RELAYCLIENT cannot hide in a rules.cdb compiled from another file.
set -u
PROG=tern-check
USAGE="usage: tern-check [DIR]"

# Without DIR: $TERN_HOME, else the compiled home (conf-home; the build puts
# it here), as every other program finds the instance.
[ $# -le 1 ] || { echo "$USAGE" >&2; exit 100; }
case ${1:-} in -*) echo "$USAGE" >&2; exit 100 ;; esac
home=@TERN_HOME_DEFAULT@
dir=${1:-${TERN_HOME:-$home}}
[ -d "$dir" ] || { echo "$PROG: fatal: $dir is not a directory: create the instance with tern-setup" >&2; exit 100; }
problems=0

# refuse WHAT FIX: one line per problem, on stderr (the service's log).
refuse() {
  echo "$PROG: fatal: $dir: $1: $2" >&2
  problems=$((problems + 1))
}

# warn WHAT FIX: a problem that does not stop the services.
warn() {
  echo "$PROG: warning: $dir: $1: $2" >&2
}

# lines FILE: the lines that are not blank and not comments.
lines() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^#/d' -e '/^$/d' "$1"; }

check_control() {
  c=$dir/control
  if [ ! -f "$c/me" ] || [ -z "$(lines "$c/me")" ]; then
    refuse "control/me is missing or empty" "write this server's host name in it"
  fi
  if [ ! -f "$c/rcpthosts" ]; then
    refuse "control/rcpthosts is missing" "list the domains this server accepts mail for, one a line"
  elif [ -z "$(lines "$c/rcpthosts")" ]; then
    refuse "control/rcpthosts is empty" "list the domains this server accepts mail for, one a line"
  fi
}

# A rule for every client that sets RELAYCLIENT lets anyone relay. The
# address part ends at the first ":allow" or ":deny" (IPv6 has colons too).
check_rules() {
  r=$dir/rules
  [ -f "$r" ] || return 0
  found=$(awk '
    { sub(/^[ \t]+/, ""); sub(/[ \t\r]+$/, "") }
    /^#/ || /^$/ { next }
    {
      i = match($0, /:(allow|deny)/)
      if (!i) next
      addr = substr($0, 1, i - 1)
      rest = substr($0, i + 1)
      if (rest !~ /^allow/ || rest !~ /(^|,)RELAYCLIENT=/) next
      # as tern-tcprules judges it: everyone, any named host, a whole
      # top-level domain, a prefix shorter than /8, a range of first octets
      if (addr == "" || addr == "=" || addr ~ /^=\.[^.]*$/ || addr ~ /\/[0-7]\]?$/ ||
          addr ~ /^\[?[0-9]+-[0-9]+\.?$/)
        printf "%d %s\n", NR, (addr == "" ? "(empty)" : addr)
    }' "$r") || { refuse "unable to read $r" "check its permissions"; return; }
  report_each "$found" catchall
  if [ ! -f "$dir/rules.cdb" ]; then
    refuse "rules.cdb is missing" "compile the rules: cd $dir && tern-tcprules rules.cdb rules.tmp < rules"
  elif [ "$r" -nt "$dir/rules.cdb" ]; then
    refuse "rules.cdb is older than rules" "compile the rules again: cd $dir && tern-tcprules rules.cdb rules.tmp < rules"
  fi
}

# Who may change what the servers trust: nobody but the owner. Secrets
# (the TLS key, the password hashes, the database connection strings) are readable by their owner (and its
# group, under make install) only. One stat for all of them.
check_writable() {
  set --
  for f in "$dir" "$dir/control" "$dir"/control/* "$dir/rules" "$dir/rules.cdb" \
      "$dir/users" "$dir/users.cdb" "$dir/passwd.cdb" "$dir/aliases" "$dir/aliases.cdb" \
      "$dir/tls" "$dir/tls/key.pem" "$dir/tls/cert.pem" "$dir/service" "$dir"/service/*/run; do
    [ -e "$f" ] && set -- "$@" "$f"
  done
  modes=$(stat -L -c '%a %n' "$@" 2>/dev/null)
  while read -r m f; do
    [ -n "$m" ] || continue
    if [ $((0$m & 022)) -ne 0 ]; then
      refuse "${f#"$dir"/} is writable by group or others (mode $m)" "chmod go-w $f"
    fi
    # control/pgsql*: a connection string may hold a password; the programs
    # refuse such a file too (lib/pgdb.c), so every lookup would fail.
    case $f in "$dir/tls/key.pem"|"$dir/users"|"$dir/passwd.cdb"|"$dir/control/pgsql"|"$dir/control/pgsql-auth"|"$dir/control/pgsql-admin")
      if [ $((0$m & 004)) -ne 0 ]; then
        refuse "${f#"$dir"/} is readable by others (mode $m)" "chmod o-r $f"
      fi ;;
    esac
  done <<EOF
$modes
EOF
}

# DKIM keys are secrets like the TLS key: only their owner (the DKIM user
# under make install) may read them, nobody else may change what is in
# dkim/. A rule of control/dkimdomains without its key makes every message
# of that domain from a trusted client wait (451): said here, before the
# first refusal, but the services start (mail of other domains flows).
check_dkim() {
  d=$dir/dkim
  [ -d "$d" ] || return 0
  set -- "$d"
  for f in "$d"/* "$d"/*/*; do [ -e "$f" ] && set -- "$@" "$f"; done
  modes=$(stat -L -c '%a %n' "$@" 2>/dev/null)
  while read -r m f; do
    [ -n "$m" ] || continue
    case $f in
      *.key)
        if [ $((0$m & 077)) -ne 0 ]; then
          refuse "${f#"$dir"/} (a DKIM private key) is open to group or others (mode $m)" "chmod 400 $f"
        fi ;;
      *)
        if [ $((0$m & 022)) -ne 0 ]; then
          refuse "${f#"$dir"/} is writable by group or others (mode $m)" "chmod go-w $f"
        fi ;;
    esac
  done <<EOF
$modes
EOF
  [ -f "$dir/control/dkimdomains" ] && [ -r "$d" ] && [ -x "$d" ] || return 0
  lines "$dir/control/dkimdomains" | while IFS=: read -r pat sels dom; do
    [ -n "$dom" ] || dom=${pat#.}
    for sel in $(echo "$sels" | tr ',' ' '); do
      [ -f "$d/$dom/$sel.key" ] ||
        warn "control/dkimdomains names $dom:$sel but dkim/$dom/$sel.key does not exist (mail From $pat would get 451)" \
          "make it with tern-dkimkey $dom $sel, or remove the selector from the line"
    done
  done
}

# A file in control/ that no program reads is a typo or a qmail file tern
# does not honour: said (tern-conf -u lists them), the services start.
check_conf() {
  conf=$(dirname "$0")/tern-conf
  [ -x "$conf" ] || return 0
  unknown=$("$conf" -u -c "$dir" 2>/dev/null) || return 0
  while read -r n; do
    [ -n "$n" ] || continue
    warn "control/$n is read by no program" \
      "fix its name or remove it (tern-conf shows every control file and its value; docs/migration-qmail.md lists qmail's)"
  done <<EOF
$unknown
EOF
}

# chain RUNFILE: "address port tls auth" from the tern-tcpserver line of a
# run script (continuation lines joined); nothing when there is none.
chain() {
  awk '
    /\\$/ { sub(/\\$/, ""); line = line $0 " "; next }
    { line = line $0; if (line ~ /tern-tcpserver/) print line; line = "" }
  ' "$1" | awk '
    {
      addr = ""; port = ""; tls = 0; auth = 0; state = ""
      for (i = 1; i <= NF; i++) {
        t = $i; sub(/^.*\//, "", t)
        if (t == "tern-tcpserver") { state = "tcp"; continue }
        if (state == "tcp") {
          if ($i ~ /^-[cxuglbtBCmMSwkK]$/) { i++; continue }
          if ($i ~ /^-/) continue
          if (addr == "") { addr = $i; continue }
          port = $i; state = ""; continue
        }
        if (t == "tern-tlsd") tls = 1
        if ((t == "tern-smtpd" || t == "tern-pop3d") && state != "app") {
          state = "app"
          for (j = i + 1; j <= NF && $j ~ /^-/; j++) {
            # tern-smtpd'"'"'s in-process DNSBL options take a value (-r zone ...)
            if (t == "tern-smtpd" && $j ~ /^-[ratTl]$/) { j++; continue }
            if ($j ~ /^-[a-zA-Z]*s/) auth = 1
            # tern-smtpd -p, tern-pop3d -P: passwords before TLS, as if
            # there were no tern-tlsd at all
            if ((t == "tern-smtpd" && $j ~ /^-[a-zA-Z]*p/) || (t == "tern-pop3d" && $j ~ /^-[a-zA-Z]*P/)) tls = 0
          }
          if (j <= NF) auth = 1
          break
        }
      }
      print addr, port, tls, auth
    }'
}

public() {
  case $1 in 127.*|::1|localhost|::ffff:127.*) return 1 ;; *) return 0 ;; esac
}

check_services() {
  for run in "$dir"/service/*/run; do
    [ -f "$run" ] || continue
    report_each "$(chain "$run")" plaintext "$run"
  done
}

# report_each TEXT KIND [RUN]: a refusal for each line of TEXT (the shell
# loop stays in this process so that refuse can count).
report_each() {
  while read -r a b c d; do
    [ -n "$a" ] || continue
    case $2 in
      catchall)
        refuse "rules line $a: the catch-all or very wide rule $b sets RELAYCLIENT, which makes an open relay" \
          "give RELAYCLIENT only to your own addresses (127.0.0.1:allow,RELAYCLIENT=\"\") and let the last rule (:allow) set nothing" ;;
      plaintext)
        if [ "$d" = 1 ] && [ "$c" = 0 ] && public "$a"; then
          refuse "service $(basename "$(dirname "$3")") offers passwords without TLS on $a port $b" \
            "put tern-tlsd before the server in $3, or listen on 127.0.0.1 only"
        fi ;;
    esac
  done <<EOF
$1
EOF
}

[ -d "$dir/control" ] || refuse "control/ is missing" "create the instance with tern-setup $dir"
check_control
check_rules
check_writable
check_dkim
check_conf
check_services
if [ "$problems" -gt 0 ]; then
  echo "$PROG: fatal: $dir: $problems problem(s): refusing to start" >&2
  exit 100
fi
exit 0
