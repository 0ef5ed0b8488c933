package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestFnfid_UnzippedSizeBoundary: Lambda refuses a package that unzips to
// exactly 262144000 bytes ("must be smaller than"); one byte less is fine.
func TestFnfid_UnzippedSizeBoundary(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	const limit = 262144000
	sized := func(size int64) []byte {
		t.Helper()
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.Create("handler.py")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(w, io.MultiReader(strings.NewReader("def handler(event, context):\n    return event\n"), repeatByte('#')), size); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	create := func(name string, code []byte) error {
		_, err := n.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Runtime: types.RuntimePython312, Handler: aws.String("handler.handler"),
			Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &types.FunctionCode{ZipFile: code},
		})
		return err
	}
	apiErr(t, create("at-limit", sized(limit)), "InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes")
	if err := create("below-limit", sized(limit-1000)); err != nil {
		t.Errorf("create 1000 bytes below the limit: %v", err)
	}
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// TestFnfid_AccountTotalCodeSize: Lambda's AccountUsage.TotalCodeSize
// counts $LATEST, every published version (even of unchanged code) and
// every layer version.
func TestFnfid_AccountTotalCodeSize(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	total := func() int64 {
		t.Helper()
		out, err := n.lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
		if err != nil {
			t.Fatalf("get account settings: %v", err)
		}
		return out.AccountUsage.TotalCodeSize
	}
	size := int64(len(fnZip))
	n.create("fn", nil)
	if got := total(); got != size {
		t.Errorf("after create: got TotalCodeSize %d, want %d", got, size)
	}
	if _, err := n.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("fn"), ZipFile: fnZip, Publish: true}); err != nil {
		t.Fatalf("update code and publish: %v", err)
	}
	if got := total(); got != 2*size {
		t.Errorf("after publishing version 1: got TotalCodeSize %d, want %d", got, 2*size)
	}
	layer := n.publishLayer("lib", map[string][]byte{"python/lib.py": []byte("x = 1\n")})
	if got, want := total(), 2*size+layer.Content.CodeSize; got != want {
		t.Errorf("after publishing a layer version: got TotalCodeSize %d, want %d", got, want)
	}
}
