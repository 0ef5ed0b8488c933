package server_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestFnfid_LayerRetiredRuntimes: PublishLayerVersion takes runtimes Lambda
// has retired as compatible runtimes and returns them in the order given,
// as the AWS-recorded answers show.
func TestFnfid_LayerRetiredRuntimes(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	zip, err := zipFiles(map[string][]byte{"python/lib.py": []byte("x = 1\n")}, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, rts := range [][]types.Runtime{
		{"nodejs24.x", "nodejs16.x", "nodejs14.x", "nodejs12.x", "python3.8", "python3.7"},
		{"java8.al2", "java8", "dotnetcore3.1", "go1.x", "ruby2.7"},
		{"provided.al2023", "provided.al2", "provided"},
	} {
		out, err := n.lambda.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
			LayerName: aws.String("lib"), Content: &types.LayerVersionContentInput{ZipFile: zip}, CompatibleRuntimes: rts,
		})
		if err != nil {
			t.Errorf("publish with %v: %v", rts, err)
			continue
		}
		if !slices.Equal(out.CompatibleRuntimes, rts) {
			t.Errorf("publish with %v: got CompatibleRuntimes %v", rts, out.CompatibleRuntimes)
		}
	}
	_, err = n.lambda.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
		LayerName: aws.String("lib"), Content: &types.LayerVersionContentInput{ZipFile: zip}, CompatibleRuntimes: []types.Runtime{"invalidruntime"},
	})
	apiErr(t, err, "ValidationException", "Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14,")
}
