package main

// container-exec is the hidden sub-mode the runner re-executes itself in to start one
// container. It is started in new mount, UTS and PID namespaces (see launch.go), so it is PID
// 1 of its own PID namespace, and becomes the container's program by execve, keeping all of
// them. Before that it builds the container's file system:
//
//   - a root: an overlay whose lower layer is the host's root file system and whose upper
//     layer is a tmpfs, so that the container may create and change files (its mount points
//     too) without touching the host's; the host's other mounts (/dev, /sys, /run/netns, ...)
//     are bound in again at their places, and a fresh /proc shows the container's PID
//     namespace;
//   - the image's files, each bound read-only at its image path;
//   - the volumes, bound at their mountPaths (read-only when asked).
//
// Then it pivots into that root, sets the pod's host name, joins the pod's network namespace
// and executes the program. The process stays root with all capabilities: security contexts
// (runAsUser, capabilities, seccomp, readOnlyRootFilesystem, ...) are not enforced.
//
// A failure before execve is written to fd 3 (close-on-exec, so a successful execve closes
// it with nothing written) and the process exits startErrorExitCode; the parent reports it
// as the runtime's StartError.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	// startErrorExitCode is what runtimes report for a container that could not start
	// (runc/containerd use 128).
	startErrorExitCode = 128
	// statusFD is the pipe to the runner (the first of cmd.ExtraFiles).
	statusFD = 3
	// oldRootName is where the host's root sits, inside the new root, until the mounts are
	// done; it is detached before the program runs.
	oldRootName = "/.podrunner-oldroot"
	// maxHostnameLen is the kernel's limit (HOST_NAME_MAX) and the API's for a DNS label.
	maxHostnameLen = 63
)

// execMount is one bind mount into the container.
type execMount struct {
	Source   string `json:"source"` // host path
	Target   string `json:"target"` // path inside the container
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// execSpec is what the runner hands to container-exec.
type execSpec struct {
	NetNS      string      `json:"netns"`   // path of the pod's network namespace ("" for the host's)
	Scratch    string      `json:"scratch"` // host directory for the container's tmpfs
	Hostname   string      `json:"hostname"`
	Path       string      `json:"path"` // resolved program, inside the container
	Argv       []string    `json:"argv"`
	Env        []string    `json:"env"`
	WorkingDir string      `json:"workingDir"`
	ImageFiles []execMount `json:"imageFiles"`
	Mounts     []execMount `json:"mounts"`
}

// mountInfo is one line of /proc/self/mountinfo (the fields used here).
type mountInfo struct {
	id, parent int
	mountPoint string
}

// unescapeMountPath decodes the octal escapes (\040 for a space, ...) of mountinfo.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseMountInfo(r io.Reader) ([]mountInfo, error) {
	var out []mountInfo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			return nil, fmt.Errorf("mountinfo: short line %q", sc.Text())
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mountinfo: bad ids in %q", sc.Text())
		}
		out = append(out, mountInfo{id: id, parent: parent, mountPoint: unescapeMountPath(f[4])})
	}
	return out, sc.Err()
}

// topLevelMounts lists the mount points directly on the root mount, in mount order, without
// /proc (replaced by a fresh one) and without anything at or under skip (the container's own
// scratch tmpfs). Binding each of them recursively reproduces every mount below the root.
func topLevelMounts(mounts []mountInfo, skip string) []string {
	rootID := -1
	for _, m := range mounts {
		if m.mountPoint == "/" {
			rootID = m.id // the last one is the visible one when roots are stacked
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range mounts {
		if m.parent != rootID || m.mountPoint == "/" || m.mountPoint == "/proc" || seen[m.mountPoint] {
			continue
		}
		if m.mountPoint == skip || strings.HasPrefix(m.mountPoint, skip+"/") {
			continue
		}
		seen[m.mountPoint] = true
		out = append(out, m.mountPoint)
	}
	return out
}

// sortMountsByDepth orders mounts so that a parent directory's mount comes before mounts
// inside it, as containerd orders them.
func sortMountsByDepth(ms []execMount) {
	sort.SliceStable(ms, func(i, j int) bool {
		return strings.Count(filepath.Clean(ms[i].Target), "/") < strings.Count(filepath.Clean(ms[j].Target), "/")
	})
}

// mounter creates mount points inside the new root without writing to any host file system.
type mounter struct {
	scratch string // the container's tmpfs, as seen from the new root
	rootDev uint64
	layers  int
}

func devOf(p string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return 0, err
	}
	return st.Dev, nil
}

// ensure makes p exist (a directory, or an empty file when file is set). Where the nearest
// existing ancestor lies on a host mount rather than the root overlay (under /run or /dev,
// say), that ancestor first gets an overlay of its own with a tmpfs upper layer, so the new
// entries exist only in this container.
func (m *mounter) ensure(p string, file bool) error {
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	anc := filepath.Dir(p)
	for {
		if _, err := os.Stat(anc); err == nil {
			break
		}
		anc = filepath.Dir(anc)
	}
	dev, err := devOf(anc)
	if err != nil {
		return err
	}
	if dev != m.rootDev {
		m.layers++
		up := filepath.Join(m.scratch, fmt.Sprintf("layer%d", m.layers))
		if err := os.MkdirAll(up+"/upper", 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(up+"/work", 0o755); err != nil {
			return err
		}
		opts := fmt.Sprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", anc, up, up)
		if err := unix.Mount("overlay", anc, "overlay", 0, opts); err != nil {
			return fmt.Errorf("overlay over %s to create %s: %w", anc, p, err)
		}
	}
	if !file {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// bind mounts source (a host path, through the old root) at target.
func (m *mounter) bind(oldRoot string, em execMount) error {
	src := filepath.Join(oldRoot, em.Source)
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("mount source %s: %w", em.Source, err)
	}
	if err := m.ensure(em.Target, !st.IsDir()); err != nil {
		return fmt.Errorf("mount point %s: %w", em.Target, err)
	}
	if err := unix.Mount(src, em.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s at %s: %w", em.Source, em.Target, err)
	}
	if em.ReadOnly {
		if err := unix.Mount("", em.Target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("read-only remount of %s: %w", em.Target, err)
		}
	}
	return nil
}

// containerExecMain runs the sub-mode; it returns only on failure.
func containerExecMain(args []string) int {
	// Namespaces are per thread: setns and execve must happen on the same one.
	runtime.LockOSThread()
	unix.CloseOnExec(statusFD)
	status := os.NewFile(statusFD, "status")
	fail := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(os.Stderr, "podrunner container-exec: %s\n", msg)
		if status != nil {
			_, _ = status.WriteString(msg)
		}
		return startErrorExitCode
	}
	if len(args) != 2 || args[0] != "--spec" {
		return fail("usage: podrunner container-exec --spec FILE")
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		return fail("reading spec: %v", err)
	}
	var spec execSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fail("parsing spec %s: %v", args[1], err)
	}
	if err := buildRootAndExec(&spec); err != nil {
		return fail("%v", err)
	}
	return 0 // not reached: buildRootAndExec returns only errors
}

func buildRootAndExec(spec *execSpec) error {
	// Opened now: the host's /run/netns is out of reach once the root has changed.
	netfd := -1
	if spec.NetNS != "" {
		fd, err := unix.Open(spec.NetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening network namespace %s: %w", spec.NetNS, err)
		}
		netfd = fd
	}
	// Nothing done from here on may propagate back to the host's mount namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	mi, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	mounts, err := parseMountInfo(mi)
	mi.Close()
	if err != nil {
		return err
	}

	s := spec.Scratch
	if err := unix.Mount("tmpfs", s, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs at %s: %w", s, err)
	}
	for _, d := range []string{"root", "upper", "work"} {
		if err := os.Mkdir(filepath.Join(s, d), 0o755); err != nil {
			return err
		}
	}
	root := filepath.Join(s, "root")
	opts := fmt.Sprintf("lowerdir=/,upperdir=%s/upper,workdir=%s/work", s, s)
	if err := unix.Mount("overlay", root, "overlay", 0, opts); err != nil {
		return fmt.Errorf("root overlay: %w", err)
	}
	var warnings []string
	for _, mp := range topLevelMounts(mounts, s) {
		if err := unix.Mount(mp, filepath.Join(root, mp), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			// A host mount the container cannot have (an unusual file system refusing a
			// bind) is left out rather than failing every container.
			warnings = append(warnings, fmt.Sprintf("%s (%v)", mp, err))
		}
	}
	if err := os.MkdirAll(root+oldRootName, 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(root, root+oldRootName); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if os.Getpid() == 1 {
		if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mounting /proc: %w", err)
		}
	} else if err := unix.Mount(oldRootName+"/proc", "/proc", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding /proc: %w", err)
	}

	rootDev, err := devOf("/")
	if err != nil {
		return err
	}
	m := &mounter{scratch: filepath.Join(oldRootName, s), rootDev: rootDev}
	for _, f := range spec.ImageFiles {
		f.ReadOnly = true // an image layer is read-only
		if err := m.bind(oldRootName, f); err != nil {
			return fmt.Errorf("image file: %w", err)
		}
	}
	vols := append([]execMount(nil), spec.Mounts...)
	sortMountsByDepth(vols)
	for _, v := range vols {
		if err := m.bind(oldRootName, v); err != nil {
			return fmt.Errorf("volume: %w", err)
		}
	}
	wd := spec.WorkingDir
	if wd == "" {
		wd = "/"
	}
	if err := m.ensure(wd, false); err != nil {
		return fmt.Errorf("working directory %s: %w", wd, err)
	}
	if err := unix.Unmount(oldRootName, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the host root: %w", err)
	}
	_ = os.Remove(oldRootName)
	if err := unix.Chdir(wd); err != nil {
		return fmt.Errorf("working directory %s: %w", wd, err)
	}
	host := spec.Hostname
	if len(host) > maxHostnameLen {
		host = host[:maxHostnameLen]
	}
	if err := unix.Sethostname([]byte(host)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if netfd >= 0 {
		if err := unix.Setns(netfd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("joining network namespace %s: %w", spec.NetNS, err)
		}
	}
	if len(warnings) > 0 {
		fmt.Fprintf(os.Stderr, "podrunner container-exec: host mounts left out: %s\n", strings.Join(warnings, "; "))
	}
	err = unix.Exec(spec.Path, spec.Argv, spec.Env)
	return fmt.Errorf("exec %s: %w", spec.Path, err)
}
