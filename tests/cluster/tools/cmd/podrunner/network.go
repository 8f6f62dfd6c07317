package main

// Network: each pod gets a network namespace of its own with a veth pair, the host end on the
// pod bridge (made by the control-plane script, carrying the CIDR's first address, which is
// also the API server's), the pod end "eth0" with the next free address of the CIDR and a
// default route via the bridge. Built with iproute2's `ip`, whose errors say what went wrong.

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"time"
)

const (
	// netnsPrefix names the runner's network namespaces; the pod UID's first hex digits follow.
	netnsPrefix = "lugpod-"
	// vethPrefix names host veth ends: 4 + uidDigits characters must fit IFNAMSIZ-1 = 15.
	vethPrefix = "lugv"
	// uidDigits of the pod UID's hex identify its namespace and veth: 11 digits (44 bits) make
	// a collision among the few hundred pods of a test run negligible and fill the 15
	// characters an interface name may have.
	uidDigits = 11
	// ipCommandTimeout bounds one `ip` invocation; they take milliseconds, a hang means a
	// wedged kernel or netlink socket and should fail the pod's setup rather than block it.
	ipCommandTimeout = 20 * time.Second
)

// podNetwork names a pod's namespace and veth.
type podNetwork struct {
	netns    string
	hostVeth string
	ip       netip.Addr
}

func shortUID(uid string) string {
	hex := strings.ReplaceAll(uid, "-", "")
	if len(hex) > uidDigits {
		hex = hex[:uidDigits]
	}
	return hex
}

func networkNames(uid string) podNetwork {
	s := shortUID(uid)
	return podNetwork{netns: netnsPrefix + s, hostVeth: vethPrefix + s}
}

// ipAllocator hands out addresses of the pod CIDR: never the network address, the first
// address (the bridge's), or the broadcast address of an IPv4 prefix.
type ipAllocator struct {
	mu      sync.Mutex
	prefix  netip.Prefix
	gateway netip.Addr
	used    map[netip.Addr]bool
	next    netip.Addr
}

func newIPAllocator(cidr string) (*ipAllocator, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("--pod-cidr %q: %w", cidr, err)
	}
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("--pod-cidr %q: only IPv4 is supported", cidr)
	}
	if p.Bits() > 30 {
		return nil, fmt.Errorf("--pod-cidr %q: too small, a /30 or larger is needed for a bridge and a pod", cidr)
	}
	p = p.Masked()
	gw := p.Addr().Next()
	return &ipAllocator{prefix: p, gateway: gw, used: map[netip.Addr]bool{}, next: gw.Next()}, nil
}

func (a *ipAllocator) broadcast() netip.Addr {
	b := a.prefix.Addr().As4()
	host := 32 - a.prefix.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= (1 << host) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// allocate returns the next free address after the last one handed out, wrapping around, so
// that an address just released is not reused at once (a departing pod's address may still
// be in an EndpointSlice for a moment).
func (a *ipAllocator) allocate() (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	bcast := a.broadcast()
	first := a.gateway.Next()
	cand := a.next
	for range 1 << (32 - a.prefix.Bits()) {
		if !a.prefix.Contains(cand) || cand == bcast {
			cand = first
		}
		if !a.used[cand] {
			a.used[cand] = true
			a.next = cand.Next()
			return cand, nil
		}
		cand = cand.Next()
	}
	return netip.Addr{}, fmt.Errorf("no free address left in pod CIDR %s", a.prefix)
}

func (a *ipAllocator) release(ip netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, ip)
}

func runIP(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, ipCommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setupNetwork creates the pod's namespace and veth pair. On error whatever was made is
// removed again.
func setupNetwork(ctx context.Context, uid, bridge string, alloc *ipAllocator) (podNetwork, error) {
	n := networkNames(uid)
	// Left over by an earlier runner that died: start clean.
	teardownNetwork(ctx, n)
	ip, err := alloc.allocate()
	if err != nil {
		return n, err
	}
	n.ip = ip
	podVeth := "lugp" + shortUID(uid)
	steps := [][]string{
		{"netns", "add", n.netns},
		{"link", "add", n.hostVeth, "type", "veth", "peer", "name", podVeth},
		{"link", "set", podVeth, "netns", n.netns},
		{"-n", n.netns, "link", "set", podVeth, "name", "eth0"},
		{"-n", n.netns, "addr", "add", fmt.Sprintf("%s/%d", ip, alloc.prefix.Bits()), "dev", "eth0"},
		{"-n", n.netns, "link", "set", "lo", "up"},
		{"-n", n.netns, "link", "set", "eth0", "up"},
		{"link", "set", n.hostVeth, "master", bridge},
		{"link", "set", n.hostVeth, "up"},
		{"-n", n.netns, "route", "add", "default", "via", alloc.gateway.String()},
	}
	for _, s := range steps {
		if err := runIP(ctx, s...); err != nil {
			teardownNetwork(context.Background(), n)
			alloc.release(ip)
			return n, err
		}
	}
	return n, nil
}

// teardownNetwork removes the namespace (which destroys the veth pair with it) and the host
// end in case the pair never reached the namespace. Errors are ignored: either is normally
// already gone.
func teardownNetwork(ctx context.Context, n podNetwork) {
	_ = runIP(ctx, "netns", "del", n.netns)
	_ = runIP(ctx, "link", "del", n.hostVeth)
}

// netnsPath is where `ip netns add` pins a namespace.
func netnsPath(name string) string { return "/run/netns/" + name }
