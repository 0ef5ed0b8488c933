package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func readLogs(t *testing.T, n *node, name string) string {
	t.Helper()
	resp, err := http.Get(n.url + "/_updraft/v1/functions/" + name + "/logs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return readAll(t, resp.Body)
}

func TestLogs_KeptAcrossRestartAndFollowed(t *testing.T) {
	n := startNode(t, nil)
	n.create("chatty", nil)
	n.invoke("chatty", map[string]any{"action": "log", "lines": 2, "message": "first-run"})
	eventually(t, 5*time.Second, "logs to be stored", func() bool {
		return strings.Contains(readLogs(t, n, "chatty"), "line 1 of first-run")
	})
	n = n.restart()
	text := readLogs(t, n, "chatty")
	for _, want := range []string{"START RequestId:", "line 0 of first-run", "line 1 of first-run", "END RequestId:", "REPORT RequestId:"} {
		if !strings.Contains(text, want) {
			t.Errorf("logs after restart lack %q:\n%s", want, text)
		}
	}

	// Follow: lines of a new invocation arrive on an open stream.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/_updraft/v1/functions/chatty/logs?follow=true&since=1s", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	go n.invoke("chatty", map[string]any{"action": "log", "lines": 1, "message": "followed"})
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "line 0 of followed") {
			return
		}
	}
	t.Fatalf("follow ended without the new line: %v", sc.Err())
}

func TestLogs_UnknownFunction(t *testing.T) {
	n := startNode(t, nil)
	resp, err := http.Get(n.url + "/_updraft/v1/functions/ghost/logs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-amzn-ErrorType") != "ResourceNotFoundException" {
		t.Errorf("got %d %s, want 404 ResourceNotFoundException", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}

// TestLogs_InitStart: a cold environment's stream opens with Lambda's
// INIT_START line, naming the runtime version and its ARN as
// GetFunction does; the line is not part of the invocation's log tail.
func TestLogs_InitStart(t *testing.T) {
	n := startNode(t, nil)
	n.create("initstart", nil)
	out, err := n.lambda.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("initstart"), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(tail), "INIT_START") || !strings.HasPrefix(string(tail), "START RequestId:") {
		t.Errorf("log tail:\n%s\nwant it to begin with START, without INIT_START", tail)
	}
	fn, err := n.lambda.GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("initstart")})
	if err != nil {
		t.Fatal(err)
	}
	want := "INIT_START Runtime Version: provided:al2023.v1\tRuntime Version ARN: " + aws.ToString(fn.Configuration.RuntimeVersionConfig.RuntimeVersionArn)
	var text string
	eventually(t, 5*time.Second, "the invocation's logs to be stored", func() bool {
		text = readLogs(t, n, "initstart")
		return strings.Contains(text, "REPORT RequestId:")
	})
	i, j := strings.Index(text, want), strings.Index(text, "START RequestId:")
	if i < 0 || j < 0 || i > j || strings.Count(text, "INIT_START") != 1 {
		t.Errorf("stored logs:\n%s\nwant one %q before START", text, want)
	}
}
