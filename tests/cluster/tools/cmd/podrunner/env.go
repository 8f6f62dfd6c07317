package main

// Environment: built in the kubelet's order (pkg/kubelet/kubelet_pods.go,
// makeEnvironmentVariables): the service variables, then envFrom sources, then env entries in
// order, each value $(VAR)-expanded against what came before; the image's environment goes
// first in the process's environment and is overridden by any container variable of the same
// name, as a runtime merges them. Only the API server's service variables are injected (the
// kubelet would add one set per Service in the namespace; the tests need none of those).

import (
	"context"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// objectSource reads the Secrets and ConfigMaps that env and volumes refer to; the API in the
// runner, a map in tests.
type objectSource interface {
	getSecret(ctx context.Context, namespace, name string) (*v1.Secret, error)
	getConfigMap(ctx context.Context, namespace, name string) (*v1.ConfigMap, error)
}

// podAddresses are the status fields a fieldRef may read that the runner, not the API object,
// knows first.
type podAddresses struct {
	podIP  string
	hostIP string
}

// expandVars replaces $(NAME) by its value when lookup knows NAME, turns $$ into $, and leaves
// everything else (unknown names, a lone $, an unclosed "$(") as written: the expansion rules
// of k8s.io/kubernetes third_party/forked/golang/expansion.
func expandVars(in string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '$' || i+1 >= len(in) {
			b.WriteByte(c)
			continue
		}
		switch next := in[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(in[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := in[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}

// fieldRefValue resolves a downward-API field path for env (valueFrom.fieldRef) and for
// downwardAPI volume items.
func fieldRefValue(pod *v1.Pod, addr podAddresses, fieldPath string) (string, error) {
	if key, ok := subscript(fieldPath, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(fieldPath, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch fieldPath {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return addr.podIP, nil
	case "status.hostIP", "status.hostIPs":
		return addr.hostIP, nil
	}
	return "", fmt.Errorf("unsupported fieldRef fieldPath %q", fieldPath)
}

// subscript parses `prefix['key']` (the API server has validated the quoting).
func subscript(fieldPath, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(fieldPath, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

// formatMap renders labels or annotations as the downward API does: sorted key="value" lines,
// values quoted as Go quotes them.
func formatMap(m map[string]string) string {
	var lines []string
	for _, k := range sortedKeys(m) {
		lines = append(lines, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(lines, "\n")
}

// envVar is one variable of the container's environment, in order.
type envVar struct{ name, value string }

// containerEnv builds the container's variables (without the image's): envFrom, then env,
// then the service variables not overridden, in the kubelet's order. An error means the
// container cannot be created yet (a missing non-optional Secret key, for example); the caller
// reports CreateContainerConfigError and retries, as the kubelet does.
func containerEnv(ctx context.Context, src objectSource, pod *v1.Pod, c *v1.Container, addr podAddresses, serviceEnv []envVar) ([]envVar, error) {
	values := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, seen := values[name]; !seen {
			order = append(order, name)
		}
		values[name] = value
	}
	// The service variables are visible to $(VAR) from the start; they are emitted last,
	// and only where the container did not define the name itself.
	service := map[string]string{}
	for _, sv := range serviceEnv {
		service[sv.name] = sv.value
	}

	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			optional := from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional
			cm, err := src.getConfigMap(ctx, pod.Namespace, from.ConfigMapRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional {
					continue
				}
				return nil, fmt.Errorf("envFrom configmap %q: %w", from.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case from.SecretRef != nil:
			optional := from.SecretRef.Optional != nil && *from.SecretRef.Optional
			s, err := src.getSecret(ctx, pod.Namespace, from.SecretRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional {
					continue
				}
				return nil, fmt.Errorf("envFrom secret %q: %w", from.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		default:
			continue
		}
		for _, k := range sortedKeys(data) {
			set(from.Prefix+k, data[k])
		}
	}

	lookup := func(name string) (string, bool) {
		if v, ok := values[name]; ok {
			return v, true
		}
		v, ok := service[name]
		return v, ok
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expandVars(e.Value, lookup))
			continue
		}
		v, skip, err := envValueFrom(ctx, src, pod, addr, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if !skip {
			set(e.Name, v)
		}
	}

	out := make([]envVar, 0, len(order)+len(serviceEnv))
	for _, name := range order {
		out = append(out, envVar{name, values[name]})
	}
	for _, sv := range serviceEnv {
		if _, overridden := values[sv.name]; !overridden {
			out = append(out, sv)
		}
	}
	return out, nil
}

// envValueFrom resolves one valueFrom. skip is true for an optional reference whose object
// or key is missing: the variable is then left out, as the kubelet leaves it out.
func envValueFrom(ctx context.Context, src objectSource, pod *v1.Pod, addr podAddresses, from *v1.EnvVarSource) (string, bool, error) {
	switch {
	case from.FieldRef != nil:
		v, err := fieldRefValue(pod, addr, from.FieldRef.FieldPath)
		return v, false, err
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		optional := ref.Optional != nil && *ref.Optional
		s, err := src.getSecret(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("secret %q: %w", ref.Name, err)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), false, nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		optional := ref.Optional != nil && *ref.Optional
		cm, err := src.getConfigMap(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("configmap %q: %w", ref.Name, err)
		}
		if v, ok := cm.Data[ref.Key]; ok {
			return v, false, nil
		}
		if v, ok := cm.BinaryData[ref.Key]; ok {
			return string(v), false, nil
		}
		if optional {
			return "", true, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
	case from.ResourceFieldRef != nil:
		return "", false, fmt.Errorf("resourceFieldRef %q is not supported (no resource limits are applied)", from.ResourceFieldRef.Resource)
	}
	return "", false, fmt.Errorf("valueFrom names no source")
}

// processEnv merges the image's environment under the container's: image variables keep
// their (sorted) place unless the container defines the same name, which replaces them.
func processEnv(img *imageSpec, container []envVar) []string {
	defined := map[string]bool{}
	for _, e := range container {
		defined[e.name] = true
	}
	var out []string
	for _, k := range sortedKeys(img.Env) {
		if !defined[k] {
			out = append(out, k+"="+img.Env[k])
		}
	}
	for _, e := range container {
		out = append(out, e.name+"="+e.value)
	}
	return out
}

// expandCommand applies $(VAR) expansion to command and args with the container's variables,
// as the kubelet does before handing them to the runtime.
func expandCommand(list []string, env []envVar) []string {
	values := map[string]string{}
	for _, e := range env {
		values[e.name] = e.value
	}
	lookup := func(n string) (string, bool) { v, ok := values[n]; return v, ok }
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = expandVars(s, lookup)
	}
	return out
}

// apiServiceEnv is what the kubelet injects for the "kubernetes" Service; here it names the
// API server's own address, which pods reach over the bridge.
func apiServiceEnv(host, port string) []envVar {
	return []envVar{
		{"KUBERNETES_SERVICE_HOST", host},
		{"KUBERNETES_SERVICE_PORT", port},
	}
}
