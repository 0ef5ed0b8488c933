package scheduler

import (
	"errors"
	"slices"
	"testing"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/sandbox"
)

func TestScheduler_network(t *testing.T) {
	const api = "127.0.0.1:40001"
	none := &function.Config{Environment: &function.Environment{Variables: map[string]string{NetworkVar: NetworkNone}}}
	for _, tc := range []struct {
		endpoint     string
		wantEndpoint string
		wantForwards []sandbox.Forward
	}{
		{"http://127.0.0.1:4566", "http://127.0.0.1:4566", []sandbox.Forward{{Listen: api, Dial: api}, {Listen: "127.0.0.1:4566", Dial: "127.0.0.1:4566"}}},
		{"http://[::1]:4566", "http://[::1]:4566", []sandbox.Forward{{Listen: api, Dial: api}, {Listen: "[::1]:4566", Dial: "[::1]:4566"}}},
		{"http://10.1.2.3:4566", "http://127.0.0.1:4566", []sandbox.Forward{{Listen: api, Dial: api}, {Listen: "127.0.0.1:4566", Dial: "10.1.2.3:4566"}}},
		{"https://updraft.example", "https://127.0.0.1:443", []sandbox.Forward{{Listen: api, Dial: api}, {Listen: "127.0.0.1:443", Dial: "updraft.example:443"}}},
	} {
		s := &Scheduler{cfg: Config{Endpoint: tc.endpoint}}
		n, endpoint, err := s.network(none, api)
		if err != nil {
			t.Fatalf("%s: %v", tc.endpoint, err)
		}
		if endpoint != tc.wantEndpoint {
			t.Errorf("%s: got AWS_ENDPOINT_URL %s, want %s", tc.endpoint, endpoint, tc.wantEndpoint)
		}
		if !slices.Equal(n.Forwards, tc.wantForwards) {
			t.Errorf("%s: got forwards %v, want %v", tc.endpoint, n.Forwards, tc.wantForwards)
		}
	}

	s := &Scheduler{cfg: Config{Endpoint: "http://127.0.0.1:4566"}}
	if n, endpoint, err := s.network(&function.Config{}, api); n != nil || endpoint != s.cfg.Endpoint || err != nil {
		t.Errorf("without %s: got %v %s %v, want the node's network", NetworkVar, n, endpoint, err)
	}
	bad := &function.Config{Environment: &function.Environment{Variables: map[string]string{NetworkVar: "host"}}}
	var fe *fault.Error
	if _, _, err := s.network(bad, api); !errors.As(err, &fe) || fe.Kind != fault.InvalidParameter {
		t.Errorf("%s=host: got %v, want an InvalidParameter fault", NetworkVar, err)
	}
}
