// Package bench runs Updraft's end-to-end benchmark scenarios against a
// running node, given its endpoint URL and the built benchmark programs
// (see Build): cold start, warm invoke latency, throughput, a burst from
// zero to many environments, and memory per idle environment. Every
// scenario also measures the same work done by a minimal Go net/http
// server in the same run (the baseline), so results are read as ratios.
//
// Control-plane calls use aws-sdk-go-v2's Lambda client; invocations are
// plain, unsigned net/http POSTs to /2015-03-31/functions/NAME/invocations
// over a keep-alive Transport sized for the scenario, the same client the
// baseline is measured with, so the client is not the bottleneck.
//
// internal/cli (updraft bench) and tests import it. A Runner runs one
// scenario at a time and is not safe for concurrent use: each scenario
// wants the machine to itself.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Defaults of the scenarios' parameters.
const (
	ColdSamplesDefault = 50
	WarmSamplesDefault = 5000
	ConcurrencyDefault = 32
	DurationDefault    = 5 * time.Second
	BurstEnvsDefault   = 1000
	// BurstSleepDefault is as long as the burst target (5 s), so every
	// invocation of a burst that meets it is still running when the last
	// environment starts: none can find an environment already free, and
	// the node holds all of them at once.
	BurstSleepDefault        = 5 * time.Second
	MemoryBaselineProcsLimit = 100
)

// ClientDescription says how invocations are sent, for reports.
const ClientDescription = "net/http keep-alive POST to /2015-03-31/functions/NAME/invocations (unsigned; MaxIdleConnsPerHost sized to the scenario); control plane via aws-sdk-go-v2 lambda"

// Config configures a Runner.
type Config struct {
	// Endpoint is the node's URL, such as http://127.0.0.1:4566. Required.
	Endpoint string
	// Code is the built functions and baseline server. Required.
	Code *Code
	// Progress receives one line per step. Optional.
	Progress io.Writer
	// MaxConns is the most connections the invoke client keeps per host.
	// Default BurstEnvsDefault.
	MaxConns int
}

// Runner runs scenarios against one node.
type Runner struct {
	cfg      Config
	endpoint string
	lambda   *lambda.Client
	http     *http.Client
	prefix   string
	created  []string
	machines []string // state machine ARNs
	made     map[string]bool
	// sleeperBase is how many environments the node had before the
	// sleeper function was made: what is left once it is deleted.
	sleeperBase int
}

// New returns a Runner. Close deletes the functions it created.
func New(cfg Config) (*Runner, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("bench config: Endpoint is required")
	}
	if cfg.Code == nil {
		return nil, errors.New("bench config: Code is required")
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = BurstEnvsDefault
	}
	endpoint := strings.TrimRight(cfg.Endpoint, "/")
	return &Runner{
		cfg:      cfg,
		endpoint: endpoint,
		lambda:   newLambdaClient(endpoint),
		http:     newHTTPClient(cfg.MaxConns),
		prefix:   "bench-" + randomHex(4),
		made:     map[string]bool{},
	}, nil
}

// newHTTPClient is a client over newTransport(conns).
func newHTTPClient(conns int) *http.Client { return &http.Client{Transport: newTransport(conns)} }

// newTransport is a keep-alive transport that holds up to conns idle
// connections per host and never limits how many are open.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

func newLambdaClient(endpoint string) *lambda.Client {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		id, secret = "test", "test"
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	return lambda.New(lambda.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:   &http.Client{Transport: newTransport(4)},
	})
}

// Close deletes the functions the Runner created and closes idle
// connections.
func (r *Runner) Close(ctx context.Context) error {
	var errs []error
	for _, name := range r.created {
		if _, err := r.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
			errs = append(errs, fmt.Errorf("delete function %s: %w", name, err))
		}
	}
	r.created = nil
	for _, arn := range r.machines {
		if err := sfnCall(ctx, r.http, r.endpoint, "DeleteStateMachine", map[string]any{"stateMachineArn": arn}, nil); err != nil {
			errs = append(errs, err)
		}
	}
	r.machines = nil
	r.http.CloseIdleConnections()
	return errors.Join(errs...)
}

func (r *Runner) progress(format string, args ...any) {
	fmt.Fprintf(r.cfg.Progress, "bench: "+format+"\n", args...)
}

// function creates the named benchmark function once and returns its
// full name; adjust, when given, changes the request first.
func (r *Runner) function(ctx context.Context, suffix string, zip []byte, adjust ...func(*lambda.CreateFunctionInput)) (string, error) {
	name := r.prefix + "-" + suffix
	if r.made[name] {
		return name, nil
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String("arn:aws:iam::000000000000:role/updraft-bench"),
		Code:         &types.FunctionCode{ZipFile: zip},
		Timeout:      aws.Int32(60),
	}
	for _, a := range adjust {
		a(in)
	}
	_, err := r.lambda.CreateFunction(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create function %s: %w", name, err)
	}
	r.made[name] = true
	r.created = append(r.created, name)
	return name, nil
}

func (r *Runner) invokeURL(name string) string {
	return r.endpoint + "/2015-03-31/functions/" + name + "/invocations"
}

// post sends payload to url and reads the answer into buf. It fails on a
// status other than 200 and on a function error.
func post(ctx context.Context, c *http.Client, url string, payload []byte, buf *bytes.Buffer, header http.Header) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{"application/json"}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, truncate(buf.String(), 200))
	}
	if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
		return nil, fmt.Errorf("function error %s: %s", fe, truncate(buf.String(), 200))
	}
	return resp.Header, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// status is the part of the control API's status the scenarios read.
type status struct {
	Envs            int   `json:"envs"`
	IdleEnvs        int   `json:"idleEnvs"`
	BusyEnvs        int   `json:"busyEnvs"`
	EnvMemoryBytes  int64 `json:"envMemoryBytes"`
	NodeMemoryBytes int64 `json:"nodeMemoryBytes"`
}

// status reads GET /_updraft/v1/status, with memory figures if asked.
func (r *Runner) status(ctx context.Context, c *http.Client, memory bool) (status, error) {
	url := r.endpoint + "/_updraft/v1/status"
	if memory {
		url += "?memory=1"
	}
	var st status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return st, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// errorLog counts errors and keeps the first few messages.
type errorLog struct {
	Count   int      `json:"count"`
	Samples []string `json:"samples,omitempty"`
}

func (l *errorLog) add(err error) {
	l.Count++
	if len(l.Samples) < 5 {
		l.Samples = append(l.Samples, err.Error())
	}
}

func (l *errorLog) merge(o errorLog) {
	l.Count += o.Count
	for _, s := range o.Samples {
		if len(l.Samples) < 5 {
			l.Samples = append(l.Samples, s)
		}
	}
}
