#!/usr/bin/env bash
# The guard's bearer token rotates while it runs, as bound service-account tokens do: the
# stand-in accepts only the newest token, and /validate keeps reading the flag. Covers a
# rewrite of the file in place, the kubelet's atomic swap of the ..data symlink, a swap
# during a hold, and a token file that disappears (the last good token is kept).
#
# Usage: tests/integration/test_guard_tokens.sh PATH_TO_longhorn-uninstall-guard
# Follows lib.sh's conventions. Takes about 10 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/guard_lib.sh"
setup_guard_test "$@"

# The token as the kubelet mounts it: token -> ..data/token, ..data -> ..<version>/.
# swap_token writes a new version and swaps ..data atomically, as its atomic writer does.
token_dir="$LUG_WORK/serviceaccount"
swap_token() {
  kubelet_publish "$token_dir" token=<(printf '%s\n' "$1")
}
# accept_only TOKEN: the stand-in accepts TOKEN and nothing else.
accept_only() {
  control PUT tokens "$(jq -cn --arg t "$1" '{accept: [$t]}')"
}
# expect_allowed DESCRIPTION: a review is allowed after one read that passed authentication.
expect_allowed() {
  reset_reads
  post_review "/validate?timeout=10s" uninstall-pod-kubectl.json --max-time 20
  save_reads "$LUG_WORK/reads.json"
  assert_json .response.allowed true "$RESPONSE_BODY" "$1: allowed"
  assert_json '[.requests[] | [.kind, .auth_ok, .status]]' '[["fresh",true,200]]' "$LUG_WORK/reads.json" \
    "$1: one read, authenticated"
}

swap_token first-token
accept_only first-token
set_flag true
GUARD_KUBE_API="$STANDIN_URL" GUARD_KUBE_TOKEN_FILE="$token_dir/token" start_guard --poll-interval 200ms || finish
expect_allowed "with the first token"

# In place, the same length: only the modification time and the content change.
accept_only other-token
printf 'other-token\n' >"$token_dir/..data/token"
expect_allowed "after the token file was rewritten in place"

# The kubelet's way: a new directory and an atomic swap of ..data; a longer token.
accept_only "third-token-$(printf 'x%.0s' {1..200})"
swap_token "third-token-$(printf 'x%.0s' {1..200})"
expect_allowed "after the kubelet swapped the ..data symlink"
assert_log "the rotation is logged" '.msg == "bearer token rotated"'

# During a hold: the pod is held on the old token, the token rotates and, a moment later
# (a read already on its way keeps the old one), the old one stops working; then the
# flag is set. The reads after the swap use the new token.
set_flag false
third_token="$(cat "$token_dir/token")"
control PUT tokens "$(jq -cn --arg t "$third_token" '{accept: [$t, "fourth-token"]}')"
reset_reads
post_review_bg rotate "/validate?timeout=10s" uninstall-pod-kubectl.json
wait_for_reads 1
sleep 0.3
swap_token fourth-token
sleep 0.3
accept_only fourth-token
only_new="$(monotonic_now)"
sleep 0.5
set_flag true
await_review rotate
save_reads "$LUG_WORK/reads.json"
assert_eq "token rotated during a hold: reads went on after only the new token was accepted (precondition)" true \
  "$(jq --argjson t "$only_new" '[.requests[] | select(.received > $t and .value == "false")] | length >= 1' "$LUG_WORK/reads.json")"
assert_json .response.allowed true "$BG_BODY" "token rotated during a hold: the held pod is allowed when the flag turns true"
assert_json '[.requests[] | select(.auth_ok | not)] | length' 0 "$LUG_WORK/reads.json" \
  "token rotated during a hold: no read was refused"

# The token file disappears (a half-finished swap): the last good token is kept.
rm "$token_dir/token"
expect_allowed "with the token file gone"
assert_log "a missing token file is logged" '.msg == "bearer token file could not be re-read; keeping the previous token"'
ln -s ..data/token "$token_dir/token"

# A token the API server does not accept: denied at once, saying so.
accept_only a-token-the-guard-does-not-have
post_review "/validate?timeout=10s" uninstall-pod-kubectl.json --max-time 20
assert_json '[.response.allowed, .response.status.code]' '[false,503]' "$RESPONSE_BODY" "a refused token: denied"
assert_contains "a refused token: the message says the credentials were not accepted" \
  "The API server did not accept the guard's credentials" "$(json_value .response.status.message "$RESPONSE_BODY")"

stop_guard
assert_eq "the guard exits 0 on SIGTERM" 0 "$GUARD_EXIT"
finish
