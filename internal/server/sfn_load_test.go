package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestStepFunctions_ManyExecutions starts 1,500 executions, 50 at a time:
// more than one consumer per execution would allow.
func TestStepFunctions_ManyExecutions(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	var states []string
	for i := 0; i < 20; i++ {
		next := fmt.Sprintf(`"Next": "S%d"`, i+1)
		if i == 19 {
			next = `"End": true`
		}
		states = append(states, fmt.Sprintf(`"S%d": {"Type": "Pass", "Result": %d, "ResultPath": "$.s%d", %s}`, i, i, i, next))
	}
	m, _ := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bench"), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"),
		Definition: aws.String(`{"StartAt": "S0", "States": {` + strings.Join(states, ",") + `}}`)})
	for round := 0; round < 30; round++ {
		var wg sync.WaitGroup
		arns := make([]*string, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{}`)})
				if err != nil {
					t.Error(err)
					return
				}
				arns[i] = out.ExecutionArn
			}()
		}
		wg.Wait()
		for _, arn := range arns {
			deadline := time.Now().Add(10 * time.Second)
			for {
				d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
				if err == nil && d.Status == types.ExecutionStatusSucceeded {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("round %d: %s stuck: %v %v", round, aws.ToString(arn), d, err)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
}
