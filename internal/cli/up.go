package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/server"
)

// DefaultDataDir is where a node keeps its data unless told otherwise:
// $UPDRAFT_DATA_DIR, else $XDG_DATA_HOME/updraft, else
// ~/.local/share/updraft.
func DefaultDataDir() string {
	if v := os.Getenv("UPDRAFT_DATA_DIR"); v != "" {
		return v
	}
	if v := os.Getenv("XDG_DATA_HOME"); v != "" {
		return filepath.Join(v, "updraft")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".updraft"
	}
	return filepath.Join(home, ".local", "share", "updraft")
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (e *env) up(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft up")
	var cfg server.Config
	var deploy, keys multiFlag
	var verbose bool
	fs.StringVar(&cfg.Addr, "addr", server.AddrDefault, "API listen address (loopback unless --access-key is given)")
	fs.StringVar(&cfg.DataDir, "data-dir", DefaultDataDir(), "data directory (backbone store, code cache)")
	fs.StringVar(&cfg.NATSURL, "nats", "", "connect to this NATS server instead of embedding one")
	fs.StringVar(&cfg.Sync, "sync", "default", "backbone durability: default (survives kill -9) or always (fsync every write)")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "region named in ARNs")
	fs.Var(&keys, "access-key", "ID:SECRET accepted for AWS SigV4 signatures (repeatable); enables signature checks")
	fs.IntVar(&cfg.AccountConcurrency, "account-concurrency", 1000, "most invocations running at once")
	fs.IntVar(&cfg.Burst, "burst", 1000, "new environments a function may start per --burst-window")
	fs.DurationVar(&cfg.BurstWindow, "burst-window", 10*time.Second, "refill period of --burst")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 10*time.Minute, "how long an idle environment stays warm")
	fs.DurationVar(&cfg.AsyncRetryBase, "async-retry-base", time.Minute, "delay before the first retry of a failed async event (doubles each retry)")
	fs.DurationVar(&cfg.AsyncAckWait, "async-ack-wait", 30*time.Second, "how soon an async event interrupted by a crash is delivered again")
	fs.DurationVar(&cfg.LogRetention, "log-retention", 7*24*time.Hour, "how long function logs are kept")
	fs.StringVar(&cfg.Sandbox, "sandbox", "", "sandbox driver: linux (namespaces, seccomp, cgroup limits) or process (plain child processes); default linux when this host allows it")
	fs.StringVar(&cfg.CgroupParent, "cgroup-parent", "", "linux sandbox: make environment cgroups below this cgroup (a path such as /updraft-alice in each hierarchy), not the node's own; for a node that is not root, one delegated to its user")
	fs.DurationVar(&cfg.FreezeAfter, "freeze-after", time.Second, "linux sandbox: freeze an environment idle this long (negative: never)")
	fs.BoolVar(&cfg.AllCPUs, "all-cpus", false, "run environments on every CPU of the host, not on one CPU per 1,769 MB of function memory (runtimes size their threads by the CPUs they see)")
	fs.Var(&deploy, "deploy", "deploy this function directory, or this state machine definition (FILE.json), once up (repeatable)")
	fs.BoolVar(&verbose, "v", false, "debug logging")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg.AccessKeys = keys
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	sandbox, why := srv.Sandbox()
	log.Info("updraft is up", "addr", srv.Addr(), "data_dir", cfg.DataDir, "sandbox", sandbox, "sandbox_reason", why,
		"backbone", backboneName(cfg), "startup", time.Since(start).Round(time.Millisecond))
	endpoint := "http://" + srv.Addr()
	var deployed, workflows []string
	for _, path := range deploy {
		if strings.HasSuffix(path, ".json") {
			name, err := deployWorkflow(ctx, endpoint, path, keys)
			if err != nil {
				log.Error("deploy example workflow", "file", path, "err", err)
				continue
			}
			workflows = append(workflows, name)
			continue
		}
		name, err := deployDir(ctx, e, endpoint, path, deployOptions{}, keys)
		if err != nil {
			log.Error("deploy example", "dir", path, "err", err)
			continue
		}
		deployed = append(deployed, name)
	}
	if len(deployed) > 0 {
		e.printTour(endpoint, deployed, workflows)
	}
	<-ctx.Done()
	log.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	log.Info("stopped")
	return nil
}

func backboneName(cfg server.Config) string {
	if cfg.NATSURL != "" {
		return cfg.NATSURL
	}
	return "embedded"
}

func (e *env) printTour(endpoint string, names, workflows []string) {
	fmt.Fprintf(e.stderr, "\nDeployed: %s\n", strings.Join(names, ", "))
	if len(workflows) > 0 {
		fmt.Fprintf(e.stderr, "State machines: %s\n", strings.Join(workflows, ", "))
	}
	fmt.Fprint(e.stderr, "\nTry:\n")
	first := names[0]
	self := os.Args[0]
	fmt.Fprintf(e.stderr, "  %s function invoke %s --payload '{\"name\":\"you\"}'\n", self, first)
	fmt.Fprintf(e.stderr, "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws lambda invoke --endpoint-url %s --region us-east-1 \\\n", endpoint)
	fmt.Fprintf(e.stderr, "      --function-name %s --cli-binary-format raw-in-base64-out --payload '{\"name\":\"you\"}' out.json && cat out.json\n", first)
	fmt.Fprintf(e.stderr, "  %s function logs %s --follow\n", self, first)
	if len(workflows) > 0 {
		fmt.Fprintf(e.stderr, "  %s workflow start %s --input '{\"names\":[\"Ada\",\"Grace\",\"Linus\"]}' --wait\n", self, workflows[0])
	}
	fmt.Fprintf(e.stderr, "  %s function ls\n\nPress Ctrl-C to stop.\n", self)
}
