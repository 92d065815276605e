#!/usr/bin/env bash
# Makes sure the programs the tests run for real are on this machine, and installs what is missing.
#
#   scripts/ensure-deps.sh
#
# Needed: PostgreSQL server binaries (initdb, pg_ctl, postgres — package `postgresql`), OpenLDAP's
# slapd (`slapd`), its client tools (`ldap-utils`) and openssl (the LDAP TLS tests make a
# certificate). On Debian/Ubuntu as root, missing packages are installed with apt-get (one
# `apt-get update` first); otherwise it says what to install and exits 1. When everything is
# present it changes nothing. Run by `npm test` (scripts/test.mjs) unless IDSYNC_SKIP_DEPS=1.
set -euo pipefail

say() { echo "ensure-deps: $*"; }

# Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin, off PATH; the test harness
# looks there too (test/harness/postgres-server.mjs), and honours PG_BINDIR the same way.
have_postgres() {
  if [ -n "${PG_BINDIR:-}" ]; then [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ]; return; fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && return 0
  done
  command -v initdb >/dev/null && command -v pg_ctl >/dev/null
}
have_slapd() { [ -x "${SLAPD_BIN:-/usr/sbin/slapd}" ]; }
have_ldap_utils() { command -v ldapsearch >/dev/null && command -v ldapadd >/dev/null && command -v ldapmodify >/dev/null && command -v ldapdelete >/dev/null; }
have_openssl() { command -v openssl >/dev/null; }

missing=()
have_postgres || missing+=(postgresql)
have_slapd || missing+=(slapd)
have_ldap_utils || missing+=(ldap-utils)
have_openssl || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
  say "PostgreSQL server, slapd, ldap-utils and openssl are present; nothing to install"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-deps: missing ${missing[*]} and cannot install them here (needs root and apt-get)." >&2
  echo "ensure-deps: install them, e.g.: sudo apt-get install -y ${missing[*]}" >&2
  echo "ensure-deps: (or set PG_BINDIR / SLAPD_BIN to where they are; IDSYNC_SKIP_DEPS=1 skips this check)" >&2
  exit 1
fi

# The packages' install scripts would start a system PostgreSQL on 5432 and slapd on 389; the tests
# start their own, so forbid service starts while installing (invoke-rc.d honours policy-rc.d).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
say "installing ${missing[*]} with apt-get"
apt-get update -qq || { echo "ensure-deps: apt-get update failed" >&2; exit 1; }
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "ensure-deps: apt-get install ${missing[*]} failed (see apt's messages above)" >&2
  exit 1
fi

still=()
have_postgres || still+=("PostgreSQL server binaries (initdb/pg_ctl)")
have_slapd || still+=("slapd (${SLAPD_BIN:-/usr/sbin/slapd})")
have_ldap_utils || still+=("ldap-utils (ldapsearch, ldapadd, ldapmodify, ldapdelete)")
have_openssl || still+=(openssl)
if [ ${#still[@]} -gt 0 ]; then
  echo "ensure-deps: installed ${missing[*]} but still missing: ${still[*]}" >&2
  exit 1
fi
say "installed ${missing[*]}"
