// Package server wires Updraft's components into one node: the backbone,
// the function store, the scheduler and its sandbox driver, the invoke
// service, function logs, and the HTTP endpoint that serves the AWS wire
// APIs and Updraft's control API. Only cmd/updraft imports it.
package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/updraft/updraft/internal/awsapi/lambda"
	"github.com/updraft/updraft/internal/awsapi/sfn"
	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/control"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sandbox/linux"
	"github.com/updraft/updraft/internal/scheduler"
	"github.com/updraft/updraft/internal/sigv4"
	"github.com/updraft/updraft/internal/telemetry"
	"github.com/updraft/updraft/internal/workflow"
	"github.com/updraft/updraft/runtimes"
)

// Version is the Updraft version, set at build time.
var Version = "dev"

// AddrDefault is the default API address: loopback, LocalStack's port.
const AddrDefault = "127.0.0.1:4566"

// Config configures a node.
type Config struct {
	// Addr is the API's listen address. Default AddrDefault. A port of 0
	// picks a free one (see Server.Addr).
	Addr string
	// DataDir holds the embedded backbone's store and this node's code
	// cache. Required.
	DataDir string
	// NATSURL connects to an external NATS server instead of embedding one.
	NATSURL string
	// Sync is the backbone durability mode (backbone.SyncDefault or
	// backbone.SyncAlways).
	Sync string
	// Region and Account make up ARNs. Defaults: us-east-1, 000000000000.
	Region, Account string
	// AccessKeys, "ID:SECRET" pairs, enables AWS SigV4 verification of
	// every request. Required to listen beyond loopback.
	AccessKeys []string
	// Scheduler knobs; zero values take the scheduler's defaults.
	AccountConcurrency int
	Burst              int
	BurstWindow        time.Duration
	IdleTimeout        time.Duration
	InitTimeout        time.Duration
	// AsyncRetryBase is the delay before the first async retry. Default 1m.
	AsyncRetryBase time.Duration
	// AsyncAckWait bounds how soon an async event whose delivery was cut
	// short by a crash is delivered again. Default 30s.
	AsyncAckWait time.Duration
	// LogRetention is how long function logs are kept. Default 7 days.
	LogRetention time.Duration
	// Sandbox is the sandbox driver: SandboxProcess, SandboxLinux, or ""
	// to use linux when this host allows it and process otherwise.
	Sandbox string
	// CgroupParent is the cgroup the linux sandbox makes its groups
	// below (linux.Config.CgroupParent); default the node's own.
	CgroupParent string
	// FreezeAfter is how long an idle environment runs before it is
	// frozen (linux sandbox); zero takes the scheduler's default,
	// negative never freezes.
	FreezeAfter time.Duration
	// AllCPUs runs environments on every CPU of the host rather than on
	// the CPUs their memory buys (scheduler.Config.AllCPUs).
	AllCPUs bool
}

// Sandbox drivers.
const (
	SandboxProcess = "process"
	SandboxLinux   = "linux"
)

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: DataDir is required")
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("config: Addr %q: %w", c.Addr, err)
	}
	switch c.Sandbox {
	case "", SandboxProcess, SandboxLinux:
	default:
		return fmt.Errorf("config: Sandbox %q: want %s or %s", c.Sandbox, SandboxProcess, SandboxLinux)
	}
	if !isLoopback(host) && len(c.AccessKeys) == 0 {
		return fmt.Errorf("config: Addr %q is not a loopback address: configure access keys (--access-key ID:SECRET) so every request is signed", c.Addr)
	}
	for _, k := range c.AccessKeys {
		if id, secret, ok := strings.Cut(k, ":"); !ok || id == "" || secret == "" {
			return fmt.Errorf("config: access key %q: want ID:SECRET", redact(k))
		}
	}
	return nil
}

func redact(k string) string {
	id, _, _ := strings.Cut(k, ":")
	return id + ":…"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is one running node.
type Server struct {
	cfg   Config
	log   *slog.Logger
	bb    *backbone.Backbone
	store *function.Store
	sms   *workflow.Machines
	execs *workflow.Executions
	xq    *workflow.ExpressQueue
	logs  *telemetry.Logs
	sched *scheduler.Scheduler
	drv   sandbox.Driver
	why   string // why drv was chosen
	inv   *invoke.Service
	http  *http.Server
	ln    net.Listener

	// provMu serialises qualifiersChanged, so the last targets handed to
	// the scheduler are computed from the latest indexes.
	provMu sync.Mutex

	stopOnce sync.Once
	stopErr  error
}

// New checks cfg; Start brings the node up.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = AddrDefault
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, log: log}, nil
}

// Start opens the backbone, starts every component and begins serving.
// On error everything started so far is stopped.
func (s *Server) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = s.Stop(context.Background())
		}
	}()
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.bb, err = backbone.Open(ctx, backbone.Config{DataDir: s.cfg.DataDir, URL: s.cfg.NATSURL, Sync: s.cfg.Sync}, s.log)
	if err != nil {
		return err
	}
	s.store, err = function.NewStore(ctx, s.bb, function.StoreConfig{
		Region: s.cfg.Region, Account: s.cfg.Account, CacheDir: filepath.Join(s.cfg.DataDir, "code"),
	}, s.log)
	if err != nil {
		return err
	}
	s.sms, err = workflow.NewMachines(ctx, s.bb, s.store.Region(), s.store.Account(), s.log)
	if err != nil {
		return err
	}
	s.logs, err = telemetry.NewLogs(ctx, s.bb, telemetry.LogsConfig{Retention: s.cfg.LogRetention}, s.log)
	if err != nil {
		return err
	}
	rt, err := installRuntimes(filepath.Join(s.cfg.DataDir, "runtimes"))
	if err != nil {
		return err
	}
	s.drv, s.why, err = chooseDriver(ctx, s.cfg.Sandbox, linux.Config{StateDir: filepath.Join(s.cfg.DataDir, "sandbox"), CgroupParent: s.cfg.CgroupParent})
	if err != nil {
		return err
	}
	s.sched, err = scheduler.New(scheduler.Config{
		Driver:             s.drv,
		FreezeAfter:        s.cfg.FreezeAfter,
		AllCPUs:            s.cfg.AllCPUs,
		Code:               s.store,
		Logs:               s.logs,
		AccountConcurrency: s.cfg.AccountConcurrency,
		Burst:              s.cfg.Burst,
		BurstWindow:        s.cfg.BurstWindow,
		IdleTimeout:        s.cfg.IdleTimeout,
		InitTimeout:        s.cfg.InitTimeout,
		Runtimes:           rt,
		Region:             s.store.Region(),
		Endpoint:           "http://" + dialable(ln.Addr().String()),
		Credentials:        s.functionCredentials,
	}, s.log)
	if err != nil {
		return err
	}
	s.inv = invoke.New(invoke.Config{RetryBase: s.cfg.AsyncRetryBase, AckWait: s.cfg.AsyncAckWait}, s.store, s.sched, s.log)
	if err := s.inv.OpenAsync(ctx, s.bb); err != nil {
		return err
	}
	node, err := nodeID(s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.execs, err = workflow.NewExecutions(ctx, s.bb, s.sms, &workflow.Tasks{Lambda: s.inv}, workflow.ExecutionsConfig{Node: node}, s.log)
	if err != nil {
		return err
	}
	s.xq, err = workflow.NewExpressQueue(ctx, s.bb, s.sms, &workflow.Tasks{Lambda: s.inv}, workflow.ExpressConfig{AckWait: s.cfg.AsyncAckWait}, s.log)
	if err != nil {
		return err
	}
	s.store.OnChange(func(old, new *function.Record) {
		if new == nil {
			s.sched.SetReserved(old.Config.FunctionName, nil)
		} else {
			s.sched.SetReserved(new.Config.FunctionName, new.ReservedConcurrency)
		}
		switch {
		case old != nil && new == nil:
			s.sched.Forget(old.Config.FunctionName, "")
		case old != nil && new.EnvRevision() != old.EnvRevision():
			s.sched.Forget(old.Config.FunctionName, function.Latest)
		}
		s.inv.FunctionChanged(old, new)
	})
	s.store.OnQualifiersChange(s.qualifiersChanged)
	for _, c := range []interface{ Start(context.Context) error }{s.store, s.sms, s.logs, s.sched, s.inv, s.execs, s.xq} {
		if err := c.Start(ctx); err != nil {
			return err
		}
	}
	s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve api", "err", err)
		}
	}()
	return nil
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	lambda.New(s.store, s.inv, s.sched.AccountConcurrency(), s.codeURL, s.log).WithProvisioning(s.sched).Register(mux)
	(&control.API{Store: s.store, Scheduler: s.sched, Logs: s.logs, Info: s.info, Log: s.log}).Register(mux)
	var h http.Handler = byTarget(mux, map[string]http.Handler{sfn.TargetPrefix: sfn.New(s.sms, s.execs, s.xq, &workflow.Tasks{Lambda: s.inv, Region: s.cfg.Region, Account: s.cfg.Account}, s.log)})
	if len(s.cfg.AccessKeys) > 0 {
		h = s.withSignatures(h)
	}
	return withRequestID(h)
}

// qualifiersChanged follows a change to a function's versions, aliases
// or provisioned concurrency configs: environments of deleted versions
// go, and each version keeps as many provisioned environments as its
// configs ask for.
func (s *Server) qualifiersChanged(name string) {
	s.provMu.Lock()
	defer s.provMu.Unlock()
	for _, v := range s.sched.Versions(name) {
		if _, err := s.store.Get(name, v); err != nil {
			s.sched.Forget(name, v)
		}
	}
	var want []scheduler.Provisioned
	for v, n := range s.store.ProvisionedTargets(name) {
		if rec, err := s.store.Get(name, v); err == nil {
			want = append(want, scheduler.Provisioned{Record: rec, N: n})
		}
	}
	s.sched.Provision(name, want)
}

// byTarget sends AWS JSON-protocol requests to the API their X-Amz-Target
// names, and everything else (REST APIs) to mux.
func byTarget(mux http.Handler, apis map[string]http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if target := r.Header.Get("X-Amz-Target"); target != "" && r.URL.Path == "/" {
			for prefix, api := range apis {
				if strings.HasPrefix(target, prefix) {
					api.ServeHTTP(w, r)
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// withSignatures refuses every request that is not signed with AWS SigV4
// by one of the configured access keys.
func (s *Server) withSignatures(next http.Handler) http.Handler {
	creds := make([]sigv4.Credentials, 0, len(s.cfg.AccessKeys))
	for _, k := range s.cfg.AccessKeys {
		id, secret, _ := strings.Cut(k, ":")
		creds = append(creds, sigv4.Credentials{AccessKeyID: id, SecretAccessKey: secret})
	}
	v, err := sigv4.NewVerifier(sigv4.Config{Credentials: creds, Lookup: s.functionSecret, MaxBodySize: 70 << 20})
	if err != nil {
		panic(err) // Validate checked the keys
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.presignedCode(r) {
			next.ServeHTTP(w, r)
			return
		}
		if _, err := v.Verify(r); err != nil {
			var se *sigv4.Error
			if !errors.As(err, &se) {
				se = &sigv4.Error{Code: "IncompleteSignatureException", Message: "could not read the request", Status: http.StatusBadRequest}
			}
			w.Header().Set("x-amzn-ErrorType", se.Code)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(se.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": se.Code, "Type": "User", "message": se.Message})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withRequestID gives every response an x-amzn-RequestId unless the
// handler set one.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if h.Get("X-Amzn-Requestid") == "" {
			h["X-Amzn-Requestid"] = []string{function.NewUUID()}
		}
		next.ServeHTTP(w, r)
	})
}

// codeURL is GetFunction's Code.Location: a download URL that, like
// Lambda's presigned one, needs no credentials. With access keys it
// carries a token only the node's keys can make.
func (s *Server) codeURL(name, codeSha256 string) string {
	u := "http://" + dialable(s.Addr()) + control.Prefix + "code/" + url.PathEscape(name) + "?sha256=" + url.QueryEscape(codeSha256)
	if len(s.cfg.AccessKeys) > 0 {
		u += "&token=" + s.codeToken(name, codeSha256)
	}
	return u
}

func (s *Server) codeToken(name, codeSha256 string) string {
	_, secret, _ := strings.Cut(s.cfg.AccessKeys[0], ":")
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("updraft-code\n" + name + "\n" + codeSha256))
	return hex.EncodeToString(m.Sum(nil))
}

// presignedCode reports whether r is a code download with a valid token.
func (s *Server) presignedCode(r *http.Request) bool {
	name, ok := strings.CutPrefix(r.URL.Path, control.Prefix+"code/")
	if !ok || r.Method != http.MethodGet {
		return false
	}
	q := r.URL.Query()
	want := s.codeToken(name, q.Get("sha256"))
	return hmac.Equal([]byte(q.Get("token")), []byte(want))
}

func (s *Server) info() control.Status {
	bb := "embedded"
	if !s.bb.Embedded() {
		bb = "external"
	}
	return control.Status{Version: Version, Sandbox: s.drv.Name(), Backbone: bb, NodeMemoryBytes: selfRSS()}
}

// Sandbox names the sandbox driver the node uses and says why.
func (s *Server) Sandbox() (name, reason string) { return s.drv.Name(), s.why }

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stop stops serving, kills every environment, and closes the backbone,
// in the reverse order of Start.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.http != nil {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if err := s.http.Shutdown(sctx); err != nil {
				_ = s.http.Close()
			}
			cancel()
		} else if s.ln != nil {
			_ = s.ln.Close()
		}
		if s.xq != nil {
			errs = append(errs, s.xq.Stop(ctx))
		}
		if s.execs != nil {
			errs = append(errs, s.execs.Stop(ctx))
		}
		if s.inv != nil {
			// Give running async deliveries a moment, then end their
			// environments; the unfinished ones are delivered again later.
			grace, cancel := context.WithTimeout(ctx, 2*time.Second)
			_ = s.inv.Stop(grace)
			cancel()
		}
		if s.sched != nil {
			errs = append(errs, s.sched.Stop(ctx))
		}
		if s.inv != nil {
			errs = append(errs, s.inv.Stop(ctx))
		}
		if c, ok := s.drv.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
		if s.logs != nil {
			errs = append(errs, s.logs.Stop(ctx))
		}
		if s.sms != nil {
			errs = append(errs, s.sms.Stop(ctx))
		}
		if s.store != nil {
			errs = append(errs, s.store.Stop(ctx))
		}
		if s.bb != nil {
			s.bb.Close()
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// nodeID is this node's name, kept in the data directory so that a
// restarted node is known as the same one (it takes its executions lease
// back at once).
func nodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	id := function.NewUUID()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return id, nil
}

// dialable turns a listen address into one a client can dial.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// installRuntimes writes the embedded runtime clients under dir and finds
// the interpreters that run them.
func installRuntimes(dir string) (scheduler.Runtimes, error) {
	var rt scheduler.Runtimes
	files := map[string][]byte{"python/bootstrap.py": runtimes.Python, "node/bootstrap.mjs": runtimes.Node}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return rt, fmt.Errorf("install runtimes: %w", err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return rt, fmt.Errorf("install runtimes: %w", err)
		}
	}
	rt.PythonClient = filepath.Join(dir, "python/bootstrap.py")
	rt.NodeClient = filepath.Join(dir, "node/bootstrap.mjs")
	rt.Python = findPython()
	if p, err := exec.LookPath("node"); err == nil {
		rt.Node = p
	}
	return rt, nil
}

// findPython returns the real python3 executable (resolving shims such as
// pyenv's), or "" when there is none.
func findPython() string {
	p, err := exec.LookPath("python3")
	if err != nil {
		return ""
	}
	out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return p
	}
	if real := strings.TrimSpace(string(out)); real != "" {
		return real
	}
	return p
}

func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss int64
	if _, err := fmt.Sscan(string(b), &size, &rss); err != nil {
		return 0
	}
	return rss * int64(os.Getpagesize())
}
