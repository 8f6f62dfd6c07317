// Command podrunner plays the kubelet of one Node for a test control plane that has no
// kubelet and no container runtime: it registers the Node, binds unbound pods to it (there is
// no scheduler) and runs their containers as local processes, each in the pod's network
// namespace and a mount namespace of its own, with the images mapped to host files. See
// README.md beside this file.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	// clientQPS and clientBurst: the runner's own requests (status writes of every pod,
	// bindings, tokens) must not queue behind client-go's default of 5/s during a burst of
	// Job pods; 50/100 is what the kubelet's default kube-api-qps/burst are.
	clientQPS   = 50
	clientBurst = 100
	// startupTimeout bounds node registration at start.
	startupTimeout = 2 * time.Minute
)

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s podrunner: %s\n", time.Now().UTC().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

const usageText = `Usage: podrunner --kubeconfig FILE --node-name NAME --images FILE --state-dir DIR
                 --pod-bridge BRIDGE --pod-cidr CIDR --api-host HOST --api-port PORT
                 [--namespaces NS1,NS2]

Plays the kubelet of Node NAME: registers it (and keeps its Lease renewed), binds every pod
without a node to it, and runs the pods bound to it as local processes, each pod in a network
namespace of its own (a veth on BRIDGE, an address from CIDR), each container in a mount, UTS
and PID namespace of its own. Needs root.

Files:
  DIR/logs/<namespace>_<pod>_<container>.log   each container's stdout and stderr, appended
                                               across restarts, one marker line per start
  DIR/pods/<uid>/                              a running pod's volumes and container specs
  The runner's own log (one line per pod event) goes to stderr.

The images file (JSON) maps image repositories (tag, digest and docker.io/[library/] are
ignored) to host files; a pod whose image is not in it fails:
  {"images":[{"repository":"ghcr.io/o/app",
              "files":{"/usr/local/bin/app":"/abs/host/path"},
              "entrypoint":["/usr/local/bin/app"], "cmd":[], "workingDir":"/",
              "env":{"PATH":"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}]}

Flags:
`

func main() {
	// The hidden sub-mode that becomes a container's program (containerexec.go).
	if len(os.Args) > 1 && os.Args[1] == "container-exec" {
		os.Exit(containerExecMain(os.Args[2:]))
	}
	os.Exit(runMain())
}

func parseFlags() (config, error) {
	var cfg config
	var namespaces string
	fs := flag.NewFlagSet("podrunner", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(os.Stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig of a user allowed to manage nodes, leases and pods")
	fs.StringVar(&cfg.nodeName, "node-name", "", "name of the Node to register and run pods for")
	fs.StringVar(&cfg.imagesFile, "images", "", "images file (JSON), see above")
	fs.StringVar(&cfg.stateDir, "state-dir", "", "directory for container logs and pod state")
	fs.StringVar(&cfg.bridge, "pod-bridge", "", "existing Linux bridge carrying the first address of --pod-cidr")
	fs.StringVar(&cfg.podCIDR, "pod-cidr", "", "IPv4 CIDR of pod addresses; its first address is the bridge's (and the node's)")
	fs.StringVar(&cfg.apiHost, "api-host", "", "API server address given to pods as KUBERNETES_SERVICE_HOST")
	fs.StringVar(&cfg.apiPort, "api-port", "", "API server port given to pods as KUBERNETES_SERVICE_PORT")
	fs.StringVar(&namespaces, "namespaces", "", "comma-separated namespaces to watch (default: all)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for name, v := range map[string]string{"--kubeconfig": cfg.kubeconfig, "--node-name": cfg.nodeName, "--images": cfg.imagesFile,
		"--state-dir": cfg.stateDir, "--pod-bridge": cfg.bridge, "--pod-cidr": cfg.podCIDR, "--api-host": cfg.apiHost, "--api-port": cfg.apiPort} {
		if v == "" {
			return cfg, fmt.Errorf("%s is required", name)
		}
	}
	if p, err := strconv.Atoi(cfg.apiPort); err != nil || p <= 0 || p > 65535 {
		return cfg, fmt.Errorf("--api-port %q is not a port number", cfg.apiPort)
	}
	for _, ns := range strings.Split(namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			cfg.namespaces = append(cfg.namespaces, ns)
		}
	}
	abs, err := filepath.Abs(cfg.stateDir)
	if err != nil {
		return cfg, err
	}
	cfg.stateDir = abs
	return cfg, nil
}

// checkBridge makes sure the bridge exists and carries the CIDR's first address, which pods
// use as their gateway and the Node reports as its address.
func checkBridge(name string, gateway netip.Addr) error {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("--pod-bridge %s: %w", name, err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return fmt.Errorf("--pod-bridge %s: %w", name, err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(net.IP(gateway.AsSlice())) {
			return nil
		}
	}
	return fmt.Errorf("--pod-bridge %s does not carry %s, the first address of --pod-cidr", name, gateway)
}

func runMain() int {
	cfg, err := parseFlags()
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "podrunner: %v (see --help)\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "podrunner: %v\n", err)
		return 1
	}
	if os.Geteuid() != 0 {
		return fail(fmt.Errorf("must run as root: it creates network and mount namespaces"))
	}
	images, err := loadImages(cfg.imagesFile)
	if err != nil {
		return fail(err)
	}
	alloc, err := newIPAllocator(cfg.podCIDR)
	if err != nil {
		return fail(err)
	}
	if err := checkBridge(cfg.bridge, alloc.gateway); err != nil {
		return fail(err)
	}
	for _, d := range []string{"logs", "pods"} {
		if err := os.MkdirAll(filepath.Join(cfg.stateDir, d), 0o755); err != nil {
			return fail(err)
		}
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	if err != nil {
		return fail(fmt.Errorf("--kubeconfig: %w", err))
	}
	restCfg.QPS, restCfg.Burst = clientQPS, clientBurst
	restCfg.UserAgent = "podrunner/" + runnerVersion
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fail(err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	r := &runner{cfg: cfg, client: client, objects: apiObjects{client}, images: images, alloc: alloc, hostIP: alloc.gateway.String()}
	r.cleanStaleState()

	regCtx, regCancel := context.WithTimeout(ctx, startupTimeout)
	node, err := registerNode(regCtx, client, cfg.nodeName, r.hostIP)
	regCancel()
	if err != nil {
		return fail(err)
	}
	logf("node %s registered (address %s, pod CIDR %s, images from %s, logs in %s)",
		cfg.nodeName, r.hostIP, cfg.podCIDR, cfg.imagesFile, filepath.Join(cfg.stateDir, "logs"))
	go heartbeat(ctx, client, node, r.hostIP)

	if err := r.start(ctx); err != nil {
		r.shutdown()
		return fail(err)
	}
	<-ctx.Done()
	logf("stopping: stopping every pod")
	r.shutdown()
	logf("stopped")
	return 0
}
