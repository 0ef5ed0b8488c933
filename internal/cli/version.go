package cli

import (
	"runtime"

	"github.com/updraft/updraft/internal/server"
)

func versionString() string {
	return "updraft " + server.Version + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
