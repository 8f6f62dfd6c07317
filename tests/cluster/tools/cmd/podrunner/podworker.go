package main

// The pod worker: one goroutine per pod bound to this node, taking it through the kubelet's
// steps: images known, network namespace, volumes, init containers one by one, containers
// together (restarted per restartPolicy with a bounded back-off), readiness, and at the end
// stop, tear down and, when the pod was deleted, the final delete. Containers are restarted
// only by their supervisor, so a watch event or a repeated update never starts anything twice.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const (
	// Container restart back-off, the kubelet's: 10 s doubling to 5 min, reset after a run
	// that lasted 10 min (twice the maximum).
	restartBackoffInitial = 10 * time.Second
	restartBackoffMax     = 5 * time.Minute
	restartBackoffReset   = 10 * time.Minute
	// setupRetryInitial and setupRetryMax pace retries of what keeps a pod Pending (a
	// Secret not created yet, an API error): quick at first, since the missing object is
	// usually created a moment later, and no slower than 30 s so a test does not wait long.
	setupRetryInitial = 1 * time.Second
	setupRetryMax     = 30 * time.Second
	// defaultGracePeriod is the API default of terminationGracePeriodSeconds.
	defaultGracePeriod = 30 * time.Second
	// shutdownGraceMax caps the grace given to pods when the runner itself is stopped, so the
	// whole stop fits in the 40 s the control-plane script waits before SIGKILL.
	shutdownGraceMax = 25 * time.Second
	// apiCallTimeout bounds one API request of the worker (status, delete, token): generous
	// for a loaded machine, short enough that a dead API server does not stall teardown.
	apiCallTimeout = 30 * time.Second
	// statusRetryInterval paces retries of a failed status write.
	statusRetryInterval = time.Second
)

// stopReason says why a pod's containers are being stopped.
type stopReason int

const (
	stopNone     stopReason = iota
	stopDeleted             // deletionTimestamp set: stop, clean up, delete the API object
	stopGone                // the API object is gone already: stop and clean up
	stopShutdown            // the runner is stopping: stop, clean up, report Failed
)

type podWorker struct {
	r   *runner
	uid types.UID
	key string // namespace/name, for logs
	dir string // <state-dir>/pods/<uid>

	mu    sync.Mutex
	pod   *v1.Pod
	rec   *podRecord
	procs map[string]*process // running programs by container name
	vols  volumeSet
	// tokens: the volume builder's token cache (used by one goroutine at a time: the
	// worker while preparing, then the resync loop).
	tokens map[string]cachedToken
	net    podNetwork
	netUp  bool

	stop       chan struct{}
	ran        chan struct{} // closed when no container will run again: volume resync ends
	stopOnce   sync.Once
	reason     stopReason
	dirty      chan struct{}
	statusMu   sync.Mutex // one status write at a time
	lastStatus []byte
	gone       bool // the API object no longer exists: nothing more to write
}

func newPodWorker(r *runner, pod *v1.Pod) *podWorker {
	return &podWorker{
		r:      r,
		uid:    pod.UID,
		key:    pod.Namespace + "/" + pod.Name,
		dir:    filepath.Join(r.cfg.stateDir, "pods", string(pod.UID)),
		pod:    pod.DeepCopy(),
		rec:    newPodRecord(pod),
		procs:  map[string]*process{},
		tokens: map[string]cachedToken{},
		stop:   make(chan struct{}),
		ran:    make(chan struct{}),
		dirty:  make(chan struct{}, 1),
	}
}

func (w *podWorker) logf(format string, a ...any) {
	logf("pod %s: %s", w.key, fmt.Sprintf(format, a...))
}

// update takes a newer version of the pod from the watch.
func (w *podWorker) update(pod *v1.Pod) {
	w.mu.Lock()
	w.pod = pod.DeepCopy()
	w.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		w.requestStop(stopDeleted)
	}
}

func (w *podWorker) requestStop(reason stopReason) {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.reason = reason
		if reason == stopShutdown {
			// As the kubelet's graceful node shutdown reports a pod it stops: Failed, reason
			// Terminated, decided now so that no other terminal phase is written first (a
			// terminal phase cannot change). A pod that had finished keeps its phase.
			if ph := podPhase(w.pod.Spec.RestartPolicy, w.rec); ph != v1.PodSucceeded && ph != v1.PodFailed {
				w.rec.failed, w.rec.reason = true, "Terminated"
				w.rec.message = "Pod was terminated in response to the pod runner stopping."
			}
		}
		w.mu.Unlock()
		close(w.stop)
	})
	if reason == stopGone {
		w.mu.Lock()
		w.gone = true
		w.mu.Unlock()
	}
}

func (w *podWorker) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// sleep waits d or until the pod is stopped; false means stopped.
func (w *podWorker) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.stop:
		return false
	case <-t.C:
		return true
	}
}

func (w *podWorker) currentPod() *v1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

// edit changes the record under the lock and schedules a status write.
func (w *podWorker) edit(f func(r *podRecord)) {
	w.mu.Lock()
	f(w.rec)
	w.mu.Unlock()
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

func (w *podWorker) container(r *podRecord, init bool, i int) *containerRecord {
	if init {
		return &r.init[i]
	}
	return &r.containers[i]
}

// statusLoop writes the status whenever the record changed, until done is closed.
func (w *podWorker) statusLoop(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case <-w.dirty:
		}
		if err := w.writeStatus(); err != nil {
			w.logf("status: %v (retrying)", err)
			select {
			case <-done:
				return
			case <-time.After(statusRetryInterval):
			}
			select {
			case w.dirty <- struct{}{}:
			default:
			}
		}
	}
}

// writeStatus sends the current status if it differs from the last one written.
func (w *podWorker) writeStatus() error {
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	w.mu.Lock()
	if w.gone {
		w.mu.Unlock()
		return nil
	}
	pod := w.pod
	rec := w.rec.clone()
	w.mu.Unlock()
	st := buildStatus(pod, rec, time.Now())
	patch, err := statusPatch(string(pod.UID), st)
	if err != nil {
		return err
	}
	// Transition times come from the last written conditions (w.pod is the patched pod), so
	// an unchanged record gives the same patch: nothing to send.
	if string(patch) == string(w.lastStatus) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
	defer cancel()
	updated, err := w.r.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			// Gone, or a new pod of the same name (the UID precondition failed).
			w.mu.Lock()
			w.gone = true
			w.mu.Unlock()
			return nil
		}
		return err
	}
	w.lastStatus = patch
	w.mu.Lock()
	// Keep the written conditions' transition times for the next build, unless the watch
	// has already delivered something newer (a deletion, say).
	if newerOrSame(updated.ResourceVersion, w.pod.ResourceVersion) {
		w.pod = updated
	}
	w.mu.Unlock()
	w.logf("status written: phase %s", st.Phase)
	return nil
}

// run takes the pod from start to finish.
func (w *podWorker) run() {
	defer w.r.workerDone(w.uid)
	statusDone := make(chan struct{})
	statusExited := make(chan struct{})
	go func() { w.statusLoop(statusDone); close(statusExited) }()
	defer func() {
		close(statusDone)
		<-statusExited
	}()

	pod := w.currentPod()
	w.edit(func(r *podRecord) { r.startTime = time.Now() })
	w.logf("starting (uid %s)", w.uid)

	// A stop ends whatever runs, wherever the steps below are.
	go func() {
		<-w.stop
		w.killAll()
	}()
	if w.prepare(pod) {
		if w.runInit() {
			w.runContainers()
		}
	}
	// Terminal, or stopped: nothing runs any more (runContainers returns only then).
	close(w.ran)
	w.killAll()
	if w.stopped() {
		w.edit(func(r *podRecord) { r.finishStopped() })
	}
	w.teardownSandbox()
	_ = w.writeStatus()

	<-w.stop // a terminal pod stays (its status, its logs) until it is deleted
	w.mu.Lock()
	reason := w.reason
	w.mu.Unlock()
	w.killAll() // a stop during the steps above was handled there; this is for the waiting case
	_ = os.RemoveAll(w.dir)
	switch reason {
	case stopDeleted:
		w.deletePod()
	case stopShutdown:
		w.markShutdown()
	}
}

// prepare checks the images, makes the network namespace and the volumes. false: the pod
// cannot run (failed, or stopped meanwhile).
func (w *podWorker) prepare(pod *v1.Pod) bool {
	// A pod of restartPolicy Never that already ran under an earlier runner process: its
	// programs died with that process, and running them again would run them twice.
	if pod.Spec.RestartPolicy == v1.RestartPolicyNever && alreadyStarted(pod) {
		w.edit(func(r *podRecord) {
			r.failed = true
			r.reason = "RunnerRestarted"
			r.message = "the pod runner restarted while this pod ran; its processes are gone and restartPolicy is Never"
			for i := range r.containers {
				r.containers[i].waitReason = ""
				r.containers[i].terminated = &termination{exitCode: 137, signal: int32(syscall.SIGKILL), reason: "Error", message: r.message, finishedAt: time.Now()}
			}
		})
		w.logf("failed: %s", "it ran under an earlier runner process")
		return false
	}

	// Images: every container's image must be in the map.
	for _, set := range []struct {
		init bool
		cs   []v1.Container
	}{{true, pod.Spec.InitContainers}, {false, pod.Spec.Containers}} {
		for i, c := range set.cs {
			img, err := w.r.images.lookup(c.Image)
			if err != nil {
				msg := fmt.Sprintf("Failed to pull image %q: %v", c.Image, err)
				// A pod that runs once fails, so that a Job's pod ends with the reason. A pod that
				// is to run forever (a Deployment's) stays Pending with it, as under a kubelet:
				// failing it would have its ReplicaSet replace it at once, again and again.
				runsOnce := pod.Spec.RestartPolicy == v1.RestartPolicyNever
				w.edit(func(r *podRecord) {
					cr := w.container(r, set.init, i)
					cr.waitReason, cr.waitMessage = "ErrImagePull", msg
					if runsOnce {
						r.failed, r.reason, r.message = true, "ErrImagePull", msg
					} else {
						r.pendingReason, r.pendingMessage = "ErrImagePull", msg
					}
				})
				w.logf("%s: container %s: %s", map[bool]string{true: "failed", false: "pending"}[runsOnce], c.Name, msg)
				return false
			}
			w.edit(func(r *podRecord) { w.container(r, set.init, i).imageID = img.id })
		}
	}

	// Network, then volumes: each retried, keeping the pod Pending with the reason, until it
	// works or the pod is stopped.
	backoff := setupRetryInitial
	retry := func(reason string, err error) bool {
		w.edit(func(r *podRecord) { r.pendingReason, r.pendingMessage = reason, err.Error() })
		w.logf("%s: %v (retrying in %s)", reason, err, backoff)
		if !w.sleep(backoff) {
			return false
		}
		backoff = min(2*backoff, setupRetryMax)
		return true
	}
	for !pod.Spec.HostNetwork {
		if w.stopped() {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
		n, err := setupNetwork(ctx, string(w.uid), w.r.cfg.bridge, w.r.alloc)
		cancel()
		if err == nil {
			w.mu.Lock()
			w.net, w.netUp = n, true
			w.mu.Unlock()
			w.edit(func(r *podRecord) {
				r.podIP, r.hostIP, r.sandboxReady = n.ip.String(), w.r.hostIP, true
				for i := range r.containers {
					if len(r.init) == 0 {
						r.containers[i].waitReason = "ContainerCreating"
					}
				}
			})
			w.logf("network: %s in namespace %s", n.ip, n.netns)
			break
		}
		if !retry("FailedCreatePodSandBox", err) {
			return false
		}
	}
	if pod.Spec.HostNetwork {
		// The host's network, as the kubelet gives it: the pod's address is the node's.
		w.edit(func(r *podRecord) { r.podIP, r.hostIP, r.sandboxReady = w.r.hostIP, w.r.hostIP, true })
		w.logf("network: the host's")
	}
	backoff = setupRetryInitial
	for {
		if w.stopped() {
			return false
		}
		vols, err := w.buildVolumes()
		if err == nil {
			w.mu.Lock()
			w.vols = vols
			w.mu.Unlock()
			w.edit(func(r *podRecord) { r.pendingReason, r.pendingMessage = "", "" })
			if vols.synced {
				go w.resyncVolumes(vols.refreshAt)
			}
			return true
		}
		if !retry("FailedMount", err) {
			return false
		}
	}
}

func alreadyStarted(pod *v1.Pod) bool {
	for _, list := range [][]v1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, s := range list {
			if s.State.Running != nil || s.State.Terminated != nil || s.LastTerminationState.Terminated != nil {
				return true
			}
		}
	}
	return false
}

func (w *podWorker) addresses() podAddresses {
	w.mu.Lock()
	defer w.mu.Unlock()
	return podAddresses{podIP: w.rec.podIP, hostIP: w.rec.hostIP}
}

func (w *podWorker) buildVolumes() (volumeSet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
	defer cancel()
	b := &volumeBuilder{client: w.r.client, src: w.r.objects, tokens: w.tokens}
	return b.buildVolumes(ctx, w.currentPod(), w.addresses(), w.dir)
}

// resyncVolumes rewrites the API-backed volumes every volumeResyncInterval, and sooner when a
// token nears expiry (tokenAt), as the kubelet's volume manager and token manager do, until
// no container will run again. The atomic writer leaves unchanged volumes alone.
func (w *podWorker) resyncVolumes(tokenAt time.Time) {
	for {
		next := time.Now().Add(volumeResyncInterval)
		if !tokenAt.IsZero() && tokenAt.Before(next) {
			next = tokenAt
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-w.ran: // a finished or stopped pod's volumes are no longer read
			t.Stop()
			return
		case <-t.C:
		}
		vols, err := w.buildVolumes()
		if err != nil {
			w.logf("resynchronising volumes: %v (retrying)", err)
			continue
		}
		if len(vols.changed) > 0 {
			w.logf("volumes updated: %v", vols.changed)
		}
		tokenAt = vols.refreshAt
	}
}

// runInit runs the init containers one at a time; true when all exited 0.
func (w *podWorker) runInit() bool {
	pod := w.currentPod()
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		backoff := restartBackoffInitial
		for {
			if w.stopped() {
				return false
			}
			started := time.Now()
			term, err := w.runOnce(pod, c, true, i)
			if err != nil {
				if !w.configRetry(true, i, err) {
					return false
				}
				continue
			}
			w.edit(func(r *podRecord) {
				cr := &r.init[i]
				cr.terminated, cr.runningSince, cr.ready = term, time.Time{}, false
			})
			if term.exitCode == 0 {
				break
			}
			if pod.Spec.RestartPolicy == v1.RestartPolicyNever {
				w.edit(func(r *podRecord) {
					r.failed = true
					for j := range r.containers {
						r.containers[j].waitReason = "PodInitializing"
					}
				})
				w.logf("failed: init container %s exited %d and restartPolicy is Never", c.Name, term.exitCode)
				return false
			}
			if time.Since(started) > restartBackoffReset {
				backoff = restartBackoffInitial
			}
			if !w.backOff(true, i, term, backoff) {
				return false
			}
			backoff = min(2*backoff, restartBackoffMax)
		}
	}
	return true
}

// runContainers starts every container under its supervisor and returns when none will run
// again: all finished for good (per restartPolicy) or the pod is stopped.
func (w *podWorker) runContainers() {
	pod := w.currentPod()
	var wg sync.WaitGroup
	for i := range pod.Spec.Containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.supervise(pod, i)
		}()
	}
	wg.Wait()
}

func (w *podWorker) supervise(pod *v1.Pod, i int) {
	c := &pod.Spec.Containers[i]
	backoff := restartBackoffInitial
	for {
		if w.stopped() {
			return
		}
		started := time.Now()
		term, err := w.runOnce(pod, c, false, i)
		if err != nil {
			if !w.configRetry(false, i, err) {
				return
			}
			continue
		}
		w.edit(func(r *podRecord) {
			cr := &r.containers[i]
			cr.terminated, cr.runningSince, cr.ready = term, time.Time{}, false
		})
		restart := pod.Spec.RestartPolicy == v1.RestartPolicyAlways ||
			(pod.Spec.RestartPolicy == v1.RestartPolicyOnFailure && term.exitCode != 0)
		if !restart || w.stopped() {
			return
		}
		if time.Since(started) > restartBackoffReset {
			backoff = restartBackoffInitial
		}
		if !w.backOff(false, i, term, backoff) {
			return
		}
		backoff = min(2*backoff, restartBackoffMax)
	}
}

// backOff shows the container waiting in CrashLoopBackOff for d, then counts a restart.
// false: the pod was stopped meanwhile (the container then stays terminated).
func (w *podWorker) backOff(init bool, i int, term *termination, d time.Duration) bool {
	name := ""
	w.edit(func(r *podRecord) {
		cr := w.container(r, init, i)
		name = cr.name
		cr.last, cr.terminated = term, nil
		cr.waitReason = "CrashLoopBackOff"
		cr.waitMessage = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", d, cr.name, w.key)
	})
	w.logf("container %s: restarting in %s", name, d)
	ok := w.sleep(d)
	w.edit(func(r *podRecord) {
		cr := w.container(r, init, i)
		if !ok {
			cr.terminated, cr.last = term, nil
			return
		}
		cr.restartCount++
	})
	return ok
}

// configRetry reports a container that cannot be created yet (its environment refers to a
// missing Secret key, say) and waits before the next try. false: stopped meanwhile.
func (w *podWorker) configRetry(init bool, i int, err error) bool {
	w.edit(func(r *podRecord) {
		cr := w.container(r, init, i)
		cr.waitReason, cr.waitMessage = "CreateContainerConfigError", err.Error()
	})
	w.logf("CreateContainerConfigError: %v (retrying in %s)", err, setupRetryMax)
	return w.sleep(setupRetryMax)
}

// errConfig marks errors that leave a container waiting (retried) rather than failed.
var errConfig = errors.New("container config")

// runOnce runs one attempt of a container and returns how it ended. An error means the
// container could not even be configured (CreateContainerConfigError); a program that could
// not be executed is a termination with reason StartError, as a runtime reports it.
func (w *podWorker) runOnce(pod *v1.Pod, c *v1.Container, init bool, i int) (*termination, error) {
	img, err := w.r.images.lookup(c.Image)
	if err != nil { // checked in prepare; the map does not change
		return nil, err
	}
	addr := w.addresses()
	ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
	env, err := containerEnv(ctx, w.r.objects, w.currentPod(), c, addr, apiServiceEnv(w.r.cfg.apiHost, w.r.cfg.apiPort))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errConfig, err)
	}
	procEnv := processEnv(img, env)
	workingDir := c.WorkingDir
	if workingDir == "" {
		workingDir = img.WorkingDir
	}

	var restarts int32
	w.mu.Lock()
	restarts = w.container(w.rec, init, i).restartCount
	vols := w.vols
	w.mu.Unlock()
	containerID := fmt.Sprintf("podrunner://%s-%s-%d", shortUID(string(w.uid)), c.Name, restarts)
	now := time.Now()
	startErr := func(msg string) *termination {
		w.logf("container %s: StartError: %s", c.Name, msg)
		return &termination{exitCode: startErrorExitCode, reason: "StartError", message: msg,
			startedAt: now, finishedAt: time.Now(), containerID: containerID}
	}

	mountPaths := make([]string, 0, len(c.VolumeMounts))
	for _, m := range c.VolumeMounts {
		mountPaths = append(mountPaths, m.MountPath)
	}
	path, argv, err := resolveCommand(img, expandCommand(c.Command, env), expandCommand(c.Args, env), procEnv, workingDir, mountPaths)
	if err != nil {
		return startErr(err.Error()), nil
	}
	netns := ""
	if !pod.Spec.HostNetwork {
		netns = netnsPath(w.net.netns)
	}
	spec := execSpec{
		NetNS:      netns,
		Scratch:    filepath.Join(w.dir, "containers", c.Name, "scratch"),
		Hostname:   podHostname(pod),
		Path:       path,
		Argv:       argv,
		Env:        procEnv,
		WorkingDir: workingDir,
	}
	for _, inImage := range sortedKeys(img.Files) {
		spec.ImageFiles = append(spec.ImageFiles, execMount{Source: img.Files[inImage], Target: inImage, ReadOnly: true})
	}
	for _, vm := range c.VolumeMounts {
		src, ok := vols.paths[vm.Name]
		if !ok {
			return startErr(fmt.Sprintf("volumeMount %s names no volume of the pod", vm.Name)), nil
		}
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expandCommand([]string{vm.SubPathExpr}, env)[0]
		}
		src, err := resolveSubPath(src, sub)
		if err != nil {
			return startErr(fmt.Sprintf("volumeMount %s: %v", vm.Name, err)), nil
		}
		spec.Mounts = append(spec.Mounts, execMount{Source: src, Target: vm.MountPath, ReadOnly: vm.ReadOnly})
	}
	specDir := filepath.Join(w.dir, "containers", c.Name)
	if err := os.MkdirAll(spec.Scratch, 0o700); err != nil {
		return startErr(err.Error()), nil
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return startErr(err.Error()), nil
	}
	specPath := filepath.Join(specDir, "spec.json")
	if err := os.WriteFile(specPath, data, 0o600); err != nil {
		return startErr(err.Error()), nil
	}

	logFile := logPath(w.r.cfg.stateDir, pod.Namespace, pod.Name, c.Name)
	log, err := openLog(logFile, c.Name, restarts, now)
	if err != nil {
		return startErr(fmt.Sprintf("container log %s: %v", logFile, err)), nil
	}
	defer log.Close()

	// The check and the start happen under the lock that killAll takes, so a stop either
	// sees this process or prevents it.
	w.mu.Lock()
	if w.stopped() {
		w.mu.Unlock()
		return &termination{exitCode: 137, signal: int32(syscall.SIGKILL), reason: "Error", message: "pod stopped before the container started",
			startedAt: now, finishedAt: time.Now(), containerID: containerID}, nil
	}
	proc, startMsg, err := startProcess(specPath, log)
	if err != nil {
		w.mu.Unlock()
		return startErr(err.Error()), nil
	}
	if startMsg != "" {
		w.mu.Unlock()
		return startErr(startMsg), nil
	}
	w.procs[c.Name] = proc
	cr := w.container(w.rec, init, i)
	cr.waitReason, cr.waitMessage, cr.terminated = "", "", nil
	cr.runningSince, cr.containerID = proc.started, containerID
	// Without a readiness probe a running container is ready, as in the kubelet.
	cr.ready = !init && c.ReadinessProbe == nil
	w.mu.Unlock()
	w.edit(func(*podRecord) {})
	w.logf("started container %s pid %d: %v", c.Name, proc.cmd.Process.Pid, argv)

	probeCtx, stopProbe := context.WithCancel(context.Background())
	if !init && c.ReadinessProbe != nil {
		p := newProber(c.ReadinessProbe, c, addr.podIP, proc.cmd.Process.Pid, procEnv)
		go p.readinessLoop(probeCtx, func(ready bool, why string) {
			w.edit(func(r *podRecord) {
				if cr := &r.containers[i]; cr.running() {
					cr.ready = ready
				}
			})
			if ready {
				w.logf("container %s: ready", c.Name)
			} else {
				w.logf("container %s: not ready: %s", c.Name, why)
			}
		})
	}
	<-proc.done
	stopProbe()
	w.mu.Lock()
	delete(w.procs, c.Name)
	w.mu.Unlock()

	code, sig := exitStatus(proc.state)
	term := &termination{exitCode: code, signal: sig, reason: "Completed", startedAt: proc.started, finishedAt: time.Now(), containerID: containerID}
	if code != 0 {
		// The kubelet would read /dev/termination-log (not provided here) or, with
		// FallbackToLogsOnError, the log's end; the last line stands in for both.
		term.reason, term.message = "Error", lastLogLine(logFile)
	}
	w.logf("container %s exited with code %d", c.Name, code)
	return term, nil
}

// newerOrSame compares resource versions. They are opaque by contract; this API server's are
// etcd revisions, and a wrong answer only costs a condition's transition time.
func newerOrSame(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 != nil || err2 != nil || x >= y
}

func podHostname(pod *v1.Pod) string {
	if pod.Spec.HostNetwork {
		return pod.Spec.NodeName
	}
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}

// gracePeriod is how long running programs get between SIGTERM and SIGKILL.
func (w *podWorker) gracePeriod() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := defaultGracePeriod
	if w.pod.DeletionGracePeriodSeconds != nil {
		g = time.Duration(*w.pod.DeletionGracePeriodSeconds) * time.Second
	} else if w.pod.Spec.TerminationGracePeriodSeconds != nil {
		g = time.Duration(*w.pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	if w.reason == stopShutdown && g > shutdownGraceMax {
		g = shutdownGraceMax
	}
	return g
}

// killAll stops every running program: SIGTERM, up to the grace period, then SIGKILL.
// Programs that are PID 1 of their namespace ignore SIGTERM unless they handle it, as in a
// real container; SIGKILL always ends them.
func (w *podWorker) killAll() {
	w.mu.Lock()
	procs := make(map[string]*process, len(w.procs))
	for n, p := range w.procs {
		procs[n] = p
	}
	w.mu.Unlock()
	if len(procs) == 0 {
		return
	}
	grace := w.gracePeriod()
	for name, p := range procs {
		w.logf("container %s: SIGTERM (grace %s)", name, grace)
		_ = p.signal(syscall.SIGTERM)
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for name, p := range procs {
		select {
		case <-p.done:
		case <-deadline.C:
			w.logf("container %s: SIGKILL after the grace period", name)
			_ = p.signal(syscall.SIGKILL)
			<-p.done
			deadline.Reset(0)
		}
	}
	// Wait for the supervisors to record the exits.
	for {
		w.mu.Lock()
		n := len(w.procs)
		w.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *podWorker) teardownSandbox() {
	w.mu.Lock()
	n, up := w.net, w.netUp
	w.netUp = false
	w.mu.Unlock()
	if !up {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
	defer cancel()
	teardownNetwork(ctx, n)
	w.r.alloc.release(n.ip)
	w.edit(func(r *podRecord) { r.sandboxReady = false })
	w.logf("network namespace %s removed", n.netns)
}

// deletePod finishes a graceful deletion: the final status first, then the delete.
func (w *podWorker) deletePod() {
	_ = w.writeStatus()
	w.r.deleteObject(w.currentPod())
}

// markShutdown writes the final status of a pod stopped by the runner's shutdown (see
// requestStop).
func (w *podWorker) markShutdown() {
	if err := w.writeStatus(); err != nil {
		w.logf("status at shutdown: %v", err)
	}
}
