// Package spdk stands in for the one identifier longhorn-manager v1.10.0 takes from
// github.com/longhorn/longhorn-spdk-engine/pkg/spdk: the module proxy serves no version of that
// module, and longhorn-manager uses only this constant, in its SPDK disk monitor
// (controller/monitor), which `longhorn-manager uninstall` never starts.
package spdk

type DiskState string

const DiskStateReady = DiskState("ready")
