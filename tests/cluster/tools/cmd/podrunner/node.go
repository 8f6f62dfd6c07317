package main

// Node registration and heartbeat: the runner's Node is created (or taken over) with the
// labels and status a kubelet reports, its Lease in kube-node-lease is renewed as the kubelet
// renews it, and its Ready condition's heartbeat is refreshed, so a node lifecycle controller,
// if one runs, never finds it stale.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const (
	// leaseDurationSeconds and leaseRenewInterval are the kubelet's defaults
	// (nodeLeaseDurationSeconds 40, renewed every quarter of it).
	leaseDurationSeconds = 40
	leaseRenewInterval   = 10 * time.Second
	// nodeStatusInterval: the kubelet reports an unchanged status every 5 minutes at most
	// and relies on the Lease in between; once a minute keeps the heartbeat times fresh for
	// anyone who reads them, at negligible cost.
	nodeStatusInterval = time.Minute
	// maxPods is the kubelet's default --max-pods.
	maxPods = 110
	// nodeLeaseNamespace holds the node heartbeats.
	nodeLeaseNamespace = "kube-node-lease"
	// runnerVersion is reported as the kubelet version: the Kubernetes release whose API the
	// runner speaks, marked so nobody mistakes the Node for a real kubelet's.
	runnerVersion = "v1.34.1-podrunner"
)

// memTotal reads the machine's memory in bytes.
func memTotal() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/meminfo has no MemTotal")
}

func nodeConditions(now metav1.Time, transitions []v1.NodeCondition) []v1.NodeCondition {
	conds := []v1.NodeCondition{
		{Type: v1.NodeMemoryPressure, Status: v1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "no memory pressure is measured"},
		{Type: v1.NodeDiskPressure, Status: v1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "no disk pressure is measured"},
		{Type: v1.NodePIDPressure, Status: v1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "no PID pressure is measured"},
		{Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady", Message: "the pod runner is posting ready status"},
	}
	for i := range conds {
		conds[i].LastHeartbeatTime = now
		conds[i].LastTransitionTime = now
		for _, old := range transitions {
			if old.Type == conds[i].Type && old.Status == conds[i].Status && !old.LastTransitionTime.IsZero() {
				conds[i].LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	return conds
}

// nodeStatus is the whole status the runner reports.
func nodeStatus(name, hostIP string, mem int64, old []v1.NodeCondition) v1.NodeStatus {
	capacity := v1.ResourceList{
		v1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		v1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI),
		v1.ResourcePods:   *resource.NewQuantity(maxPods, resource.DecimalSI),
	}
	return v1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity.DeepCopy(),
		Phase:       v1.NodeRunning,
		Conditions:  nodeConditions(metav1.Now(), old),
		Addresses: []v1.NodeAddress{
			{Type: v1.NodeInternalIP, Address: hostIP},
			{Type: v1.NodeHostName, Address: name},
		},
		NodeInfo: v1.NodeSystemInfo{
			KubeletVersion:  runnerVersion,
			OperatingSystem: runtime.GOOS,
			Architecture:    runtime.GOARCH,
		},
	}
}

func nodeLabels(name string) map[string]string {
	return map[string]string{
		"kubernetes.io/hostname":  name,
		"kubernetes.io/os":        runtime.GOOS,
		"kubernetes.io/arch":      runtime.GOARCH,
		"beta.kubernetes.io/os":   runtime.GOOS, // still set by the kubelet
		"beta.kubernetes.io/arch": runtime.GOARCH,
	}
}

// registerNode creates the Node, or takes over one of that name left by an earlier run, and
// writes its status.
func registerNode(ctx context.Context, client kubernetes.Interface, name, hostIP string) (*v1.Node, error) {
	mem, err := memTotal()
	if err != nil {
		return nil, err
	}
	node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		node = &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nodeLabels(name)}}
		node, err = client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("creating Node %s: %w", name, err)
		}
	case err != nil:
		return nil, fmt.Errorf("reading Node %s: %w", name, err)
	default:
		if node.Labels == nil {
			node.Labels = map[string]string{}
		}
		for k, v := range nodeLabels(name) {
			node.Labels[k] = v
		}
		// Unschedulable may have been set by a drain of the earlier run; a new runner is a
		// fresh kubelet registering.
		node.Spec.Unschedulable = false
		if node, err = client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
			return nil, fmt.Errorf("updating Node %s: %w", name, err)
		}
	}
	node.Status = nodeStatus(name, hostIP, mem, node.Status.Conditions)
	node, err = client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("writing Node %s status: %w", name, err)
	}
	return node, nil
}

// renewLease creates or renews the Node's Lease, owned by the Node as the kubelet's is (so it
// goes when the Node goes).
func renewLease(ctx context.Context, client kubernetes.Interface, node *v1.Node) error {
	leases := client.CoordinationV1().Leases(nodeLeaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	duration := int32(leaseDurationSeconds)
	lease, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: node.Name, Namespace: nodeLeaseNamespace,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}},
			},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &node.Name, LeaseDurationSeconds: &duration, RenewTime: &now},
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.HolderIdentity = &node.Name
	lease.Spec.LeaseDurationSeconds = &duration
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// heartbeat keeps the Lease and the Node's status fresh until ctx ends. Failures are logged
// and retried at the next tick: a transient API error must not stop the runner.
func heartbeat(ctx context.Context, client kubernetes.Interface, node *v1.Node, hostIP string) {
	if err := renewLease(ctx, client, node); err != nil {
		logf("node %s: lease: %v", node.Name, err)
	}
	leaseTick := time.NewTicker(leaseRenewInterval)
	statusTick := time.NewTicker(nodeStatusInterval)
	defer leaseTick.Stop()
	defer statusTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-leaseTick.C:
			if err := renewLease(ctx, client, node); err != nil && ctx.Err() == nil {
				logf("node %s: lease: %v", node.Name, err)
			}
		case <-statusTick.C:
			if err := refreshNodeStatus(ctx, client, node.Name, hostIP); err != nil && ctx.Err() == nil {
				logf("node %s: status: %v", node.Name, err)
			}
		}
	}
}

func refreshNodeStatus(ctx context.Context, client kubernetes.Interface, name, hostIP string) error {
	mem, err := memTotal()
	if err != nil {
		return err
	}
	node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	node.Status = nodeStatus(name, hostIP, mem, node.Status.Conditions)
	_, err = client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}
