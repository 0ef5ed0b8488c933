// Command updraft is a self-hosted serverless platform that speaks AWS's
// wire protocols: `updraft up` starts a node; the other commands are
// clients of its HTTP API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/updraft/updraft/internal/cli"
	"github.com/updraft/updraft/internal/sandbox/linux"
)

func main() {
	// In a process the linux sandbox driver started, this becomes the
	// function and never returns.
	linux.Init()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
