package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/sandbox/linux"
	"github.com/updraft/updraft/internal/server"
)

// fnZip is the test function (testdata/fn) built with aws-lambda-go and
// zipped as a provided.al2023 package, once per test binary.
var fnZip []byte

func TestMain(m *testing.M) {
	linux.Init()
	dir, err := os.MkdirTemp("", "updraft-fn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fnZip, err = buildGoFunction(dir, "./testdata/fn")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// buildGoFunction builds a Go function package into dir and returns its zip.
func buildGoFunction(dir, pkg string) ([]byte, error) {
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %v\n%s", pkg, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	return zipFiles(map[string][]byte{"bootstrap": data}, 0o755)
}

func zipFiles(files map[string][]byte, mode os.FileMode) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// node is a running Updraft node for a test.
type node struct {
	t      *testing.T
	srv    *server.Server
	cfg    server.Config
	url    string
	lambda *lambda.Client
}

// startNode starts a node on a random loopback port with an embedded
// backbone in a fresh data directory; adjust changes the config first.
func startNode(t *testing.T, adjust func(*server.Config)) *node {
	t.Helper()
	cfg := server.Config{
		Addr:           "127.0.0.1:0",
		DataDir:        t.TempDir(),
		AsyncRetryBase: 100 * time.Millisecond,
		AsyncAckWait:   2 * time.Second,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	return startNodeWith(t, cfg)
}

// startNodeWith starts a node with cfg; tests that do not choose a
// sandbox get the process driver, which lets functions reach the test's
// files.
func startNodeWith(t *testing.T, cfg server.Config) *node {
	t.Helper()
	if cfg.Sandbox == "" {
		cfg.Sandbox = server.SandboxProcess
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(cfg, log)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start server: %v", err)
	}
	n := &node{t: t, srv: srv, cfg: cfg, url: "http://" + srv.Addr()}
	n.lambda = lambdaClient(n.url, "test", "test")
	t.Cleanup(func() { n.stop() })
	return n
}

func (n *node) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.srv.Stop(ctx); err != nil {
		n.t.Errorf("stop server: %v", err)
	}
}

// restart stops the node and starts a new one on the same data directory.
func (n *node) restart() *node {
	n.t.Helper()
	n.stop()
	cfg := n.cfg
	return startNodeWith(n.t, cfg)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func lambdaClient(url, id, secret string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		// The SDK's retries would hide the throttling under test.
		RetryMaxAttempts: 1,
	})
}

// create makes a function from the test function package.
func (n *node) create(name string, adjust func(*lambda.CreateFunctionInput)) *types.FunctionConfiguration {
	n.t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String("arn:aws:iam::000000000000:role/test"),
		Code:         &types.FunctionCode{ZipFile: fnZip},
	}
	if adjust != nil {
		adjust(in)
	}
	out, err := n.lambda.CreateFunction(context.Background(), in)
	if err != nil {
		n.t.Fatalf("create function %s: %v", name, err)
	}
	return &types.FunctionConfiguration{FunctionName: out.FunctionName, FunctionArn: out.FunctionArn, RevisionId: out.RevisionId}
}

// invoke calls the function synchronously with event and returns the output.
func (n *node) invoke(name string, event any, adjust ...func(*lambda.InvokeInput)) *lambda.InvokeOutput {
	n.t.Helper()
	out, err := n.tryInvoke(name, event, adjust...)
	if err != nil {
		n.t.Fatalf("invoke %s: %v", name, err)
	}
	return out
}

func (n *node) tryInvoke(name string, event any, adjust ...func(*lambda.InvokeInput)) (*lambda.InvokeOutput, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		n.t.Fatal(err)
	}
	in := &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload}
	for _, a := range adjust {
		a(in)
	}
	return n.lambda.Invoke(context.Background(), in)
}

// status reads the control API's node status.
func (n *node) status() map[string]any {
	n.t.Helper()
	resp, err := http.Get(n.url + "/_updraft/v1/status?memory=1")
	if err != nil {
		n.t.Fatalf("status: %v", err)
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		n.t.Fatalf("status: %v", err)
	}
	return st
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func decodeResult(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("decode payload %q: %v", payload, err)
	}
	return m
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
