package server_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// curlBootstrap is the custom runtime of Lambda's shell tutorial: bash
// and curl. curl sends a body over 1 MB with Expect: 100-continue and
// waits for the 100 Continue before sending it.
const curlBootstrap = `#!/bin/bash
set -euo pipefail
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  headers="$(mktemp)"
  event=$(curl -sS -D "$headers" "$api/invocation/next")
  id=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$headers" | tr -d '[:space:]' | cut -d: -f2)
  if [ "$event" = '{"big":true}' ]; then
    body="$(mktemp)"
    { printf '"'; head -c 2000000 /dev/zero | tr '\0' a; printf '"'; } > "$body"
    curl -sS -X POST "$api/invocation/$id/response" --data-binary @"$body" >/dev/null
  elif [ "$event" = '{"fail":true}' ]; then
    curl -sS -X POST "$api/invocation/$id/error" -H "Lambda-Runtime-Function-Error-Type: Shell.Error" \
      -d '{"errorMessage":"asked to fail","errorType":"Shell.Error"}' >/dev/null
  else
    curl -sS -X POST "$api/invocation/$id/response" -d "{\"echo\":$event}" >/dev/null
  fi
done
`

func TestRuntimeAPI_curlBootstrap(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (make deps installs it)")
	}
	zip, err := zipFiles(map[string][]byte{"bootstrap": []byte(curlBootstrap)}, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, nil)
	n.create("shell", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{ZipFile: zip} })
	ctx := context.Background()

	out := n.invoke("shell", map[string]int{"n": 1})
	if string(out.Payload) != `{"echo":{"n":1}}` {
		t.Errorf("small answer: got %q", out.Payload)
	}
	out = n.invoke("shell", map[string]bool{"big": true})
	var big string
	if err := json.Unmarshal(out.Payload, &big); err != nil || len(big) != 2000000 || strings.Trim(big, "a") != "" {
		t.Errorf("2 MB answer sent with 100-continue: got %d bytes, %v", len(out.Payload), err)
	}
	res, err := n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("shell"), Payload: []byte(`{"fail":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(res.FunctionError) != "Unhandled" || !strings.Contains(string(res.Payload), "asked to fail") {
		t.Errorf("error: got %q %s", aws.ToString(res.FunctionError), res.Payload)
	}
	// The runtime goes on serving after all three.
	out = n.invoke("shell", map[string]int{"n": 2})
	if string(out.Payload) != `{"echo":{"n":2}}` {
		t.Errorf("after an error: got %q", out.Payload)
	}
}
