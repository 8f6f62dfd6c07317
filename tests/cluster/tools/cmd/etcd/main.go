// Command etcd is upstream etcd's server, built from its module: `go install` of etcd's own
// main refuses because of the replace directives in its go.mod.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
