package process_test

import (
	"testing"

	"github.com/updraft/updraft/internal/sandbox/process"
	"github.com/updraft/updraft/internal/sandbox/sandboxtest"
)

func TestDriver_Conformance(t *testing.T) {
	sandboxtest.Run(t, process.New())
}
