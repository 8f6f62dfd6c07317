package main

// Status: the runner keeps what it knows of a pod in a podRecord and turns it into the
// PodStatus fields the kubelet owns, with the kubelet's phase rules (pkg/kubelet/
// kubelet_pods.go, getPhase) and conditions (pkg/kubelet/status/generate.go). Only those
// fields are written, so whatever others own (qosClass, DisruptionTarget, ...) is left alone.

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// termination is one finished run of a container.
type termination struct {
	exitCode    int32
	signal      int32
	reason      string // Completed, Error, StartError, OOMKilled never (no cgroups)
	message     string
	startedAt   time.Time
	finishedAt  time.Time
	containerID string
}

// containerRecord is what the runner knows of one container.
type containerRecord struct {
	name    string
	image   string
	imageID string

	// Exactly one of: waiting (waitReason set), running (runningSince set), terminated.
	waitReason   string
	waitMessage  string
	runningSince time.Time
	containerID  string
	terminated   *termination

	last         *termination
	restartCount int32
	ready        bool
}

func (c *containerRecord) running() bool { return !c.runningSince.IsZero() }

// podRecord is what the runner knows of one pod.
type podRecord struct {
	init       []containerRecord
	containers []containerRecord
	startTime  time.Time
	podIP      string
	hostIP     string
	// sandboxReady: the network namespace exists (PodReadyToStartContainers).
	sandboxReady bool
	// failed forces phase Failed (an unknown image, a failed init container under
	// restartPolicy Never); reason and message then say why.
	failed  bool
	reason  string
	message string
	// stopped: the pod was stopped (deleted, or the runner stopped) and nothing runs any
	// more; the phase is then terminal whatever the restartPolicy, as the kubelet reports a
	// deleted pod's phase.
	stopped bool
	// pendingMessage says why a pod is still Pending (a volume that cannot be built yet).
	pendingReason  string
	pendingMessage string
}

func newPodRecord(pod *v1.Pod) *podRecord {
	rec := &podRecord{}
	mk := func(cs []v1.Container) []containerRecord {
		out := make([]containerRecord, len(cs))
		for i, c := range cs {
			out[i] = containerRecord{name: c.Name, image: c.Image, waitReason: "PodInitializing"}
		}
		return out
	}
	rec.init = mk(pod.Spec.InitContainers)
	rec.containers = mk(pod.Spec.Containers)
	if len(rec.init) == 0 {
		for i := range rec.containers {
			rec.containers[i].waitReason = "ContainerCreating"
		}
	}
	return rec
}

func (r *podRecord) clone() *podRecord {
	c := *r
	c.init = append([]containerRecord(nil), r.init...)
	c.containers = append([]containerRecord(nil), r.containers...)
	return &c
}

// finishStopped records that a stopped pod will run nothing more: containers that never ran,
// or waited to restart, get the terminated state the kubelet gives them.
func (r *podRecord) finishStopped() {
	r.stopped = true
	now := time.Now()
	for _, list := range [][]containerRecord{r.init, r.containers} {
		for i := range list {
			c := &list[i]
			if c.running() || c.terminated != nil {
				continue
			}
			if c.last != nil {
				c.terminated, c.last = c.last, nil
				continue
			}
			c.terminated = &termination{exitCode: 137, reason: "ContainerStatusUnknown",
				message: "The container could not be located when the pod was terminated", finishedAt: now}
			c.waitReason, c.waitMessage = "", ""
		}
	}
}

// initDone: every init container has exited 0.
func (r *podRecord) initDone() bool {
	for _, c := range r.init {
		if c.terminated == nil || c.terminated.exitCode != 0 {
			return false
		}
	}
	return true
}

// podPhase follows the kubelet's getPhase for a pod without sidecar init containers.
func podPhase(policy v1.RestartPolicy, r *podRecord) v1.PodPhase {
	if r.failed {
		return v1.PodFailed
	}
	if !r.initDone() {
		if r.stopped {
			return v1.PodFailed
		}
		return v1.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, c := range r.containers {
		switch {
		case c.running():
			running++
		case c.terminated != nil:
			stopped++
			if c.terminated.exitCode == 0 {
				succeeded++
			}
		case c.last != nil:
			// Waiting to restart after a run: counts as stopped, as in the kubelet.
			stopped++
			if c.last.exitCode == 0 {
				succeeded++
			}
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return v1.PodPending
	case running > 0:
		return v1.PodRunning
	case stopped == 0:
		return v1.PodPending
	case policy == v1.RestartPolicyAlways && !r.stopped:
		return v1.PodRunning
	case stopped == succeeded:
		return v1.PodSucceeded
	case policy == v1.RestartPolicyNever || r.stopped:
		return v1.PodFailed
	}
	return v1.PodRunning
}

func termState(t *termination) v1.ContainerState {
	return v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
		ExitCode:    t.exitCode,
		Signal:      t.signal,
		Reason:      t.reason,
		Message:     t.message,
		StartedAt:   metav1.NewTime(t.startedAt),
		FinishedAt:  metav1.NewTime(t.finishedAt),
		ContainerID: t.containerID,
	}}
}

func containerStatus(c *containerRecord) v1.ContainerStatus {
	s := v1.ContainerStatus{
		Name:         c.name,
		Image:        c.image,
		ImageID:      c.imageID,
		RestartCount: c.restartCount,
		Ready:        c.ready,
	}
	started := c.running()
	s.Started = &started
	switch {
	case c.running():
		s.State = v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(c.runningSince)}}
		s.ContainerID = c.containerID
	case c.terminated != nil:
		s.State = termState(c.terminated)
		s.ContainerID = c.terminated.containerID
	default:
		s.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: c.waitReason, Message: c.waitMessage}}
	}
	if c.last != nil {
		s.LastTerminationState = termState(c.last)
	}
	return s
}

// buildStatus computes the kubelet-owned status fields. old supplies the transition times of
// conditions whose status did not change.
func buildStatus(pod *v1.Pod, r *podRecord, now time.Time) v1.PodStatus {
	st := v1.PodStatus{
		Phase:   podPhase(pod.Spec.RestartPolicy, r),
		HostIP:  r.hostIP,
		PodIP:   r.podIP,
		Message: r.message,
		Reason:  r.reason,
	}
	if r.hostIP != "" {
		st.HostIPs = []v1.HostIP{{IP: r.hostIP}}
	}
	if r.podIP != "" {
		st.PodIPs = []v1.PodIP{{IP: r.podIP}}
	}
	if !r.startTime.IsZero() {
		t := metav1.NewTime(r.startTime)
		st.StartTime = &t
	}
	if st.Phase == v1.PodPending && !r.failed && r.pendingMessage != "" {
		st.Reason, st.Message = r.pendingReason, r.pendingMessage
	}
	for i := range r.init {
		st.InitContainerStatuses = append(st.InitContainerStatuses, containerStatus(&r.init[i]))
	}
	for i := range r.containers {
		st.ContainerStatuses = append(st.ContainerStatuses, containerStatus(&r.containers[i]))
	}

	cond := func(t v1.PodConditionType, ok bool, reason, message string) v1.PodCondition {
		c := v1.PodCondition{Type: t, Status: v1.ConditionFalse, Reason: reason, Message: message}
		if ok {
			c.Status, c.Reason, c.Message = v1.ConditionTrue, "", ""
		}
		c.LastTransitionTime = metav1.NewTime(now)
		for _, o := range pod.Status.Conditions {
			if o.Type == t && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		return c
	}
	terminal := st.Phase == v1.PodSucceeded || st.Phase == v1.PodFailed

	var notInit []string
	for _, c := range r.init {
		if c.terminated == nil || c.terminated.exitCode != 0 {
			notInit = append(notInit, c.name)
		}
	}
	var notReady []string
	for _, c := range r.containers {
		if !c.ready {
			notReady = append(notReady, c.name)
		}
	}
	readyReason, readyMsg := "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
	if terminal {
		readyReason, readyMsg = "PodCompleted", ""
	}
	initReason, initMsg := "ContainersNotInitialized", fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(notInit, " "))
	if terminal && len(notInit) == 0 {
		initReason, initMsg = "PodCompleted", ""
	}
	allReady := len(notReady) == 0 && !terminal
	st.Conditions = []v1.PodCondition{
		cond(v1.PodReadyToStartContainers, r.sandboxReady && !terminal, "", ""),
		cond(v1.PodInitialized, len(notInit) == 0, initReason, initMsg),
		cond(v1.ContainersReady, allReady, readyReason, readyMsg),
		cond(v1.PodReady, allReady, readyReason, readyMsg),
		cond(v1.PodScheduled, true, "", ""),
	}
	return st
}

// statusPatch is a strategic merge patch of the kubelet-owned fields, with the pod's UID as
// precondition (a patch meant for a deleted pod must not land on a new one of the same name).
// Empty reason and message are sent as null so that an old value is removed.
func statusPatch(uid string, st v1.PodStatus) ([]byte, error) {
	status := map[string]any{
		"phase":                 st.Phase,
		"conditions":            st.Conditions,
		"hostIP":                nilIfEmpty(st.HostIP),
		"hostIPs":               st.HostIPs,
		"podIP":                 nilIfEmpty(st.PodIP),
		"podIPs":                st.PodIPs,
		"startTime":             st.StartTime,
		"initContainerStatuses": st.InitContainerStatuses,
		"containerStatuses":     st.ContainerStatuses,
		"reason":                nilIfEmpty(st.Reason),
		"message":               nilIfEmpty(st.Message),
	}
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": uid},
		"status":   status,
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
