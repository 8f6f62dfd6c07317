package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func twoContainerPod(policy v1.RestartPolicy) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"},
		Spec: v1.PodSpec{
			RestartPolicy:  policy,
			InitContainers: []v1.Container{{Name: "init", Image: "img"}},
			Containers:     []v1.Container{{Name: "a", Image: "img"}, {Name: "b", Image: "img"}},
		},
	}
}

func done(code int32) *termination {
	r := "Completed"
	if code != 0 {
		r = "Error"
	}
	return &termination{exitCode: code, reason: r, startedAt: time.Unix(100, 0), finishedAt: time.Unix(200, 0)}
}

func TestPodPhase(t *testing.T) {
	now := time.Unix(150, 0)
	type setup func(r *podRecord)
	initOK := func(r *podRecord) { r.init[0].terminated = done(0) }
	cases := []struct {
		name   string
		policy v1.RestartPolicy
		set    setup
		want   v1.PodPhase
	}{
		{"nothing ran", v1.RestartPolicyNever, func(r *podRecord) {}, v1.PodPending},
		{"init running", v1.RestartPolicyNever, func(r *podRecord) { r.init[0].runningSince = now }, v1.PodPending},
		{"init done, containers creating", v1.RestartPolicyNever, initOK, v1.PodPending},
		{"one running one waiting", v1.RestartPolicyNever, func(r *podRecord) { initOK(r); r.containers[0].runningSince = now }, v1.PodPending},
		{"both running", v1.RestartPolicyNever, func(r *podRecord) {
			initOK(r)
			r.containers[0].runningSince, r.containers[1].runningSince = now, now
		}, v1.PodRunning},
		{"one done one running", v1.RestartPolicyNever, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].runningSince = done(1), now
		}, v1.PodRunning},
		{"never: all exited 0", v1.RestartPolicyNever, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].terminated = done(0), done(0)
		}, v1.PodSucceeded},
		{"never: one failed", v1.RestartPolicyNever, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].terminated = done(0), done(2)
		}, v1.PodFailed},
		{"onfailure: one failed (restarting)", v1.RestartPolicyOnFailure, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].terminated = done(0), done(2)
		}, v1.PodRunning},
		{"onfailure: all exited 0", v1.RestartPolicyOnFailure, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].terminated = done(0), done(0)
		}, v1.PodSucceeded},
		{"always: all exited 0", v1.RestartPolicyAlways, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].terminated = done(0), done(0)
		}, v1.PodRunning},
		{"always: back-off counts as stopped", v1.RestartPolicyAlways, func(r *podRecord) {
			initOK(r)
			r.containers[0].runningSince = now
			r.containers[1].last, r.containers[1].waitReason = done(1), "CrashLoopBackOff"
		}, v1.PodRunning},
		{"always, deleted: failed", v1.RestartPolicyAlways, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].terminated = done(0), done(137)
			r.stopped = true
		}, v1.PodFailed},
		{"always, deleted, all exited 0: succeeded", v1.RestartPolicyAlways, func(r *podRecord) {
			initOK(r)
			r.containers[0].terminated, r.containers[1].terminated = done(0), done(0)
			r.stopped = true
		}, v1.PodSucceeded},
		{"stopped before init finished", v1.RestartPolicyNever, func(r *podRecord) { r.finishStopped() }, v1.PodFailed},
		{"forced failure", v1.RestartPolicyAlways, func(r *podRecord) { r.failed = true }, v1.PodFailed},
	}
	for _, c := range cases {
		pod := twoContainerPod(c.policy)
		r := newPodRecord(pod)
		c.set(r)
		if got := podPhase(c.policy, r); got != c.want {
			t.Errorf("%s: phase %s, want %s", c.name, got, c.want)
		}
	}
}

func condition(st v1.PodStatus, t v1.PodConditionType) v1.PodCondition {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c
		}
	}
	return v1.PodCondition{}
}

func TestBuildStatus(t *testing.T) {
	pod := twoContainerPod(v1.RestartPolicyNever)
	now := time.Unix(1000, 0)
	r := newPodRecord(pod)
	r.startTime, r.podIP, r.hostIP, r.sandboxReady = time.Unix(900, 0), "10.0.0.5", "10.0.0.1", true

	st := buildStatus(pod, r, now)
	if st.Phase != v1.PodPending || st.PodIP != "10.0.0.5" || st.HostIP != "10.0.0.1" || len(st.PodIPs) != 1 || st.StartTime == nil {
		t.Fatalf("pending status: %+v", st)
	}
	if c := condition(st, v1.PodInitialized); c.Status != v1.ConditionFalse || !strings.Contains(c.Message, "[init]") {
		t.Errorf("Initialized: %+v", c)
	}
	if c := condition(st, v1.PodScheduled); c.Status != v1.ConditionTrue {
		t.Errorf("PodScheduled: %+v", c)
	}
	if s := st.InitContainerStatuses[0]; s.State.Waiting == nil || s.State.Waiting.Reason != "PodInitializing" || s.Image != "img" {
		t.Errorf("init status: %+v", s)
	}

	r.init[0].terminated = done(0)
	r.containers[0].runningSince, r.containers[0].ready, r.containers[0].containerID = now, true, "podrunner://x"
	r.containers[1].runningSince = now
	r.containers[1].restartCount = 2
	r.containers[1].last = done(1)
	pod.Status = buildStatus(pod, r, now)
	st = pod.Status
	if st.Phase != v1.PodRunning {
		t.Fatalf("phase %s", st.Phase)
	}
	if c := condition(st, v1.PodReady); c.Status != v1.ConditionFalse || c.Message != "containers with unready status: [b]" {
		t.Errorf("Ready: %+v", c)
	}
	a, b := st.ContainerStatuses[0], st.ContainerStatuses[1]
	if a.State.Running == nil || !a.Ready || a.ContainerID != "podrunner://x" || a.Started == nil || !*a.Started {
		t.Errorf("a: %+v", a)
	}
	if b.RestartCount != 2 || b.LastTerminationState.Terminated == nil || b.LastTerminationState.Terminated.ExitCode != 1 {
		t.Errorf("b: %+v", b)
	}

	// Transition times stay when a condition's status stays.
	later := now.Add(time.Minute)
	r.containers[1].ready = true
	st2 := buildStatus(pod, r, later)
	if c := condition(st2, v1.PodInitialized); !c.LastTransitionTime.Time.Equal(now) {
		t.Errorf("Initialized transition moved: %v", c.LastTransitionTime)
	}
	if c := condition(st2, v1.PodReady); c.Status != v1.ConditionTrue || !c.LastTransitionTime.Time.Equal(later) {
		t.Errorf("Ready: %+v", c)
	}

	r.containers[0].runningSince, r.containers[0].terminated = time.Time{}, done(0)
	r.containers[1].runningSince, r.containers[1].terminated = time.Time{}, &termination{exitCode: 3, reason: "Error", message: "boom"}
	st3 := buildStatus(pod, r, later)
	if st3.Phase != v1.PodFailed {
		t.Fatalf("phase %s", st3.Phase)
	}
	if tm := st3.ContainerStatuses[1].State.Terminated; tm == nil || tm.ExitCode != 3 || tm.Reason != "Error" || tm.Message != "boom" {
		t.Errorf("terminated: %+v", tm)
	}
	if c := condition(st3, v1.PodReady); c.Status != v1.ConditionFalse || c.Reason != "PodCompleted" {
		t.Errorf("Ready when failed: %+v", c)
	}
}

func TestBuildStatusFailedImage(t *testing.T) {
	pod := twoContainerPod(v1.RestartPolicyAlways)
	r := newPodRecord(pod)
	r.containers[1].waitReason, r.containers[1].waitMessage = "ErrImagePull", "no such image"
	r.failed, r.reason, r.message = true, "ErrImagePull", "no such image"
	st := buildStatus(pod, r, time.Now())
	if st.Phase != v1.PodFailed || st.Reason != "ErrImagePull" || st.ContainerStatuses[1].State.Waiting.Reason != "ErrImagePull" {
		t.Errorf("status: %+v", st)
	}
}

func TestBuildStatusPendingReason(t *testing.T) {
	pod := twoContainerPod(v1.RestartPolicyNever)
	r := newPodRecord(pod)
	r.pendingReason, r.pendingMessage = "FailedMount", `secret "x" not found`
	st := buildStatus(pod, r, time.Now())
	if st.Phase != v1.PodPending || st.Reason != "FailedMount" || st.Message != `secret "x" not found` {
		t.Errorf("status: %+v", st)
	}
}

func TestStatusPatch(t *testing.T) {
	pod := twoContainerPod(v1.RestartPolicyNever)
	r := newPodRecord(pod)
	b, err := statusPatch("u1", buildStatus(pod, r, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["metadata"]["uid"] != "u1" {
		t.Errorf("no UID precondition: %s", b)
	}
	if v, ok := m["status"]["message"]; !ok || v != nil {
		t.Errorf("empty message must be sent as null: %s", b)
	}
	if _, ok := m["status"]["qosClass"]; ok {
		t.Errorf("qosClass is not the runner's: %s", b)
	}
}
