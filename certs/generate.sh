#!/usr/bin/env bash
# Makes a private CA and a serving certificate for the guard's Service with the openssl
# CLI, for the static-certs install (manifests/overlays/static-certs).
#
#   certs/generate.sh [OPTIONS] [OUT_DIR]
#
# OUT_DIR defaults to manifests/overlays/static-certs/generated, the folder that overlay
# reads. It receives:
#   ca.crt   the CA certificate: the webhooks' caBundle and the Secret's ca.crt
#   ca.key   the CA's private key (mode 0600), kept to renew the serving certificate
#   tls.crt  the serving certificate, its SANs the Service's DNS names
#   tls.key  its private key (mode 0600)
#
# Running it again keeps the CA (ca.crt/ca.key) and issues a new serving key and
# certificate, so renewing never changes the webhooks' caBundle; --new-ca replaces the CA
# too. Files are replaced only after everything was made: a failed run leaves the old
# ones as they were.
#
# Options (each also read from the environment variable named in brackets; flags win):
#   -n, --namespace NS        the guard's namespace [LUG_NAMESPACE] (longhorn-uninstall-guard)
#   -s, --service NAME        the guard's Service [LUG_SERVICE] (longhorn-uninstall-guard)
#       --cluster-domain D    the cluster's DNS domain [LUG_CLUSTER_DOMAIN] (cluster.local)
#   -d, --days N              serving certificate validity in days [LUG_CERT_DAYS] (365)
#       --ca-days N           CA validity in days, for a new CA [LUG_CA_DAYS] (3650)
#       --key-type rsa|ec     RSA 2048 or ECDSA P-256 keys [LUG_KEY_TYPE] (rsa)
#       --new-ca              make a new CA even if OUT_DIR has one
#   -h, --help                this text
#
# Exit codes: 0 done, 1 openssl or the file system failed, 2 bad usage.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

die_usage() {
  echo "generate.sh: $1" >&2
  echo "run '$0 --help' for usage" >&2
  exit 2
}

die() {
  echo "generate.sh: $1" >&2
  exit 1
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
default_out_dir="$repo_root/manifests/overlays/static-certs/generated"

namespace="${LUG_NAMESPACE:-longhorn-uninstall-guard}"
service="${LUG_SERVICE:-longhorn-uninstall-guard}"
cluster_domain="${LUG_CLUSTER_DOMAIN:-cluster.local}"
cert_days="${LUG_CERT_DAYS:-365}"
ca_days="${LUG_CA_DAYS:-3650}"
key_type="${LUG_KEY_TYPE:-rsa}"
new_ca=0
out_dir=""

need_value() {
  [ $# -ge 2 ] || die_usage "$1 needs a value"
}

while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -n | --namespace) need_value "$@"; namespace="$2"; shift 2 ;;
    -s | --service) need_value "$@"; service="$2"; shift 2 ;;
    --cluster-domain) need_value "$@"; cluster_domain="$2"; shift 2 ;;
    -d | --days) need_value "$@"; cert_days="$2"; shift 2 ;;
    --ca-days) need_value "$@"; ca_days="$2"; shift 2 ;;
    --key-type) need_value "$@"; key_type="$2"; shift 2 ;;
    --namespace=* | --service=* | --cluster-domain=* | --days=* | --ca-days=* | --key-type=*)
      name="${1%%=*}"
      set -- "$name" "${1#*=}" "${@:2}"
      ;;
    --new-ca) new_ca=1; shift ;;
    --) shift; break ;;
    -*) die_usage "unknown option $1" ;;
    *)
      [ -z "$out_dir" ] || die_usage "more than one OUT_DIR given ($out_dir, $1)"
      out_dir="$1"
      shift
      ;;
  esac
done
if [ $# -gt 0 ]; then
  [ -z "$out_dir" ] && [ $# -eq 1 ] || die_usage "more than one OUT_DIR given"
  out_dir="$1"
fi
out_dir="${out_dir:-$default_out_dir}"

# Kubernetes' own rules: a namespace and a Service name are DNS-1123 labels (at most 63
# characters); the cluster domain is a DNS name.
dns_label='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
[[ "$namespace" =~ $dns_label ]] || die_usage "invalid namespace \"$namespace\": want a DNS label (a-z, 0-9, '-', at most 63)"
[[ "$service" =~ $dns_label ]] || die_usage "invalid service \"$service\": want a DNS label (a-z, 0-9, '-', at most 63)"
[[ "$cluster_domain" =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] ||
  die_usage "invalid cluster domain \"$cluster_domain\""
# Whole days, at most five digits (273 years): enough for any CA, and far from overflowing
# the seconds arithmetic of the CA expiry check below.
[[ "$cert_days" =~ ^[1-9][0-9]{0,4}$ ]] || die_usage "invalid --days \"$cert_days\": want a whole number of days, 1 to 99999"
[[ "$ca_days" =~ ^[1-9][0-9]{0,4}$ ]] || die_usage "invalid --ca-days \"$ca_days\": want a whole number of days, 1 to 99999"
case "$key_type" in rsa | ec) ;; *) die_usage "invalid --key-type \"$key_type\": want rsa or ec" ;; esac
command -v openssl >/dev/null 2>&1 || die "openssl is not installed"

# The names the certificate must carry. The API server dials <service>.<namespace>.svc;
# the others are how the Service is reached from inside the cluster.
dns_names=(
  "$service"
  "$service.$namespace"
  "$service.$namespace.svc"
  "$service.$namespace.svc.$cluster_domain"
)

reuse_ca=0
if [ "$new_ca" = 0 ] && [ -f "$out_dir/ca.crt" ] && [ -f "$out_dir/ca.key" ]; then
  reuse_ca=1
elif [ "$cert_days" -gt "$ca_days" ]; then
  die_usage "--days $cert_days is longer than --ca-days $ca_days: the certificate would outlive its CA"
fi

mkdir -p "$out_dir" || die "cannot create $out_dir"
out_dir="$(cd "$out_dir" && pwd)"
work="$(mktemp -d "$out_dir/.generate.XXXXXX")" || die "cannot write in $out_dir"
trap 'rm -rf "$work"' EXIT
# Keys are written mode 0600 from the start, never chmod-ed down afterwards.
umask 077

run_openssl() {
  if ! openssl "$@" >>"$work/openssl.log" 2>&1; then
    cat "$work/openssl.log" >&2
    die "openssl $1 failed"
  fi
}

make_key() {
  if [ "$key_type" = ec ]; then
    run_openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
  else
    run_openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
  fi
}

san_list=""
for name in "${dns_names[@]}"; do
  san_list+="${san_list:+, }DNS:$name"
done
# keyEncipherment only for RSA: an ECDSA key signs, it never enciphers.
leaf_usage="digitalSignature"
[ "$key_type" = rsa ] && leaf_usage+=", keyEncipherment"
cat >"$work/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[serving_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $leaf_usage
extendedKeyUsage = serverAuth
subjectAltName = $san_list
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# --- the CA: kept from OUT_DIR unless there is none or --new-ca ----------------------------
if [ "$reuse_ca" = 1 ]; then
  ca_crt="$out_dir/ca.crt"
  ca_key="$out_dir/ca.key"
  ca_state="kept"
  # A certificate must not outlive its CA: clients reject it once the CA expires.
  if ! openssl x509 -in "$ca_crt" -noout -checkend $((cert_days * 86400)) >/dev/null 2>&1; then
    die "the CA in $out_dir expires before a certificate valid for $cert_days days would; use --new-ca or fewer --days"
  fi
  ca_pub="$(openssl x509 -in "$ca_crt" -noout -pubkey 2>/dev/null)" || die "cannot read $ca_crt"
  key_pub="$(openssl pkey -in "$ca_key" -pubout 2>/dev/null)" || die "cannot read $ca_key"
  [ "$ca_pub" = "$key_pub" ] || die "$ca_key is not the key of $ca_crt; use --new-ca to start over"
else
  ca_crt="$work/ca.crt"
  ca_key="$work/ca.key"
  ca_state="new"
  make_key "$ca_key"
  run_openssl req -new -x509 -config "$work/openssl.cnf" -extensions ca_ext -key "$ca_key" \
    -subj "/O=longhorn-uninstall-guard/CN=longhorn-uninstall-guard CA ($namespace)" \
    -days "$ca_days" -sha256 -out "$ca_crt"
fi

# --- the serving certificate: always new ------------------------------------------------
make_key "$work/tls.key"
run_openssl req -new -config "$work/openssl.cnf" -key "$work/tls.key" \
  -subj "/O=longhorn-uninstall-guard/CN=$service.$namespace.svc" -out "$work/tls.csr"
run_openssl x509 -req -in "$work/tls.csr" -CA "$ca_crt" -CAkey "$ca_key" \
  -set_serial "0x$(openssl rand -hex 16)" -days "$cert_days" -sha256 \
  -extfile "$work/openssl.cnf" -extensions serving_ext -out "$work/tls.crt"
run_openssl verify -CAfile "$ca_crt" -purpose sslserver -verify_hostname "$service.$namespace.svc" "$work/tls.crt"

# --- into place: keys 0600, certificates 0644; the new files replace the old at once -----
chmod 0644 "$work/tls.crt"
if [ "$ca_state" = new ]; then
  chmod 0644 "$work/ca.crt"
  mv -f "$work/ca.key" "$out_dir/ca.key"
  mv -f "$work/ca.crt" "$out_dir/ca.crt"
fi
mv -f "$work/tls.key" "$out_dir/tls.key"
mv -f "$work/tls.crt" "$out_dir/tls.crt"

expires="$(openssl x509 -in "$out_dir/tls.crt" -noout -enddate)"
printf '%-21s%s\n' "CA ($ca_state):" "$out_dir/ca.crt" \
  "serving certificate:" "$out_dir/tls.crt, valid until ${expires#notAfter=}" \
  "" "for ${dns_names[*]}" \
  "serving key:" "$out_dir/tls.key"
echo
if [ "$out_dir" = "$default_out_dir" ]; then
  cat <<EOF
Install or update the guard with these files:
  kubectl apply -k manifests/overlays/static-certs
EOF
else
  cat <<EOF
To install with these files, copy tls.crt, tls.key and ca.crt to
manifests/overlays/static-certs/generated/ (or run this script without OUT_DIR), then:
  kubectl apply -k manifests/overlays/static-certs
EOF
fi
if [ "$namespace" != longhorn-uninstall-guard ] || [ "$service" != longhorn-uninstall-guard ]; then
  cat <<EOF
Note: the manifests install Service longhorn-uninstall-guard in namespace
longhorn-uninstall-guard; certificates for $service.$namespace.svc only work where the
manifests were changed to match.
EOF
fi
cat <<EOF
Renew before the expiry above by running this again (the CA is kept, so the webhooks'
caBundle does not change). ca.key and tls.key are secrets: never commit them.
EOF
