#!/usr/bin/env bash
# Starts a throw-away Samba Active Directory domain controller (realm SYNC.TEST, base DN
# DC=sync,DC=test) on a loopback address, for the examples (examples/hr-to-active-directory/).
#
#   scripts/start-samba-dc.sh [--ip 127.0.0.N] [--dir DIR] [--conf "name = value"]...
#                             [--secret-name ad-bind] [--secret-key password]
#   scripts/start-samba-dc.sh --stop DIR
#
# The DC is a copy of a template domain provisioned once per machine (in $TMPDIR, about 5–15 s the
# first time; then a start takes about 1 s). It keeps running in the background after this script
# returns; the script prints the ldaps:// URL, the bind DN and password (Administrator), the base DN,
# the CA certificate to trust, the environment variable that carries the bind password for the MA's
# passwordSecretRef ({name: ad-bind, key: password} → IDSYNC_SECRET_AD_BIND_PASSWORD), and the
# command that stops it. Samba's LDAP ports are fixed (389/636), so each DC gets its own 127.0.0.N
# (default: the first free from 127.0.0.2). Simple binds need TLS (LDAPS, or StartTLS on 389), as on
# Windows AD. --dir keeps the data in DIR (a new or empty dir, or one holding a DC stopped earlier,
# which then starts again on its data); without it the data lives in a temp dir that --stop removes.
# --conf adds an smb.conf [global] line, e.g. --conf "ldap server require strong auth = no".
#
# Needs root (ports 389/636), Samba (apt-get install samba samba-ad-dc samba-ad-provision; see
# scripts/ensure-deps.sh) and openssl. Uses the same code as the tests: test/harness/samba-dc.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

ip="" dir="" stop="" secret_name="ad-bind" secret_key="password"
confs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ip) ip="$2"; shift 2 ;;
    --dir) dir="$(realpath -m "$2")"; shift 2 ;;
    --conf) confs+=("$2"); shift 2 ;;
    --secret-name) secret_name="$2"; shift 2 ;;
    --secret-key) secret_key="$2"; shift 2 ;;
    --stop) stop="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "start-samba-dc.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "$stop" ]; then
  export SAMBA_DC_STOP="$stop"
  exec node --input-type=module -e '
const { stopDomainControllerDir } = await import(process.cwd() + "/test/harness/samba-dc.mjs");
const dir = process.env.SAMBA_DC_STOP;
try {
  const r = await stopDomainControllerDir(dir);
  console.log(r.stopped ? `stopped samba (pid ${r.pid})` : "samba was not running");
  console.log(r.removed ? `removed ${dir}` : `kept the data in ${dir} (start it again with --dir ${dir}; rm -rf it to discard)`);
} catch (err) {
  console.error(`start-samba-dc.sh: ${err.message}`);
  process.exit(1);
}
'
fi

export SAMBA_DC_IP="$ip" SAMBA_DC_DIR="$dir" SAMBA_DC_SECRET_NAME="$secret_name" SAMBA_DC_SECRET_KEY="$secret_key"
export SAMBA_DC_CONF="$(printf '%s\n' "${confs[@]+"${confs[@]}"}")"
exec node --input-type=module -e '
const { startDomainController, sambaAvailable } = await import(process.cwd() + "/test/harness/samba-dc.mjs");
const env = process.env;
let dc;
try {
  if (!sambaAvailable()) console.error("start-samba-dc.sh: Samba is missing; the error below says what to install");
  console.error("start-samba-dc.sh: starting (the first run on a machine also provisions the template domain)...");
  dc = await startDomainController({
    ip: env.SAMBA_DC_IP || undefined,
    dir: env.SAMBA_DC_DIR || undefined,
    extraConf: (env.SAMBA_DC_CONF ?? "").split("\n").filter(Boolean),
    detached: true,
  });
} catch (err) {
  console.error(`start-samba-dc.sh: ${err.message}`);
  process.exit(1);
}
const q = (s) => `\x27${s.replace(/\x27/g, `\x27\\\x27\x27`)}\x27`; // single-quote for the shell
const secretVar = "IDSYNC_SECRET_" + `${env.SAMBA_DC_SECRET_NAME}_${env.SAMBA_DC_SECRET_KEY}`.toUpperCase().replace(/[^A-Z0-9]/g, "_");
console.log(`Samba AD DC (realm ${dc.realm}) is running in the background: pid ${dc.pid()}, data in ${dc.dir}, log ${dc.dir}/samba.out

  url:       ${dc.url}   (StartTLS: ${dc.startTlsUrl}; plain simple binds are refused)
  bindDN:    ${dc.adminDN}   (or ${dc.adminUPN})
  password:  ${dc.adminPassword}
  baseDN:    ${dc.baseDN}
  caFile:    ${dc.caFile}

  export ${secretVar}=${q(dc.adminPassword)}

  LDAPTLS_CACERT=${dc.caFile} ldapsearch -LLL -H ${dc.url} -x -D ${q(dc.adminDN)} -w ${q(dc.adminPassword)} -b ${q(dc.baseDN)} ${q("(sAMAccountName=Administrator)")} dn

Stop it with: scripts/start-samba-dc.sh --stop ${dc.dir}`);
'
