// Command fn is the test function: one aws-lambda-go binary whose
// behaviour the event chooses, so tests exercise the platform with a real
// runtime client.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Event selects the behaviour.
type Event struct {
	Action  string `json:"action"`
	Message string `json:"message,omitempty"`
	SleepMs int    `json:"sleepMs,omitempty"`
	Code    int    `json:"code,omitempty"`
	Lines   int    `json:"lines,omitempty"`
	Size    int    `json:"size,omitempty"`
	File    string `json:"file,omitempty"` // appended to by "mark"
	Fail    bool   `json:"fail,omitempty"`
	Secret  string `json:"secret,omitempty"` // stored by "remember"
}

// Package-level state survives across warm invocations of one
// environment; a lock guards it, since with AWS_LAMBDA_MAX_CONCURRENCY
// aws-lambda-go runs handlers concurrently.
var (
	mu          sync.Mutex
	invocations int
	secrets     []string // every secret "remember" was given
	inFlight    int      // handlers running now
	maxInFlight int      // most handlers ever running at once
)

// envID is unique to this environment (this process).
var envID = func() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

type result struct {
	Action      string            `json:"action"`
	Message     string            `json:"message,omitempty"`
	RequestID   string            `json:"requestId"`
	FunctionARN string            `json:"functionArn"`
	Invocations int               `json:"invocations"`
	PID         int               `json:"pid"`
	Env         map[string]string `json:"env,omitempty"`
	Remaining   int64             `json:"remainingMs"`
	Client      map[string]string `json:"client,omitempty"`
	Data        string            `json:"data,omitempty"`
	EnvID       string            `json:"envId"`
	TenantID    string            `json:"tenantId,omitempty"`
	Secrets     []string          `json:"secrets,omitempty"`
	MaxInFlight int               `json:"maxInFlight"`
}

func handle(ctx context.Context, raw json.RawMessage) (result, error) {
	mu.Lock()
	invocations++
	n := invocations
	inFlight++
	maxInFlight = max(maxInFlight, inFlight)
	mu.Unlock()
	defer func() {
		mu.Lock()
		inFlight--
		mu.Unlock()
	}()
	// RECORD_FILE collects every event the function receives, so tests can
	// see what destinations deliver.
	if path := os.Getenv("RECORD_FILE"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return result{}, err
		}
		f.Write(append(append([]byte(nil), raw...), '\n'))
		f.Close()
	}
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return result{}, err
	}
	lc, _ := lambdacontext.FromContext(ctx)
	dl, _ := ctx.Deadline()
	r := result{Action: e.Action, Message: e.Message, RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn,
		Invocations: n, PID: os.Getpid(), Remaining: time.Until(dl).Milliseconds(), EnvID: envID, TenantID: lc.TenantID}
	switch e.Action {
	case "", "echo":
	case "env":
		r.Env = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			r.Env[k] = v
		}
	case "client":
		r.Client = lc.ClientContext.Custom
	case "error":
		return r, errors.New(e.Message)
	case "panic":
		panic(e.Message)
	case "exit":
		os.Exit(e.Code)
	case "sleep":
		time.Sleep(time.Duration(e.SleepMs) * time.Millisecond)
		mu.Lock()
		r.MaxInFlight = maxInFlight
		mu.Unlock()
	case "remember":
		// Keep a secret in package-level state and report every secret
		// this environment has seen.
		mu.Lock()
		if e.Secret != "" {
			secrets = append(secrets, e.Secret)
		}
		r.Secrets = append([]string(nil), secrets...)
		mu.Unlock()
	case "log":
		for i := 0; i < e.Lines; i++ {
			fmt.Printf("line %d of %s\n", i, e.Message)
		}
	case "big":
		r.Data = strings.Repeat("x", e.Size)
	case "alloc": // touch Size MB of memory
		b := make([]byte, e.Size<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		r.Data = strconv.Itoa(len(b) >> 20)
	case "stat": // does File exist?
		_, err := os.Stat(e.File)
		r.Data = errText(err)
	case "write": // create File
		err := os.WriteFile(e.File, []byte(e.Message), 0o644)
		r.Data = errText(err)
	case "read":
		b, err := os.ReadFile(e.File)
		r.Data = string(b) + errText(err)
	case "whoami":
		host, _ := os.Hostname()
		r.Data = fmt.Sprintf("%d %d %s", os.Getuid(), os.Getgid(), host)
	case "cpus": // what the Go runtime saw at start: NumCPU GOMAXPROCS
		r.Data = fmt.Sprintf("%d %d", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	case "procs": // the process ids this function can see
		entries, _ := os.ReadDir("/proc")
		var pids []string
		for _, d := range entries {
			if _, err := strconv.Atoi(d.Name()); err == nil {
				pids = append(pids, d.Name())
			}
		}
		r.Data = strings.Join(pids, ",")
	case "spawn": // start sleeping children until refused
		n := 0
		for {
			if err := exec.Command("/bin/sleep", e.Message).Start(); err != nil {
				r.Data = fmt.Sprintf("%d %v", n, err)
				break
			}
			n++
		}
	case "mark":
		f, err := os.OpenFile(e.File, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return r, err
		}
		fmt.Fprintf(f, "start %s\n", lc.AwsRequestID)
		f.Sync()
		time.Sleep(time.Duration(e.SleepMs) * time.Millisecond)
		fmt.Fprintf(f, "done %s\n", lc.AwsRequestID)
		f.Close()
		if e.Fail {
			return r, fmt.Errorf("failing on purpose")
		}
	case "dial": // connect to TCP address Message, read one line
		c, err := net.DialTimeout("tcp", e.Message, 2*time.Second)
		if err != nil {
			r.Data = "error: " + err.Error()
			break
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		r.Data = strings.TrimSpace(line) + errText(err)
	case "endpoint": // GET AWS_ENDPOINT_URL + Message
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(os.Getenv("AWS_ENDPOINT_URL") + e.Message)
		if err != nil {
			r.Data = "error: " + err.Error()
			break
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.Data = fmt.Sprintf("%d %s", resp.StatusCode, b)
	default:
		return r, fmt.Errorf("unknown action %q", e.Action)
	}
	return r, nil
}

// errText is "ok" for nil, else the error.
func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func main() { lambda.Start(handle) }
