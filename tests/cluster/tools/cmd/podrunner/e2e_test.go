//go:build e2e

package main

// End-to-end check of the pod runner against a real control plane (tests/cluster/
// control-plane.sh), run by e2e.sh beside this file, which builds this test binary, maps two
// images to it and /bin/sh, starts the control plane with the runner, and runs it. The test
// binary doubles as the image of a small HTTP server (TestMain, PODRUNNER_E2E_SERVE).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	// e2eTimeout bounds each wait: pods start in about a second, but the machine is shared
	// with large builds.
	e2eTimeout = 90 * time.Second
	e2ePoll    = 300 * time.Millisecond
	// serverReadyAfter keeps the server unready for a while, so readiness visibly follows the
	// probe rather than the process start.
	serverReadyAfter = 3 * time.Second
)

func TestMain(m *testing.M) {
	if addr := os.Getenv("PODRUNNER_E2E_SERVE"); addr != "" {
		os.Exit(serve(addr))
	}
	os.Exit(m.Run())
}

// serve is the server image: /ready fails until serverReadyAfter has passed, / says hello,
// SIGTERM ends it with exit code 0.
func serve(addr string) int {
	start := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if time.Since(start) < serverReadyAfter {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		host, _ := os.Hostname()
		fmt.Fprintf(w, "hello from %s pid %d\n", host, os.Getpid())
	})
	srv := &http.Server{Addr: addr, Handler: mux}
	// The same handlers over HTTPS (a self-signed certificate, as probes do not verify).
	tlsSrv := &http.Server{Addr: os.Getenv("PODRUNNER_E2E_SERVE_TLS"), Handler: mux}
	if tlsSrv.Addr != "" {
		cert, err := selfSigned()
		if err != nil {
			fmt.Println(err)
			return 1
		}
		tlsSrv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		go func() { _ = tlsSrv.ListenAndServeTLS("", "") }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Println("SIGTERM: shutting down")
		tlsSrv.Close()
		srv.Close()
	}()
	fmt.Println("serving on", addr, tlsSrv.Addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Println(err)
		return 1
	}
	return 0
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

type e2e struct {
	t      *testing.T
	cfg    *rest.Config
	client kubernetes.Interface
	ns     string
	state  string
	node   string
}

func setup(t *testing.T) *e2e {
	kc, state := os.Getenv("KUBECONFIG"), os.Getenv("LUG_CLUSTER_STATE")
	if kc == "" || state == "" {
		t.Skip("needs a control plane: KUBECONFIG and LUG_CLUSTER_STATE (run e2e.sh)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	e := &e2e{t: t, cfg: cfg, client: client, state: state, node: os.Getenv("LUG_NODE_NAME")}
	ctx := context.Background()
	ns, err := client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "podrunner-e2e-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.ns = ns.Name
	t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(context.Background(), e.ns, metav1.DeleteOptions{}) })
	e.waitFor("ServiceAccount default", func() (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(e.ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	return e
}

func (e *e2e) waitFor(what string, cond func() (bool, error)) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), e2ePoll, e2eTimeout, true, func(context.Context) (bool, error) { return cond() })
	if err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (e *e2e) pod(name string) *v1.Pod {
	p, err := e.client.CoreV1().Pods(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatalf("pod %s: %v", name, err)
	}
	return p
}

func (e *e2e) waitPhase(name string, phase v1.PodPhase) *v1.Pod {
	e.t.Helper()
	var p *v1.Pod
	e.waitFor(fmt.Sprintf("pod %s %s", name, phase), func() (bool, error) {
		p = e.pod(name)
		return p.Status.Phase == phase, nil
	})
	return p
}

func (e *e2e) log(pod, container string) string {
	b, err := os.ReadFile(filepath.Join(e.state, "runner", "logs", fmt.Sprintf("%s_%s_%s.log", e.ns, pod, container)))
	if err != nil {
		e.t.Fatalf("log: %v", err)
	}
	return string(b)
}

func logValue(log, key string) string {
	for _, line := range strings.Split(log, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	return ""
}

func fieldEnv(name, path string) v1.EnvVar {
	return v1.EnvVar{Name: name, ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: path}}}
}

// TestE2EShellPod: an init container and a container running /bin/sh, the environment with
// fieldRefs, an emptyDir shared between them, and the ServiceAccount token volume whose token
// the API server accepts.
func TestE2EShellPod(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const sa = "/var/run/secrets/kubernetes.io/serviceaccount"
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "shell", Labels: map[string]string{"app": "shell"}},
		Spec: v1.PodSpec{
			RestartPolicy: v1.RestartPolicyNever,
			Volumes:       []v1.Volume{{Name: "work", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}},
			InitContainers: []v1.Container{{
				Name: "init", Image: "lug-e2e/shell:1",
				Command:      []string{"/bin/sh", "-c", "echo init-was-here > /work/init.txt; echo init done"},
				VolumeMounts: []v1.VolumeMount{{Name: "work", MountPath: "/work"}},
			}},
			Containers: []v1.Container{{
				Name: "main", Image: "docker.io/lug-e2e/shell@sha256:0000",
				Command: []string{"sh", "-c", `
echo "init=$(cat /work/init.txt)"
echo "name=$POD_NAME"; echo "ns=$POD_NS"; echo "ip=$POD_IP"; echo "node=$NODE"; echo "label=$APP"
echo "composed=$COMPOSED"; echo "api=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"
echo "hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
echo "pid=$$$$"  # $$ is the API's escape for a literal $
echo "sans=$(cat ` + sa + `/namespace)"
echo "ca=$(head -1 ` + sa + `/ca.crt)"
echo "token=$(cat ` + sa + `/token)"
touch /host-should-not-see-this
`},
				Env: []v1.EnvVar{
					fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NS", "metadata.namespace"),
					fieldEnv("POD_IP", "status.podIP"), fieldEnv("NODE", "spec.nodeName"),
					fieldEnv("APP", "metadata.labels['app']"),
					{Name: "COMPOSED", Value: "$(POD_NAME).$(POD_NS)"},
				},
				VolumeMounts: []v1.VolumeMount{{Name: "work", MountPath: "/work"}},
			}},
		},
	}
	if _, err := e.client.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := e.waitPhase("shell", v1.PodSucceeded)
	if p.Spec.NodeName != e.node {
		t.Errorf("bound to %q, want %q", p.Spec.NodeName, e.node)
	}
	if s := p.Status.InitContainerStatuses; len(s) != 1 || s[0].State.Terminated == nil || s[0].State.Terminated.ExitCode != 0 {
		t.Errorf("init status: %+v", s)
	}
	cs := p.Status.ContainerStatuses
	if len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != 0 || cs[0].State.Terminated.Reason != "Completed" {
		t.Fatalf("container status: %+v", cs)
	}
	if p.Status.PodIP == "" || p.Status.HostIP == "" || p.Status.StartTime == nil {
		t.Errorf("addresses/startTime: %+v", p.Status)
	}

	log := e.log("shell", "main")
	want := map[string]string{
		"init": "init-was-here", "name": "shell", "ns": e.ns, "ip": p.Status.PodIP, "node": e.node,
		"label": "shell", "composed": "shell." + e.ns, "hostname": "shell", "pid": "1", "sans": e.ns,
		"ca":  "-----BEGIN CERTIFICATE-----",
		"api": os.Getenv("LUG_API_HOST") + ":" + os.Getenv("LUG_API_PORT"),
	}
	for k, v := range want {
		if got := logValue(log, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if _, err := os.Stat("/host-should-not-see-this"); err == nil {
		os.Remove("/host-should-not-see-this")
		t.Error("a file the container wrote at / reached the host")
	}

	token := logValue(log, "token")
	if token == "" {
		t.Fatal("no token in the log")
	}
	tr, err := e.client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Status.Authenticated || tr.Status.User.Username != "system:serviceaccount:"+e.ns+":default" {
		t.Errorf("TokenReview: %+v", tr.Status)
	}
	if got := tr.Status.User.Extra["authentication.kubernetes.io/pod-name"]; len(got) != 1 || got[0] != "shell" {
		t.Errorf("token not bound to the pod: extra %v", tr.Status.User.Extra)
	}
	// What `kubectl auth whoami` asks, with the pod's own token.
	saCfg := rest.AnonymousClientConfig(e.cfg)
	saCfg.BearerToken = token
	ssr, err := kubernetes.NewForConfigOrDie(saCfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview with the pod's token: %v", err)
	}
	if ssr.Status.UserInfo.Username != "system:serviceaccount:"+e.ns+":default" {
		t.Errorf("whoami: %+v", ssr.Status.UserInfo)
	}
}

// TestE2EServerPod: readiness from an HTTP probe on a named port, the EndpointSlice
// controller publishing the ready address, the pod reachable on its own address, and a
// graceful deletion.
func TestE2EServerPod(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	grace := int64(5)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "server", Labels: map[string]string{"app": "server"}},
		Spec: v1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			Containers: []v1.Container{{
				Name: "server", Image: "lug-e2e/server:latest",
				Env:   []v1.EnvVar{{Name: "PODRUNNER_E2E_SERVE", Value: ":8080"}, {Name: "PODRUNNER_E2E_SERVE_TLS", Value: ":8443"}},
				Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "https", ContainerPort: 8443}},
				// HTTPS on a named port, as the guard's own probe.
				ReadinessProbe: &v1.Probe{
					ProbeHandler:  v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("https"), Scheme: v1.URISchemeHTTPS}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "server"},
		Spec: v1.ServiceSpec{Selector: map[string]string{"app": "server"},
			Ports: []v1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	if _, err := e.client.CoreV1().Services(e.ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	if _, err := e.client.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := e.waitPhase("server", v1.PodRunning)
	var ready time.Time
	e.waitFor("server Ready", func() (bool, error) {
		p = e.pod("server")
		for _, c := range p.Status.Conditions {
			if c.Type == v1.PodReady && c.Status == v1.ConditionTrue {
				ready = time.Now()
				return true, nil
			}
		}
		return false, nil
	})
	if ready.Sub(created) < serverReadyAfter {
		t.Errorf("Ready after %s, before the server's /ready could succeed (%s)", ready.Sub(created), serverReadyAfter)
	}
	e.waitFor("EndpointSlice with the ready pod address", func() (bool, error) {
		slices, err := e.client.DiscoveryV1().EndpointSlices(e.ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=server"})
		if err != nil {
			return false, err
		}
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				if len(ep.Addresses) > 0 && ep.Addresses[0] == p.Status.PodIP && ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					return true, nil
				}
			}
		}
		return false, nil
	})
	resp, err := http.Get("http://" + p.Status.PodIP + ":8080/")
	if err != nil {
		t.Fatalf("pod address not reachable from the host: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "hello from server pid 1") {
		t.Errorf("reply %q", body)
	}

	netns := netnsPath(networkNames(string(p.UID)).netns)
	if _, err := os.Stat(netns); err != nil {
		t.Errorf("network namespace: %v", err)
	}
	deleted := time.Now()
	if err := e.client.CoreV1().Pods(e.ns).Delete(ctx, "server", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("server pod gone", func() (bool, error) {
		_, err := e.client.CoreV1().Pods(e.ns).Get(ctx, "server", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	// The server handles SIGTERM, so it must not have needed the whole grace period.
	if took := time.Since(deleted); took > time.Duration(grace)*time.Second {
		t.Errorf("deletion took %s, more than the grace period although the server stops on SIGTERM", took)
	}
	if _, err := os.Stat(netns); !os.IsNotExist(err) {
		t.Errorf("network namespace %s still there after deletion (%v)", netns, err)
	}
	if log := e.log("server", "server"); !strings.Contains(log, "SIGTERM: shutting down") {
		t.Errorf("server log has no SIGTERM line:\n%s", log)
	}
}

// TestE2EUnknownImage: a pod whose image the map does not know fails with a clear message.
func TestE2EUnknownImage(t *testing.T) {
	e := setup(t)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "unknown"},
		Spec: v1.PodSpec{RestartPolicy: v1.RestartPolicyAlways,
			Containers: []v1.Container{{Name: "c", Image: "example.com/not/mapped:v9"}}},
	}
	if _, err := e.client.CoreV1().Pods(e.ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := e.waitPhase("unknown", v1.PodFailed)
	w := p.Status.ContainerStatuses[0].State.Waiting
	if w == nil || w.Reason != "ErrImagePull" || !strings.Contains(w.Message, "example.com/not/mapped:v9") || !strings.Contains(w.Message, "images") {
		t.Errorf("waiting state: %+v", w)
	}
}

// TestE2EMissingSecret: a volume whose Secret does not exist keeps the pod Pending with the
// reason; once the Secret is created the pod runs, and a failing container fails it with its
// last log line as message.
func TestE2EMissingSecret(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "needs-secret"},
		Spec: v1.PodSpec{
			RestartPolicy: v1.RestartPolicyNever,
			Volumes:       []v1.Volume{{Name: "s", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "later"}}}},
			Containers: []v1.Container{{
				Name: "c", Image: "lug-e2e/shell",
				Command:      []string{"/bin/sh", "-c", `echo "got $(cat /s/key)"; echo "failing on purpose" >&2; exit 3`},
				VolumeMounts: []v1.VolumeMount{{Name: "s", MountPath: "/s", ReadOnly: true}},
			}},
		},
	}
	if _, err := e.client.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("FailedMount", func() (bool, error) {
		p := e.pod("needs-secret")
		return p.Status.Phase == v1.PodPending && p.Status.Reason == "FailedMount" && strings.Contains(p.Status.Message, "later"), nil
	})
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "later"}, Data: map[string][]byte{"key": []byte("value")}}
	if _, err := e.client.CoreV1().Secrets(e.ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := e.waitPhase("needs-secret", v1.PodFailed)
	term := p.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 3 || term.Reason != "Error" || term.Message != "failing on purpose" {
		t.Errorf("terminated: %+v", term)
	}
	if log := e.log("needs-secret", "c"); !strings.Contains(log, "got value") {
		t.Errorf("log:\n%s", log)
	}
}

// TestE2ERestartAndKill: restartPolicy Always restarts a failing container after the back-off
// (CrashLoopBackOff in between), and deletion SIGKILLs a program that ignores SIGTERM once
// the grace period is over.
func TestE2ERestartAndKill(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	grace := int64(2)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "crashy"},
		Spec: v1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			Containers: []v1.Container{
				{Name: "fails", Image: "lug-e2e/shell", Command: []string{"sh", "-c", "echo run; exit 1"}},
				// PID 1 without a SIGTERM handler: only SIGKILL ends it.
				{Name: "stubborn", Image: "lug-e2e/shell", Command: []string{"sh", "-c", "while :; do sleep 1; done"}},
			},
		},
	}
	if _, err := e.client.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var p *v1.Pod
	e.waitFor("CrashLoopBackOff", func() (bool, error) {
		p = e.pod("crashy")
		s := p.Status.ContainerStatuses
		return len(s) == 2 && s[0].State.Waiting != nil && s[0].State.Waiting.Reason == "CrashLoopBackOff" &&
			s[0].LastTerminationState.Terminated != nil && s[0].LastTerminationState.Terminated.ExitCode == 1, nil
	})
	if p.Status.Phase != v1.PodRunning {
		t.Errorf("phase %s while one container runs and one backs off", p.Status.Phase)
	}
	e.waitFor("a restart", func() (bool, error) {
		p = e.pod("crashy")
		return p.Status.ContainerStatuses[0].RestartCount >= 1, nil
	})
	if n := strings.Count(e.log("crashy", "fails"), "==== podrunner: container fails start"); n < 2 {
		t.Errorf("%d start markers in the log, want 2 or more", n)
	}
	deleted := time.Now()
	if err := e.client.CoreV1().Pods(e.ns).Delete(ctx, "crashy", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("crashy gone", func() (bool, error) {
		_, err := e.client.CoreV1().Pods(e.ns).Get(ctx, "crashy", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if took := time.Since(deleted); took < time.Duration(grace)*time.Second {
		t.Errorf("deleted after %s, before the grace period: was the SIGTERM-ignoring program killed early?", took)
	}
}

// TestE2ESecretUpdate: a running pod sees a Secret's new content in its volume after the
// periodic resync (as a certificate renewal reaches the guard), through the ..data swap.
func TestE2ESecretUpdate(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cert"}, Data: map[string][]byte{"tls.crt": []byte("v1")}}
	if _, err := e.client.CoreV1().Secrets(e.ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	grace := int64(1)
	mode := int32(0o440)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Spec: v1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			Volumes:                       []v1.Volume{{Name: "certs", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "cert", DefaultMode: &mode}}}},
			Containers: []v1.Container{{
				Name: "c", Image: "lug-e2e/shell",
				Command:      []string{"sh", "-c", `while :; do echo "crt=$(cat /certs/tls.crt) mode=$(stat -L -c %a /certs/tls.crt)"; sleep 1; done`},
				VolumeMounts: []v1.VolumeMount{{Name: "certs", MountPath: "/certs", ReadOnly: true}},
			}},
		},
	}
	if _, err := e.client.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("v1 in the log", func() (bool, error) {
		_, err := os.Stat(filepath.Join(e.state, "runner", "logs", e.ns+"_reader_c.log"))
		return err == nil && strings.Contains(e.log("reader", "c"), "crt=v1 mode=440"), nil
	})
	secret.Data["tls.crt"] = []byte("v2")
	if _, err := e.client.CoreV1().Secrets(e.ns).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	updated := time.Now()
	err := wait.PollUntilContextTimeout(ctx, time.Second, volumeResyncInterval+e2eTimeout, true, func(context.Context) (bool, error) {
		return strings.Contains(e.log("reader", "c"), "crt=v2"), nil
	})
	if err != nil {
		t.Fatalf("the new Secret content never reached the container: %v", err)
	}
	t.Logf("new content seen %s after the update", time.Since(updated).Round(time.Second))
}

// TestE2EHostNetwork: a hostNetwork pod gets no namespace of its own; its address is the
// node's.
func TestE2EHostNetwork(t *testing.T) {
	e := setup(t)
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnet"},
		Spec: v1.PodSpec{
			HostNetwork: true, RestartPolicy: v1.RestartPolicyNever,
			Containers: []v1.Container{{
				Name: "c", Image: "lug-e2e/shell", Command: []string{"sh", "-c", `echo "ip=$POD_IP"; echo "bridge=$(cat /sys/class/net/` + os.Getenv("LUG_BRIDGE") + `/operstate)"`},
				Env: []v1.EnvVar{fieldEnv("POD_IP", "status.podIP")},
			}},
		},
	}
	if _, err := e.client.CoreV1().Pods(e.ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := e.waitPhase("hostnet", v1.PodSucceeded)
	log := e.log("hostnet", "c")
	if p.Status.PodIP != p.Status.HostIP || logValue(log, "ip") != p.Status.HostIP {
		t.Errorf("podIP %s, hostIP %s, env %s", p.Status.PodIP, p.Status.HostIP, logValue(log, "ip"))
	}
	// Its operational state may be "down" (no ports while no pod has a veth on it); that
	// it can be read at all shows the host's interfaces.
	if v := logValue(log, "bridge"); v != "up" && v != "down" {
		t.Errorf("the host's bridge is not visible: %q", logValue(log, "bridge"))
	}
}
