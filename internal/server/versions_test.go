package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// qualified invokes name:qualifier with the env action and returns the
// executed version, the STAGE variable, the invoked ARN and the env.
func (n *node) qualified(name, qualifier string) (executed, stage, arn string, env map[string]any) {
	n.t.Helper()
	out := n.invoke(name, map[string]string{"action": "env"}, func(in *lambda.InvokeInput) {
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
	})
	if out.FunctionError != nil {
		n.t.Fatalf("invoke %s:%s: %s %s", name, qualifier, aws.ToString(out.FunctionError), out.Payload)
	}
	res := decodeResult(n.t, out.Payload)
	env = res["env"].(map[string]any)
	stage, _ = env["STAGE"].(string)
	return aws.ToString(out.ExecutedVersion), stage, res["functionArn"].(string), env
}

func TestLambda_Versions(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	fn := n.create("ver", func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"STAGE": "one"}}
	})
	arn := aws.ToString(fn.FunctionArn)

	v1, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver"), Description: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v1.Version) != "1" || aws.ToString(v1.FunctionArn) != arn+":1" || aws.ToString(v1.Description) != "first" {
		t.Errorf("publish: got version %s arn %s description %q", aws.ToString(v1.Version), aws.ToString(v1.FunctionArn), aws.ToString(v1.Description))
	}
	// Nothing changed: the same version comes back.
	again, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver")})
	if err != nil || aws.ToString(again.Version) != "1" {
		t.Errorf("publish unchanged: got %v, %v; want version 1", again, err)
	}

	upd, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("ver"), Environment: &types.Environment{Variables: map[string]string{"STAGE": "two"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver"), CodeSha256: aws.String("AAAA")})
	apiErr(t, err, "InvalidParameterValueException", "CodeSHA256 (AAAA) is different from current CodeSHA256 in $LATEST (")
	_, err = n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver"), RevisionId: fn.RevisionId})
	apiErr(t, err, "PreconditionFailedException", "Revision Id")
	// The update answered while InProgress; the RevisionId to check is the
	// one a read shows once it is done, as on Lambda.
	cur, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("ver")})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver"), CodeSha256: upd.CodeSha256, RevisionId: cur.RevisionId})
	if err != nil || aws.ToString(v2.Version) != "2" {
		t.Fatalf("publish after change: %v, %v", v2, err)
	}

	// Each qualifier runs its own configuration and says so.
	for _, tc := range []struct{ qualifier, version, stage, arn string }{
		{"", "$LATEST", "two", arn},
		{"$LATEST", "$LATEST", "two", arn + ":$LATEST"},
		{"1", "1", "one", arn + ":1"},
		{"2", "2", "two", arn + ":2"},
	} {
		executed, stage, invoked, env := n.qualified("ver", tc.qualifier)
		if executed != tc.version || stage != tc.stage || invoked != tc.arn || env["AWS_LAMBDA_FUNCTION_VERSION"] != tc.version {
			t.Errorf("invoke %q: got version %s stage %s arn %s env version %v; want %s %s %s", tc.qualifier, executed, stage, invoked, env["AWS_LAMBDA_FUNCTION_VERSION"], tc.version, tc.stage, tc.arn)
		}
	}
	// The qualifier may come with the name.
	if executed, _, _, _ := n.qualified("ver:1", ""); executed != "1" {
		t.Errorf("invoke ver:1 ran version %s", executed)
	}

	list, err := n.lambda.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("ver")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range list.Versions {
		got = append(got, aws.ToString(v.Version))
	}
	if strings.Join(got, ",") != "$LATEST,1,2" {
		t.Errorf("list versions: got %v", got)
	}
	page, err := n.lambda.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("ver"), MaxItems: aws.Int32(2)})
	if err != nil || len(page.Versions) != 2 || page.NextMarker == nil {
		t.Fatalf("list versions page: %v %v", page, err)
	}
	rest, err := n.lambda.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("ver"), Marker: page.NextMarker})
	if err != nil || len(rest.Versions) != 1 || aws.ToString(rest.Versions[0].Version) != "2" {
		t.Errorf("list versions next page: %v %v", rest, err)
	}

	cfg, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("ver"), Qualifier: aws.String("1")})
	if err != nil || aws.ToString(cfg.Version) != "1" || cfg.Environment.Variables["STAGE"] != "one" {
		t.Errorf("get configuration of version 1: %v %v", cfg, err)
	}
	got1, err := n.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(arn + ":1")})
	if err != nil || aws.ToString(got1.Configuration.Version) != "1" {
		t.Errorf("get function by qualified ARN: %v", err)
	}
	all, err := n.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	if err != nil || len(all.Functions) != 3 {
		t.Errorf("list functions ALL: got %d functions, %v", len(all.Functions), err)
	}

	// Publishing with a code update.
	code, err := n.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("ver"), ZipFile: fnZip, Publish: true})
	if err != nil || aws.ToString(code.Version) != "3" {
		t.Errorf("update code with publish: %v %v", code, err)
	}

	// Errors.
	_, err = n.tryInvoke("ver", map[string]string{}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("7") })
	apiErr(t, err, "ResourceNotFoundException", arn+":7")
	_, err = n.tryInvoke("ver", map[string]string{}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("nope") })
	apiErr(t, err, "ResourceNotFoundException", arn+":nope")
	_, err = n.tryInvoke("ver:1", map[string]string{}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("2") })
	apiErr(t, err, "InvalidParameterValueException", "qualifier")
	_, err = n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("$LATEST")})
	apiErr(t, err, "InvalidParameterValueException", "$LATEST")

	// Deleting a version leaves the others.
	if _, err := n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.tryInvoke("ver", map[string]string{}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") })
	apiErr(t, err, "ResourceNotFoundException", arn+":1")
	if executed, _, _, _ := n.qualified("ver", "2"); executed != "2" {
		t.Errorf("version 2 after deleting 1 ran %s", executed)
	}
	// Numbers are never reused.
	_, _ = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("ver"), Description: aws.String("four")})
	v4, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver")})
	if err != nil || aws.ToString(v4.Version) != "4" {
		t.Errorf("publish after delete: %v %v, want 4", v4, err)
	}

	// A function created with Publish starts at version 1; deleting the
	// function takes its versions along.
	created, err := n.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("pub"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &types.FunctionCode{ZipFile: fnZip}, Publish: true,
	})
	if err != nil || aws.ToString(created.Version) != "1" {
		t.Fatalf("create with publish: %v %v", created, err)
	}
	if _, err := n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("pub")}); err != nil {
		t.Fatal(err)
	}
	n.create("pub", nil)
	list, err = n.lambda.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("pub")})
	if err != nil || len(list.Versions) != 1 {
		t.Errorf("versions of a recreated function: %d, %v; want only $LATEST", len(list.Versions), err)
	}
}

func TestLambda_Aliases(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	fn := n.create("al", func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"STAGE": "one"}}
	})
	arn := aws.ToString(fn.FunctionArn)
	publish := func(stage string) string {
		t.Helper()
		if _, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String("al"), Environment: &types.Environment{Variables: map[string]string{"STAGE": stage}},
		}); err != nil {
			t.Fatal(err)
		}
		v, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("al")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(v.Version)
	}
	publish("one")
	publish("two")

	live, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("1"), Description: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(live.AliasArn) != arn+":live" || aws.ToString(live.FunctionVersion) != "1" || aws.ToString(live.RevisionId) == "" {
		t.Errorf("create alias: %+v", live)
	}
	executed, stage, invoked, _ := n.qualified("al", "live")
	if executed != "1" || stage != "one" || invoked != arn+":live" {
		t.Errorf("invoke live: version %s stage %s arn %s", executed, stage, invoked)
	}
	got, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("al:live")})
	if err != nil || aws.ToString(got.Version) != "1" || aws.ToString(got.FunctionArn) != arn+":live" {
		t.Errorf("get configuration of alias: %v %v", got, err)
	}

	// Errors on create.
	_, err = n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("2")})
	apiErr(t, err, "ResourceConflictException", "Alias already exists")
	_, err = n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("123"), FunctionVersion: aws.String("1")})
	apiErr(t, err, "ValidationException", "name")
	_, err = n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("x"), FunctionVersion: aws.String("9")})
	apiErr(t, err, "ResourceNotFoundException", arn+":9")
	_, err = n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("nofn"), Name: aws.String("x"), FunctionVersion: aws.String("1")})
	apiErr(t, err, "ResourceNotFoundException", "nofn")

	// Bad routing configs.
	route := func(weights map[string]float64, revision *string) error {
		_, err := n.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"),
			RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}, RevisionId: revision})
		return err
	}
	apiErr(t, route(map[string]float64{"2": 1.5}, nil), "ValidationException", "additionalVersionWeights")
	apiErr(t, route(map[string]float64{"2": -0.1}, nil), "ValidationException", "additionalVersionWeights")
	apiErr(t, route(map[string]float64{"2": 0.1, "3": 0.1}, nil), "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1")
	apiErr(t, route(map[string]float64{"1": 0.5}, nil), "InvalidParameterValueException", "already included")
	apiErr(t, route(map[string]float64{"8": 0.5}, nil), "ResourceNotFoundException", arn+":8")
	apiErr(t, route(map[string]float64{"2": 0.5}, aws.String("stale")), "PreconditionFailedException", "Revision Id")
	_, err = n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("edge"), FunctionVersion: aws.String("$LATEST"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"1": 0.5}}})
	apiErr(t, err, "InvalidParameterValueException", "$LATEST")

	// A canary: half of the invocations go to version 2.
	if err := route(map[string]float64{"2": 0.5}, live.RevisionId); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 40 {
		executed, stage, _, _ := n.qualified("al", "live")
		if (executed == "1") != (stage == "one") {
			t.Fatalf("version %s ran stage %s", executed, stage)
		}
		seen[executed]++
	}
	if seen["1"] == 0 || seen["2"] == 0 || seen["1"]+seen["2"] != 40 {
		t.Errorf("canary at 0.5 over 40 invocations: %v", seen)
	}
	a, err := n.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("al"), Name: aws.String("live")})
	if err != nil || a.RoutingConfig == nil || a.RoutingConfig.AdditionalVersionWeights["2"] != 0.5 || aws.ToString(a.Description) != "prod" {
		t.Errorf("get alias: %+v %v", a, err)
	}

	// Versions an alias routes to cannot go.
	_, err = n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("al"), Qualifier: aws.String("2")})
	apiErr(t, err, "ResourceConflictException", "live")
	_, err = n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("al"), Qualifier: aws.String("live")})
	apiErr(t, err, "InvalidParameterValueException", "Deletion of aliases is not currently supported.")

	if _, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("beta"), FunctionVersion: aws.String("$LATEST")}); err != nil {
		t.Fatal(err)
	}
	aliases, err := n.lambda.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("al")})
	if err != nil || len(aliases.Aliases) != 2 || aws.ToString(aliases.Aliases[0].Name) != "beta" {
		t.Errorf("list aliases: %v %v", aliases, err)
	}
	onTwo, err := n.lambda.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("al"), FunctionVersion: aws.String("2")})
	if err != nil || len(onTwo.Aliases) != 1 || aws.ToString(onTwo.Aliases[0].Name) != "live" {
		t.Errorf("list aliases of version 2: %v %v", onTwo, err)
	}

	// Move live to 2 without routing; then version 1 may go.
	moved, err := n.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("2"),
		RoutingConfig: &types.AliasRoutingConfiguration{}})
	if err != nil || moved.RoutingConfig != nil && len(moved.RoutingConfig.AdditionalVersionWeights) > 0 {
		t.Fatalf("move alias: %+v %v", moved, err)
	}
	if _, err := n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("al"), Qualifier: aws.String("1")}); err != nil {
		t.Fatalf("delete version 1: %v", err)
	}
	if executed, _, _, _ := n.qualified("al", "live"); executed != "2" {
		t.Errorf("live after move ran %s", executed)
	}

	if _, err := n.lambda.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("al"), Name: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("al"), Name: aws.String("live")})
	apiErr(t, err, "ResourceNotFoundException", "Cannot find alias arn: "+arn+":live")
	_, err = n.lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), Description: aws.String("gone")})
	apiErr(t, err, "ResourceNotFoundException", "Alias not found: "+arn+":live")
	// Lambda answers 204 to deleting an alias that is not there.
	if _, err := n.lambda.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("al"), Name: aws.String("live")}); err != nil {
		t.Errorf("delete a missing alias: %v", err)
	}
}

func TestLambda_VersionsSurviveKill9(t *testing.T) {
	addr, dataDir := freeAddr(t), t.TempDir()
	p := startProcess(t, addr, dataDir)
	client := lambdaClient(p.url, "test", "test")
	ctx := context.Background()
	zip, _ := zipFiles(map[string][]byte{"data.txt": []byte("layer")}, 0o644)
	layer, err := client.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("kept"), Content: &types.LayerVersionContentInput{ZipFile: zip}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("kept"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &types.FunctionCode{ZipFile: fnZip},
		Layers: []string{aws.ToString(layer.LayerVersionArn)}, Publish: true,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("kept"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String("kept"), Qualifier: aws.String("live"), ProvisionedConcurrentExecutions: aws.Int32(1),
	}); err != nil {
		t.Fatal(err)
	}
	p.kill9(t)

	p2 := startProcess(t, addr, dataDir)
	client = lambdaClient(p2.url, "test", "test")
	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("kept:live"), Payload: []byte(`{"action":"env"}`)})
	if err != nil || out.FunctionError != nil || aws.ToString(out.ExecutedVersion) != "1" {
		t.Fatalf("invoke alias after kill -9: %v %v", out, err)
	}
	env := decodeResult(t, out.Payload)["env"].(map[string]any)
	if env["UPDRAFT_OPT_DIR"] == nil || env["AWS_LAMBDA_INITIALIZATION_TYPE"] != "provisioned-concurrency" && env["AWS_LAMBDA_INITIALIZATION_TYPE"] != "on-demand" {
		t.Errorf("environment after kill -9: %v", env)
	}
	eventually(t, 20*time.Second, "provisioned concurrency READY after kill -9", func() bool {
		pc, err := client.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("kept"), Qualifier: aws.String("live")})
		return err == nil && pc.Status == types.ProvisionedConcurrencyStatusEnumReady
	})
	if _, err := client.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("kept"), VersionNumber: aws.Int64(1)}); err != nil {
		t.Errorf("layer after kill -9: %v", err)
	}
	// $LATEST must change for a new version: an unchanged one republishes 1.
	if _, err := client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("kept"), Description: aws.String("after")}); err != nil {
		t.Fatalf("update after kill -9: %v", err)
	}
	v, err := client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("kept")})
	if err != nil || aws.ToString(v.Version) != "2" {
		t.Errorf("publish after kill -9: %v %v, want version 2", v, err)
	}
}
