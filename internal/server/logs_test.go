package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
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
