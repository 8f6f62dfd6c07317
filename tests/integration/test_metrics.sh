#!/usr/bin/env bash
# GET /metrics (on the metrics port): the Prometheus text format (0.0.4), and the series moving as reviews are
# answered, a pod is held and the setting is read. The Kubernetes API is an address
# nothing listens on, so the in-scope pod's reads fail as "unreachable" and it is denied
# when --max-hold runs out.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_test "$@"
gen_test_pki "$LUG_WORK/pki" || finish
max_hold=2
start_guard --max-hold "${max_hold}s" || finish

# scrape: GET /metrics into $METRICS.
scrape() {
  metrics_request GET /metrics
  METRICS="$(cat "$RESPONSE_BODY")"
}

# metric SERIES: the value of the sample named exactly SERIES (name plus labels as the
# guard prints them, labels sorted), or "absent".
metric() {
  awk -v s="$1" 'index($0, s " ") == 1 { print substr($0, length(s) + 2); found = 1; exit }
                 END { if (!found) print "absent" }' <<<"$METRICS"
}

# assert_metric DESCRIPTION SERIES EXPECTED (compared as numbers: 1 == 1.0 == 1e0)
assert_metric() {
  local actual
  actual="$(metric "$2")"
  if [ "$actual" != absent ] && python3 -c 'import sys; sys.exit(float(sys.argv[1]) != float(sys.argv[2]))' "$3" "$actual"; then
    pass "$1"
  else
    fail "$1" "series: $2" "expected: $3" "actual:   $actual"
  fi
}

p=longhorn_uninstall_guard

# --- format --------------------------------------------------------------------------------
scrape
assert_eq "GET /metrics is 200" 200 "$HTTP_STATUS"
assert_eq "Content-Type is the text exposition format 0.0.4" "text/plain; version=0.0.4; charset=utf-8" \
  "$(response_header content-type)"

# Every sample line is `name{labels} value`, and every name belongs to a family announced
# by HELP and TYPE lines before it (histograms add _bucket, _sum and _count).
format="$(python3 - "$RESPONSE_BODY" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$')
helped, typed, bad = set(), {}, []
for line in text.splitlines():
    if line.startswith("# HELP "):
        helped.add(line.split(" ")[2])
    elif line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        typed[name] = kind
    elif line:
        m = sample.match(line)
        if not m:
            bad.append("not a sample: " + line)
            continue
        name = m.group(1)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and typed.get(name[: -len(suffix)]) == "histogram":
                family = name[: -len(suffix)]
        if family not in typed or family not in helped:
            bad.append("no HELP/TYPE before: " + line)
print("\n".join(bad[:10]) if bad else "ok")
EOF
)"
assert_eq "every line is a HELP, a TYPE or a well-formed sample of an announced family" ok "$format"

version="$("$GUARD_BIN" version | awk '{print $2}')"
assert_metric "build_info carries the version ($version)" "${p}_build_info{version=\"$version\"}" 1

not_after="$(date -u -d "$(openssl x509 -in "$PKI_SERVER_CERT" -noout -enddate | cut -d= -f2)" +%s)"
assert_metric "the certificate's notAfter is exposed as a Unix timestamp" \
  "${p}_certificate_expiration_timestamp_seconds" "$not_after"
assert_metric "no certificate reload yet" "${p}_certificate_reloads_total" 0
assert_metric "no certificate reload error yet" "${p}_certificate_reload_errors_total" 0
for decision in allowed patched denied errored rejected abandoned; do
  assert_metric "requests{validate,$decision} exists at 0 before any request" \
    "${p}_admission_requests_total{decision=\"$decision\",endpoint=\"validate\"}" 0
done
assert_metric "no hold yet" "${p}_holds_in_progress" 0

# --- an out-of-scope pod: allowed at once, no hold, no read ---------------------------------
post_review /validate other-pod.json
assert_json .response.allowed true "$RESPONSE_BODY" "out-of-scope pod is allowed"
scrape
assert_metric "requests{validate,allowed} counts it" "${p}_admission_requests_total{decision=\"allowed\",endpoint=\"validate\"}" 1
assert_metric "its latency is observed once" "${p}_admission_duration_seconds_count{endpoint=\"validate\"}" 1
assert_metric "it started no hold" "${p}_holds_started_total" 0
assert_eq "it read nothing" "" "$(grep "^${p}_setting_reads_total{" <<<"$METRICS")"

# --- an in-scope pod: held while reads fail, then denied -----------------------------------
held_out="$LUG_WORK/held.json"
curl -sS --max-time 15 --cacert "$PKI_CA" -H 'Content-Type: application/json' \
  --data-binary "@$LUG_FIXTURES/uninstall-pod-helm.json" -o "$held_out" "$GUARD_URL/validate" 2>/dev/null &
held_pid=$!
register_pid "$held_pid"
in_progress=absent
for _ in $(seq 1 30); do
  scrape
  in_progress="$(metric "${p}_holds_in_progress")"
  [ "$in_progress" = 1 ] && break
  sleep 0.05
done
assert_eq "holds_in_progress is 1 while the pod is held" 1 "$in_progress"
wait_pid_exit "$held_pid" $((max_hold + 10))
assert_json .response.allowed false "$held_out" "the held pod is denied when the reads keep failing"

scrape
assert_metric "holds_in_progress is back to 0" "${p}_holds_in_progress" 0
assert_metric "holds_started counts the hold" "${p}_holds_started_total" 1
assert_metric "holds_ended{read_failed} counts its end" "${p}_holds_ended_total{outcome=\"read_failed\"}" 1
assert_metric "holds_ended{flag_true} stays 0" "${p}_holds_ended_total{outcome=\"flag_true\"}" 0
assert_metric "requests{validate,denied} counts it" "${p}_admission_requests_total{decision=\"denied\",endpoint=\"validate\"}" 1
reads="$(metric "${p}_setting_reads_total{kind=\"fresh\",result=\"unreachable\"}")"
assert_match "setting_reads{fresh,unreachable} counts the failed reads (got $reads)" '^[1-9][0-9]*$' "$reads"
assert_metric "each read's latency is observed" "${p}_setting_read_duration_seconds_count{kind=\"fresh\"}" "$reads"
held_seconds="$(metric "${p}_admission_duration_seconds_sum{endpoint=\"validate\"}")"
assert_true "the validate latency sum includes the ${max_hold}s hold (got $held_seconds)" \
  python3 -c "import sys; sys.exit(not $max_hold * 0.9 <= float('$held_seconds') <= $max_hold + 5)"

# --- mutate, and a request that is not a review --------------------------------------------
post_review /mutate uninstall-pod-helm.json
assert_json .response.patchType JSONPatch "$RESPONSE_BODY" "the in-scope pod is patched on /mutate"
guard_request POST /validate -H 'Content-Type: text/plain' --data-binary "@$LUG_FIXTURES/other-pod.json"
assert_eq "a review sent as text/plain is refused" 415 "$HTTP_STATUS"
scrape
assert_metric "requests{mutate,patched} counts the patch" "${p}_admission_requests_total{decision=\"patched\",endpoint=\"mutate\"}" 1
assert_metric "requests{validate,rejected} counts the refused request" \
  "${p}_admission_requests_total{decision=\"rejected\",endpoint=\"validate\"}" 1

# --- histogram buckets -----------------------------------------------------------------------
buckets="$(python3 - "$RESPONSE_BODY" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
want = ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
        "1", "2.5", "5", "10", "20", "30", "+Inf"]
name = "longhorn_uninstall_guard_admission_duration_seconds"
problems = []
for endpoint in ("validate", "mutate"):
    found = dict(re.findall(name + r'_bucket\{endpoint="' + endpoint + r'",le="([^"]+)"\} (\S+)', text))
    les = [le for le in found]
    if [float(le) for le in les] != [float(le) for le in want]:
        problems.append(f"{endpoint}: buckets {les}")
        continue
    counts = [float(found[le]) for le in les]
    if counts != sorted(counts):
        problems.append(f"{endpoint}: counts not cumulative {counts}")
    total = re.search(name + r'_count\{endpoint="' + endpoint + r'"\} (\S+)', text)
    if not total or float(total.group(1)) != counts[-1]:
        problems.append(f"{endpoint}: +Inf bucket {counts[-1]} != _count")
print("\n".join(problems) if problems else "ok")
EOF
)"
assert_eq "latency buckets 0.5 ms .. 30 s and +Inf on both endpoints, cumulative, +Inf = _count" ok "$buckets"

stop_guard
assert_eq "the guard stops cleanly" 0 "$GUARD_EXIT"
finish
