package main

// The runner: watches pods, binds the unbound ones to its Node (there is no scheduler) and
// keeps one pod worker per pod bound to it.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

const (
	// bindWorkers: bindings are single small requests; two keep a burst of Job pods from
	// queueing behind one slow request without flooding a loaded API server.
	bindWorkers = 2
	// informerSyncTimeout bounds the first LIST of pods at start.
	informerSyncTimeout = 2 * time.Minute
	// deleteAttempts: a final delete is retried (1 s doubling, about a minute in all) so
	// that an API server briefly unavailable does not leave the pod Terminating.
	deleteAttempts = 7
)

type config struct {
	kubeconfig string
	nodeName   string
	imagesFile string
	stateDir   string
	bridge     string
	podCIDR    string
	apiHost    string
	apiPort    string
	namespaces []string
}

type runner struct {
	cfg     config
	client  kubernetes.Interface
	objects objectSource
	images  *imageMap
	alloc   *ipAllocator
	hostIP  string

	mu       sync.Mutex
	workers  map[types.UID]*podWorker
	finished map[types.UID]bool // workers that ended: their pod is never run again
	deleting map[types.UID]bool // finished pods of an earlier run whose deletion was sent
	stopping bool
	wg       sync.WaitGroup

	bindQueue workqueue.TypedRateLimitingInterface[types.NamespacedName]
	listers   []cache.Indexer
}

// apiObjects reads Secrets and ConfigMaps straight from the API: a test's pods are few, and
// a fresh read never sees a stale object.
type apiObjects struct{ client kubernetes.Interface }

func (a apiObjects) getSecret(ctx context.Context, ns, name string) (*v1.Secret, error) {
	return a.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiObjects) getConfigMap(ctx context.Context, ns, name string) (*v1.ConfigMap, error) {
	return a.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
}

// cleanStaleState removes what an earlier runner process with this state directory left:
// pod directories and their network namespaces (its containers died with it).
func (r *runner) cleanStaleState() {
	entries, err := os.ReadDir(filepath.Join(r.cfg.stateDir, "pods"))
	if err != nil {
		return
	}
	for _, e := range entries {
		teardownNetwork(context.Background(), networkNames(e.Name()))
		_ = os.RemoveAll(filepath.Join(r.cfg.stateDir, "pods", e.Name()))
		logf("removed state of an earlier run: pod uid %s", e.Name())
	}
}

// start begins watching; it returns once the pod caches are filled.
func (r *runner) start(ctx context.Context) error {
	r.workers = map[types.UID]*podWorker{}
	r.finished = map[types.UID]bool{}
	r.deleting = map[types.UID]bool{}
	r.bindQueue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName]())
	namespaces := r.cfg.namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	var synced []cache.InformerSynced
	for _, ns := range namespaces {
		f := informers.NewSharedInformerFactoryWithOptions(r.client, 0, informers.WithNamespace(ns))
		inf := f.Core().V1().Pods().Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { r.onPod(obj) },
			UpdateFunc: func(_, obj any) { r.onPod(obj) },
			DeleteFunc: func(obj any) { r.onPodDeleted(obj) },
		}); err != nil {
			return err
		}
		r.listers = append(r.listers, inf.GetIndexer())
		synced = append(synced, inf.HasSynced)
		f.Start(ctx.Done())
	}
	syncCtx, cancel := context.WithTimeout(ctx, informerSyncTimeout)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		return fmt.Errorf("pod watch did not sync within %s", informerSyncTimeout)
	}
	for range bindWorkers {
		go r.bindLoop(ctx)
	}
	return nil
}

func (r *runner) onPod(obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	if pod.Spec.NodeName == "" {
		if pod.DeletionTimestamp == nil && len(pod.Spec.SchedulingGates) == 0 {
			r.bindQueue.Add(types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name})
		}
		return
	}
	if pod.Spec.NodeName != r.cfg.nodeName {
		return
	}
	r.mu.Lock()
	if r.finished[pod.UID] {
		r.mu.Unlock()
		return
	}
	w := r.workers[pod.UID]
	if w == nil {
		if r.stopping {
			r.mu.Unlock()
			return
		}
		if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
			// Finished under an earlier runner process: nothing to run; finish its deletion
			// when it comes.
			start := pod.DeletionTimestamp != nil && !r.deleting[pod.UID]
			if start {
				r.deleting[pod.UID] = true
			}
			r.mu.Unlock()
			if start {
				go r.deleteObject(pod)
			}
			return
		}
		w = newPodWorker(r, pod)
		r.workers[pod.UID] = w
		r.wg.Add(1)
		go w.run()
	}
	r.mu.Unlock()
	w.update(pod)
}

func (r *runner) onPodDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	r.mu.Lock()
	w := r.workers[pod.UID]
	r.mu.Unlock()
	if w != nil {
		w.requestStop(stopGone)
	}
}

func (r *runner) workerDone(uid types.UID) {
	r.mu.Lock()
	delete(r.workers, uid)
	r.finished[uid] = true
	r.mu.Unlock()
	r.wg.Done()
}

func (r *runner) cachedPod(key types.NamespacedName) *v1.Pod {
	for _, l := range r.listers {
		if obj, ok, _ := l.GetByKey(key.Namespace + "/" + key.Name); ok {
			return obj.(*v1.Pod)
		}
	}
	return nil
}

// bindLoop binds queued pods to this node through the binding subresource, as the scheduler
// would; failed bindings are retried with the queue's back-off.
func (r *runner) bindLoop(ctx context.Context) {
	for {
		key, quit := r.bindQueue.Get()
		if quit {
			return
		}
		err := r.bind(ctx, key)
		if err != nil {
			logf("pod %s: binding: %v (retrying)", key, err)
			r.bindQueue.AddRateLimited(key)
		} else {
			r.bindQueue.Forget(key)
		}
		r.bindQueue.Done(key)
	}
}

func (r *runner) bind(ctx context.Context, key types.NamespacedName) error {
	pod := r.cachedPod(key)
	if pod == nil || pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, apiCallTimeout)
	defer cancel()
	err := r.client.CoreV1().Pods(pod.Namespace).Bind(ctx, &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: r.cfg.nodeName},
	}, metav1.CreateOptions{})
	switch {
	case err == nil:
		logf("pod %s: bound to %s", key, r.cfg.nodeName)
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil // deleted, or bound meanwhile
	}
	return err
}

// deleteObject removes a pod whose programs have all stopped: grace period 0 and the UID as
// precondition, as the kubelet's status manager does, so a new pod of the same name is safe.
func (r *runner) deleteObject(pod *v1.Pod) {
	zero := int64(0)
	uid := pod.UID
	key := pod.Namespace + "/" + pod.Name
	wait := statusRetryInterval
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
		err := r.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero,
			Preconditions:      &metav1.Preconditions{UID: &uid},
		})
		cancel()
		switch {
		case err == nil:
			logf("pod %s: deleted", key)
			return
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			logf("pod %s: deleted (already gone)", key)
			return
		case attempt == deleteAttempts:
			logf("pod %s: delete failed %d times, giving up (it stays Terminating): %v", key, attempt, err)
			return
		}
		logf("pod %s: delete: %v (retrying in %s)", key, err, wait)
		time.Sleep(wait)
		wait *= 2
	}
}

// shutdown stops every pod (SIGTERM, grace, SIGKILL, tear down) and waits for them.
func (r *runner) shutdown() {
	r.mu.Lock()
	r.stopping = true
	workers := make([]*podWorker, 0, len(r.workers))
	for _, w := range r.workers {
		workers = append(workers, w)
	}
	r.mu.Unlock()
	if r.bindQueue != nil {
		r.bindQueue.ShutDown()
	}
	for _, w := range workers {
		w.requestStop(stopShutdown)
	}
	r.wg.Wait()
}
