package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// AWS_LAMBDA_EXEC_WRAPPER runs the managed runtime under a wrapper script;
// a wrapper that does not exist fails INIT with the AWS-recorded answer:
// Runtime.ExitError "RequestId: … Error: Runtime exited with error: exit
// status 127".
func TestInvfid_ExecWrapper(t *testing.T) {
	n := startNode(t, nil)
	dir := t.TempDir()
	wrapper, plain := filepath.Join(dir, "wrapper.sh"), filepath.Join(dir, "plain.sh")
	script := []byte("#!/bin/sh\nexport WRAPPED_BY=wrapper\nexec \"$@\"\n")
	if err := os.WriteFile(wrapper, script, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, script, 0o644); err != nil {
		t.Fatal(err)
	}
	pyZip, _ := zipFiles(map[string][]byte{"app.py": []byte(`import os
def handler(event, context):
    return {"wrapped_by": os.environ.get("WRAPPED_BY")}
`)}, 0o644)
	nodeZip, _ := zipFiles(map[string][]byte{"index.mjs": []byte(`export const handler = async () => ({ wrapped_by: process.env.WRAPPED_BY ?? null });
`)}, 0o644)
	exitMsg := regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status (\d+)$`)
	tests := []struct {
		name, runtime, handler, bin string
		zip                         []byte
	}{
		{"py", "python3.12", "app.handler", "python3", pyZip},
		{"js", "nodejs20.x", "index.handler", "node", nodeZip},
	}
	for _, tt := range tests {
		t.Run(tt.runtime, func(t *testing.T) {
			if _, err := exec.LookPath(tt.bin); err != nil {
				t.Skipf("%s is not installed", tt.bin)
			}
			for _, w := range []string{wrapper, "/idontexist.sh", plain} {
				name := tt.name + "-" + map[string]string{wrapper: "wrapped", "/idontexist.sh": "missing", plain: "plain"}[w]
				n.create(name, func(in *lambda.CreateFunctionInput) {
					in.Runtime = types.Runtime(tt.runtime)
					in.Handler = aws.String(tt.handler)
					in.Code.ZipFile = tt.zip
					in.Environment = &types.Environment{Variables: map[string]string{"AWS_LAMBDA_EXEC_WRAPPER": w}}
				})
			}
			out := n.invoke(tt.name+"-wrapped", map[string]any{})
			if got := decodeResult(t, out.Payload); out.FunctionError != nil || got["wrapped_by"] != "wrapper" {
				t.Errorf("wrapped: got %s %v, want wrapped_by wrapper", aws.ToString(out.FunctionError), got)
			}
			// A missing wrapper exits 127 (the AWS-recorded answer); one
			// that is not executable 126, a shell's status for it.
			for suffix, status := range map[string]string{"missing": "127", "plain": "126"} {
				out = n.invoke(tt.name+"-"+suffix, map[string]any{})
				got := decodeResult(t, out.Payload)
				msg, _ := got["errorMessage"].(string)
				m := exitMsg.FindStringSubmatch(msg)
				if aws.ToString(out.FunctionError) != "Unhandled" || got["errorType"] != "Runtime.ExitError" || m == nil || m[1] != status || len(got) != 2 {
					t.Errorf("%s wrapper: got %s %v, want Unhandled Runtime.ExitError, exit status %s", suffix, aws.ToString(out.FunctionError), got, status)
				}
				if v := aws.ToString(out.ExecutedVersion); v != "$LATEST" {
					t.Errorf("%s wrapper: got executed version %q, want $LATEST", suffix, v)
				}
			}
		})
	}
}
