#!/usr/bin/env python3
"""Randomized run that checks the guard's safety invariant against the API stand-in.

The invariant: the guard never allows an in-scope pod unless a fresh (quorum) read of
the flag, one that started after the review arrived, said true. For a black box this
means: for every in-scope review the guard allowed there is a request in the stand-in's
log that

  1. is a fresh read: GET of the flag's path with no query string at all (a cached read
     carries resourceVersion=0), answered 200 in full (no injected fault but a delay);
  2. reached the stand-in after this client started sending the review (the guard stamps
     a review when the whole of it has arrived, so its reads come later still);
  3. reached the stand-in before this client received the answer;
  4. returned a value Longhorn reads as true (Go's strconv.ParseBool: "true", "True",
     "1", ...; the guard parses the flag the same way). When the guard's log names the
     resourceVersion it was allowed by, that read must be one of these.

For the run's duration, concurrently and at random: the flag is written (true, false,
other spellings, "", "yes", deleted), faults are injected into the guard's reads (5xx,
429, 403, slow answers, dropped, truncated and hung connections, a missing CRD, a lagging
watch cache), and several workers post in-scope reviews with a random ?timeout= of 1-5 s
(so some are held to their deadline) plus out-of-scope ones. Afterwards the reviews are
checked against the stand-in's request log, whose time.monotonic() stamps compare directly
with this process's: both are CLOCK_MONOTONIC on the same machine.

Each thread draws from its own random.Random seeded from --seed, so a seed replays the
same choices; their interleaving still depends on timing.

  safety_invariant.py --self-test
  safety_invariant.py --seed N --seconds S --guard-url URL --standin-url URL --ca FILE
                      --fixtures DIR --guard-log FILE --report FILE [--trace FILE]

The run writes --report, {"seed", "counts", "checks": [{"description", "ok", "details"}]},
for the calling test to count, and exits 0; it exits 1 only when it could not run at all.
Standard library only.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import http.client
import json
import os
import random
import sys
import threading
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from support.https_client import JsonEndpoint, client_context  # noqa: E402 (after the path it is found on)

FLAG_NAMESPACE = "longhorn-system"
FLAG_NAME = "deleting-confirmation-flag"
FLAG_API_PATH = f"/apis/longhorn.io/v1beta2/namespaces/{FLAG_NAMESPACE}/settings/{FLAG_NAME}"
FLAG_CONTROL_PATH = f"settings/{FLAG_NAMESPACE}/{FLAG_NAME}"
# strconv.ParseBool's true spellings: what longhorn-manager, and the guard, read as true.
TRUE_SPELLINGS = frozenset({"1", "t", "T", "TRUE", "true", "True"})
# Injected faults after which the stand-in's log still shows the value it meant to send,
# although the guard never got a usable answer.
UNUSABLE_FAULTS = frozenset({"truncate", "drop", "hang"})

IN_SCOPE_FIXTURES = ("uninstall-pod-kubectl.json", "uninstall-pod-helm.json", "uninstall-pod-v1beta1.json",
                     "uninstall-pod-no-token.json", "uninstall-pod-owner-only.json", "uninstall-pod-dry-run.json")
OUT_OF_SCOPE_FIXTURES = ("other-pod.json", "other-namespace-uninstall-name.json", "other-job-pod.json",
                         "uninstall-pod-update.json")

# (value written, weight); None deletes the Setting (read as "false", its default).
FLAG_VALUES = (("true", 40), ("false", 25), ("True", 6), ("", 6), ("yes", 6), ("False", 4), (None, 8))
NOT_TRUE_VALUES = tuple((v, w) for v, w in FLAG_VALUES if v not in TRUE_SPELLINGS)
# Fault phases: (name, weight). Each lasts 0.2-2 s; see fault_phase().
# Slow reads are the most frequent: a review that arrives while a read is in flight must
# not be answered by it, and that is where a careless guard would go wrong.
FAULT_PHASES = (("none", 20), ("delay", 35), ("status-500", 8), ("status-503", 5), ("status-429", 8),
                ("drop", 5), ("truncate", 5), ("hang", 4), ("status-403", 3), ("crd-missing", 2))

# Slack for "answered before the API server gave up": the guard aims to answer
# min(1s, timeout/4) before ?timeout; a loaded 2-core machine can add seconds on top.
ANSWER_SLACK_S = 3.0
# An out-of-scope review is answered without any I/O: milliseconds, but a loaded machine
# may stall a process for a second or two; a held one would take its whole hold.
OUT_OF_SCOPE_LIMIT_S = 3.0
# A review whose answer takes this long beyond its ?timeout is counted as unanswered.
CLIENT_EXTRA_S = 20.0


def weighted(rng: random.Random, table):
    values, weights = zip(*table)
    return rng.choices(values, weights=weights)[0]


def hold_budget(timeout_s: float) -> float:
    """How long the guard holds a review sent with ?timeout=timeout_s (README, Deadline)."""
    return timeout_s - min(1.0, timeout_s / 4)


# ---------------------------------------------------------------------------------------------
# The checker: pure functions over a trace, exercised by --self-test.
# ---------------------------------------------------------------------------------------------

def usable_true_read(read: dict) -> bool:
    """A fresh read of the flag, answered in full, whose value Longhorn reads as true."""
    return (read.get("method") == "GET" and read.get("path") == FLAG_API_PATH and read.get("query") == ""
            and read.get("kind") == "fresh" and read.get("auth_ok") is True and read.get("status") == 200
            and read.get("fault") not in UNUSABLE_FAULTS and read.get("error") is None
            and isinstance(read.get("value"), str) and read["value"] in TRUE_SPELLINGS)


def named_resource_version(reason: str | None) -> str | None:
    """The resourceVersion in the guard's log reason 'flag true (value "true" at resourceVersion N) ...'."""
    marker = " at resourceVersion "
    if not reason or not reason.startswith("flag true") or marker not in reason:
        return None
    rest = reason.split(marker, 1)[1]
    digits = ""
    for c in rest:
        if not c.isdigit():
            break
        digits += c
    return digits or None


def find_violations(reviews: list[dict], reads: list[dict], guard_reasons: dict[str, str]) -> list[dict]:
    """Every allowed in-scope review without a witnessing read (see the module docstring)."""
    true_reads = sorted((r for r in reads if usable_true_read(r)), key=lambda r: r["received"])
    received = [r["received"] for r in true_reads]
    violations = []
    for review in reviews:
        if not review.get("in_scope") or review.get("allowed") is not True:
            continue
        send, recv = review["send"], review["recv"]
        lo = bisect.bisect_right(received, send)
        hi = bisect.bisect_left(received, recv)
        witnesses = true_reads[lo:hi]
        wanted_rv = named_resource_version(guard_reasons.get(review["uid"]))
        if not witnesses:
            violations.append({"uid": review["uid"], "why": "no fresh read that said true reached the stand-in"
                               " between the review being sent and its answer"})
        elif wanted_rv is not None and not any(r.get("resourceVersion") == wanted_rv for r in witnesses):
            violations.append({"uid": review["uid"], "why": f"the guard says resourceVersion {wanted_rv} allowed it,"
                               " but no such fresh true read reached the stand-in between send and answer"})
    return violations


# ---------------------------------------------------------------------------------------------
# Talking to the stand-in and the guard.
# ---------------------------------------------------------------------------------------------

def load_json(path: str):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def standin_control(url: str, context) -> JsonEndpoint:
    """The stand-in's /_standin/ control API over one kept-alive connection (one per thread)."""
    return JsonEndpoint(url, context=context, keep_alive=True, base_path="/_standin/")


class Run:
    """One randomized run: the threads that act, and what they recorded."""

    def __init__(self, args):
        self.args = args
        self.context = client_context(args.ca)
        self.guard_host, self.guard_port = host_port(args.guard_url)
        self.fixtures = {name: load_json(os.path.join(args.fixtures, name))
                         for name in IN_SCOPE_FIXTURES + OUT_OF_SCOPE_FIXTURES}
        self.lock = threading.Lock()
        self.reviews: list[dict] = []
        self.flips: list[dict] = []
        self.faults: list[dict] = []
        self.thread_errors: list[str] = []
        self.start = self.stop_at = self.end = 0.0

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.args.seed}/{name}")

    def record(self, table: list, entry: dict) -> None:
        with self.lock:
            table.append(entry)

    def guarded(self, name, body, *args) -> None:
        try:
            body(*args)
        except Exception as exc:  # noqa: BLE001 (reported as a failed check)
            self.record(self.thread_errors, f"{name}: {exc!r}")

    # -- the flag --------------------------------------------------------------------------------

    def flipper(self) -> None:
        rng = self.rng("flag")
        control = standin_control(self.args.standin_url, self.context)
        try:
            while time.monotonic() < self.stop_at:
                # Mostly quick changes; sometimes a long stretch of not-true, so that held
                # reviews run into their deadline.
                stretch = rng.random() < 0.08
                value = weighted(rng, NOT_TRUE_VALUES if stretch else FLAG_VALUES)
                pause = rng.uniform(2.0, 5.0) if stretch else rng.choice((0.0, rng.uniform(0.0, 1.0)))
                self.write_flag(control, value)
                time.sleep(max(0.0, min(pause, self.stop_at - time.monotonic())))
        finally:
            control.close()

    def write_flag(self, control: JsonEndpoint, value: str | None) -> None:
        at = time.monotonic()
        if value is None:
            status, body = control.call("DELETE", FLAG_CONTROL_PATH)
        else:
            status, body = control.call("PUT", FLAG_CONTROL_PATH, {"value": value})
        done = time.monotonic()
        if status not in (200, 404) or (value is not None and status != 200):
            raise RuntimeError(f"writing {value!r} to the flag: HTTP {status} {body}")
        rv = body.get("metadata", {}).get("resourceVersion") if status == 200 else None
        self.record(self.flips, {"at": at, "done": done, "value": value, "resourceVersion": rv,
                                 "noop": status == 404})

    # -- a closing phase that is not left to chance -----------------------------------------------

    TEMPTING_ROUNDS = 3
    TEMPTING_READ_DELAY_MS = 800

    def tempting_phase(self, control: JsonEndpoint) -> None:
        """Makes sure the run contains the case a guard reusing an earlier read gets wrong,
        whatever the seed and the machine's speed: with the flag true, every fresh read is
        slowed down; a review starts one, and another review arrives while it is in flight.
        The second must wait for a read of its own (checked like every other review)."""
        control.call("DELETE", "faults")
        self.write_flag(control, "true")
        rule = {"match": FLAG_NAME, "read": "fresh", "mode": "delay", "delay_ms": self.TEMPTING_READ_DELAY_MS,
                "count": -1}
        status, body = control.call("POST", "faults", rule)
        if status != 200:
            raise RuntimeError(f"adding fault {rule}: HTTP {status} {body}")
        self.record(self.faults, {"at": time.monotonic(), "phase": "tempting", "rules": [rule],
                                  "seconds": 0.0, "cache_lag_ms": None})
        rng = self.rng("tempting")
        for round_number in range(self.TEMPTING_ROUNDS):
            first = threading.Thread(target=self.guarded, daemon=True, args=(
                "tempting first", self.post_random_review, 0.0, f"5afeffff-{round_number:04x}-4000", True,
                random.Random(rng.random())))
            first.start()
            # Well inside the first review's 800 ms read, whatever the review's own latency.
            self.post_random_review(0.3, f"5afeffff-{round_number:04x}-4001", True, random.Random(rng.random()))
            first.join()
        control.call("DELETE", "faults")

    # -- faults ----------------------------------------------------------------------------------

    def fault_injector(self) -> None:
        rng = self.rng("faults")
        control = standin_control(self.args.standin_url, self.context)
        try:
            while time.monotonic() < self.stop_at:
                phase = weighted(rng, FAULT_PHASES)
                rules, crd_missing = self.fault_phase(rng, phase)
                at = time.monotonic()
                control.call("DELETE", "faults")  # also releases hung reads
                for rule in rules:
                    status, body = control.call("POST", "faults", rule)
                    if status != 200:
                        raise RuntimeError(f"adding fault {rule}: HTTP {status} {body}")
                control.call("PUT", "crd", {"installed": not crd_missing})
                cache_lag_ms = None
                if rng.random() < 0.2:  # the watch cache: the guard's /validate must never use it
                    cache_lag_ms = rng.choice((0, 500, 2000))
                    control.call("PUT", "cache", {"lag_ms": cache_lag_ms})
                short = phase in ("hang", "crd-missing", "status-403")  # these deny every held review
                lasts = rng.uniform(0.05, 0.6) if short else rng.uniform(0.2, 2.0)
                self.record(self.faults, {"at": at, "phase": phase, "rules": rules, "seconds": lasts,
                                          "cache_lag_ms": cache_lag_ms})
                time.sleep(max(0.0, min(lasts, self.stop_at - time.monotonic())))
        finally:
            try:
                control.call("DELETE", "faults")
                control.call("PUT", "crd", {"installed": True})
            finally:
                control.close()

    @staticmethod
    def fault_phase(rng: random.Random, phase: str) -> tuple[list[dict], bool]:
        """The stand-in fault rules (all on the guard's fresh reads of the flag) for a phase."""
        base = {"match": FLAG_NAME, "read": "fresh"}
        count = rng.choice((1, 2, 3, -1))
        if phase == "none":
            return [], False
        if phase == "crd-missing":
            return [], True
        if phase.startswith("status-"):
            return [dict(base, mode="status", status=int(phase.split("-")[1]), count=count)], False
        if phase == "delay":
            delay_ms = rng.uniform(20, 300) if rng.random() < 0.2 else rng.uniform(300, 1500)
            rules = [dict(base, mode="delay", delay_ms=delay_ms)]
            if rng.random() < 0.3:  # slow and then failing
                rules.append(dict(base, mode="status", status=500, count=1))
            return rules, False
        if phase == "hang":
            return [dict(base, mode="hang", count=1)], False
        return [dict(base, mode=phase, count=count)], False  # drop, truncate

    # -- reviews ---------------------------------------------------------------------------------

    def worker(self, index: int) -> None:
        rng = self.rng(f"worker-{index}")
        number = 0
        while True:
            time.sleep(min(rng.expovariate(1 / 0.3), 1.5))
            if time.monotonic() >= self.stop_at:
                return
            number += 1
            in_scope = rng.random() < 0.8
            # Sometimes a second in-scope review follows within half a second: it tends to
            # arrive while the read the first one started is still in flight.
            follower = None
            if in_scope and rng.random() < 0.5:
                follower = threading.Thread(target=self.guarded, daemon=True, args=(
                    f"worker {index} follower", self.post_random_review, rng.uniform(0.02, 0.5),
                    f"5afe{index:04x}-{number:04x}-4001", True, random.Random(rng.random())))
                follower.start()
            self.post_random_review(0.0, f"5afe{index:04x}-{number:04x}-4000", in_scope, rng)
            if follower is not None:
                follower.join()

    def post_random_review(self, after_s: float, uid_prefix: str, in_scope: bool, rng: random.Random) -> None:
        time.sleep(after_s)
        fixture = rng.choice(IN_SCOPE_FIXTURES if in_scope else OUT_OF_SCOPE_FIXTURES)
        if rng.random() < 0.7:
            timeout_s = float(rng.randint(1, 5))
            timeout = f"{int(timeout_s)}s"
        else:
            timeout_ms = rng.randint(1000, 5000)
            timeout_s, timeout = timeout_ms / 1000, f"{timeout_ms}ms"
        uid = f"{uid_prefix}-8000-{self.args.seed % (1 << 48):012x}"
        self.record(self.reviews, self.post_review(uid, fixture, in_scope, timeout, timeout_s))

    def post_review(self, uid: str, fixture: str, in_scope: bool, timeout: str, timeout_s: float) -> dict:
        review = json.loads(json.dumps(self.fixtures[fixture]))
        review["request"]["uid"] = uid
        body = json.dumps(review).encode()
        record = {"uid": uid, "fixture": fixture, "in_scope": in_scope, "timeout": timeout,
                  "timeout_s": timeout_s, "api_version": review["apiVersion"], "error": None}
        conn = http.client.HTTPSConnection(self.guard_host, self.guard_port, context=self.context,
                                           timeout=timeout_s + CLIENT_EXTRA_S)
        try:
            try:
                conn.connect()  # the TLS handshake is not part of the review
            except OSError as exc:
                record["error"] = f"connect: {exc!r}"
                return record
            # Taken before the first byte of the request goes out.
            record["send"] = time.monotonic()
            try:
                conn.request("POST", f"/validate?timeout={timeout}", body=body,
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                record["recv"] = time.monotonic()
                record["status"] = response.status
                answer = json.loads(data)
                result = answer.get("response") or {}
                status = result.get("status") or {}
                record.update(answer_api_version=answer.get("apiVersion"), answer_kind=answer.get("kind"),
                              response_uid=result.get("uid"), allowed=result.get("allowed"),
                              code=status.get("code"), reason=status.get("reason"),
                              message=status.get("message"))
            except (OSError, http.client.HTTPException, ValueError, AttributeError) as exc:
                record["recv"] = time.monotonic()
                record["error"] = f"answer: {exc!r}"
            return record
        finally:
            conn.close()

    # -- the whole run ---------------------------------------------------------------------------

    def execute(self) -> list[dict]:
        """Runs everything; returns the stand-in's request log."""
        control = standin_control(self.args.standin_url, self.context)
        control.call("DELETE", "faults")
        control.call("PUT", FLAG_CONTROL_PATH, {"value": "false"})
        control.call("DELETE", "reads")
        self.start = time.monotonic()
        self.stop_at = self.start + self.args.seconds
        jobs = [("flag writer", self.flipper), ("fault injector", self.fault_injector)]
        jobs += [(f"worker {i}", self.worker, i) for i in range(self.args.workers)]
        threads = [threading.Thread(target=self.guarded, args=job, name=job[0], daemon=True) for job in jobs]
        for thread in threads:
            thread.start()
        # Every worker finishes its last review: at most 5 s of ?timeout plus the client's slack.
        limit = self.stop_at + 5 + CLIENT_EXTRA_S + 5
        for thread in threads:
            thread.join(max(0.0, limit - time.monotonic()))
            if thread.is_alive():
                self.record(self.thread_errors, f"{thread.name} still running after the run")
        self.guarded("tempting phase", self.tempting_phase, control)
        self.end = time.monotonic()
        control.call("DELETE", "faults")
        control.call("PUT", "crd", {"installed": True})
        status, log = control.call("GET", "reads")
        control.close()
        if status != 200:
            raise RuntimeError(f"reading the stand-in's request log: HTTP {status}")
        return log["requests"]


# ---------------------------------------------------------------------------------------------
# Verdict: checks and counts.
# ---------------------------------------------------------------------------------------------

def admission_log(path: str | None) -> dict[str, list[dict]]:
    """The guard's "admission" log lines (JSON format) by uid."""
    entries: dict[str, list[dict]] = collections.defaultdict(list)
    if not path:
        return entries
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("msg") == "admission":
                entries[obj.get("uid")].append(obj)
    return entries


def reason_class(reason: str | None) -> str:
    """The guard's log reason without its details: "flag not true", "read failed (timeout)"."""
    if not reason:
        return "?"
    if reason.startswith("read failed ("):
        return reason.split(")", 1)[0] + ")"
    return reason.split(" (", 1)[0]


class Verdict:
    def __init__(self):
        self.checks: list[dict] = []

    def check(self, description: str, problems: list[str], limit: int = 12) -> None:
        details = problems[:limit] + ([f"... and {len(problems) - limit} more"] if len(problems) > limit else [])
        self.checks.append({"description": description, "ok": not problems, "details": details})

    def at_least(self, description: str, actual: int, minimum: int) -> None:
        self.check(f"{description}: {actual} (at least {minimum})",
                   [] if actual >= minimum else [f"only {actual}; the run did not exercise what it should"])


def answer_problems(review: dict) -> list[str]:
    """What is wrong with the HTTP answer itself (none for a well-formed review answer)."""
    if review.get("error"):
        return [review["error"]]
    problems = []
    if review.get("status") != 200:
        problems.append(f"HTTP {review.get('status')}")
    if review.get("response_uid") != review["uid"]:
        problems.append(f"response.uid {review.get('response_uid')!r}")
    if review.get("answer_kind") != "AdmissionReview" or review.get("answer_api_version") != review["api_version"]:
        problems.append(f"answered as {review.get('answer_kind')} {review.get('answer_api_version')}")
    if not isinstance(review.get("allowed"), bool):
        problems.append(f"response.allowed {review.get('allowed')!r}")
    return problems


def judge(run_info: dict, reviews: list[dict], reads: list[dict], flips: list[dict], faults: list[dict],
          thread_errors: list[str], guard_log: dict[str, list[dict]], minimums: dict) -> tuple[Verdict, dict, list]:
    verdict = Verdict()
    t0 = run_info["start"]
    rel = lambda t: f"+{t - t0:.3f}s"  # noqa: E731

    verdict.check("the driver's threads ran without errors", thread_errors)
    uids = [r["uid"] for r in reviews]
    verdict.check("every review had its own uid",
                  [f"{uid} used {n} times" for uid, n in collections.Counter(uids).items() if n > 1])
    verdict.check("every review got an answer: HTTP 200, an AdmissionReview of its own version echoing its uid",
                  [f"{r['uid']} ({r['fixture']}, sent {rel(r['send']) if 'send' in r else 'never'}): "
                   + "; ".join(answer_problems(r)) for r in reviews if answer_problems(r)])
    answered = [r for r in reviews if not answer_problems(r)]
    in_scope = [r for r in answered if r["in_scope"]]
    out_of_scope = [r for r in answered if not r["in_scope"]]
    allowed = [r for r in in_scope if r["allowed"]]
    denied = [r for r in in_scope if not r["allowed"]]

    verdict.check("every out-of-scope review was allowed",
                  [f"{r['uid']} ({r['fixture']}): denied {r.get('code')} {r.get('message')}"
                   for r in out_of_scope if not r["allowed"]])
    verdict.check("every in-scope denial is 403, 429 or 503 with a message",
                  [f"{r['uid']}: code {r.get('code')} reason {r.get('reason')} message {r.get('message')!r}"
                   for r in denied if r.get("code") not in (403, 429, 503) or not r.get("message")])
    verdict.check(f"every out-of-scope review was answered at once (within {OUT_OF_SCOPE_LIMIT_S:.0f}s, never held)",
                  [f"{r['uid']} ({r['fixture']}): answered after {r['recv'] - r['send']:.3f}s"
                   for r in out_of_scope if r["recv"] - r["send"] > OUT_OF_SCOPE_LIMIT_S])
    verdict.check(f"every in-scope review was answered by its ?timeout (+{ANSWER_SLACK_S:.0f}s slack for a loaded machine)",
                  [f"{r['uid']}: ?timeout={r['timeout']}, answered after {r['recv'] - r['send']:.3f}s"
                   for r in in_scope if r["recv"] - r["send"] > r["timeout_s"] + ANSWER_SLACK_S])
    verdict.check("the guard logged one admission line per review, with the decision it sent",
                  [f"{r['uid']}: sent allowed={r['allowed']}, logged "
                   f"{[e.get('decision') for e in guard_log.get(r['uid'], [])]}"
                   for r in answered
                   if [e.get("decision") for e in guard_log.get(r["uid"], [])]
                   != ["allowed" if r["allowed"] else "denied"]])
    verdict.check("every request the guard made was a fresh GET of the flag (never the watch cache, nothing else)",
                  [f"seq {q['seq']}: {q['method']} {q['path']}?{q['query']} ({q['kind']})" for q in reads
                   if not (q["method"] == "GET" and q["path"] == FLAG_API_PATH and q["query"] == ""
                           and q["kind"] == "fresh")])

    reasons = {uid: entries[0].get("reason") for uid, entries in guard_log.items() if entries}
    violations = find_violations(answered, reads, reasons)
    excerpts = [trace_excerpt(v, reviews, reads, flips, faults, reasons, t0) for v in violations]
    verdict.check("SAFETY: every allowed in-scope review has a fresh read that said true, received by the"
                  " stand-in after the review was sent and before its answer came",
                  [line for excerpt in excerpts for line in excerpt], limit=60)

    # Meaningful: a guard that denied everything, or a run that never raced, passes nothing.
    timed_out = [r for r in denied if r["recv"] - r["send"] >= hold_budget(r["timeout_s"]) - 0.2]
    fresh = [q for q in reads if q["kind"] == "fresh"]
    flag_changes = [f for f in flips if not f["noop"]]
    true_reads = [q for q in reads if usable_true_read(q)]
    # A review sent while a read that would say true was already in flight: the read a
    # careless guard would hand it.
    tempted = [r for r in in_scope
               if any(q["received"] < r["send"] < (q["sent"] or float("inf")) for q in true_reads)]
    verdict.at_least("in-scope reviews allowed", len(allowed), minimums["allowed"])
    verdict.at_least("in-scope reviews denied", len(denied), minimums["denied"])
    verdict.at_least("in-scope reviews held to their deadline and denied", len(timed_out), minimums["timed_out"])
    verdict.at_least("out-of-scope reviews", len(out_of_scope), minimums["out_of_scope"])
    verdict.at_least("flag writes", len(flag_changes), minimums["flips"])
    verdict.at_least("fresh reads", len(fresh), minimums["reads"])
    verdict.at_least("fresh reads hit by an injected fault", sum(1 for q in fresh if q["fault"]), minimums["faulted"])
    verdict.at_least("in-scope reviews sent while a read that said true was in flight", len(tempted),
                     minimums["tempted"])

    counts = {
        "seconds": round(run_info["end"] - t0, 1),
        "reviews": len(reviews),
        "in_scope": len([r for r in reviews if r["in_scope"]]),
        "allowed": len(allowed),
        "allowed_by_value": dict(collections.Counter(
            (named_value(reasons.get(r["uid"])) or "?") for r in allowed)),
        "denied": len(denied),
        "denied_by_code": dict(collections.Counter(
            f"{r.get('code')} {r.get('reason')}: {reason_class(reasons.get(r['uid']))}" for r in denied)),
        "timed_out": len(timed_out),
        "denied_early": len(denied) - len(timed_out),
        "out_of_scope": len(out_of_scope),
        "out_of_scope_allowed": sum(1 for r in out_of_scope if r["allowed"]),
        "unanswered": len(reviews) - len(answered),
        "tempted": len(tempted),
        "flag_writes": dict(collections.Counter(repr(f["value"]) for f in flag_changes)),
        "fault_phases": dict(collections.Counter(f["phase"] for f in faults)),
        "fresh_reads": len(fresh),
        "fresh_reads_by_result": dict(collections.Counter(
            f"{q['status']}" + (f" {q['fault']}" if q["fault"] else "") for q in fresh)),
        "violations": len(violations),
    }
    return verdict, counts, excerpts


def named_value(reason: str | None) -> str | None:
    """The value in the guard's log reason 'flag true (value "True" at ...', as written."""
    if not reason or not reason.startswith("flag true (value "):
        return None
    try:
        return json.JSONDecoder().raw_decode(reason[len("flag true (value "):])[0]
    except ValueError:
        return None


def trace_excerpt(violation, reviews, reads, flips, faults, reasons, t0) -> list[str]:
    """What happened around one violation: the review, the flag writes and the reads near it."""
    review = next(r for r in reviews if r["uid"] == violation["uid"])
    send, recv = review["send"], review["recv"]
    rel = lambda t: "-" if t is None else f"+{t - t0:.3f}s"  # noqa: E731
    lines = [f"VIOLATION {review['uid']} ({review['fixture']}, ?timeout={review['timeout']}): sent {rel(send)},"
             f" allowed {rel(recv)}: {violation['why']}",
             f"  guard log reason: {reasons.get(review['uid'])}"]
    for f in flips:
        if send - 3 <= f["at"] <= recv + 0.5:
            lines.append(f"  flag write {rel(f['at'])}..{rel(f['done'])}: {f['value']!r}"
                         f" (resourceVersion {f['resourceVersion']}{', no-op' if f['noop'] else ''})")
    for f in faults:
        if send - 3 <= f["at"] <= recv:
            lines.append(f"  fault phase from {rel(f['at'])} for {f['seconds']:.2f}s: {f['phase']} {f['rules']}")
    for q in reads:
        if send - 3 <= q["received"] <= recv + 0.5:
            lines.append(f"  read seq {q['seq']} conn {q['connection']}: received {rel(q['received'])}, sent"
                         f" {rel(q['sent'])}, {q['status']} value {q['value']!r} rv {q['resourceVersion']}"
                         f" fault {q['fault']}")
    return lines


# ---------------------------------------------------------------------------------------------
# Self-test: the checker must catch what it exists to catch.
# ---------------------------------------------------------------------------------------------

def self_test() -> int:
    seq = iter(range(1, 1000))

    def read(received, value="true", sent=None, **extra):
        record = {"seq": next(seq), "connection": 1, "method": "GET", "path": FLAG_API_PATH, "query": "",
                  "kind": "fresh", "source": "store", "auth_ok": True, "received": received,
                  "sent": sent if sent is not None else received + 0.01, "status": 200, "value": value,
                  "resourceVersion": "1001", "fault": None, "delay_ms": 0.0, "error": None}
        record.update(extra)
        return record

    def review(uid, send, recv, allowed=True, in_scope=True):
        return {"uid": uid, "fixture": "uninstall-pod-kubectl.json", "in_scope": in_scope, "timeout": "3s",
                "timeout_s": 3.0, "api_version": "admission.k8s.io/v1", "error": None, "send": send,
                "recv": recv, "status": 200, "answer_api_version": "admission.k8s.io/v1",
                "answer_kind": "AdmissionReview", "response_uid": uid, "allowed": allowed}

    # Each case is one review in its own stretch of time, with the reads around it.
    cases = [
        # (uid, review, reads, violation expected)
        ("stale-true", review("stale-true", 10.0, 11.0),  # the brief's case: the only true read started before
         [read(9.5, sent=10.2), read(10.5, value="false")], True),
        ("fresh-true", review("fresh-true", 20.0, 21.0), [read(19.5, value="false"), read(20.4)], False),
        ("cached-true", review("cached-true", 30.0, 31.0),
         [read(30.3, kind="cached", query="resourceVersion=0", source="cache")], True),
        ("true-after-answer", review("true-after-answer", 40.0, 41.0),
         [read(40.2, value="false"), read(41.2)], True),
        ("truncated-true", review("truncated-true", 50.0, 51.0), [read(50.2, fault="truncate")], True),
        ("failed-true", review("failed-true", 60.0, 61.0), [read(60.2, status=500, value=None, fault="status")],
         True),
        ("slow-true", review("slow-true", 70.0, 71.5), [read(70.1, sent=71.2, fault="delay", delay_ms=1000)],
         False),
        ("parse-bool-True", review("parse-bool-True", 80.0, 81.0), [read(80.5, value="True")], False),
        ("yes-is-not-true", review("yes-is-not-true", 90.0, 91.0), [read(90.5, value="yes")], True),
        ("other-path", review("other-path", 100.0, 101.0),
         [read(100.5, path=FLAG_API_PATH.replace("v1beta2", "v1beta1"))], True),
        ("denied-no-read", dict(review("denied-no-read", 110.0, 111.0, allowed=False), code=503,
                                reason="ServiceUnavailable", message="could not read"), [], False),
        ("out-of-scope", review("out-of-scope", 120.0, 120.01, in_scope=False), [], False),
        ("wrong-rv", review("wrong-rv", 130.0, 131.0), [read(130.5, resourceVersion="1001")], True),
    ]
    reasons = {"wrong-rv": 'flag true (value "true" at resourceVersion 1002) after 1 fresh read(s), held 500ms',
               "fresh-true": 'flag true (value "true" at resourceVersion 1001) after 2 fresh read(s), held 400ms'}
    reviews = [case[1] for case in cases]
    reads = [r for case in cases for r in case[2]]
    expected = {case[0] for case in cases if case[3]}
    found = {v["uid"] for v in find_violations(reviews, reads, reasons)}
    failures = []
    if found != expected:
        failures.append(f"find_violations: missed {sorted(expected - found)}, wrongly flagged {sorted(found - expected)}")

    # The whole verdict, on a trace holding the brief's violation, fails the safety check.
    info = {"start": 0.0, "end": 200.0}
    log = {r["uid"]: [{"msg": "admission", "uid": r["uid"], "decision": "allowed" if r["allowed"] else "denied",
                       "reason": reasons.get(r["uid"], "")}] for r in reviews}
    zero = dict.fromkeys(("allowed", "denied", "timed_out", "out_of_scope", "flips", "reads", "faulted",
                          "tempted"), 0)
    verdict, counts, excerpts = judge(info, reviews, reads, [], [], [], log, zero)
    safety = [c for c in verdict.checks if c["description"].startswith("SAFETY")]
    if len(safety) != 1 or safety[0]["ok"] or not any("stale-true" in d for d in safety[0]["details"]):
        failures.append(f"judge: the safety check did not fail on the stale read: {safety}")
    if counts["violations"] != len(expected):
        failures.append(f"judge: counted {counts['violations']} violations, expected {len(expected)}")
    # ... and with the violations taken out, passes.
    clean = [case[1] for case in cases if not case[3]]
    clean_reads = [r for case in cases if not case[3] for r in case[2]]
    verdict, _, _ = judge(info, clean, clean_reads, [], [], [], log, zero)
    if not all(c["ok"] for c in verdict.checks):
        failures.append(f"judge: failed a clean trace: {[c for c in verdict.checks if not c['ok']]}")
    # A review without an answer fails the answer check.
    lost = dict(review("lost", 140.0, 155.0), error="answer: TimeoutError()", status=None, allowed=None)
    verdict, _, _ = judge(info, clean + [lost], clean_reads, [], [], [], log, zero)
    if [c["ok"] for c in verdict.checks if c["description"].startswith("every review got an answer")] != [False]:
        failures.append("judge: an unanswered review was not reported")

    for failure in failures:
        print(f"self-test FAILED: {failure}")
    if not failures:
        print(f"self-test: the checker flags exactly {sorted(expected)} in a synthetic trace of {len(cases)} reviews")
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true", help="check the checker on synthetic traces; no I/O")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--seconds", type=float, default=35.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--guard-url")
    parser.add_argument("--standin-url")
    parser.add_argument("--ca")
    parser.add_argument("--fixtures")
    parser.add_argument("--guard-log")
    parser.add_argument("--report")
    parser.add_argument("--trace", help="also write every review, flag write, fault phase and read here")
    for name, default in (("allowed", 15), ("denied", 15), ("timed-out", 5), ("out-of-scope", 10), ("flips", 20),
                          ("reads", 100), ("faulted", 5), ("tempted", 3)):
        parser.add_argument(f"--min-{name}", type=int, default=default)
    args = parser.parse_args(argv)
    if not args.self_test:
        missing = [flag for flag in ("seed", "guard_url", "standin_url", "ca", "fixtures", "report")
                   if getattr(args, flag) is None]
        if missing:
            parser.error("missing " + ", ".join("--" + m.replace("_", "-") for m in missing))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.self_test:
        return self_test()
    run = Run(args)
    reads = run.execute()
    minimums = {"allowed": args.min_allowed, "denied": args.min_denied, "timed_out": args.min_timed_out,
                "out_of_scope": args.min_out_of_scope, "flips": args.min_flips, "reads": args.min_reads,
                "faulted": args.min_faulted, "tempted": args.min_tempted}
    info = {"start": run.start, "end": run.end}
    verdict, counts, excerpts = judge(info, run.reviews, reads, run.flips, run.faults, run.thread_errors,
                                      admission_log(args.guard_log), minimums)
    for line in (line for excerpt in excerpts for line in excerpt):
        print(f"# {line}")
    print(f"# counts: {json.dumps(counts)}")
    if args.trace:
        with open(args.trace, "w", encoding="utf-8") as handle:
            json.dump({"seed": args.seed, "start": run.start, "reviews": run.reviews, "flips": run.flips,
                       "faults": run.faults, "reads": reads}, handle)
    with open(args.report + ".tmp", "w", encoding="utf-8") as handle:
        json.dump({"seed": args.seed, "counts": counts, "checks": verdict.checks}, handle, indent=1)
    os.replace(args.report + ".tmp", args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
