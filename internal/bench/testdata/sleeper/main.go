// Command sleeper is the burst benchmark's function: an aws-lambda-go
// handler that sleeps for the event's sleepMs, then answers with the
// environment that ran it, so a benchmark can count distinct environments.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// Event is what the function accepts.
type Event struct {
	SleepMs int `json:"sleepMs"`
}

// Response names the environment that handled the event.
type Response struct {
	Env string `json:"env"`
	PID int    `json:"pid"`
}

var env = os.Getenv("AWS_LAMBDA_LOG_STREAM_NAME")

func handle(ctx context.Context, e Event) (Response, error) {
	if e.SleepMs > 0 {
		t := time.NewTimer(time.Duration(e.SleepMs) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return Response{}, ctx.Err()
		}
	}
	return Response{Env: env, PID: os.Getpid()}, nil
}

func main() { lambda.Start(handle) }
