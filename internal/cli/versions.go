package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// publish is `updraft function publish NAME`: publish $LATEST as a
// version and print its number.
func (e *env) publish(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function publish")
	var cf clientFlags
	cf.register(fs)
	description := fs.String("description", "", "the version's description (default: the function's)")
	name, err := e.parseOne(fs, args, "updraft function publish NAME [--description D]")
	if err != nil {
		return err
	}
	v, err := lambdaClient(cf.base(), nil).PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name), Description: optional(*description)})
	if err != nil {
		return apiError(err)
	}
	if cf.json {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintln(e.stdout, aws.ToString(v.Version))
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

const aliasUsage = "updraft function alias NAME ALIAS VERSION [--route VERSION=WEIGHT] [--delete]"

// alias is `updraft function alias NAME ALIAS VERSION`: point an alias at
// a version (creating it when needed), optionally routing a share of its
// invocations to a second version; --delete removes it.
func (e *env) alias(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function alias")
	var cf clientFlags
	cf.register(fs)
	route := fs.String("route", "", "send WEIGHT (0..1) of the alias's invocations to VERSION, as VERSION=WEIGHT")
	del := fs.Bool("delete", false, "delete the alias")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	client := lambdaClient(cf.base(), nil)
	if *del {
		if len(pos) != 2 {
			fmt.Fprintln(e.stderr, "usage: "+aliasUsage)
			return errUsage
		}
		if _, err := client.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(pos[0]), Name: aws.String(pos[1])}); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(e.stderr, "deleted alias %s of %s\n", pos[1], pos[0])
		return nil
	}
	if len(pos) != 3 {
		fmt.Fprintln(e.stderr, "usage: "+aliasUsage)
		return errUsage
	}
	routing := &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}
	if *route != "" {
		v, w, ok := strings.Cut(*route, "=")
		weight, err := strconv.ParseFloat(w, 64)
		if !ok || err != nil {
			fmt.Fprintln(e.stderr, "updraft function alias: --route wants VERSION=WEIGHT, such as 3=0.1")
			return errUsage
		}
		routing.AdditionalVersionWeights[v] = weight
	}
	fn, name, version := pos[0], pos[1], pos[2]
	out, err := client.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(fn), Name: aws.String(name), FunctionVersion: aws.String(version), RoutingConfig: routing})
	var arn, target string
	var weights map[string]float64
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException" && strings.Contains(ae.ErrorMessage(), "Alias not found"):
		created, cerr := client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(name), FunctionVersion: aws.String(version), RoutingConfig: routing})
		if cerr != nil {
			return apiError(cerr)
		}
		if cf.json {
			return printJSON(e.stdout, created)
		}
		arn, target = aws.ToString(created.AliasArn), aws.ToString(created.FunctionVersion)
		if created.RoutingConfig != nil {
			weights = created.RoutingConfig.AdditionalVersionWeights
		}
	case err != nil:
		return apiError(err)
	default:
		if cf.json {
			return printJSON(e.stdout, out)
		}
		arn, target = aws.ToString(out.AliasArn), aws.ToString(out.FunctionVersion)
		if out.RoutingConfig != nil {
			weights = out.RoutingConfig.AdditionalVersionWeights
		}
	}
	fmt.Fprintf(e.stdout, "%s → %s", arn, target)
	for v, w := range weights {
		fmt.Fprintf(e.stdout, " (%.0f%% to %s)", w*100, v)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

const provisionUsage = "updraft function provision NAME:QUALIFIER N [--wait]"

// provision is `updraft function provision NAME:QUALIFIER N`: keep N
// environments of a version or alias initialised (0 removes the config).
func (e *env) provision(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function provision")
	var cf clientFlags
	cf.register(fs)
	wait := fs.Bool("wait", false, "wait until the environments are READY")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	n, convErr := 0, error(nil)
	if len(pos) == 2 {
		n, convErr = strconv.Atoi(pos[1])
	}
	fn, qualifier, ok := "", "", false
	if len(pos) == 2 {
		fn, qualifier, ok = strings.Cut(pos[0], ":")
	}
	if !ok || convErr != nil || n < 0 {
		fmt.Fprintln(e.stderr, "usage: "+provisionUsage)
		return errUsage
	}
	client := lambdaClient(cf.base(), nil)
	if n == 0 {
		if _, err := client.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(qualifier)}); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(e.stderr, "removed provisioned concurrency of %s\n", pos[0])
		return nil
	}
	if _, err := client.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String(fn), Qualifier: aws.String(qualifier), ProvisionedConcurrentExecutions: aws.Int32(int32(n)),
	}); err != nil {
		return apiError(err)
	}
	for {
		out, err := client.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(qualifier)})
		if err != nil {
			return apiError(err)
		}
		if !*wait || out.Status != types.ProvisionedConcurrencyStatusEnumInProgress {
			if cf.json {
				return printJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "%s %d/%d %s\n", out.Status, aws.ToInt32(out.AllocatedProvisionedConcurrentExecutions), n, aws.ToString(out.StatusReason))
			if out.Status == types.ProvisionedConcurrencyStatusEnumFailed {
				return fmt.Errorf("provisioned concurrency of %s failed: %s", pos[0], aws.ToString(out.StatusReason))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
