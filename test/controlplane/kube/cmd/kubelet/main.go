// The kubelet binary, as k8s.io/kubernetes/cmd/kubelet builds it, for the real test node (test/node/).
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	// NewKubeletCommand keeps the context for the kubelet's whole life: a nil one panics.
	command := app.NewKubeletCommand(context.Background())
	os.Exit(cli.Run(command))
}
