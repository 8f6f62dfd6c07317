package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeRepository(t *testing.T) {
	cases := map[string]string{
		"busybox":                                       "busybox",
		"busybox:1.36":                                  "busybox",
		"docker.io/library/busybox:1.36":                "busybox",
		"docker.io/busybox":                             "busybox",
		"library/busybox@sha256:abc":                    "busybox",
		"longhornio/longhorn-manager:v1.10.0":           "longhornio/longhorn-manager",
		"docker.io/longhornio/longhorn-manager":         "longhornio/longhorn-manager",
		"ghcr.io/o/app:v0.1.0@sha256:0123":              "ghcr.io/o/app",
		"localhost:5000/app:tag":                        "localhost:5000/app",
		"localhost:5000/app":                            "localhost:5000/app",
		"registry.k8s.io/ingress-nginx/x:v1@sha256:aaa": "registry.k8s.io/ingress-nginx/x",
	}
	for in, want := range cases {
		if got := normalizeRepository(in); got != want {
			t.Errorf("normalizeRepository(%q) = %q, want %q", in, got, want)
		}
	}
}

const testImages = `{"images":[
 {"repository":"ghcr.io/o/guard","files":{"/usr/local/bin/guard":"/h/guard","/usr/local/bin/sup":"/h/sup"},
  "entrypoint":["/usr/local/bin/guard"],"env":{"PATH":"/usr/local/bin:/bin"}},
 {"repository":"longhornio/longhorn-manager","files":{"/usr/local/sbin/longhorn-manager":"/h/lm"},"entrypoint":["launch-manager"]},
 {"repository":"docker.io/library/busybox","files":{"/bin/sh":"/bin/sh"},"cmd":["sh"]}
]}`

func TestParseImagesAndLookup(t *testing.T) {
	m, err := parseImages("images.json", []byte(testImages), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"ghcr.io/o/guard:v1", "longhornio/longhorn-manager:v1.10.0", "busybox:latest", "docker.io/busybox"} {
		if _, err := m.lookup(ref); err != nil {
			t.Errorf("lookup(%q): %v", ref, err)
		}
	}
	_, err = m.lookup("quay.io/nope:1")
	if !errors.Is(err, errImageUnknown) {
		t.Fatalf("unknown image: got %v", err)
	}
	for _, want := range []string{`"quay.io/nope:1"`, "images.json", "ghcr.io/o/guard"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("unknown-image message %q does not mention %s", err, want)
		}
	}
}

func TestParseImagesRejects(t *testing.T) {
	bad := map[string]string{
		"unknown field":  `{"images":[{"repository":"a","files":{"/a":"/b"},"entrypont":["x"]}]}`,
		"no repository":  `{"images":[{"files":{"/a":"/b"}}]}`,
		"no files":       `{"images":[{"repository":"a"}]}`,
		"relative path":  `{"images":[{"repository":"a","files":{"a":"/b"}}]}`,
		"relative host":  `{"images":[{"repository":"a","files":{"/a":"b"}}]}`,
		"unclean path":   `{"images":[{"repository":"a","files":{"/a/../b":"/b"}}]}`,
		"duplicate repo": `{"images":[{"repository":"a","files":{"/a":"/b"}},{"repository":"docker.io/library/a:1","files":{"/a":"/b"}}]}`,
	}
	for name, js := range bad {
		if _, err := parseImages("f", []byte(js), false); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadImagesChecksHostFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "images.json")
	os.WriteFile(f, []byte(`{"images":[{"repository":"a","files":{"/bin/x":"`+dir+`/missing"}}]}`), 0o644)
	if _, err := loadImages(f); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing host file: got %v", err)
	}
	host := filepath.Join(dir, "x")
	os.WriteFile(host, []byte("x"), 0o755)
	os.WriteFile(f, []byte(`{"images":[{"repository":"a","files":{"/bin/x":"`+host+`"}}]}`), 0o644)
	m, err := loadImages(f)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := m.lookup("a")
	if !strings.HasPrefix(img.id, "sha256:") {
		t.Errorf("image id %q", img.id)
	}
}

func TestResolveCommand(t *testing.T) {
	m, err := parseImages("images.json", []byte(testImages), false)
	if err != nil {
		t.Fatal(err)
	}
	guard, _ := m.lookup("ghcr.io/o/guard")
	lm, _ := m.lookup("longhornio/longhorn-manager")
	bb, _ := m.lookup("busybox")
	defEnv := []string{"PATH=" + defaultImagePATH}
	cases := []struct {
		name          string
		img           *imageSpec
		command, args []string
		env           []string
		wd            string
		mounts        []string
		path          string
		argv          []string
		errPart       string
	}{
		{"entrypoint only", guard, nil, nil, defEnv, "", nil, "/usr/local/bin/guard", []string{"/usr/local/bin/guard"}, ""},
		{"entrypoint+args", guard, nil, []string{"--x"}, defEnv, "", nil, "/usr/local/bin/guard", []string{"/usr/local/bin/guard", "--x"}, ""},
		{"command replaces entrypoint", guard, []string{"sup"}, []string{"a"}, []string{"PATH=/usr/local/bin"}, "", nil, "/usr/local/bin/sup", []string{"sup", "a"}, ""},
		{"bare name in default PATH", lm, []string{"longhorn-manager", "uninstall", "--force"}, nil, defEnv, "", nil, "/usr/local/sbin/longhorn-manager", []string{"longhorn-manager", "uninstall", "--force"}, ""},
		{"bare name not in PATH", lm, []string{"longhorn-manager"}, nil, []string{"PATH=/bin"}, "", nil, "", nil, "not found in $PATH"},
		{"image entrypoint not among files", lm, nil, nil, defEnv, "", nil, "", nil, "launch-manager"},
		{"cmd used without command or args", bb, nil, nil, defEnv, "", nil, "/bin/sh", []string{"sh"}, ""},
		{"args replace cmd", bb, nil, []string{"/bin/sh", "-c", "true"}, defEnv, "", nil, "/bin/sh", []string{"/bin/sh", "-c", "true"}, ""},
		{"absolute path", bb, []string{"/bin/sh", "-c", "echo"}, nil, defEnv, "", nil, "/bin/sh", []string{"/bin/sh", "-c", "echo"}, ""},
		{"absolute path not in image", bb, []string{"/bin/bash"}, nil, defEnv, "", nil, "", nil, "no such file in image"},
		{"relative path against workdir", bb, []string{"./sh"}, nil, defEnv, "/bin", nil, "/bin/sh", []string{"./sh"}, ""},
		{"absolute path below a volume mount", lm, []string{"/run/x/sup", "--", "longhorn-manager"}, nil, defEnv, "", []string{"/run/x"}, "/run/x/sup", []string{"/run/x/sup", "--", "longhorn-manager"}, ""},
		{"the mount point itself is not a program", lm, []string{"/run/x"}, nil, defEnv, "", []string{"/run/x/"}, "", nil, "no such file in image"},
		{"last PATH wins", guard, []string{"guard"}, nil, []string{"PATH=/nowhere", "PATH=/usr/local/bin"}, "", nil, "/usr/local/bin/guard", []string{"guard"}, ""},
	}
	for _, c := range cases {
		path, argv, err := resolveCommand(c.img, c.command, c.args, c.env, c.wd, c.mounts)
		if c.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("%s: error %v, want one containing %q", c.name, err, c.errPart)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if path != c.path || !reflect.DeepEqual(argv, c.argv) {
			t.Errorf("%s: got %q %q, want %q %q", c.name, path, argv, c.path, c.argv)
		}
	}
	if _, _, err := resolveCommand(&imageSpec{Repository: "empty", Files: map[string]string{"/x": "/x"}}, nil, nil, nil, "", nil); err == nil {
		t.Error("no command at all: accepted")
	}
}
