package main

// Container logs: one file per container, <state-dir>/logs/<namespace>_<pod>_<container>.log,
// the process's stdout and stderr both (one open file description, so lines interleave as
// written). Each start appends a marker line, so restarts and reruns of a pod of the same
// name add to the file rather than replace it.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// logTailBytes is how much of a log's end is read to find its last line: longer than
	// any one-line error message a program prints, short enough to read on every exit.
	logTailBytes = 16 * 1024
	// maxMessageBytes caps a terminated state's message; the kubelet caps termination
	// messages at 4096 bytes per container.
	maxMessageBytes = 4096
	// markerPrefix starts the runner's own lines in a container log.
	markerPrefix = "==== podrunner: "
)

func logPath(stateDir, namespace, pod, container string) string {
	return filepath.Join(stateDir, "logs", fmt.Sprintf("%s_%s_%s.log", namespace, pod, container))
}

// openLog opens a container's log for appending and writes the start marker.
func openLog(path, container string, attempt int32, now time.Time) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(f, "%scontainer %s start %d at %s ====\n", markerPrefix, container, attempt, now.UTC().Format(time.RFC3339Nano)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lastLogLine returns the last non-empty line the program wrote (empty if it wrote none
// since the last start marker).
func lastLogLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - logTailBytes
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return ""
	}
	return lastLine(buf)
}

func lastLine(buf []byte) string {
	lines := bytes.Split(bytes.TrimRight(buf, "\r\n\t "), []byte("\n"))
	last := strings.TrimSpace(string(lines[len(lines)-1]))
	if strings.HasPrefix(last, markerPrefix) {
		return ""
	}
	if len(last) > maxMessageBytes {
		last = last[:maxMessageBytes]
	}
	return last
}
