// The etcd server binary, built from go.etcd.io/etcd/server/v3 (the root module's replace lines stop go install).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
