package server_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/server"
)

// hostCPUs is how many CPUs this test process may use, as Go counts them.
func hostCPUs(t *testing.T) int {
	if runtime.GOOS != "linux" || runtime.NumCPU() < 2 {
		t.Skip("needs Linux and more than one CPU")
	}
	return runtime.NumCPU()
}

// TestCPUs_FollowMemory: an aws-lambda-go function sees one CPU per 1,769
// MB of memory, rounded up, and sizes GOMAXPROCS to it; --all-cpus shows
// it the whole host.
func TestCPUs_FollowMemory(t *testing.T) {
	host := hostCPUs(t)
	want := func(memory int) string {
		n := strconv.Itoa(min((memory+1768)/1769, host))
		return n + " " + n
	}
	for _, sb := range []string{server.SandboxProcess, server.SandboxLinux} {
		t.Run(sb, func(t *testing.T) {
			if sb == server.SandboxLinux {
				skipWithoutLinuxSandbox(t)
			}
			n := startNode(t, func(c *server.Config) { c.Sandbox = sb })
			for _, memory := range []int{128, 1769, 3538} {
				name := "cpus-" + strconv.Itoa(memory)
				n.create(name, func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(int32(memory)) })
				if got := n.call(name, map[string]any{"action": "cpus"}).Data; got != want(memory) {
					t.Errorf("%d MB: NumCPU GOMAXPROCS %q, want %q", memory, got, want(memory))
				}
			}
		})
	}
	t.Run("AllCPUs", func(t *testing.T) {
		n := startNode(t, func(c *server.Config) { c.Sandbox = server.SandboxProcess; c.AllCPUs = true })
		n.create("cpus-all", nil)
		all := strconv.Itoa(host)
		if got := n.call("cpus-all", map[string]any{"action": "cpus"}).Data; got != all+" "+all {
			t.Errorf("128 MB on a node with AllCPUs: NumCPU GOMAXPROCS %q, want %q", got, all+" "+all)
		}
	})
}
