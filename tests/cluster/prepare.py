"""Puts Longhorn and the guard on a running control plane (scripts/cluster-test.sh runs this).

  prepare.py --guard on|off --work DIR

Longhorn: its CRDs, namespace and every Setting at its default, and what both uninstall Job
shapes need (ServiceAccounts, ClusterRoles, the PriorityClass). The guard: the kustomize
base with the static-certs overlay, applied server-side and run by the pod runner; with
--guard off its webhook configurations are removed again, so no request reaches it.
"""

import argparse
import pathlib
import sys

import cluster


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guard", choices=["on", "off", "none"], required=True,
                        help="none: Longhorn only (the chart's install test installs the guard itself)")
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    cluster.install_longhorn()
    cluster.reset_longhorn_objects()
    for shape in ("kubectl", "helm"):
        cluster.apply(cluster.uninstall_prerequisites_yaml(shape))
    if args.guard == "none":
        print("prepare: Longhorn installed; no guard")
        return 0
    cluster.deploy_guard(work)
    if args.guard == "off":
        cluster.remove_webhooks()
    print(f"prepare: Longhorn installed; guard deployed, webhooks {'registered' if args.guard == 'on' else 'removed'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except cluster.ClusterError as error:
        print(f"prepare: {error}", file=sys.stderr)
        sys.exit(1)
