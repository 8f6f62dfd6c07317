package main

// Atomic volume writes, as the kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go) does
// them: the files go into a new timestamped directory, a "..data" symlink is switched to it
// with one rename, and each top-level name is a symlink through "..data". A reader (or a
// client that re-reads its token) sees the old set or the new set, never a mix.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

const (
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
)

// fileProjection is one file of a volume's payload.
type fileProjection struct {
	data []byte
	mode os.FileMode
}

// validatePayloadPath rejects paths that would leave the volume: absolute, "..", or
// starting with ".." (reserved for the writer's own names).
func validatePayloadPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if path.IsAbs(p) {
		return fmt.Errorf("path %q is absolute", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("path %q contains '..'", p)
		}
	}
	if strings.HasPrefix(p, "..") {
		return fmt.Errorf("path %q starts with '..'", p)
	}
	return nil
}

// writeAtomic replaces the volume's content at dir with payload; changed says whether it
// differed from what was there.
func writeAtomic(dir string, payload map[string]fileProjection) (changed bool, err error) {
	for p := range payload {
		if err := validatePayloadPath(p); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	oldTS, _ := os.Readlink(filepath.Join(dir, dataDirName))
	// As the kubelet's writer, leave an unchanged volume alone: a program watching ..data
	// (to reload a certificate, say) must not see a change that is none.
	if oldTS != "" && payloadUnchanged(filepath.Join(dir, oldTS), payload) {
		return false, nil
	}

	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, err
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return false, err
	}
	for p, f := range payload {
		full := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return false, err
		}
		// WriteFile's mode is filtered by the umask; the volume's mode is exact.
		if err := os.Chmod(full, f.mode); err != nil {
			return false, err
		}
	}

	tmpLink := filepath.Join(dir, newDataDirName)
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return false, err
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, dataDirName)); err != nil {
		return false, err
	}

	// Top-level names: one symlink each through ..data; names no longer in the payload go.
	top := map[string]bool{}
	for p := range payload {
		top[strings.SplitN(p, "/", 2)[0]] = true
	}
	for name := range top {
		link := filepath.Join(dir, name)
		if target, err := os.Readlink(link); err == nil && target == filepath.Join(dataDirName, name) {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(filepath.Join(dataDirName, name), link); err != nil {
			return false, err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") || top[e.Name()] {
			continue
		}
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
	if oldTS != "" && oldTS != filepath.Base(tsDir) {
		_ = os.RemoveAll(filepath.Join(dir, oldTS))
	}
	return true, nil
}

// payloadUnchanged: the timestamped directory holds exactly the payload's files with the
// same content and modes.
func payloadUnchanged(tsDir string, payload map[string]fileProjection) bool {
	seen := 0
	err := filepath.WalkDir(tsDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(tsDir, p)
		if err != nil {
			return err
		}
		want, ok := payload[filepath.ToSlash(rel)]
		if !ok {
			return errChanged
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if info.Mode().Perm() != want.mode.Perm() || !bytes.Equal(got, want.data) {
			return errChanged
		}
		seen++
		return nil
	})
	return err == nil && seen == len(payload)
}

var errChanged = errors.New("changed")
