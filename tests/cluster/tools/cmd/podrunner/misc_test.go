package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestIPAllocator(t *testing.T) {
	a, err := newIPAllocator("10.213.0.7/29")
	if err != nil {
		t.Fatal(err)
	}
	if a.gateway != netip.MustParseAddr("10.213.0.1") {
		t.Fatalf("gateway %s", a.gateway)
	}
	var got []string
	for range 5 {
		ip, err := a.allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip.String())
	}
	want := []string{"10.213.0.2", "10.213.0.3", "10.213.0.4", "10.213.0.5", "10.213.0.6"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("allocated %v, want %v", got, want)
	}
	if _, err := a.allocate(); err == nil {
		t.Fatal("a full /29 handed out another address (broadcast?)")
	}
	a.release(netip.MustParseAddr("10.213.0.4"))
	if ip, err := a.allocate(); err != nil || ip.String() != "10.213.0.4" {
		t.Fatalf("after release: %v %v", ip, err)
	}
	for _, bad := range []string{"nonsense", "fd00::/64", "10.0.0.0/31"} {
		if _, err := newIPAllocator(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestIPAllocatorDoesNotReuseAtOnce(t *testing.T) {
	a, _ := newIPAllocator("10.0.0.0/24")
	first, _ := a.allocate()
	a.release(first)
	second, _ := a.allocate()
	if first == second {
		t.Fatalf("released %s handed out again at once", first)
	}
}

func TestNetworkNames(t *testing.T) {
	n := networkNames("0d3c2b1a-9f8e-4d7c-8b6a-5f4e3d2c1b0a")
	if n.netns != "lugpod-0d3c2b1a9f8" || n.hostVeth != "lugv0d3c2b1a9f8" || len(n.hostVeth) > 15 {
		t.Errorf("names %+v", n)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	first := map[string]fileProjection{
		"token":      {data: []byte("t1"), mode: 0o600},
		"ca.crt":     {data: []byte("ca"), mode: 0o644},
		"sub/dir/ns": {data: []byte("default"), mode: 0o644},
	}
	if changed, err := writeAtomic(dir, first); err != nil || !changed {
		t.Fatalf("first write: %v %v", changed, err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if read("token") != "t1" || read("sub/dir/ns") != "default" {
		t.Fatal("content")
	}
	if st, _ := os.Stat(filepath.Join(dir, "token")); st.Mode().Perm() != 0o600 {
		t.Errorf("token mode %v", st.Mode())
	}
	if target, err := os.Readlink(filepath.Join(dir, "token")); err != nil || target != "..data/token" {
		t.Errorf("token link %q %v", target, err)
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))

	// The same payload again: nothing changes, ..data stays.
	if changed, err := writeAtomic(dir, first); err != nil || changed {
		t.Fatalf("unchanged write: %v %v", changed, err)
	}
	if again, _ := os.Readlink(filepath.Join(dir, "..data")); again != old {
		t.Errorf("..data moved from %s to %s for an unchanged payload", old, again)
	}
	// A mode change alone is a change.
	first["ca.crt"] = fileProjection{data: []byte("ca"), mode: 0o600}
	if changed, _ := writeAtomic(dir, first); !changed {
		t.Error("mode change not written")
	}
	old, _ = os.Readlink(filepath.Join(dir, "..data"))

	if changed, err := writeAtomic(dir, map[string]fileProjection{"token": {data: []byte("t2"), mode: 0o644}}); err != nil || !changed {
		t.Fatal(err)
	}
	if read("token") != "t2" {
		t.Error("token not replaced")
	}
	if _, err := os.Lstat(filepath.Join(dir, "ca.crt")); !os.IsNotExist(err) {
		t.Error("ca.crt should be gone")
	}
	if _, err := os.Stat(filepath.Join(dir, old)); !os.IsNotExist(err) {
		t.Error("old timestamped directory left behind")
	}
	for _, bad := range []string{"/abs", "../x", "a/../../x", "..data"} {
		if _, err := writeAtomic(dir, map[string]fileProjection{bad: {data: nil, mode: 0o644}}); err == nil {
			t.Errorf("path %q accepted", bad)
		}
	}
}

func TestResolveSubPath(t *testing.T) {
	vol := t.TempDir()
	os.WriteFile(filepath.Join(vol, "f"), []byte("x"), 0o644)
	os.Symlink("/etc", filepath.Join(vol, "escape"))
	if p, err := resolveSubPath(vol, "f"); err != nil || !strings.HasSuffix(p, "/f") {
		t.Errorf("f: %q %v", p, err)
	}
	if p, err := resolveSubPath(vol, "new/dir"); err != nil {
		t.Errorf("new dir: %v", err)
	} else if st, err := os.Stat(p); err != nil || !st.IsDir() {
		t.Errorf("new dir not created: %v", err)
	}
	for _, bad := range []string{"escape", "../x", "/abs"} {
		if _, err := resolveSubPath(vol, bad); err == nil {
			t.Errorf("subPath %q accepted", bad)
		}
	}
}

func TestMountInfo(t *testing.T) {
	const info = `22 27 0:21 / /proc rw,nosuid - proc proc rw
23 27 0:22 / /sys rw - sysfs sysfs rw
24 27 0:5 / /dev rw - devtmpfs udev rw
25 24 0:23 / /dev/shm rw - tmpfs tmpfs rw
27 1 252:1 / / rw - ext4 /dev/vda rw
28 27 0:40 / /mnt/with\040space ro - tmpfs none ro
42 27 252:1 /run/netns /run/netns rw - ext4 /dev/vda rw
43 27 0:50 / /state/pods/u/containers/c/scratch rw - tmpfs tmpfs rw
`
	ms, err := parseMountInfo(strings.NewReader(info))
	if err != nil {
		t.Fatal(err)
	}
	got := topLevelMounts(ms, "/state/pods/u/containers/c/scratch")
	want := []string{"/sys", "/dev", "/mnt/with space", "/run/netns"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("top-level mounts %q, want %q", got, want)
	}
}

func TestSortMountsByDepth(t *testing.T) {
	ms := []execMount{{Target: "/a/b/c"}, {Target: "/a"}, {Target: "/x/y"}, {Target: "/a/b"}}
	sortMountsByDepth(ms)
	var got []string
	for _, m := range ms {
		got = append(got, m.Target)
	}
	if want := []string{"/a", "/x/y", "/a/b", "/a/b/c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

func TestLastLogLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.log")
	if got := lastLogLine(p); got != "" {
		t.Errorf("missing file: %q", got)
	}
	os.WriteFile(p, []byte(markerPrefix+"container c start 0 ====\nhello\nFATAL cannot uninstall\n\n"), 0o644)
	if got := lastLogLine(p); got != "FATAL cannot uninstall" {
		t.Errorf("last line %q", got)
	}
	os.WriteFile(p, []byte("old run\n"+markerPrefix+"container c start 1 ====\n"), 0o644)
	if got := lastLogLine(p); got != "" {
		t.Errorf("nothing since the marker, got %q", got)
	}
}

func TestProbeURLAndPorts(t *testing.T) {
	c := &v1.Container{Ports: []v1.ContainerPort{{Name: "https", ContainerPort: 8443}}}
	u, err := probeURL(&v1.HTTPGetAction{Path: "readyz", Port: intstr.FromString("https"), Scheme: v1.URISchemeHTTPS}, "10.0.0.9", c)
	if err != nil || u != "https://10.0.0.9:8443/readyz" {
		t.Errorf("named port: %q %v", u, err)
	}
	u, err = probeURL(&v1.HTTPGetAction{Path: "/h", Port: intstr.FromInt32(80), Host: "1.2.3.4"}, "10.0.0.9", c)
	if err != nil || u != "http://1.2.3.4:80/h" {
		t.Errorf("numeric port: %q %v", u, err)
	}
	if _, err := probeURL(&v1.HTTPGetAction{Port: intstr.FromString("nope")}, "10.0.0.9", c); err == nil {
		t.Error("unknown port name accepted")
	}
	tm := timingOf(&v1.Probe{})
	if tm.period.Seconds() != 10 || tm.timeout.Seconds() != 1 || tm.failureThreshold != 3 || tm.successThreshold != 1 {
		t.Errorf("defaults %+v", tm)
	}
}
