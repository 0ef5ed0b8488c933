// Command hello-go is the example Go function: an ordinary aws-lambda-go
// handler, deployed unchanged to Updraft.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Event is what the function accepts.
type Event struct {
	Name string `json:"name"`
}

// Response is what it returns.
type Response struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func handle(ctx context.Context, e Event) (Response, error) {
	if e.Name == "" {
		e.Name = "world"
	}
	lc, _ := lambdacontext.FromContext(ctx)
	log.Printf("greeting %s", e.Name)
	return Response{Message: fmt.Sprintf("Hello, %s!", e.Name), RequestID: lc.AwsRequestID}, nil
}

func main() { lambda.Start(handle) }
