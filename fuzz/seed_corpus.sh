#!/usr/bin/env bash
# Writes the seed corpus of every fuzz target into DIR/<target>/ (created; existing files
# are kept, so a corpus grown by earlier runs goes on growing).
#
#   fuzz/seed_corpus.sh DIR
#
# fuzz_review:       the review fixtures in tests/fixtures, as they are.
# fuzz_http:         those fixtures POSTed to /validate and /mutate as raw HTTP/1.1 (with
#                    Content-Length, chunked, 100-continue, two pipelined), plus probe, 404
#                    and 405 requests and a wrong Content-Type.
# fuzz_setting_read: API server answers to a Setting read: "<status><body>".
# fuzz_text:         durations, API server URLs and request targets.
# fuzz_kubeconfig:   the kubeconfigs in fuzz/seeds/kubeconfig.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: fuzz/seed_corpus.sh DIR}"
fixtures="$root/tests/fixtures"

mkdir -p "$out"/{fuzz_review,fuzz_http,fuzz_setting_read,fuzz_text,fuzz_kubeconfig}

cp "$fixtures"/*.json "$out/fuzz_review/"

# post PATH CONTENT_TYPE BODY_FILE [EXTRA_HEADER]: a keep-alive request with Content-Length;
# EXTRA_HEADER is a whole header line, its \r\n written as escapes.
post() {
  local path="$1" type="$2" body="$3" extra="${4:-}"
  printf 'POST %s HTTP/1.1\r\nHost: guard.longhorn-system.svc:443\r\nContent-Type: %s\r\nAccept: application/json, */*\r\n%bContent-Length: %d\r\n\r\n' \
    "$path" "$type" "$extra" "$(wc -c <"$body")"
  cat "$body"
}

# post_chunked PATH BODY_FILE: the body in one chunk, then the last chunk.
post_chunked() {
  local path="$1" body="$2"
  printf 'POST %s HTTP/1.1\r\nHost: guard\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n' \
    "$path" "$(wc -c <"$body")"
  cat "$body"
  printf '\r\n0\r\n\r\n'
}

http="$out/fuzz_http"
for f in "$fixtures"/*.json; do
  name="$(basename "$f" .json)"
  post "/validate?timeout=10s" "application/json" "$f" >"$http/validate-$name"
  post "/mutate?timeout=10s" "application/json" "$f" >"$http/mutate-$name"
done
post_chunked "/mutate?timeout=10s" "$fixtures/uninstall-pod-kubectl.json" >"$http/chunked-mutate"
post "/validate" "application/json; charset=utf-8" "$fixtures/uninstall-pod-helm.json" "Expect: 100-continue\r\n" \
  >"$http/expect-continue-validate"
post "/validate" "text/plain" "$fixtures/other-pod.json" >"$http/wrong-content-type"
{
  post "/mutate?timeout=30s" "application/json" "$fixtures/other-pod.json"
  post "/validate?timeout=30s" "application/json" "$fixtures/uninstall-pod-owner-only.json" "Connection: close\r\n"
} >"$http/pipelined-pair"
printf 'GET /healthz HTTP/1.1\r\nHost: guard\r\n\r\nGET /metrics HTTP/1.1\r\nHost: guard\r\nConnection: close\r\n\r\n' \
  >"$http/probes"
printf 'GET /validate HTTP/1.1\r\nHost: guard\r\n\r\nDELETE /nope?x=1 HTTP/1.0\r\n\r\n' >"$http/wrong-method-and-path"

setting='{"apiVersion":"longhorn.io/v1beta2","kind":"Setting","metadata":{"name":"deleting-confirmation-flag","namespace":"longhorn-system","resourceVersion":"98765"},"value":"%s"}'
read="$out/fuzz_setting_read"
for value in true false True 1 yes ""; do
  printf "200$setting" "$value" >"$read/setting-${value:-empty}"
done
printf '200{"kind":"Setting","metadata":{"name":"deleting-confirmation-flag"}}' >"$read/setting-without-value"
printf '200{"kind":"SettingList","items":[]}' >"$read/wrong-kind"
printf '404{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"settings.longhorn.io \\"deleting-confirmation-flag\\" not found","reason":"NotFound","details":{"name":"deleting-confirmation-flag","group":"longhorn.io","kind":"settings"},"code":404}' \
  >"$read/setting-missing"
printf '404{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}' \
  >"$read/api-missing"
printf '403{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"settings.longhorn.io \\"deleting-confirmation-flag\\" is forbidden: User \\"system:serviceaccount:longhorn-system:guard\\" cannot get resource \\"settings\\"","reason":"Forbidden","code":403}' \
  >"$read/forbidden"
printf '401{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}' \
  >"$read/unauthorized"
printf '429{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429}' \
  >"$read/throttled"
printf '502<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>' \
  >"$read/proxy-error-page"

text="$out/fuzz_text"
i=0
for s in 0 500ms 25s 1m30s 1.5s 2h45m0.5s 1.000000001s 9223372036ns 10us 3µs 0.5ns \
  https://10.96.0.1 https://kubernetes.default.svc:443 "https://[fd00::1]:6443/k8s/clusters/c-1/" HTTPS://API.EXAMPLE:6443 \
  "/validate?timeout=10s" "/mutate?dryRun=true&timeout=30s" "/metrics?"; do
  printf '%s' "$s" >"$text/seed-$i"
  i=$((i + 1))
done

cp "$root"/fuzz/seeds/kubeconfig/* "$out/fuzz_kubeconfig/"
