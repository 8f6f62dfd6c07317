package main

// Process launch: the runner re-executes itself as `container-exec` (containerexec.go) in new
// mount, UTS and PID namespaces; that process builds the container's file system, joins the
// pod's network namespace and becomes the container's program. No cgroups: nothing limits
// CPU or memory, and resources.limits are not applied.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

const (
	// selfExe re-executes this very binary, even if the file was replaced since.
	selfExe = "/proc/self/exe"
	// containerStartTimeout bounds building a container's file system and exec: it takes
	// milliseconds; a mount that hangs (a dead network file system on the host) must turn
	// into a StartError rather than block the pod forever.
	containerStartTimeout = 60 * time.Second
)

// process is one run of a container's program.
type process struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when the process has been reaped
	state   *os.ProcessState
}

// startProcess starts container-exec with the spec at specPath and waits until the program
// runs. A non-empty startError means it never did (the message says why); the process has
// then already been reaped.
func startProcess(specPath string, log *os.File) (p *process, startError string, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		w.Close()
		return nil, "", err
	}
	defer devnull.Close()
	cmd := exec.Command(selfExe, "container-exec", "--spec", specPath)
	cmd.Stdin = devnull
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.ExtraFiles = []*os.File{w} // fd 3, see statusFD
	cmd.Env = []string{}           // the program's environment comes from the spec
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:   syscall.CLONE_NEWPID,
		Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS,
		// Containers must not outlive the runner: a runner killed without a chance to stop
		// them would leave processes no one will reap or report.
		Pdeathsig: syscall.SIGKILL,
		// Own process group: a terminal's ^C reaches the runner, which stops pods in order.
		Setpgid: true,
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, "", fmt.Errorf("starting container-exec: %w", err)
	}
	w.Close()
	p = &process{cmd: cmd, started: time.Now(), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()

	msgc := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r) // EOF at execve (close-on-exec) or at exit
		msgc <- b
	}()
	select {
	case msg := <-msgc:
		if len(msg) > 0 {
			<-p.done
			return nil, string(msg), nil
		}
		return p, "", nil
	case <-time.After(containerStartTimeout):
		_ = cmd.Process.Kill()
		<-p.done
		return nil, fmt.Sprintf("container did not start within %s", containerStartTimeout), nil
	}
}

// exitStatus turns a reaped process's state into an exit code and signal as runtimes report
// them: a signal death is 128+signal.
func exitStatus(st *os.ProcessState) (code int32, signal int32) {
	if st == nil {
		return -1, 0
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal()), int32(ws.Signal())
	}
	return int32(st.ExitCode()), 0
}

// signal sends sig to the program unless it has already exited.
func (p *process) signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	err := p.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}
