#!/usr/bin/env bash
# Makes sure the programs the tests run for real are on this machine, and installs what is missing.
#
#   scripts/ensure-deps.sh
#
# Needed: PostgreSQL server binaries (initdb, pg_ctl, postgres — package `postgresql`), OpenLDAP's
# slapd (`slapd`), its client tools (`ldap-utils`), openssl (the LDAP TLS tests make a
# certificate) and a Samba Active Directory DC for the AD connector's tests
# (test/harness/samba-dc.mjs): `samba` (the samba binary; pulls in samba-common-bin for samba-tool,
# and python3-samba), `samba-ad-dc` (pulls in samba-dsdb-modules, the DC's directory database
# modules, and winbind — only Recommends of `samba`) and `samba-ad-provision`
# (/usr/share/samba/setup, which `samba-tool domain provision` needs; it too is only a Recommends,
# and packages are installed with --no-install-recommends). On Debian/Ubuntu as root, missing
# packages are installed with apt-get (one `apt-get update` first); otherwise it says what to
# install and exits 1. When everything is present it changes nothing. Run by `npm test`
# (scripts/test.mjs) unless IDSYNC_SKIP_DEPS=1.
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
# Debian keeps samba in /usr/sbin, which a non-root PATH may lack.
have_samba() { command -v samba >/dev/null || [ -x /usr/sbin/samba ]; }
have_samba_tool() { command -v samba-tool >/dev/null; }
have_samba_dsdb() { compgen -G "/usr/lib/*/samba/ldb/samba_dsdb.so" >/dev/null || compgen -G "/usr/lib*/samba/ldb/samba_dsdb.so" >/dev/null; }
have_samba_setup() { [ -d /usr/share/samba/setup ]; }

missing=()
have_postgres || missing+=(postgresql)
have_slapd || missing+=(slapd)
have_ldap_utils || missing+=(ldap-utils)
have_openssl || missing+=(openssl)
{ have_samba && have_samba_tool; } || missing+=(samba)
have_samba_dsdb || missing+=(samba-ad-dc)
have_samba_setup || missing+=(samba-ad-provision)

if [ ${#missing[@]} -eq 0 ]; then
  say "PostgreSQL server, slapd, ldap-utils, openssl and Samba AD DC are present; nothing to install"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-deps: missing ${missing[*]} and cannot install them here (needs root and apt-get)." >&2
  echo "ensure-deps: install them, e.g.: sudo apt-get install -y ${missing[*]}" >&2
  echo "ensure-deps: (or set PG_BINDIR / SLAPD_BIN to where they are; IDSYNC_SKIP_DEPS=1 skips this check)" >&2
  exit 1
fi

# The packages' install scripts would start a system PostgreSQL on 5432, slapd on 389 and Samba
# (smbd, nmbd, samba-ad-dc); the tests start their own, so forbid service starts while installing
# (invoke-rc.d honours policy-rc.d).
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
have_samba || still+=("samba (/usr/sbin/samba)")
have_samba_tool || still+=("samba-tool (samba-common-bin)")
have_samba_dsdb || still+=("Samba's DC database modules (samba-dsdb-modules)")
have_samba_setup || still+=("/usr/share/samba/setup (samba-ad-provision)")
if [ ${#still[@]} -gt 0 ]; then
  echo "ensure-deps: installed ${missing[*]} but still missing: ${still[*]}" >&2
  exit 1
fi
say "installed ${missing[*]}"
