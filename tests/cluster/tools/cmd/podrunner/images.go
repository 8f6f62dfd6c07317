package main

// Images: there is no container runtime and nothing is pulled. An images file says, for each
// image repository the tests use, which host files make up the image and where they appear
// inside the container, plus the image's entrypoint, default arguments and environment (the
// parts of an image config a runtime would read).

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// defaultImagePATH is the PATH a runtime uses when neither the image nor the container sets
// one (containerd's and runc's default).
const defaultImagePATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// imageSpec is one entry of the images file.
type imageSpec struct {
	// Repository is matched against a pod's image with tag and digest removed, see
	// normalizeRepository.
	Repository string `json:"repository"`
	// Files maps a path inside the container to the host file that appears there.
	Files map[string]string `json:"files"`
	// Entrypoint and Cmd are the image's ENTRYPOINT and CMD.
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	// Env is the image's environment.
	Env map[string]string `json:"env,omitempty"`
	// WorkingDir is the image's WORKDIR ("/" when empty).
	WorkingDir string `json:"workingDir,omitempty"`

	// id stands in for the image digest: it changes when any mapped host file changes.
	id string
}

type imagesFile struct {
	Images []imageSpec `json:"images"`
}

// imageMap is the loaded images file, keyed by normalised repository.
type imageMap struct {
	source string
	byRepo map[string]*imageSpec
}

// loadImages reads and checks an images file. Every mapped host file must exist now, so that
// a typo fails the runner at start rather than a pod much later.
func loadImages(file string) (*imageMap, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("images file: %w", err)
	}
	return parseImages(file, data, true)
}

func parseImages(source string, data []byte, checkFiles bool) (*imageMap, error) {
	var f imagesFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("images file %s: %w", source, err)
	}
	m := &imageMap{source: source, byRepo: map[string]*imageSpec{}}
	for i := range f.Images {
		img := f.Images[i]
		if img.Repository == "" {
			return nil, fmt.Errorf("images file %s: entry %d has no repository", source, i)
		}
		key := normalizeRepository(img.Repository)
		if _, dup := m.byRepo[key]; dup {
			return nil, fmt.Errorf("images file %s: repository %q appears twice", source, img.Repository)
		}
		if len(img.Files) == 0 {
			return nil, fmt.Errorf("images file %s: image %q maps no files", source, img.Repository)
		}
		h := sha256.New()
		for _, inImage := range sortedKeys(img.Files) {
			onHost := img.Files[inImage]
			if !path.IsAbs(inImage) || path.Clean(inImage) != inImage || inImage == "/" {
				return nil, fmt.Errorf("images file %s: image %q: %q is not a clean absolute file path", source, img.Repository, inImage)
			}
			if !filepath.IsAbs(onHost) {
				return nil, fmt.Errorf("images file %s: image %q: host file %q for %s is not absolute", source, img.Repository, onHost, inImage)
			}
			fmt.Fprintf(h, "%s\x00%s\x00", inImage, onHost)
			if checkFiles {
				st, err := os.Stat(onHost)
				if err != nil {
					return nil, fmt.Errorf("images file %s: image %q: %w", source, img.Repository, err)
				}
				if st.IsDir() {
					return nil, fmt.Errorf("images file %s: image %q: host file %s is a directory", source, img.Repository, onHost)
				}
				fmt.Fprintf(h, "%d\x00%d\x00", st.Size(), st.ModTime().UnixNano())
			}
		}
		img.id = fmt.Sprintf("sha256:%x", h.Sum(nil))
		m.byRepo[key] = &img
	}
	return m, nil
}

// normalizeRepository drops the tag and digest of an image reference, and the Docker Hub
// prefixes a runtime would add, so that "busybox:1.36", "docker.io/library/busybox" and
// "busybox@sha256:..." all name the same repository.
func normalizeRepository(ref string) string {
	if at := strings.Index(ref, "@"); at >= 0 {
		ref = ref[:at]
	}
	// A colon after the last slash starts a tag; one before it belongs to a registry port.
	if colon := strings.LastIndex(ref, ":"); colon > strings.LastIndex(ref, "/") {
		ref = ref[:colon]
	}
	for _, prefix := range []string{"index.docker.io/", "docker.io/", "library/"} {
		ref = strings.TrimPrefix(ref, prefix)
	}
	return ref
}

// errImageUnknown marks a pod image the map does not list.
var errImageUnknown = errors.New("image not in the images file")

// lookup finds the image for a pod's image reference.
func (m *imageMap) lookup(ref string) (*imageSpec, error) {
	if img, ok := m.byRepo[normalizeRepository(ref)]; ok {
		return img, nil
	}
	known := make([]string, 0, len(m.byRepo))
	for _, img := range m.byRepo {
		known = append(known, img.Repository)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("%w: %q (repository %q) is not one of %s in %s; nothing is pulled, add it to that file",
		errImageUnknown, ref, normalizeRepository(ref), strings.Join(known, ", "), m.source)
}

// resolveCommand returns the program's path inside the container and the argv a runtime
// would execute (argv[0] as written, as runc passes it). The argv is the container's
// command, else the image's entrypoint; then the container's args, else (only when the command came from the
// image) the image's cmd. The program must be one of the image's files: a bare name is looked
// up in PATH (the container's final environment, as runc does), a relative path against the
// working directory. A path below one of volumeMounts is a file a volume brings (another
// container may put it there, as an init container installs a binary into an emptyDir): it is
// checked when the process is executed, inside the container's mounts. command and args must
// already have had $(VAR) references expanded.
func resolveCommand(img *imageSpec, command, args []string, env []string, workingDir string, volumeMounts []string) (string, []string, error) {
	var argv []string
	switch {
	case len(command) > 0:
		argv = append(append(argv, command...), args...)
	case len(args) > 0:
		argv = append(append(argv, img.Entrypoint...), args...)
	default:
		argv = append(append(argv, img.Entrypoint...), img.Cmd...)
	}
	if len(argv) == 0 || argv[0] == "" {
		return "", nil, fmt.Errorf("no command specified: the container has no command and image %q no entrypoint", img.Repository)
	}
	prog := argv[0]
	if strings.Contains(prog, "/") {
		p := prog
		if !path.IsAbs(p) {
			if workingDir == "" {
				workingDir = "/"
			}
			p = path.Join(workingDir, p)
		}
		p = path.Clean(p)
		for _, mount := range volumeMounts {
			if m := path.Clean(mount); p != m && strings.HasPrefix(p, strings.TrimSuffix(m, "/")+"/") {
				return p, argv, nil
			}
		}
		if _, ok := img.Files[p]; !ok {
			return "", nil, fmt.Errorf("exec: %q: no such file in image %q (its files: %s)", prog, img.Repository, strings.Join(sortedKeys(img.Files), ", "))
		}
		return p, argv, nil
	}
	searchPath := defaultImagePATH
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			searchPath = v // the last one wins, as in the process's environment
		}
	}
	for _, dir := range strings.Split(searchPath, ":") {
		if dir == "" || !path.IsAbs(dir) {
			continue
		}
		candidate := path.Join(dir, prog)
		if _, ok := img.Files[candidate]; ok {
			return candidate, argv, nil
		}
	}
	return "", nil, fmt.Errorf("exec: %q: executable file not found in $PATH (%s) among the files of image %q (%s)",
		prog, searchPath, img.Repository, strings.Join(sortedKeys(img.Files), ", "))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
