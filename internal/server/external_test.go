package server_test

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/updraft/updraft/internal/server"
)

// TestServer_ExternalNATS runs two nodes against one standalone NATS
// server, as `updraft up --nats URL` does: a function created through one
// node is invoked through the other.
func TestServer_ExternalNATS(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	a := startNode(t, func(c *server.Config) { c.NATSURL = ns.ClientURL() })
	b := startNode(t, func(c *server.Config) { c.NATSURL = ns.ClientURL() })
	a.create("shared", nil)
	eventually(t, 5*time.Second, "node b to see the function", func() bool {
		_, err := b.tryInvoke("shared", map[string]string{"action": "echo"})
		return err == nil
	})
	out := b.invoke("shared", map[string]string{"action": "echo", "message": "via b"})
	if decodeResult(t, out.Payload)["message"] != "via b" {
		t.Errorf("got %s", out.Payload)
	}
	if st := a.status(); st["backbone"] != "external" {
		t.Errorf("got backbone %v, want external", st["backbone"])
	}
}
