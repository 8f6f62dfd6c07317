"""The real control plane from Python: kubectl calls, Longhorn's objects, the guard as shipped.

Everything goes through the kubectl built from the pinned Kubernetes module (the one
control-plane.sh put in LUG_CLUSTER_BIN), so what the tests do is what a user would type.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent

LONGHORN_NAMESPACE = "longhorn-system"
GUARD_NAMESPACE = "longhorn-uninstall-guard"
GUARD_NAME = "longhorn-uninstall-guard"
FLAG = "deleting-confirmation-flag"
JOB = "longhorn-uninstall"
# The repositories the shipped manifests and Longhorn's Job name; the pod runner maps each to
# the binaries that stand for its image here.
GUARD_IMAGE_REPOSITORY = "ghcr.io/longhorn-uninstall-guard/longhorn-uninstall-guard"
LONGHORN_MANAGER_REPOSITORY = "longhornio/longhorn-manager"
# Where the images keep their binaries (our Dockerfile; longhorn-manager's package/Dockerfile).
GUARD_BINARY_PATH = "/usr/local/bin/longhorn-uninstall-guard"
SUPERVISOR_BINARY_PATH = "/usr/local/bin/longhorn-uninstall-supervisor"
LONGHORN_MANAGER_PATH = "/usr/local/sbin/longhorn-manager"

# A cold guard replica is ready in about a second; the Deployment controller, the pod runner
# and the EndpointSlice controller each add a sync or two on a loaded machine.
GUARD_READY_TIMEOUT_S = 120
# longhorn-manager v1.10's uninstall lists and watches ~22 kinds at client-go's default 5
# requests/s after a burst of 10, so a healthy Job takes about 10 s; the guard's hold and
# init container add seconds. Far above both, far below the Job's own activeDeadlineSeconds.
JOB_TIMEOUT_S = 300


class ClusterError(RuntimeError):
    pass


def env() -> dict:
    """The control plane's environment, from control-plane.sh's env file."""
    state = os.environ.get("LUG_CLUSTER_STATE")
    if not state:
        raise ClusterError("LUG_CLUSTER_STATE is not set: source the env file control-plane.sh start wrote")
    return {"state": pathlib.Path(state), "bin": pathlib.Path(os.environ["LUG_CLUSTER_BIN"])}


def kubectl(*args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [str(env()["bin"] / "kubectl"), *args]
    result = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def kubectl_json(*args: str, check: bool = True):
    result = kubectl(*args, "-o", "json", check=check)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


def apply(yaml_text: str, manager: str = "lug-cluster-test") -> None:
    """Server-side apply, as the README tells users to install."""
    kubectl("apply", "--server-side", "--force-conflicts", f"--field-manager={manager}", "-f", "-", input=yaml_text)


def wait_until(what: str, timeout: float, predicate, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------------------ images

def write_images_file(path: pathlib.Path, guard_binary: pathlib.Path, supervisor_binary: pathlib.Path | None) -> None:
    """The pod runner's image map: which local files stand for which image's files."""
    bin_dir = env()["bin"]
    guard_files = {GUARD_BINARY_PATH: str(guard_binary.resolve())}
    if supervisor_binary is not None:
        guard_files[SUPERVISOR_BINARY_PATH] = str(supervisor_binary.resolve())
    images = {
        "images": [
            {"repository": GUARD_IMAGE_REPOSITORY, "files": guard_files, "entrypoint": [GUARD_BINARY_PATH]},
            {
                "repository": LONGHORN_MANAGER_REPOSITORY,
                "files": {LONGHORN_MANAGER_PATH: str((bin_dir / "longhorn-manager").resolve())},
                # The image's CMD; the uninstall Job always names its command.
                "entrypoint": ["launch-manager"],
                "env": {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
            },
        ]
    }
    path.write_text(json.dumps(images, indent=2))


# ------------------------------------------------------------------------------ Longhorn

def install_longhorn() -> None:
    """Longhorn's CRDs (from the longhorn-manager module), its namespace, and every Setting
    longhorn-manager defines at its default value. No longhorn-manager DaemonSet: uninstall
    then warns that the manager is not ready and goes on (--force), as upstream documents."""
    crds = rendered_crds()
    apply(crds)
    kubectl("wait", "--for=condition=Established", "--timeout=120s", "-f", "-", input=crds, timeout=150)
    apply(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {LONGHORN_NAMESPACE}\n")
    settings = subprocess.run([str(env()["bin"] / "longhorn-settings"), "-namespace", LONGHORN_NAMESPACE],
                              capture_output=True, text=True, check=True).stdout
    apply(settings)


# k8s/crds.yaml is written for the Helm chart (its own first line says so): each CRD's labels
# are this template call. Rendered here with the labels the chart's helper gives a release
# named "longhorn"; nothing else in the file is templated.
CRD_LABELS_TEMPLATE = 'labels: {{- include "longhorn.labels" . | nindent 4 }}'
CHART_LABELS = {
    "app.kubernetes.io/name": "longhorn",
    "app.kubernetes.io/instance": "longhorn",
    "app.kubernetes.io/version": "v1.10.0",
}


def rendered_crds() -> str:
    text = crds_file().read_text()
    labels = "labels:" + "".join(f"\n    {k}: {v}" for k, v in CHART_LABELS.items())
    text = text.replace(CRD_LABELS_TEMPLATE, labels)
    if "{{" in text:
        raise ClusterError("k8s/crds.yaml has a template this test does not render")
    return text


def crds_file() -> pathlib.Path:
    """k8s/crds.yaml of the pinned longhorn-manager module, from Go's module cache."""
    tools = HERE / "tools"
    out = subprocess.run(["go", "list", "-m", "-f", "{{.Dir}}", "github.com/longhorn/longhorn-manager"],
                         cwd=tools, capture_output=True, text=True, check=True,
                         env={**os.environ, "GOFLAGS": "-mod=mod"}).stdout.strip()
    path = pathlib.Path(out) / "k8s" / "crds.yaml"
    if not path.is_file():
        raise ClusterError(f"{path} not found in the longhorn-manager module")
    return path


# longhorn-manager's uninstall does its work only when one of its informers reports an
# object (UninstallController's event handlers; nothing else enqueues it): on a cluster with
# no Longhorn object at all it says "Uninstalling..." and then waits forever. A real Longhorn
# always has some; this one has the Longhorn Node that longhorn-manager keeps for each
# Kubernetes node, which the uninstall marks for deletion.
LONGHORN_NODE = f"""apiVersion: longhorn.io/v1beta2
kind: Node
metadata:
  name: lug-node-1
  namespace: {LONGHORN_NAMESPACE}
spec: {{}}
"""


def reset_longhorn_objects() -> None:
    """Puts back the Longhorn objects an uninstall removes (not the Settings: it leaves them)."""
    apply(LONGHORN_NODE)


def create_uninstall_job(shape: str, api_port: int | None = None) -> None:
    """Creates the uninstall Job; with api_port, its container talks to the API server on that
    port of the same address (the slowlist proxy), through the in-cluster variables a
    container's own env overrides."""
    text = uninstall_job_yaml(shape)
    if api_port is not None:
        import yaml
        job = yaml.safe_load(text)
        container = job["spec"]["template"]["spec"]["containers"][0]
        container.setdefault("env", []).append({"name": "KUBERNETES_SERVICE_PORT", "value": str(api_port)})
        text = yaml.safe_dump(job)
    kubectl("create", "-f", "-", input=text)


class SlowSettingsList:
    """The slowlist proxy (tools/cmd/slowlist) beside the API server, for as long as the
    context lasts."""

    PORT = 6444

    def __init__(self, probability: float, delay: str = "4s"):
        self.probability, self.delay, self.process = probability, delay, None

    def __enter__(self):
        e = env()
        pki = e["state"] / "pki"
        host = os.environ["LUG_API_HOST"]
        log = open(e["state"] / "logs" / "slowlist.log", "a")
        self.process = subprocess.Popen(
            [str(e["bin"] / "slowlist"), "--listen", f"{host}:{self.PORT}",
             "--upstream", f"https://{host}:{os.environ['LUG_API_PORT']}",
             "--cert", str(pki / "serving.crt"), "--key", str(pki / "serving.key"), "--ca", str(pki / "ca.crt"),
             "--probability", str(self.probability), "--delay", self.delay],
            stdout=log, stderr=log)
        time.sleep(0.5)
        if self.process.poll() is not None:
            raise ClusterError("slowlist exited at once; see logs/slowlist.log")
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


def set_flag(value: str) -> None:
    kubectl("-n", LONGHORN_NAMESPACE, "patch", "-p", json.dumps({"value": value}), "--type=merge", "lhs", FLAG)


def _uninstall_documents(shape: str) -> list[str]:
    return (HERE / "longhorn" / f"uninstall-{shape}.yaml").read_text().split("\n---\n")


def _is_job(document: str) -> bool:
    return "\nkind: Job\n" in "\n" + document


def uninstall_job_yaml(shape: str) -> str:
    """The uninstall Job alone, as kubectl create or Helm's hook creates it."""
    return "\n---\n".join(d for d in _uninstall_documents(shape) if _is_job(d))


def uninstall_prerequisites_yaml(shape: str) -> str:
    """What the Job needs to exist first: its ServiceAccount, RBAC and (Helm) PriorityClass."""
    return "\n---\n".join(d for d in _uninstall_documents(shape) if not _is_job(d))


# ------------------------------------------------------------------------------ the guard

def render_guard(work: pathlib.Path) -> str:
    """The kustomize base with the static-certs overlay, certificates made by certs/generate.sh,
    rendered by the real kubectl's kustomize. Works on a copy: generated keys never land in
    the source tree."""
    copy = copy_manifests(work)
    subprocess.run([str(REPO / "certs" / "generate.sh"), str(copy / "overlays" / "static-certs" / "generated")],
                   check=True, capture_output=True)
    return kubectl("kustomize", str(copy / "overlays" / "static-certs")).stdout


def copy_manifests(work: pathlib.Path) -> pathlib.Path:
    copy = work / "manifests"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(REPO / "manifests", copy)
    return copy


# cert-manager's CRDs, for the cert-manager overlay's dry run: plain YAML in its Go module's
# deploy/crds/, fetched by name and version through the module proxy (never added to tools/,
# whose build list it would change).
CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager@v1.19.1"


def cert_manager_crds() -> str:
    fetched = subprocess.run(["go", "mod", "download", "-json", CERT_MANAGER_MODULE], capture_output=True,
                             text=True, cwd=tempfile.gettempdir())
    if fetched.returncode != 0:
        raise ClusterError(f"go mod download {CERT_MANAGER_MODULE} failed: {fetched.stdout}{fetched.stderr}")
    crds = sorted((pathlib.Path(json.loads(fetched.stdout)["Dir"]) / "deploy" / "crds").glob("*.yaml"))
    if not crds:
        raise ClusterError(f"{CERT_MANAGER_MODULE} has no deploy/crds/*.yaml")
    return "\n---\n".join(path.read_text() for path in crds)


def render_overlay(work: pathlib.Path, overlay: str) -> str:
    """An overlay of manifests/ rendered by the real kubectl's kustomize, from a copy."""
    return kubectl("kustomize", str(copy_manifests(work) / "overlays" / overlay)).stdout


def deploy_guard(work: pathlib.Path) -> None:
    apply(render_guard(work))
    wait_guard_ready()


def guard_ready_endpoints() -> list[str]:
    slices = kubectl_json("-n", GUARD_NAMESPACE, "get", "endpointslices",
                          "-l", f"kubernetes.io/service-name={GUARD_NAME}", check=False) or {"items": []}
    return [address
            for s in slices["items"] for e in (s.get("endpoints") or [])
            if (e.get("conditions") or {}).get("ready") for address in e.get("addresses", [])]


def wait_guard_ready(replicas: int | None = None) -> None:
    def ready():
        deployment = kubectl_json("-n", GUARD_NAMESPACE, "get", "deployment", GUARD_NAME, check=False)
        if not deployment:
            return False
        want = replicas if replicas is not None else deployment["spec"].get("replicas", 1)
        status = deployment.get("status", {})
        return status.get("readyReplicas", 0) >= want and len(guard_ready_endpoints()) >= want
    wait_until("the guard's replicas to be ready and published as endpoints", GUARD_READY_TIMEOUT_S, ready, 0.5)


def remove_webhooks() -> None:
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
        kubectl("delete", kind, GUARD_NAME, "--ignore-not-found")


def webhooks_present() -> bool:
    return kubectl("get", "validatingwebhookconfiguration", GUARD_NAME, check=False).returncode == 0


# ------------------------------------------------------------------------------ Jobs and pods

def job_pods() -> list[dict]:
    pods = kubectl_json("-n", LONGHORN_NAMESPACE, "get", "pods", "-l", f"job-name={JOB}")
    return pods["items"]


def job_finished(job: dict | None) -> str | None:
    """Complete or Failed once the Job controller says so, else None."""
    if not job:
        return None
    for condition in job.get("status", {}).get("conditions", []) or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed"):
            return condition["type"]
    return None


def delete_finished_job() -> None:
    """Removes the previous round's Job and its pods. Never deletes a running pod: the Job
    controller counts a deleted unfinished pod as failed, so it waits for the Job to finish."""
    job = kubectl_json("-n", LONGHORN_NAMESPACE, "get", "job", JOB, check=False)
    if job:
        wait_until("the previous uninstall Job to finish", JOB_TIMEOUT_S,
                   lambda: job_finished(kubectl_json("-n", LONGHORN_NAMESPACE, "get", "job", JOB, check=False)) or
                   not kubectl_json("-n", LONGHORN_NAMESPACE, "get", "job", JOB, check=False))
        kubectl("-n", LONGHORN_NAMESPACE, "delete", "job", JOB, "--cascade=foreground", "--ignore-not-found",
                "--wait=true", timeout=180)
    wait_until("the uninstall Job's pods to be gone", 120, lambda: not job_pods())


def container_log(pod: dict, container: str) -> str:
    logs = env()["state"] / "runner" / "logs"
    path = logs / f"{pod['metadata']['namespace']}_{pod['metadata']['name']}_{container}.log"
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def parse_time(text: str) -> float:
    """RFC 3339 with any number of fractional digits (logrus writes nanoseconds, the audit
    log microseconds) to seconds since the epoch."""
    import datetime
    text = text.strip().rstrip("Z")
    whole, _, fraction = text.partition(".")
    seconds = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.timezone.utc).timestamp()
    return seconds + (float("0." + fraction) if fraction else 0.0)


def settings_lists_of_pod(pod_name: str) -> list[float]:
    """When the API server finished answering each Settings LIST a pod's token made (the audit
    log's ResponseComplete stage; watches and single GETs left out)."""
    path = env()["state"] / "logs" / "audit.log"
    done = []
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return done
    for line in lines:
        if pod_name not in line:
            continue
        event = json.loads(line)
        pods = (event.get("user", {}).get("extra", {}) or {}).get("authentication.kubernetes.io/pod-name", [])
        if pod_name not in pods or event.get("verb") != "list" or event.get("stage") != "ResponseComplete":
            continue
        done.append(parse_time(event["stageTimestamp"]))
    return sorted(done)


def events_for(kind: str, name: str) -> list[dict]:
    events = kubectl_json("-n", LONGHORN_NAMESPACE, "get", "events",
                          "--field-selector", f"involvedObject.kind={kind},involvedObject.name={name}")
    return events["items"]


def decode_secret_value(secret: dict, key: str) -> bytes:
    return base64.b64decode(secret["data"][key])


def new_work_dir(prefix: str) -> pathlib.Path:
    return pathlib.Path(tempfile.mkdtemp(prefix=prefix))
