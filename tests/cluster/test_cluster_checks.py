"""The guard as shipped, on the real control plane: what a stand-in cannot show.

Run by CTest (cluster.checks) or directly:

  python3 -m pytest tests/cluster/test_cluster_checks.py --guard-binary build/dev/webhook/longhorn-uninstall-guard

One control plane for the module (control-plane.sh), Longhorn and the guard on it (prepare.py).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import time

import pytest

import cluster

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
GUARD_SA = f"system:serviceaccount:{cluster.GUARD_NAMESPACE}:{cluster.GUARD_NAME}"
# The validating webhook's timeoutSeconds is 30 and the guard holds up to --max-hold 25s; the
# Job controller then retries after 1 s, 2 s, 4 s ... Two denials and an admission fit well
# inside this.
DENY_AND_RETRY_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def control_plane(tmp_path_factory, request):
    guard_binary = pathlib.Path(request.config.getoption("--guard-binary")).resolve()
    supervisor = request.config.getoption("--supervisor-binary")
    state = tmp_path_factory.mktemp("cluster")
    bin_dir = subprocess.run([str(HERE / "build-tools.sh")], check=True, capture_output=True, text=True).stdout.strip()
    os.environ["LUG_CLUSTER_BIN"] = bin_dir
    os.environ["LUG_CLUSTER_STATE"] = str(state)
    cluster.write_images_file(state / "images.json", guard_binary, pathlib.Path(supervisor) if supervisor else None)
    start = subprocess.run([str(HERE / "control-plane.sh"), "start", str(state), bin_dir],
                           env={**os.environ, "LUG_IMAGES_FILE": str(state / "images.json")},
                           capture_output=True, text=True)
    if start.returncode != 0:
        subprocess.run([str(HERE / "control-plane.sh"), "stop", str(state), bin_dir])
        pytest.fail(f"control plane did not start:\n{start.stderr}")
    os.environ["KUBECONFIG"] = str(state / "admin.kubeconfig")
    try:
        subprocess.run(["python3", str(HERE / "prepare.py"), "--guard", "on", "--work", str(state / "work")],
                       check=True, cwd=HERE)
        yield state
    finally:
        # LUG_KEEP_CLUSTER=1 leaves it running to look at after a failure (control-plane.sh stop DIR).
        if os.environ.get("LUG_KEEP_CLUSTER") != "1":
            subprocess.run([str(HERE / "control-plane.sh"), "stop", str(state), bin_dir])
        else:
            print(f"control plane left running in {state}")


def can_i(verb: str, resource: str, namespace: str, user: str = GUARD_SA) -> bool:
    result = cluster.kubectl("auth", "can-i", verb, resource, "-n", namespace, f"--as={user}", check=False)
    return result.stdout.strip() == "yes"


def create_job(shape: str = "kubectl") -> None:
    cluster.reset_longhorn_objects()
    cluster.create_uninstall_job(shape)


def wait_job(timeout: float = cluster.JOB_TIMEOUT_S) -> str:
    return cluster.wait_until("the uninstall Job to finish", timeout,
                              lambda: cluster.job_finished(cluster.kubectl_json(
                                  "-n", cluster.LONGHORN_NAMESPACE, "get", "job", cluster.JOB, check=False)), 0.3)


def failed_create_messages() -> list[str]:
    return [e.get("message", "") for e in cluster.events_for("Job", cluster.JOB) if e.get("reason") == "FailedCreate"]


def test_shipped_manifests_pass_server_side_apply(control_plane):
    rendered = cluster.render_guard(control_plane / "dry-run")
    result = cluster.kubectl("apply", "--server-side", "--dry-run=server", "--field-manager=lug-cluster-test",
                             "-f", "-", input=rendered, check=False)
    assert result.returncode == 0, result.stderr
    for kind, name, namespace in [("deployment", cluster.GUARD_NAME, cluster.GUARD_NAMESPACE),
                                  ("service", cluster.GUARD_NAME, cluster.GUARD_NAMESPACE),
                                  ("poddisruptionbudget", cluster.GUARD_NAME, cluster.GUARD_NAMESPACE),
                                  ("role", "longhorn-uninstall-guard-setting-reader", cluster.LONGHORN_NAMESPACE)]:
        assert cluster.kubectl("-n", namespace, "get", kind, name, check=False).returncode == 0, (kind, name)
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
        configuration = cluster.kubectl_json("get", kind, cluster.GUARD_NAME)
        assert configuration["webhooks"][0]["clientConfig"].get("caBundle"), f"{kind} has no caBundle"


def test_cert_manager_overlay_passes_server_side_dry_run(control_plane):
    # cert-manager's real CRDs make the API server validate the overlay's Issuers and
    # Certificates; cert-manager itself does not run here, so nothing is issued.
    crds = cluster.cert_manager_crds()
    cluster.apply(crds)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=120s", "-f", "-", input=crds, timeout=150)
    rendered = cluster.render_overlay(control_plane / "cert-manager", "cert-manager")
    assert "kind: Certificate" in rendered and "cert-manager.io/inject-ca-from" in rendered
    result = cluster.kubectl("apply", "--server-side", "--dry-run=server", "--field-manager=lug-cluster-test",
                             "-f", "-", input=rendered, check=False)
    assert result.returncode == 0, result.stderr


def test_guard_role_gets_the_setting_and_nothing_else(control_plane):
    ns = cluster.LONGHORN_NAMESPACE
    assert can_i("get", f"settings.longhorn.io/{cluster.FLAG}", ns)
    assert not can_i("list", "settings.longhorn.io", ns)
    assert not can_i("watch", "settings.longhorn.io", ns)
    assert not can_i("get", "settings.longhorn.io/default-replica-count", ns)
    assert not can_i("patch", f"settings.longhorn.io/{cluster.FLAG}", ns)
    assert not can_i("get", "pods", ns)
    assert not can_i("get", "secrets", cluster.GUARD_NAMESPACE)
    assert not can_i("get", f"settings.longhorn.io/{cluster.FLAG}", "default")


def test_guard_replicas_are_served_through_their_endpoints(control_plane):
    addresses = cluster.guard_ready_endpoints()
    assert len(addresses) == 2, addresses
    assert all(not a.startswith("127.") for a in addresses)


def test_flag_true_pod_is_patched_and_its_init_container_runs_with_the_jobs_token(control_plane):
    cluster.delete_finished_job()
    cluster.set_flag("true")
    create_job("helm")
    try:
        pod = cluster.wait_until("the uninstall pod", cluster.JOB_TIMEOUT_S, lambda: (cluster.job_pods() or [None])[0])
    except cluster.ClusterError as error:
        events = [(e.get("reason"), e.get("message")) for e in cluster.events_for("Job", cluster.JOB)]
        raise AssertionError(f"{error}; the Job's events: {events}") from error
    init = [c["name"] for c in pod["spec"].get("initContainers", [])]
    assert init and init[0] == "wait-for-deleting-confirmation", init
    assert wait_job() == "Complete"
    pods = cluster.job_pods()
    assert all(p["status"]["phase"] == "Succeeded" for p in pods), [p["status"]["phase"] for p in pods]
    statuses = pods[0]["status"]["initContainerStatuses"]
    assert statuses[0]["state"]["terminated"]["exitCode"] == 0, statuses
    log = cluster.container_log(pods[0], "wait-for-deleting-confirmation")
    assert "true" in log, log
    uninstall_log = cluster.container_log(pods[0], "longhorn-uninstall")
    assert "Uninstalling..." in uninstall_log, uninstall_log[-2000:]
    cluster.delete_finished_job()


def test_flag_false_pod_is_held_then_denied_and_admitted_after_patch(control_plane):
    cluster.delete_finished_job()
    cluster.set_flag("false")
    sent = time.monotonic()
    create_job("kubectl")
    first = cluster.wait_until("a FailedCreate event from the guard", DENY_AND_RETRY_TIMEOUT_S,
                               lambda: failed_create_messages(), 0.5)
    held = time.monotonic() - sent
    message = first[0]
    assert "denied the request" in message and "longhorn-uninstall-guard held this pod" in message, message
    assert 'still reads value "false"' in message, message
    # The hold lasted until near the deadline: the guard answers before the API server gives up.
    assert held >= 15, f"denied after {held:.1f}s, not held"
    assert cluster.job_pods() == [], "a pod was created while the flag read false"
    cluster.wait_until("the Job controller to retry", DENY_AND_RETRY_TIMEOUT_S,
                       lambda: sum(e.get("count", 1) for e in cluster.events_for("Job", cluster.JOB)
                                   if e.get("reason") == "FailedCreate") >= 2, 1)
    assert cluster.job_pods() == []
    cluster.set_flag("true")
    assert wait_job(DENY_AND_RETRY_TIMEOUT_S + cluster.JOB_TIMEOUT_S) == "Complete"
    pods = cluster.job_pods()
    assert len(pods) == 1 and pods[0]["status"]["phase"] == "Succeeded", [p["status"] for p in pods]
    job = cluster.kubectl_json("-n", cluster.LONGHORN_NAMESPACE, "get", "job", cluster.JOB)
    assert job["status"].get("failed", 0) == 0
    cluster.delete_finished_job()


def test_guard_down_fails_closed_and_leaves_other_pods_alone(control_plane):
    cluster.delete_finished_job()
    cluster.set_flag("true")
    cluster.kubectl("-n", cluster.GUARD_NAMESPACE, "scale", "deployment", cluster.GUARD_NAME, "--replicas=0")
    cluster.wait_until("the guard's endpoints to be gone", 120, lambda: not cluster.guard_ready_endpoints(), 0.5)
    try:
        create_job("kubectl")
        messages = cluster.wait_until("a FailedCreate event", 90, failed_create_messages, 0.5)
        assert any("failed calling webhook" in m for m in messages), messages
        assert cluster.job_pods() == []
        # Another pod in Longhorn's namespace is not the guard's business.
        other = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "not-an-uninstall-pod", "namespace": cluster.LONGHORN_NAMESPACE,
                         "labels": {"app": "something-else"}},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "version", "image": f"{cluster.GUARD_IMAGE_REPOSITORY}:test",
                "command": [cluster.GUARD_BINARY_PATH, "--version"]}]},
        }
        created = cluster.kubectl("create", "-f", "-", input=json.dumps(other), check=False)
        assert created.returncode == 0, created.stderr
        cluster.kubectl("-n", cluster.LONGHORN_NAMESPACE, "delete", "pod", "not-an-uninstall-pod", "--wait=false")
    finally:
        cluster.kubectl("-n", cluster.GUARD_NAMESPACE, "scale", "deployment", cluster.GUARD_NAME, "--replicas=2")
    cluster.wait_guard_ready()
    # The Job controller's next retry goes through once a replica answers.
    assert wait_job(DENY_AND_RETRY_TIMEOUT_S + cluster.JOB_TIMEOUT_S) == "Complete"
    cluster.delete_finished_job()
