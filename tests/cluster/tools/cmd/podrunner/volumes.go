package main

// Volumes are materialised on the host under <state-dir>/pods/<uid>/volumes/<name> and
// bind-mounted into each container's own mount namespace. Secret, configMap, downwardAPI and
// projected volumes are written with the atomic writer (on disk, not on a tmpfs as the kubelet
// would put Secrets: the state directory is the test's own). emptyDir is a plain directory:
// medium and sizeLimit are ignored, nothing enforces a size without cgroups or quotas.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const (
	// defaultVolumeMode is the API default of defaultMode (0644) when a volume omits it.
	defaultVolumeMode = 0o644
	// defaultTokenSeconds is the API default of serviceAccountToken.expirationSeconds.
	defaultTokenSeconds = 3600
	// volumeResyncInterval: how often Secret, ConfigMap and downward-API volumes are
	// rewritten from the API while the pod runs, the kubelet's default --sync-frequency
	// (1 min); a program that reloads its certificate sees a renewal within that.
	volumeResyncInterval = time.Minute
	// tokenRefreshFraction: the kubelet's token manager replaces a token once 80% of its
	// lifetime has passed (pkg/kubelet/token/token_manager.go, requiresRefresh).
	tokenRefreshFraction = 0.8
)

// volumeSet is a pod's volumes as built: host path per volume name.
type volumeSet struct {
	paths map[string]string
	// refreshAt is when a projected token must be rewritten (zero: never).
	refreshAt time.Time
	// synced: some volumes come from API objects (Secret, ConfigMap, token, downward API)
	// and are resynchronised while the pod runs.
	synced bool
	// changed names the volumes whose content this build changed.
	changed []string
}

type volumeBuilder struct {
	client kubernetes.Interface
	src    objectSource
	// tokens caches the pod's tokens until they are due for refresh, as the kubelet's
	// token manager does, so a resync does not replace a valid token every time.
	tokens map[string]cachedToken
}

type cachedToken struct {
	token     []byte
	refreshAt time.Time
}

func volumeMode(m *int32) os.FileMode {
	if m == nil {
		return defaultVolumeMode
	}
	return os.FileMode(*m) & os.ModePerm
}

func itemMode(item *int32, def os.FileMode) os.FileMode {
	if item == nil {
		return def
	}
	return os.FileMode(*item) & os.ModePerm
}

// keyPayload turns key/value data into files: every key, or just items.
func keyPayload(kind, name string, data map[string][]byte, items []v1.KeyToPath, optional bool, mode os.FileMode, out map[string]fileProjection) error {
	if len(items) == 0 {
		for k, v := range data {
			out[k] = fileProjection{data: v, mode: mode}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf("configured to use key %s, which is not in %s %s", it.Key, kind, name)
		}
		out[it.Path] = fileProjection{data: v, mode: itemMode(it.Mode, mode)}
	}
	return nil
}

func (b *volumeBuilder) secretData(ctx context.Context, ns, name string, optional bool) (map[string][]byte, bool, error) {
	s, err := b.src.getSecret(ctx, ns, name)
	if err != nil {
		if apierrors.IsNotFound(err) && optional {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("secret %q: %w", name, err)
	}
	return s.Data, true, nil
}

func (b *volumeBuilder) configMapData(ctx context.Context, ns, name string, optional bool) (map[string][]byte, bool, error) {
	cm, err := b.src.getConfigMap(ctx, ns, name)
	if err != nil {
		if apierrors.IsNotFound(err) && optional {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("configmap %q: %w", name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return data, true, nil
}

func downwardPayload(pod *v1.Pod, addr podAddresses, items []v1.DownwardAPIVolumeFile, mode os.FileMode, out map[string]fileProjection) error {
	for _, it := range items {
		if it.FieldRef == nil {
			return fmt.Errorf("downwardAPI item %s: only fieldRef is supported (no resource limits are applied)", it.Path)
		}
		v, err := fieldRefValue(pod, addr, it.FieldRef.FieldPath)
		if err != nil {
			return fmt.Errorf("downwardAPI item %s: %w", it.Path, err)
		}
		out[it.Path] = fileProjection{data: []byte(v), mode: itemMode(it.Mode, mode)}
	}
	return nil
}

// serviceAccountToken asks the TokenRequest API for a token of the pod's service account,
// bound to the pod, and says when it must be refreshed.
func (b *volumeBuilder) serviceAccountToken(ctx context.Context, pod *v1.Pod, src *v1.ServiceAccountTokenProjection) ([]byte, time.Time, error) {
	seconds := int64(defaultTokenSeconds)
	if src.ExpirationSeconds != nil {
		seconds = *src.ExpirationSeconds
	}
	var audiences []string
	if src.Audience != "" {
		audiences = []string{src.Audience}
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	key := fmt.Sprintf("%s|%s|%d", sa, src.Audience, seconds)
	if c, ok := b.tokens[key]; ok && time.Now().Before(c.refreshAt) {
		return c.token, c.refreshAt, nil
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         audiences,
		ExpirationSeconds: &seconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID},
	}}
	issued := time.Now()
	tr, err := b.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	life := tr.Status.ExpirationTimestamp.Sub(issued)
	c := cachedToken{token: []byte(tr.Status.Token), refreshAt: issued.Add(time.Duration(float64(life) * tokenRefreshFraction))}
	if b.tokens != nil {
		b.tokens[key] = c
	}
	return c.token, c.refreshAt, nil
}

// buildVolumes materialises every volume of the pod under podDir/volumes. An error keeps the
// pod Pending; the caller retries.
func (b *volumeBuilder) buildVolumes(ctx context.Context, pod *v1.Pod, addr podAddresses, podDir string) (volumeSet, error) {
	set := volumeSet{paths: map[string]string{}}
	for _, vol := range pod.Spec.Volumes {
		dir := filepath.Join(podDir, "volumes", vol.Name)
		payload := map[string]fileProjection{}
		atomic := true
		src := vol.VolumeSource
		switch {
		case src.EmptyDir != nil:
			atomic = false
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return set, err
			}
			// World-writable, as the kubelet makes emptyDir, so a non-root program could use it.
			if err := os.Chmod(dir, 0o777); err != nil {
				return set, err
			}
		case src.HostPath != nil:
			atomic = false
			dir = src.HostPath.Path
			if t := src.HostPath.Type; t != nil && *t == v1.HostPathDirectoryOrCreate {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return set, fmt.Errorf("hostPath %s: %w", dir, err)
				}
			}
			if _, err := os.Stat(dir); err != nil {
				return set, fmt.Errorf("hostPath %s: %w", dir, err)
			}
		case src.Secret != nil:
			optional := src.Secret.Optional != nil && *src.Secret.Optional
			data, _, err := b.secretData(ctx, pod.Namespace, src.Secret.SecretName, optional)
			if err != nil {
				return set, fmt.Errorf("volume %s: %w", vol.Name, err)
			}
			if err := keyPayload("secret", src.Secret.SecretName, data, src.Secret.Items, optional, volumeMode(src.Secret.DefaultMode), payload); err != nil {
				return set, fmt.Errorf("volume %s: %w", vol.Name, err)
			}
		case src.ConfigMap != nil:
			optional := src.ConfigMap.Optional != nil && *src.ConfigMap.Optional
			data, _, err := b.configMapData(ctx, pod.Namespace, src.ConfigMap.Name, optional)
			if err != nil {
				return set, fmt.Errorf("volume %s: %w", vol.Name, err)
			}
			if err := keyPayload("configmap", src.ConfigMap.Name, data, src.ConfigMap.Items, optional, volumeMode(src.ConfigMap.DefaultMode), payload); err != nil {
				return set, fmt.Errorf("volume %s: %w", vol.Name, err)
			}
		case src.DownwardAPI != nil:
			if err := downwardPayload(pod, addr, src.DownwardAPI.Items, volumeMode(src.DownwardAPI.DefaultMode), payload); err != nil {
				return set, fmt.Errorf("volume %s: %w", vol.Name, err)
			}
		case src.Projected != nil:
			mode := volumeMode(src.Projected.DefaultMode)
			for _, ps := range src.Projected.Sources {
				var err error
				switch {
				case ps.ServiceAccountToken != nil:
					var tok []byte
					var refresh time.Time
					tok, refresh, err = b.serviceAccountToken(ctx, pod, ps.ServiceAccountToken)
					if err == nil {
						payload[ps.ServiceAccountToken.Path] = fileProjection{data: tok, mode: mode}
						if set.refreshAt.IsZero() || refresh.Before(set.refreshAt) {
							set.refreshAt = refresh
						}
					}
				case ps.ConfigMap != nil:
					optional := ps.ConfigMap.Optional != nil && *ps.ConfigMap.Optional
					var data map[string][]byte
					if data, _, err = b.configMapData(ctx, pod.Namespace, ps.ConfigMap.Name, optional); err == nil {
						err = keyPayload("configmap", ps.ConfigMap.Name, data, ps.ConfigMap.Items, optional, mode, payload)
					}
				case ps.Secret != nil:
					optional := ps.Secret.Optional != nil && *ps.Secret.Optional
					var data map[string][]byte
					if data, _, err = b.secretData(ctx, pod.Namespace, ps.Secret.Name, optional); err == nil {
						err = keyPayload("secret", ps.Secret.Name, data, ps.Secret.Items, optional, mode, payload)
					}
				case ps.DownwardAPI != nil:
					err = downwardPayload(pod, addr, ps.DownwardAPI.Items, mode, payload)
				default:
					err = fmt.Errorf("unsupported projected source (only serviceAccountToken, configMap, secret and downwardAPI)")
				}
				if err != nil {
					return set, fmt.Errorf("volume %s: %w", vol.Name, err)
				}
			}
		default:
			return set, fmt.Errorf("volume %s: unsupported volume type (supported: emptyDir, hostPath, secret, configMap, downwardAPI, projected)", vol.Name)
		}
		if atomic {
			set.synced = true
			changed, err := writeAtomic(dir, payload)
			if err != nil {
				return set, fmt.Errorf("volume %s: writing %s: %w", vol.Name, dir, err)
			}
			if changed {
				set.changed = append(set.changed, vol.Name)
			}
		}
		set.paths[vol.Name] = dir
	}
	return set, nil
}

// resolveSubPath returns the host path a volumeMount with subPath refers to, refusing one
// that escapes the volume (through ".." or a symlink), as the kubelet does. A missing subPath
// is created as a directory, as the kubelet creates it.
func resolveSubPath(volumeDir, subPath string) (string, error) {
	if subPath == "" {
		return volumeDir, nil
	}
	if filepath.IsAbs(subPath) {
		return "", fmt.Errorf("subPath %q must be relative", subPath)
	}
	root, err := filepath.EvalSymlinks(volumeDir)
	if err != nil {
		return "", err
	}
	full := filepath.Join(root, subPath)
	if _, err := os.Lstat(full); os.IsNotExist(err) {
		if err := os.MkdirAll(full, 0o755); err != nil {
			return "", err
		}
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", err
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || filepath.IsAbs(rel) || (len(rel) > 2 && rel[:3] == "../") {
		return "", fmt.Errorf("subPath %q leaves its volume", subPath)
	}
	return real, nil
}
