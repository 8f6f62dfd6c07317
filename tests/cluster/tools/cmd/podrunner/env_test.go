package main

import (
	"context"
	"reflect"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type fakeObjects struct {
	secrets    map[string]*v1.Secret
	configMaps map[string]*v1.ConfigMap
}

func (f fakeObjects) getSecret(_ context.Context, ns, name string) (*v1.Secret, error) {
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func (f fakeObjects) getConfigMap(_ context.Context, ns, name string) (*v1.ConfigMap, error) {
	if c, ok := f.configMaps[ns+"/"+name]; ok {
		return c, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func TestExpandVars(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	cases := map[string]string{
		"$(A)":          "1",
		"x$(A)y$(B)z":   "x1ytwoz",
		"$(C)":          "$(C)",
		"$$(A)":         "$(A)",
		"$$":            "$",
		"$":             "$",
		"a$":            "a$",
		"$x":            "$x",
		"$(A":           "$(A",
		"$()":           "$()",
		"$(A)$(A)":      "11",
		"100$$ of $(B)": "100$ of two",
	}
	for in, want := range cases {
		if got := expandVars(in, lookup); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func testPod() *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "1234-5678",
			Labels: map[string]string{"app": "x", "tier": "b"}, Annotations: map[string]string{"note": `say "hi"`}},
		Spec: v1.PodSpec{NodeName: "node1", ServiceAccountName: "sa"},
	}
}

func TestFieldRefValue(t *testing.T) {
	pod := testPod()
	addr := podAddresses{podIP: "10.0.0.2", hostIP: "10.0.0.1"}
	cases := map[string]string{
		"metadata.name":                "p",
		"metadata.namespace":           "ns",
		"metadata.uid":                 "1234-5678",
		"metadata.labels['app']":       "x",
		"metadata.labels['missing']":   "",
		"metadata.annotations['note']": `say "hi"`,
		"metadata.labels":              "app=\"x\"\ntier=\"b\"",
		"spec.nodeName":                "node1",
		"spec.serviceAccountName":      "sa",
		"status.podIP":                 "10.0.0.2",
		"status.hostIP":                "10.0.0.1",
	}
	for path, want := range cases {
		got, err := fieldRefValue(pod, addr, path)
		if err != nil || got != want {
			t.Errorf("fieldRefValue(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := fieldRefValue(pod, addr, "spec.bogus"); err == nil {
		t.Error("unsupported field path accepted")
	}
}

func TestContainerEnv(t *testing.T) {
	pod := testPod()
	optional := true
	src := fakeObjects{
		secrets:    map[string]*v1.Secret{"ns/s": {Data: map[string][]byte{"pw": []byte("hunter2"), "k": []byte("sv")}}},
		configMaps: map[string]*v1.ConfigMap{"ns/c": {Data: map[string]string{"mode": "fast", "k": "cv"}}},
	}
	c := &v1.Container{
		EnvFrom: []v1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &v1.ConfigMapEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "c"}}}},
		Env: []v1.EnvVar{
			{Name: "NS", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "IP", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "URL", Value: "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/$(NS)/$(LATER)"},
			{Name: "PW", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "s"}, Key: "pw"}}},
			{Name: "MODE", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "c"}, Key: "mode"}}},
			{Name: "OPT", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "absent"}, Key: "x", Optional: &optional}}},
			{Name: "LATER", Value: "l"},
			{Name: "KUBERNETES_SERVICE_PORT", Value: "override"},
			{Name: "CM_mode", Value: "$(CM_mode)-again"},
		},
	}
	env, err := containerEnv(context.Background(), src, pod, c, podAddresses{podIP: "10.0.0.2"}, apiServiceEnv("10.0.0.1", "6443"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range env {
		got = append(got, e.name+"="+e.value)
	}
	want := []string{
		"CM_k=cv",
		"CM_mode=fast-again",
		"NS=ns",
		"IP=10.0.0.2",
		"URL=https://10.0.0.1:6443/ns/$(LATER)",
		"PW=hunter2",
		"MODE=fast",
		"LATER=l",
		"KUBERNETES_SERVICE_PORT=override",
		"KUBERNETES_SERVICE_HOST=10.0.0.1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env:\n got %q\nwant %q", got, want)
	}

	missing := &v1.Container{Env: []v1.EnvVar{{Name: "X", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "s"}, Key: "nope"}}}}}
	if _, err := containerEnv(context.Background(), src, pod, missing, podAddresses{}, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing secret key: %v", err)
	}
	absent := &v1.Container{EnvFrom: []v1.EnvFromSource{{SecretRef: &v1.SecretEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "gone"}}}}}
	if _, err := containerEnv(context.Background(), src, pod, absent, podAddresses{}, nil); err == nil || !apierrors.IsNotFound(errorsUnwrapAll(err)) {
		t.Errorf("missing envFrom secret: %v", err)
	}
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestProcessEnvAndCommandExpansion(t *testing.T) {
	img := &imageSpec{Env: map[string]string{"PATH": "/img/bin", "LANG": "C", "Z": "z"}}
	got := processEnv(img, []envVar{{"PATH", "/mine"}, {"A", "1"}})
	want := []string{"LANG=C", "Z=z", "PATH=/mine", "A=1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("processEnv = %q, want %q", got, want)
	}
	args := expandCommand([]string{"--ns=$(NS)", "$(UNSET)", "$$(NS)"}, []envVar{{"NS", "x"}})
	if want := []string{"--ns=x", "$(UNSET)", "$(NS)"}; !reflect.DeepEqual(args, want) {
		t.Errorf("expandCommand = %q, want %q", args, want)
	}
}
