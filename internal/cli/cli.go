// Package cli implements the updraft command line: `updraft up` runs a
// node; `updraft function …` and `updraft bench` are clients of the node's
// HTTP API (the Lambda API through aws-sdk-go-v2, and the control API).
// Results go to stdout, everything else to stderr; exit codes are 0
// (success), 1 (the operation failed) and 2 (bad usage).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// asErr is errors.As for a typed target.
func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// errUsage marks a usage error; its message has been printed already.
var errUsage = errors.New("usage")

// env is what every command gets.
type env struct {
	stdout, stderr io.Writer
}

const usage = `updraft — a self-hosted serverless platform that speaks AWS's APIs

Usage:
  updraft up [flags]                        start a node (see updraft up -h)
  updraft function deploy DIR|ZIP [flags]   create or update a function
  updraft function invoke NAME [flags]      invoke a function
  updraft function logs NAME [--follow]     print a function's logs
  updraft function ls                       list functions
  updraft function rm NAME[:VERSION]        delete a function (or one version)
  updraft function publish NAME             publish $LATEST as a version
  updraft function alias NAME ALIAS VERSION point an alias at a version
                                            (--route V=W canary, --delete)
  updraft function provision NAME:Q N       keep N environments of a version
                                            or alias initialised (0 removes)
  updraft workflow create DEF.json [flags]  create or update a state machine
  updraft workflow start MACHINE [flags]    start an execution (--wait for its end)
  updraft workflow describe|history ARN     show an execution or its history
  updraft workflow ls                       list state machines
  updraft bench [scenario] [flags]          run the benchmark scenarios
  updraft version                           print the version

Client commands talk to --endpoint (default $UPDRAFT_ENDPOINT or
http://127.0.0.1:4566) and print JSON with --json.
`

// Run executes the command line args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "up":
		err = e.up(ctx, args[1:])
	case "function", "fn":
		err = e.function(ctx, args[1:])
	case "workflow", "wf":
		err = e.workflow(ctx, args[1:])
	case "bench":
		err = e.bench(ctx, args[1:])
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "updraft: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return exitUsage
	default:
		fmt.Fprintf(stderr, "updraft: %v\n", err)
		return exitFail
	}
}

func (e *env) function(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "deploy":
		return e.deploy(ctx, args[1:])
	case "invoke":
		return e.invoke(ctx, args[1:])
	case "logs":
		return e.logs(ctx, args[1:])
	case "ls", "list":
		return e.list(ctx, args[1:])
	case "rm", "delete":
		return e.remove(ctx, args[1:])
	case "publish":
		return e.publish(ctx, args[1:])
	case "alias":
		return e.alias(ctx, args[1:])
	case "provision":
		return e.provision(ctx, args[1:])
	}
	fmt.Fprintf(e.stderr, "updraft function: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

// newFlags returns a flag set that prints errors to stderr.
func (e *env) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses flags that may follow positional arguments, as in
// `updraft function invoke NAME --payload …`.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseOne parses flags around exactly one positional argument, printing
// usage when there is not exactly one.
func (e *env) parseOne(fs *flag.FlagSet, args []string, usage string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "usage: "+usage)
		return "", errUsage
	}
	return pos[0], nil
}

func defaultEndpoint() string {
	if v := os.Getenv("UPDRAFT_ENDPOINT"); v != "" {
		return v
	}
	return "http://127.0.0.1:4566"
}

// clientFlags are the flags of every client command.
type clientFlags struct {
	endpoint string
	json     bool
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", defaultEndpoint(), "Updraft endpoint URL")
	fs.BoolVar(&c.json, "json", false, "print results as JSON")
}

func (c *clientFlags) base() string { return strings.TrimRight(c.endpoint, "/") }
