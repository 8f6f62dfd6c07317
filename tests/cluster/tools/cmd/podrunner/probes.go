package main

// Readiness probes, as the kubelet runs them (pkg/probe/http, pkg/probe/tcp): HTTP(S) GET to
// the pod's address (TLS unverified, redirects not followed and counted as success, status
// 200-399 is success), a TCP connect, or a command run inside the container's namespaces with
// nsenter. Liveness and startup probes are not run: a container that hangs is not restarted.

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// probeUserAgent is what the kubelet sends (kube-probe/<major>.<minor>).
	probeUserAgent = "kube-probe/1.34"
	// The API defaults of a probe's timing fields (pkg/apis/core/v1/defaults.go).
	defaultProbeTimeoutSeconds   = 1
	defaultProbePeriodSeconds    = 10
	defaultProbeSuccessThreshold = 1
	defaultProbeFailureThreshold = 3
	// maxProbeBodyBytes: the kubelet reads at most 10 KiB of a probe response body.
	maxProbeBodyBytes = 10 * 1024
)

func orDefault(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

// probeTiming is a probe's timing with the API defaults applied.
type probeTiming struct {
	initialDelay, period, timeout time.Duration
	successThreshold              int
	failureThreshold              int
}

func timingOf(p *v1.Probe) probeTiming {
	return probeTiming{
		initialDelay:     time.Duration(p.InitialDelaySeconds) * time.Second,
		period:           time.Duration(orDefault(p.PeriodSeconds, defaultProbePeriodSeconds)) * time.Second,
		timeout:          time.Duration(orDefault(p.TimeoutSeconds, defaultProbeTimeoutSeconds)) * time.Second,
		successThreshold: int(orDefault(p.SuccessThreshold, defaultProbeSuccessThreshold)),
		failureThreshold: int(orDefault(p.FailureThreshold, defaultProbeFailureThreshold)),
	}
}

// resolvePort turns a probe's port (a number, or the name of one of the container's ports)
// into a number.
func resolvePort(port intstr.IntOrString, c *v1.Container) (int, error) {
	if port.Type == intstr.Int {
		if port.IntVal <= 0 || port.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port %d", port.IntVal)
		}
		return int(port.IntVal), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil && n > 0 && n <= 65535 {
		return n, nil
	}
	return 0, fmt.Errorf("port %q is not a number and no container port has that name", port.StrVal)
}

// probeURL builds an httpGet probe's URL.
func probeURL(g *v1.HTTPGetAction, podIP string, c *v1.Container) (string, error) {
	port, err := resolvePort(g.Port, c)
	if err != nil {
		return "", err
	}
	host := g.Host
	if host == "" {
		host = podIP
	}
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path), nil
}

// prober runs one container's probe.
type prober struct {
	probe   *v1.Probe
	c       *v1.Container
	podIP   string
	pid     int      // the container's program, for exec probes
	env     []string // the container's environment, for exec probes
	httpCli *http.Client
}

func newProber(p *v1.Probe, c *v1.Container, podIP string, pid int, env []string) *prober {
	t := timingOf(p)
	return &prober{probe: p, c: c, podIP: podIP, pid: pid, env: env, httpCli: &http.Client{
		Timeout: t.timeout,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // the kubelet does not verify probe certificates
			DisableKeepAlives: true,                                  // one connection per probe, as the kubelet
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// run performs one probe; nil means success.
func (p *prober) run(ctx context.Context) error {
	t := timingOf(p.probe)
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	h := p.probe.ProbeHandler
	switch {
	case h.HTTPGet != nil:
		u, err := probeURL(h.HTTPGet, p.podIP, p.c)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", probeUserAgent)
		req.Header.Set("Accept", "*/*")
		for _, hd := range h.HTTPGet.HTTPHeaders {
			if strings.EqualFold(hd.Name, "Host") {
				req.Host = hd.Value
				continue
			}
			req.Header.Add(hd.Name, hd.Value)
		}
		resp, err := p.httpCli.Do(req)
		if err != nil {
			return err
		}
		buf := make([]byte, maxProbeBodyBytes)
		n, _ := resp.Body.Read(buf)
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d (%s)", resp.StatusCode, strings.TrimSpace(string(buf[:n])))
		}
		return nil
	case h.TCPSocket != nil:
		port, err := resolvePort(h.TCPSocket.Port, p.c)
		if err != nil {
			return err
		}
		host := h.TCPSocket.Host
		if host == "" {
			host = p.podIP
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	case h.Exec != nil:
		if len(h.Exec.Command) == 0 {
			return fmt.Errorf("exec probe has no command")
		}
		nsenter, err := exec.LookPath("nsenter")
		if err != nil {
			return fmt.Errorf("exec probes need nsenter (util-linux) on the host: %w", err)
		}
		args := append([]string{"-t", strconv.Itoa(p.pid), "-m", "-u", "-n", "-p", "--"}, h.Exec.Command...)
		cmd := exec.CommandContext(ctx, nsenter, args...)
		cmd.Env = p.env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("exec probe %v: %v: %s", h.Exec.Command, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	return fmt.Errorf("unsupported probe handler (httpGet, tcpSocket and exec are supported)")
}

// readinessLoop probes until ctx ends, calling set whenever readiness changes. Readiness
// starts false and follows the thresholds: successThreshold successes in a row make the
// container ready, failureThreshold failures in a row make it unready.
func (p *prober) readinessLoop(ctx context.Context, set func(ready bool, why string)) {
	t := timingOf(p.probe)
	select {
	case <-ctx.Done():
		return
	case <-time.After(t.initialDelay):
	}
	ready := false
	successes, failures := 0, 0
	tick := time.NewTicker(t.period)
	defer tick.Stop()
	for {
		err := p.run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			successes, failures = successes+1, 0
			if !ready && successes >= t.successThreshold {
				ready = true
				set(true, "")
			}
		} else {
			successes, failures = 0, failures+1
			if ready && failures >= t.failureThreshold {
				ready = false
				set(false, err.Error())
			} else if !ready && failures == 1 {
				set(false, err.Error()) // reported once, for the log
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
