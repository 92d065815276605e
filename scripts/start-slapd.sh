#!/usr/bin/env bash
# Starts a throw-away OpenLDAP server (Debian's slapd) for the examples, in a temp dir on loopback.
#
#   scripts/start-slapd.sh [--port 3890] [--suffix dc=example,dc=org] [--accesslog]
#                          [--password PW] [--secret-name ldap-bind] [--secret-key password]
#                          [--ldif FILE]...
#
# It creates the suffix, ou=people, ou=groups and a service account cn=idsync,<suffix> that may
# write everything (bind as it from the ManagementAgent), loads any --ldif files as the rootdn, then
# prints the URL, the bind DN and the environment variable that carries the bind password for the
# MA's passwordSecretRef ({name: ldap-bind, key: password} → IDSYNC_SECRET_LDAP_BIND_PASSWORD).
# --accesslog adds OpenLDAP's accesslog (set accesslogBase: cn=accesslog in the MA) so delta imports
# see deletions. It runs in the foreground; Ctrl-C stops slapd and removes the temp dir.
#
# Needs the slapd and ldap-utils packages (apt-get install slapd ldap-utils) and the repo's node
# dependencies (tsx). Uses the same code as the tests: test/harness/slapd.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

port=3890 suffix="dc=example,dc=org" accesslog=0 password="" secret_name="ldap-bind" secret_key="password"
ldifs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --suffix) suffix="$2"; shift 2 ;;
    --accesslog) accesslog=1; shift ;;
    --password) password="$2"; shift 2 ;;
    --secret-name) secret_name="$2"; shift 2 ;;
    --secret-key) secret_key="$2"; shift 2 ;;
    --ldif) ldifs+=("$(realpath "$2")"); shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "start-slapd.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

export SLAPD_PORT="$port" SLAPD_SUFFIX="$suffix" SLAPD_ACCESSLOG="$accesslog" SLAPD_PASSWORD="$password"
export SLAPD_SECRET_NAME="$secret_name" SLAPD_SECRET_KEY="$secret_key"
export SLAPD_LDIFS="$(printf '%s\n' "${ldifs[@]+"${ldifs[@]}"}")"
exec node --import tsx --input-type=module -e '
const { readFileSync } = await import("node:fs");
const { startSlapd } = await import(process.cwd() + "/test/harness/slapd.ts");
const env = process.env;
const s = await startSlapd({
  port: Number(env.SLAPD_PORT),
  suffix: env.SLAPD_SUFFIX,
  accesslog: env.SLAPD_ACCESSLOG === "1",
  password: env.SLAPD_PASSWORD || undefined,
  sizeLimit: 500,
});
for (const f of (env.SLAPD_LDIFS ?? "").split("\n").filter(Boolean)) {
  await s.cli("ldapadd", ["-c"], readFileSync(f, "utf8"));
  console.log(`loaded ${f}`);
}
const secretVar = "IDSYNC_SECRET_" + `${env.SLAPD_SECRET_NAME}_${env.SLAPD_SECRET_KEY}`.toUpperCase().replace(/[^A-Z0-9]/g, "_");
console.log(`slapd is running (data in ${s.dir}); Ctrl-C stops it.

  url:     ${s.url}
  baseDN:  ${s.suffix}
  bindDN:  ${s.bindDN}
  rootDN:  ${s.rootDN} (password ${s.rootPassword}, for ldapsearch/ldapadd)${s.accesslogBase ? `\n  accesslogBase: ${s.accesslogBase}` : ""}

  export ${secretVar}=${s.password}

  ldapsearch -x -H ${s.url} -D "${s.bindDN}" -w "${s.password}" -b "${s.suffix}" -E pr=500/noprompt
`);
setInterval(() => {}, 1 << 30);
'
