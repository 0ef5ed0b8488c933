package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func (n *node) publishLayer(name string, files map[string][]byte) *lambda.PublishLayerVersionOutput {
	n.t.Helper()
	zip, err := zipFiles(files, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	out, err := n.lambda.PublishLayerVersion(context.Background(), &lambda.PublishLayerVersionInput{
		LayerName: aws.String(name), Content: &types.LayerVersionContentInput{ZipFile: zip},
		CompatibleRuntimes: []types.Runtime{types.RuntimeProvidedal2023, types.RuntimePython312}, Description: aws.String("test layer"),
	})
	if err != nil {
		n.t.Fatalf("publish layer %s: %v", name, err)
	}
	return out
}

func TestLambda_Layers(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	base := n.publishLayer("base", map[string][]byte{"shared.txt": []byte("base"), "only-base.txt": []byte("b"), "python/greet.py": []byte("def greet(n):\n    return 'hi ' + n\n")})
	over := n.publishLayer("over", map[string][]byte{"shared.txt": []byte("over")})
	if aws.ToInt64(&base.Version) != 1 || aws.ToString(base.LayerVersionArn) != "arn:aws:lambda:us-east-1:000000000000:layer:base:1" || base.Content == nil {
		t.Fatalf("publish: %+v", base)
	}
	// Lambda always lists the compatible architectures, [] when none were given.
	if base.CompatibleArchitectures == nil || len(base.CompatibleArchitectures) != 0 {
		t.Errorf("publish: got CompatibleArchitectures %#v, want an empty list", base.CompatibleArchitectures)
	}
	// Content.Location serves the zip back.
	resp, err := http.Get(aws.ToString(base.Content.Location))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || int64(len(body)) != aws.ToInt64(&base.Content.CodeSize) {
		t.Errorf("layer location: %d, %d bytes", resp.StatusCode, len(body))
	}

	fn := n.create("layered", func(in *lambda.CreateFunctionInput) {
		in.Layers = []string{aws.ToString(base.LayerVersionArn), aws.ToString(over.LayerVersionArn)}
	})
	cfg, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn.FunctionName})
	if err != nil || len(cfg.Layers) != 2 || aws.ToString(cfg.Layers[1].Arn) != aws.ToString(over.LayerVersionArn) || cfg.Layers[0].CodeSize == 0 {
		t.Fatalf("configuration layers: %+v %v", cfg.Layers, err)
	}
	// The process driver cannot mount /opt: the search paths point at the
	// merged layers instead, later layers winning.
	env := decodeResult(t, n.invoke("layered", map[string]string{"action": "env"}).Payload)["env"].(map[string]any)
	opt, _ := env["UPDRAFT_OPT_DIR"].(string)
	if opt == "" || !strings.Contains(env["PATH"].(string), opt+"/bin") || !strings.Contains(env["LD_LIBRARY_PATH"].(string), opt+"/lib") {
		t.Fatalf("environment does not point at the layers: opt %q PATH %v", opt, env["PATH"])
	}
	for file, want := range map[string]string{"shared.txt": "over", "only-base.txt": "b"} {
		if got, err := os.ReadFile(filepath.Join(opt, file)); err != nil || string(got) != want {
			t.Errorf("/opt/%s: got %q, %v; want %q", file, got, err, want)
		}
	}

	// A version keeps its layers; $LATEST may drop them.
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("layered")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"), Layers: []string{}}); err != nil {
		t.Fatal(err)
	}
	env = decodeResult(t, n.invoke("layered", map[string]string{"action": "env"}).Payload)["env"].(map[string]any)
	if _, ok := env["UPDRAFT_OPT_DIR"]; ok {
		t.Errorf("$LATEST still has layers after they were removed")
	}
	env = decodeResult(t, n.invoke("layered", map[string]string{"action": "env"}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") }).Payload)["env"].(map[string]any)
	if env["UPDRAFT_OPT_DIR"] != opt {
		t.Errorf("version 1 lost its layers")
	}

	// Listing.
	v2 := n.publishLayer("base", map[string][]byte{"shared.txt": []byte("base2")})
	if aws.ToInt64(&v2.Version) != 2 {
		t.Errorf("second version of base is %d", v2.Version)
	}
	versions, err := n.lambda.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("base")})
	if err != nil || len(versions.LayerVersions) != 2 || versions.LayerVersions[0].Version != 2 {
		t.Errorf("list layer versions: %+v %v", versions, err)
	}
	layers, err := n.lambda.ListLayers(ctx, &lambda.ListLayersInput{})
	if err != nil || len(layers.Layers) != 2 || aws.ToString(layers.Layers[0].LayerName) != "base" || layers.Layers[0].LatestMatchingVersion.Version != 2 {
		t.Errorf("list layers: %+v %v", layers, err)
	}
	py, err := n.lambda.ListLayers(ctx, &lambda.ListLayersInput{CompatibleRuntime: types.RuntimeNodejs22x})
	if err != nil || len(py.Layers) != 0 {
		t.Errorf("list layers for nodejs22.x: %+v %v", py, err)
	}
	byArn, err := n.lambda.GetLayerVersionByArn(ctx, &lambda.GetLayerVersionByArnInput{Arn: over.LayerVersionArn})
	if err != nil || aws.ToString(byArn.Description) != "test layer" {
		t.Errorf("get layer version by ARN: %+v %v", byArn, err)
	}

	// Errors.
	_, err = n.lambda.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("base"), VersionNumber: aws.Int64(9)})
	apiErr(t, err, "ResourceNotFoundException", "does not exist")
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"),
		Layers: []string{"arn:aws:lambda:us-east-1:000000000000:layer:base:9"}})
	apiErr(t, err, "InvalidParameterValueException", "does not exist")
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"),
		Layers: []string{aws.ToString(base.LayerVersionArn), aws.ToString(v2.LayerVersionArn)}})
	apiErr(t, err, "InvalidParameterValueException", "same layer")
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"),
		Layers: []string{"not-an-arn"}})
	apiErr(t, err, "ValidationException", "layers")
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"),
		Layers: []string{"arn:aws:lambda:ap-south-1:000000000000:layer:base:1"}})
	apiErr(t, err, "InvalidParameterValueException", "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.")
	_, err = n.lambda.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("base"), VersionNumber: aws.Int64(0)})
	apiErr(t, err, "InvalidParameterValueException", "Layer Version Cannot be less than 1")
	_, err = n.lambda.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String("base"), VersionNumber: aws.Int64(-2)})
	apiErr(t, err, "InvalidParameterValueException", "Layer Version Cannot be less than 1")
	_, err = n.lambda.ListLayers(ctx, &lambda.ListLayersInput{CompatibleRuntime: "cobol"})
	apiErr(t, err, "ValidationException", "1 validation error detected: Value 'cobol' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: [ruby3.5, ruby2.6,")
	_, err = n.lambda.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("base"), CompatibleArchitecture: "mips"})
	apiErr(t, err, "ValidationException", "Value 'mips' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]")
	_, err = n.lambda.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("base"), Content: &types.LayerVersionContentInput{ZipFile: []byte("PK")},
		CompatibleRuntimes: []types.Runtime{"cobol", "python3.12"}, CompatibleArchitectures: []types.Architecture{"mips"}})
	apiErr(t, err, "ValidationException", "2 validation errors detected: Value '[cobol, python3.12]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x,")
	apiErr(t, err, "ValidationException", "; Value '[mips]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
	six := make([]string, 6)
	for i := range six {
		six[i] = aws.ToString(base.LayerVersionArn)
	}
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("layered"), Layers: six})
	apiErr(t, err, "InvalidParameterValueException", "more than 5 layers")

	// Deleting a layer version keeps it for the functions that use it,
	// and its number is not reused.
	if _, err := n.lambda.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String("base"), VersionNumber: aws.Int64(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String("base"), VersionNumber: aws.Int64(2)}); err != nil {
		t.Errorf("deleting a deleted layer version: %v", err)
	}
	if v3 := n.publishLayer("base", map[string][]byte{"x": []byte("3")}); v3.Version != 3 {
		t.Errorf("after deleting version 2, publish made version %d, want 3", v3.Version)
	}

	// Layers survive a restart; so does a function's use of them.
	n = n.restart()
	if _, err := n.lambda.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("over"), VersionNumber: aws.Int64(1)}); err != nil {
		t.Errorf("layer after restart: %v", err)
	}
	env = decodeResult(t, n.invoke("layered", map[string]string{"action": "env"}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") }).Payload)["env"].(map[string]any)
	if got, err := os.ReadFile(filepath.Join(env["UPDRAFT_OPT_DIR"].(string), "shared.txt")); err != nil || string(got) != "over" {
		t.Errorf("layers of version 1 after restart: %q %v", got, err)
	}

	// A Python function imports a module from its layer's python/.
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	app, _ := zipFiles(map[string][]byte{"app.py": []byte("from greet import greet\ndef handler(event, context):\n    return greet(event['name'])\n")}, 0o644)
	n.create("pylayer", func(in *lambda.CreateFunctionInput) {
		in.Runtime = types.RuntimePython312
		in.Handler = aws.String("app.handler")
		in.Code.ZipFile = app
		in.Layers = []string{aws.ToString(base.LayerVersionArn)}
	})
	out := n.invoke("pylayer", map[string]string{"name": "layer"})
	if out.FunctionError != nil || !bytes.Equal(out.Payload, []byte(`"hi layer"`)) {
		t.Errorf("python with a layer: %s %s", aws.ToString(out.FunctionError), out.Payload)
	}
}
