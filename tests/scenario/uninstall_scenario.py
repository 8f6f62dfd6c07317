#!/usr/bin/env python3
"""Reproduces longhorn/longhorn issue 10483, then shows the guard removing it.

The race: a user sets the Longhorn setting ``deleting-confirmation-flag`` to
"true" and starts the uninstall Job straight away.  longhorn-manager's
``uninstall`` reads the setting through an informer whose first LIST is served
from the API server's watch cache (``resourceVersion=0``), which may still hold
"false"; the pod then fails.  Each round of this scenario:

1. resets the flag to "false" (and lets the cache catch up), gives the
   stand-in's watch cache a random lag, sets the flag to "true" and starts the
   Job a moment later;
2. **without the guard**: creates the pod directly and runs the uninstall step
   at once;
3. **with the guard**: sends the pod through ``/mutate`` (applying the returned
   JSON patch) and ``/validate`` as the API server would, retrying denied
   creations with the Job controller's backoff; then runs the injected init
   container's command line as patched (this project's ``wait``, which also
   installs the supervisor into the pod's emptyDir volume, a directory here) and
   only then the uninstall step.

The uninstall step reads only the lagging cache and fails the pod when the flag
it sees is not true (by Go's ``strconv.ParseBool``, as longhorn-manager parses
it).  The scenario passes when some pods fail without the guard and none with
it.  In a fraction of rounds (``--late-fraction``) the flag is set *after* the
Job started, so the guard's hold (and, past ``--max-hold``, its deny and the
Job's retry) is exercised too.

Standard library only.  Started by test_uninstall_race.sh, which sets up the
certificates, the Kubernetes API stand-in and the guard.
"""

from __future__ import annotations

import argparse
import base64
import copy
import dataclasses
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from support import json_patch  # noqa: E402 (after the path it is found on)
from support.https_client import JsonEndpoint  # noqa: E402

# Where the injected init container expects the binary, and where the kubelet mounts the
# service-account token and CA it would use in a cluster (see webhook/guard/init_container.hpp).
IMAGE_BINARY = "/usr/local/bin/longhorn-uninstall-guard"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
INIT_CONTAINER_NAME = "wait-for-deleting-confirmation"

# The API server's default webhook timeout (timeoutSeconds: 10), passed as ?timeout=.
WEBHOOK_TIMEOUT = "10s"
# Client-side bound on one webhook call: above the 10 s the API server would allow, so the
# guard's own deadline handling, not this, is what ends a hold.
WEBHOOK_CALL_LIMIT_S = 15.0
# One stand-in call answers in milliseconds; 10 s only runs out when something is broken.
API_CALL_LIMIT_S = 10.0
# The Job controller's backoff between failed pod creations: 1 s doubling up to 1 min.
CREATE_BACKOFF_START_S = 1.0
CREATE_BACKOFF_MAX_S = 60.0
# Creations tried in one round before the scenario gives up on it: with the flag set at most
# a few seconds late, one or two denials are the most a correct guard can cause.
MAX_CREATE_ATTEMPTS = 5

GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def log(line: str) -> None:
    print(line, flush=True)


class ScenarioError(Exception):
    """Something the scenario cannot go on from (not a pod failure)."""


def expect_ok(what: str, status: int, body: object) -> object:
    if not 200 <= status < 300:
        raise ScenarioError(f"{what}: HTTP {status}: {body}")
    return body


# --------------------------------------------------------------------------
# The cluster: the stand-in's settings, watch cache and API
# --------------------------------------------------------------------------

@dataclasses.dataclass
class SettingRef:
    namespace: str
    name: str
    api_version: str = "v1beta2"

    @property
    def api_path(self) -> str:
        return (f"/apis/longhorn.io/{self.api_version}/namespaces/{self.namespace}"
                f"/settings/{self.name}")


class Cluster:
    """The Kubernetes API stand-in: the user's writes, and longhorn-manager's cached reads."""

    def __init__(self, api: JsonEndpoint, control: JsonEndpoint, setting: SettingRef):
        self.api, self.control, self.setting = api, control, setting

    def set_flag(self, value: str) -> None:
        """What `kubectl patch ... lhs deleting-confirmation-flag` does: one write to the store."""
        target = f"/_standin/settings/{self.setting.namespace}/{self.setting.name}"
        expect_ok("set the flag", *self.control.call("PUT", target, {"value": value}))

    def configure_cache(self, **fields: object) -> None:
        expect_ok("configure the watch cache", *self.control.call("PUT", "/_standin/cache", fields))

    def cached_read(self) -> tuple[str | None, str]:
        """The setting as longhorn-manager's informer first sees it: served from the watch cache.

        Returns (value or None when missing, a description for the report)."""
        status, body = self.api.call("GET", self.setting.api_path + "?resourceVersion=0")
        if status == 404:
            return None, "no such setting (read as false)"
        body = expect_ok("cached read of the setting", status, body)
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise ScenarioError(f"cached read of the setting: not a Setting object: {body}")
        value = body.get("value")
        return value, f'"{value}" at resourceVersion {body["metadata"].get("resourceVersion")}'


def parse_go_bool(value: object) -> bool:
    """strconv.ParseBool as longhorn-manager uses it; anything not true refuses the uninstall."""
    return isinstance(value, str) and value in GO_TRUE


# --------------------------------------------------------------------------
# The Job controller, with the API server's admission chain in front of it
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Admission:
    pod: dict
    denials: list[str]  # why each earlier creation was denied
    admitted_after_s: float  # from the Job's start


class JobController:
    """Creates the uninstall Job's pod as kube-controller-manager would, through the webhooks."""

    def __init__(self, guard: JsonEndpoint, review_template: dict):
        self.guard = guard
        self.review_template = review_template

    def _review(self, pod: dict) -> dict:
        review = copy.deepcopy(self.review_template)
        review["request"]["uid"] = str(uuid.uuid4())
        review["request"]["object"] = pod
        return review

    def _webhook(self, path: str, pod: dict) -> dict:
        review = self._review(pod)
        status, body = self.guard.call("POST", f"{path}?timeout={WEBHOOK_TIMEOUT}", review,
                                       timeout=WEBHOOK_CALL_LIMIT_S)
        body = expect_ok(f"POST {path}", status, body)
        response = body.get("response") if isinstance(body, dict) else None
        if not isinstance(response, dict) or response.get("uid") != review["request"]["uid"]:
            raise ScenarioError(f"POST {path}: not an AdmissionReview answer for our uid: {body}")
        return response

    def mutate(self, pod: dict) -> dict:
        response = self._webhook("/mutate", pod)
        if not response.get("allowed"):
            raise ScenarioError(f"/mutate refused the pod: {response}")
        if "patch" not in response:
            raise ScenarioError(f"/mutate returned no patch for the uninstall pod: {response}")
        if response.get("patchType") != "JSONPatch":
            raise ScenarioError(f"/mutate patchType is {response.get('patchType')!r}")
        return json_patch.apply(pod, json.loads(base64.b64decode(response["patch"])))

    def create_pod(self, template: dict, job_started: float) -> Admission:
        """Mutating then validating admission; a denied creation is retried with backoff and
        never becomes a pod (it does not count toward backoffLimit)."""
        backoff = CREATE_BACKOFF_START_S
        denials: list[str] = []
        for _ in range(MAX_CREATE_ATTEMPTS):
            pod = self.mutate(template)
            started = time.monotonic()
            response = self._webhook("/validate", pod)
            held = time.monotonic() - started
            if response.get("allowed"):
                return Admission(pod, denials, time.monotonic() - job_started)
            result = response.get("status") or {}
            denials.append(f"{result.get('code')} after {held:.1f}s: {result.get('message', '')}")
            time.sleep(backoff)
            backoff = min(backoff * 2, CREATE_BACKOFF_MAX_S)
        raise ScenarioError(f"pod still denied after {MAX_CREATE_ATTEMPTS} creations: {denials[-1]}")


# --------------------------------------------------------------------------
# The kubelet: init containers, then the uninstall container
# --------------------------------------------------------------------------

@dataclasses.dataclass
class LocalKubelet:
    """Runs a pod's containers on this machine against the stand-in."""
    guard_binary: str
    supervisor_binary: str
    api_url: str
    ca_file: str
    token_file: str
    init_limit_s: float
    volumes_dir: str

    def init_command(self, pod: dict, container: dict) -> list[str]:
        """The container's command line as patched, with the in-cluster configuration it would
        find (KUBERNETES_SERVICE_HOST/PORT and the token volume) given as explicit flags."""
        command = list(container.get("command") or []) + list(container.get("args") or [])
        if not command or command[0] != IMAGE_BINARY:
            raise ScenarioError(f"unexpected init container command {command}")
        token_volumes = {volume["name"] for volume in pod["spec"].get("volumes", [])
                         if any("serviceAccountToken" in source
                                for source in volume.get("projected", {}).get("sources", []))}
        mounts = {mount["name"]: mount["mountPath"] for mount in container.get("volumeMounts", [])}
        if not any(mounts.get(volume) == SERVICE_ACCOUNT_DIR for volume in token_volumes):
            raise ScenarioError("the init container does not mount the pod's service-account token "
                                f"at {SERVICE_ACCOUNT_DIR}, so it could not reach the API server: "
                                f"{container.get('volumeMounts')}")
        # Each emptyDir volume the container mounts is a fresh directory of this machine, and
        # arguments under its mountPath point there; the image's copy of the supervisor is the
        # one built beside the guard.
        empty_dirs = {volume["name"] for volume in pod["spec"].get("volumes", []) if "emptyDir" in volume}
        pod_dir = tempfile.mkdtemp(dir=self.volumes_dir)
        local_paths = {}
        for mount in container.get("volumeMounts", []):
            if mount["name"] in empty_dirs:
                local_paths[mount["mountPath"]] = os.path.join(pod_dir, mount["name"])
                os.makedirs(local_paths[mount["mountPath"]])
        def local(arg: str) -> str:
            for mount_path, local_path in local_paths.items():
                if arg.startswith(mount_path + "/"):
                    return local_path + arg[len(mount_path):]
            return arg
        args = [local(arg) for arg in command[1:]]
        if "--install-supervisor" in args:
            args += ["--supervisor-source", self.supervisor_binary]
        return [self.guard_binary, *args, "--kube-api", self.api_url,
                "--kube-ca-file", self.ca_file, "--kube-token-file", self.token_file]

    def run_init_containers(self, pod: dict) -> tuple[bool, str, float]:
        """(succeeded, what went wrong, seconds) for the pod's init containers, in order."""
        started = time.monotonic()
        for container in pod["spec"].get("initContainers", []):
            if container.get("name") != INIT_CONTAINER_NAME:
                raise ScenarioError(f"cannot run init container {container.get('name')!r}")
            try:
                finished = subprocess.run(self.init_command(pod, container), stdin=subprocess.DEVNULL,
                                          capture_output=True, text=True, timeout=self.init_limit_s)
            except subprocess.TimeoutExpired:
                return False, f"init container still running after {self.init_limit_s:.0f}s", \
                    time.monotonic() - started
            if finished.returncode != 0:
                tail = " | ".join(finished.stderr.strip().splitlines()[-3:])
                return False, f"init container exited {finished.returncode}: {tail}", \
                    time.monotonic() - started
        return True, "", time.monotonic() - started


def uninstall_step(cluster: Cluster) -> tuple[bool, str]:
    """longhorn-manager uninstall: refuses unless the informer's (cached) read says true."""
    value, seen = cluster.cached_read()
    return parse_go_bool(value), seen


# --------------------------------------------------------------------------
# Rounds
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Round:
    number: int
    lag_ms: int  # how far the watch cache lags behind the store
    flag_offset_ms: int  # flag set this long before (<0) or after (>0) the Job starts

    def describe(self) -> str:
        when = (f"{-self.flag_offset_ms:4d}ms before" if self.flag_offset_ms <= 0
                else f"{self.flag_offset_ms:4d}ms AFTER ")
        return f"cache lag {self.lag_ms:4d}ms, flag set {when} the Job starts"

    @property
    def late(self) -> bool:
        return self.flag_offset_ms > 0


@dataclasses.dataclass
class PodOutcome:
    failed: bool
    detail: str
    denials: int = 0


@dataclasses.dataclass
class Tally:
    pods: int = 0
    failed: int = 0
    failed_early_flag: int = 0
    early_flag_pods: int = 0
    denials: int = 0

    def add(self, round_: Round, outcome: PodOutcome) -> None:
        self.pods += 1
        self.failed += outcome.failed
        self.denials += outcome.denials
        if not round_.late:
            self.early_flag_pods += 1
            self.failed_early_flag += outcome.failed


class Scenario:
    def __init__(self, cluster: Cluster, jobs: JobController, kubelet: LocalKubelet,
                 pod_template: dict):
        self.cluster, self.jobs, self.kubelet = cluster, jobs, kubelet
        self.pod_template = pod_template

    def _reset(self, round_: Round) -> None:
        """The flag has been "false" for a while (the cache agrees); then the cache starts lagging."""
        self.cluster.set_flag("false")
        self.cluster.configure_cache(lag_ms=round_.lag_ms, frozen=False, sync=True)

    def _start_job(self, round_: Round) -> tuple[float, threading.Thread | None]:
        """Sets the flag true around the Job's start as the round says; returns the start time
        and, for a late flag, the thread that will set it."""
        if not round_.late:
            self.cluster.set_flag("true")
            time.sleep(-round_.flag_offset_ms / 1000)
            return time.monotonic(), None
        setter = threading.Timer(round_.flag_offset_ms / 1000, self.cluster.set_flag, args=("true",))
        started = time.monotonic()
        setter.start()
        return started, setter

    def without_guard(self, round_: Round) -> PodOutcome:
        self._reset(round_)
        _, setter = self._start_job(round_)
        try:
            ok, seen = uninstall_step(self.cluster)
        finally:
            if setter:
                setter.join()
        if ok:
            return PodOutcome(False, f"ok (cache: {seen})")
        return PodOutcome(True, f"FAILED (cache: {seen})")

    def with_guard(self, round_: Round) -> PodOutcome:
        self._reset(round_)
        job_started, setter = self._start_job(round_)
        try:
            admission = self.jobs.create_pod(self.pod_template, job_started)
        finally:
            if setter:
                setter.join()
        denied = len(admission.denials)
        admitted = f"admitted {admission.admitted_after_s:.2f}s after the Job started"
        if denied:
            admitted += f", {denied} denied"
        init_ok, why, init_s = self.kubelet.run_init_containers(admission.pod)
        if not init_ok:
            return PodOutcome(True, f"FAILED in Init ({admitted}): {why}", denied)
        ok, seen = uninstall_step(self.cluster)
        verdict = "ok" if ok else "FAILED"
        return PodOutcome(not ok, f"{verdict} ({admitted}, init {init_s:.2f}s, cache: {seen})", denied)


def make_rounds(count: int, rng: random.Random, max_lag_ms: int, max_lead_ms: int,
                late_fraction: float, max_late_ms: int) -> list[Round]:
    rounds = []
    for number in range(1, count + 1):
        lag = rng.randint(0, max_lag_ms)
        if rng.random() < late_fraction:
            offset = rng.randint(max_late_ms // 8, max_late_ms)
        else:
            offset = -rng.randint(0, max_lead_ms)
        rounds.append(Round(number, lag, offset))
    return rounds


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guard-binary", required=True, help="the longhorn-uninstall-guard binary")
    parser.add_argument("--supervisor-binary", required=True,
                        help="the longhorn-uninstall-supervisor binary the init container installs")
    parser.add_argument("--guard-url", required=True, help="https://HOST:PORT of `serve`")
    parser.add_argument("--api", required=True, help="https://HOST:PORT of the Kubernetes API stand-in")
    parser.add_argument("--ca-file", required=True, help="CA of both servers' certificates")
    parser.add_argument("--token-file", required=True, help="bearer token the stand-in accepts")
    parser.add_argument("--review", required=True,
                        help="AdmissionReview of an uninstall pod (tests/fixtures/uninstall-pod-*.json)")
    parser.add_argument("--setting", default="deleting-confirmation-flag",
                        help="the Setting the guard was started with (in the review's namespace)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    parser.add_argument("--max-lag-ms", type=int, default=1500,
                        help="the watch cache lags 0..this behind the store in each round")
    parser.add_argument("--max-lead-ms", type=int, default=300,
                        help="the flag is set 0..this before the Job starts")
    parser.add_argument("--late-fraction", type=float, default=0.2,
                        help="share of rounds where the flag is set after the Job starts")
    parser.add_argument("--max-late-ms", type=int, default=2500,
                        help="in those rounds, how late the flag is set at most")
    parser.add_argument("--init-limit-s", type=float, default=30.0,
                        help="an init container running longer counts as a failed pod")
    parser.add_argument("--summary-file", help="write the counts as JSON here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    rng = random.Random(seed)
    with open(args.review, encoding="utf-8") as handle:
        review = json.load(handle)
    with open(args.token_file, encoding="utf-8") as handle:
        token = handle.read().strip()

    cluster = Cluster(api=JsonEndpoint(args.api, args.ca_file, token=token, timeout=API_CALL_LIMIT_S),
                      control=JsonEndpoint(args.api, args.ca_file, timeout=API_CALL_LIMIT_S),
                      setting=SettingRef(review["request"]["namespace"], args.setting))
    jobs = JobController(JsonEndpoint(args.guard_url, args.ca_file, timeout=API_CALL_LIMIT_S), review)
    volumes_dir = tempfile.mkdtemp(prefix="lug-scenario-volumes.")
    kubelet = LocalKubelet(args.guard_binary, args.supervisor_binary, args.api, args.ca_file, args.token_file,
                           args.init_limit_s, volumes_dir)
    scenario = Scenario(cluster, jobs, kubelet, review["request"]["object"])
    rounds = make_rounds(args.rounds, rng, args.max_lag_ms, args.max_lead_ms,
                         args.late_fraction, args.max_late_ms)

    log(f"# {args.rounds} rounds, seed {seed} (rerun with --seed {seed})")
    without, with_guard = Tally(), Tally()
    started = time.monotonic()
    try:
        for round_ in rounds:
            bare = scenario.without_guard(round_)
            guarded = scenario.with_guard(round_)
            without.add(round_, bare)
            with_guard.add(round_, guarded)
            log(f"round {round_.number:2d}: {round_.describe()}\n"
                f"    without guard: {bare.detail}\n"
                f"    with guard:    {guarded.detail}")
    except (ScenarioError, OSError, http.client.HTTPException, KeyError, ValueError) as error:
        log(f"scenario error: {error!r}")
        return 2
    finally:
        shutil.rmtree(volumes_dir, ignore_errors=True)
    elapsed = time.monotonic() - started

    log(f"without guard: {without.failed}/{without.pods} pods failed "
        f"({without.failed_early_flag}/{without.early_flag_pods} where the flag was set before the Job started)")
    log(f"with guard: {with_guard.failed}/{with_guard.pods} pods failed "
        f"({with_guard.denials} pod creations denied and retried by the Job, none of them a pod)")
    log(f"# {elapsed:.1f}s")
    if args.summary_file:
        summary = {"seed": seed, "rounds": args.rounds, "seconds": round(elapsed, 1),
                   "without_guard": dataclasses.asdict(without),
                   "with_guard": dataclasses.asdict(with_guard)}
        with open(args.summary_file, "w", encoding="utf-8") as handle:
            json.dump(summary, handle)
    return 0 if without.failed > 0 and with_guard.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
