//go:build tools

// The upstream main packages this module builds; listed so that `go mod tidy` keeps them.
package tools

import (
	_ "github.com/longhorn/longhorn-manager"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
