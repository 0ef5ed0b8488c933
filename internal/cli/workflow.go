package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func sfnClient(endpoint string, keys []string) *sfn.Client {
	c := credentialsFor(keys)
	return sfn.New(sfn.Options{
		Region:       region(),
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
	})
}

// machineArn turns a state machine name or ARN into an ARN.
func machineArn(nameOrArn string) string {
	if strings.HasPrefix(nameOrArn, "arn:") {
		return nameOrArn
	}
	return "arn:aws:states:" + region() + ":000000000000:stateMachine:" + nameOrArn
}

func (e *env) workflow(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "create":
		return e.workflowCreate(ctx, args[1:])
	case "start":
		return e.workflowStart(ctx, args[1:])
	case "describe":
		return e.workflowDescribe(ctx, args[1:])
	case "history":
		return e.workflowHistory(ctx, args[1:])
	case "ls", "list":
		return e.workflowList(ctx, args[1:])
	}
	fmt.Fprintf(e.stderr, "updraft workflow: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

func (e *env) workflowCreate(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft workflow create")
	var cf clientFlags
	cf.register(fs)
	name := fs.String("name", "", "state machine name (default: the file's base name)")
	typ := fs.String("type", "STANDARD", "STANDARD or EXPRESS")
	arg, err := e.parseOne(fs, args, "updraft workflow create DEFINITION.json [--name N] [--type STANDARD|EXPRESS]")
	if err != nil {
		return err
	}
	def, err := os.ReadFile(arg)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg))
	}
	arn, err := createWorkflow(ctx, sfnClient(cf.base(), nil), *name, string(def), *typ)
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(e.stdout, map[string]string{"stateMachineArn": arn})
	}
	fmt.Fprintln(e.stdout, arn)
	return nil
}

// createWorkflow creates the state machine, or updates its definition
// when it exists, and returns its ARN.
func createWorkflow(ctx context.Context, c *sfn.Client, name, definition, typ string) (string, error) {
	in := &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String("arn:aws:iam::000000000000:role/updraft"), Type: types.StateMachineType(typ)}
	out, err := c.CreateStateMachine(ctx, in)
	var exists *types.StateMachineAlreadyExists
	if asErr(err, &exists) {
		arn := machineArn(name)
		if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: in.Definition}); err != nil {
			return "", apiError(err)
		}
		return arn, nil
	}
	if err != nil {
		return "", apiError(err)
	}
	return aws.ToString(out.StateMachineArn), nil
}

// deployWorkflow creates (or updates) a STANDARD state machine named
// after the definition file.
func deployWorkflow(ctx context.Context, endpoint, file string, keys []string) (string, error) {
	def, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if _, err := createWorkflow(ctx, sfnClient(endpoint, keys), name, string(def), string(types.StateMachineTypeStandard)); err != nil {
		return "", err
	}
	return name, nil
}

func (e *env) workflowStart(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft workflow start")
	var cf clientFlags
	cf.register(fs)
	input := fs.String("input", "{}", "JSON input, or @FILE")
	name := fs.String("name", "", "execution name (default: generated)")
	wait := fs.Bool("wait", false, "wait for the execution to end and print its description")
	arg, err := e.parseOne(fs, args, "updraft workflow start MACHINE [--input JSON|@FILE] [--name N] [--wait]")
	if err != nil {
		return err
	}
	body := *input
	if strings.HasPrefix(body, "@") {
		b, err := os.ReadFile(body[1:])
		if err != nil {
			return err
		}
		body = string(b)
	}
	c := sfnClient(cf.base(), nil)
	if *wait {
		// An Express execution is not kept to be described later: run it
		// synchronously instead.
		m, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(machineArn(arg))})
		if err != nil {
			return apiError(err)
		}
		if m.Type == types.StateMachineTypeExpress {
			return e.startSync(ctx, c, arg, body, *name, cf.json)
		}
	}
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machineArn(arg)), Input: aws.String(body)}
	if *name != "" {
		in.Name = name
	}
	out, err := c.StartExecution(ctx, in)
	if err != nil {
		return apiError(err)
	}
	if !*wait {
		if cf.json {
			return printJSON(e.stdout, map[string]string{"executionArn": aws.ToString(out.ExecutionArn)})
		}
		fmt.Fprintln(e.stdout, aws.ToString(out.ExecutionArn))
		return nil
	}
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		if err != nil {
			return apiError(err)
		}
		if d.Status != types.ExecutionStatusRunning {
			return e.printExecution(d, cf.json)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startSync runs an Express execution with StartSyncExecution, sent to
// the endpoint itself rather than its "sync-" host prefix, and prints it
// as printExecution does.
func (e *env) startSync(ctx context.Context, c *sfn.Client, machine, input, name string, asJSON bool) error {
	in := &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(machineArn(machine)), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := c.StartSyncExecution(ctx, in, func(o *sfn.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("noHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		})
	})
	if err != nil {
		return apiError(err)
	}
	return e.printExecution(&sfn.DescribeExecutionOutput{ExecutionArn: out.ExecutionArn, Status: types.ExecutionStatus(out.Status),
		Output: out.Output, Error: out.Error, Cause: out.Cause}, asJSON)
}

func (e *env) printExecution(d *sfn.DescribeExecutionOutput, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, map[string]any{
			"executionArn": aws.ToString(d.ExecutionArn), "status": d.Status, "output": aws.ToString(d.Output),
			"error": aws.ToString(d.Error), "cause": aws.ToString(d.Cause),
		})
	}
	fmt.Fprintf(e.stdout, "%s\t%s\n", aws.ToString(d.ExecutionArn), d.Status)
	if d.Output != nil {
		fmt.Fprintln(e.stdout, aws.ToString(d.Output))
	}
	if d.Error != nil {
		fmt.Fprintf(e.stdout, "%s: %s\n", aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	return nil
}

func (e *env) workflowDescribe(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft workflow describe")
	var cf clientFlags
	cf.register(fs)
	arg, err := e.parseOne(fs, args, "updraft workflow describe EXECUTION-ARN")
	if err != nil {
		return err
	}
	d, err := sfnClient(cf.base(), nil).DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arg)})
	if err != nil {
		return apiError(err)
	}
	return e.printExecution(d, cf.json)
}

func (e *env) workflowHistory(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft workflow history")
	var cf clientFlags
	cf.register(fs)
	arg, err := e.parseOne(fs, args, "updraft workflow history EXECUTION-ARN")
	if err != nil {
		return err
	}
	var events []types.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(sfnClient(cf.base(), nil), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arg)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		events = append(events, page.Events...)
	}
	if cf.json {
		return printJSON(e.stdout, events)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tTYPE")
	for _, ev := range events {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", ev.Id, aws.ToTime(ev.Timestamp).UTC().Format(time.RFC3339Nano), ev.Type)
	}
	return tw.Flush()
}

func (e *env) workflowList(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft workflow ls")
	var cf clientFlags
	cf.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var all []types.StateMachineListItem
	p := sfn.NewListStateMachinesPaginator(sfnClient(cf.base(), nil), &sfn.ListStateMachinesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		all = append(all, page.StateMachines...)
	}
	if cf.json {
		return printJSON(e.stdout, all)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tCREATED")
	for _, m := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", aws.ToString(m.Name), m.Type, aws.ToTime(m.CreationDate).UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
