package cli

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// credentialsFor are the CLI's credentials: $AWS_ACCESS_KEY_ID and
// $AWS_SECRET_ACCESS_KEY, or the node's first --access-key, else
// placeholders that a loopback node accepts.
func credentialsFor(keys []string) aws.Credentials {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if len(keys) > 0 {
		id, secret, _ = strings.Cut(keys[0], ":")
	}
	if id == "" || secret == "" {
		id, secret = "test", "test"
	}
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
}

func region() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	if r := os.Getenv("AWS_DEFAULT_REGION"); r != "" {
		return r
	}
	return "us-east-1"
}

// sign signs a request to Updraft's own API with SigV4, as the node
// requires when it has access keys.
func sign(ctx context.Context, req *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(ctx, credentialsFor(nil), req, hex.EncodeToString(sum[:]), "lambda", region(), time.Now())
}

// lambdaClient returns an aws-sdk-go-v2 Lambda client for the endpoint.
// Credentials come from $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, or the
// node's first --access-key, else placeholders loopback accepts.
func lambdaClient(endpoint string, keys []string) *lambda.Client {
	c := credentialsFor(keys)
	return lambda.New(lambda.Options{
		Region:       region(),
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:   &http.Client{},
	})
}

// apiError renders an AWS error as "Name: message".
func apiError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}

type deployOptions struct {
	name, runtime, handler string
	memory, timeout        int
	env                    multiFlag
}

func (e *env) deploy(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function deploy")
	var cf clientFlags
	var o deployOptions
	cf.register(fs)
	fs.StringVar(&o.name, "name", "", "function name (default: the directory's name)")
	fs.StringVar(&o.runtime, "runtime", "", "runtime (default: detected: provided.al2023, python3.12 or nodejs22.x)")
	fs.StringVar(&o.handler, "handler", "", "handler (default: detected)")
	fs.IntVar(&o.memory, "memory", 0, "memory size in MB")
	fs.IntVar(&o.timeout, "timeout", 0, "timeout in seconds")
	fs.Var(&o.env, "env", "KEY=VALUE environment variable (repeatable)")
	arg, err := e.parseOne(fs, args, "updraft function deploy DIR|ZIP [--name N] [--runtime R] [--handler H] [--memory MB] [--timeout S] [--env K=V]")
	if err != nil {
		return err
	}
	name, err := deployDir(ctx, e, cf.base(), arg, o, nil)
	if err != nil {
		return err
	}
	client := lambdaClient(cf.base(), nil)
	out, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
	if err != nil {
		return apiError(err)
	}
	if cf.json {
		return printJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", aws.ToString(out.FunctionName), out.Runtime, aws.ToString(out.FunctionArn))
	return nil
}

var nameSanitizer = regexp.MustCompile(`[^a-zA-Z0-9-_]+`)

// deployDir packages dir (or reads a zip) and creates the function, or
// updates its code and configuration when it exists. It returns the name.
func deployDir(ctx context.Context, e *env, endpoint, dir string, o deployOptions, keys []string) (string, error) {
	pkg, err := packageDir(ctx, dir, &o)
	if err != nil {
		return "", err
	}
	if o.name == "" {
		base := strings.TrimSuffix(filepath.Base(filepath.Clean(dir)), ".zip")
		o.name = strings.Trim(nameSanitizer.ReplaceAllString(base, "-"), "-")
	}
	client := lambdaClient(endpoint, keys)
	var envVars map[string]string
	for _, kv := range o.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return "", fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
		if envVars == nil {
			envVars = map[string]string{}
		}
		envVars[k] = v
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(o.name),
		Runtime:      types.Runtime(o.runtime),
		Handler:      aws.String(o.handler),
		Role:         aws.String("arn:aws:iam::000000000000:role/updraft"),
		Code:         &types.FunctionCode{ZipFile: pkg},
	}
	if o.memory > 0 {
		in.MemorySize = aws.Int32(int32(o.memory))
	}
	if o.timeout > 0 {
		in.Timeout = aws.Int32(int32(o.timeout))
	}
	if envVars != nil {
		in.Environment = &types.Environment{Variables: envVars}
	}
	_, err = client.CreateFunction(ctx, in)
	var conflict *types.ResourceConflictException
	if errors.As(err, &conflict) {
		if _, err := client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: in.FunctionName, ZipFile: pkg}); err != nil {
			return "", apiError(err)
		}
		_, err = client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: in.FunctionName, Runtime: in.Runtime, Handler: in.Handler,
			MemorySize: in.MemorySize, Timeout: in.Timeout, Environment: in.Environment,
		})
	}
	if err != nil {
		return "", apiError(err)
	}
	fmt.Fprintf(e.stderr, "deployed %s (%s, %d bytes)\n", o.name, o.runtime, len(pkg))
	return o.name, nil
}

// packageDir returns the zip for dir, detecting runtime and handler when
// they are not given. A directory with Go sources and no bootstrap is
// built first (GOOS=linux, CGO_ENABLED=0).
func packageDir(ctx context.Context, dir string, o *deployOptions) ([]byte, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if !strings.HasSuffix(dir, ".zip") {
			return nil, fmt.Errorf("%s: want a directory or a .zip file", dir)
		}
		if o.runtime == "" {
			o.runtime = "provided.al2023"
		}
		if o.handler == "" {
			o.handler = "bootstrap"
		}
		return os.ReadFile(dir)
	}
	has := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	extra := map[string]string{}
	switch {
	case has("bootstrap"):
		setDefault(&o.runtime, "provided.al2023")
		setDefault(&o.handler, "bootstrap")
	case has("main.go"):
		bin, err := buildGo(ctx, dir)
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(filepath.Dir(bin))
		extra["bootstrap"] = bin
		setDefault(&o.runtime, "provided.al2023")
		setDefault(&o.handler, "bootstrap")
	case has("app.py"):
		setDefault(&o.runtime, "python3.12")
		setDefault(&o.handler, "app.handler")
	case has("lambda_function.py"):
		setDefault(&o.runtime, "python3.12")
		setDefault(&o.handler, "lambda_function.lambda_handler")
	case has("index.mjs"), has("index.js"), has("index.cjs"):
		setDefault(&o.runtime, "nodejs22.x")
		setDefault(&o.handler, "index.handler")
	default:
		if o.runtime == "" {
			return nil, fmt.Errorf("%s: cannot tell the runtime (no bootstrap, main.go, app.py or index.js); pass --runtime and --handler", dir)
		}
	}
	return zipDir(dir, extra, strings.HasPrefix(o.runtime, "provided"))
}

func setDefault(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func buildGo(ctx context.Context, dir string) (string, error) {
	tmp, err := os.MkdirTemp("", "updraft-build-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("go build %s: %v\n%s", dir, err, out)
	}
	return bin, nil
}

// zipDir zips dir's files (skipping hidden ones and Go sources of a
// provided runtime) plus extra files given by archive name.
func zipDir(dir string, extra map[string]string, skipGo bool) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, path string, mode fs.FileMode) error {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
		hdr.SetMode(mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || d.Name() == "__pycache__" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if _, ok := extra[filepath.ToSlash(rel)]; ok {
			return nil
		}
		if skipGo && (strings.HasSuffix(rel, ".go") || rel == "go.mod" || rel == "go.sum") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return add(filepath.ToSlash(rel), path, info.Mode())
	})
	if err != nil {
		return nil, err
	}
	for name, path := range extra {
		if err := add(name, path, 0o755); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (e *env) invoke(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function invoke")
	var cf clientFlags
	cf.register(fs)
	payload := fs.String("payload", "", "JSON payload, or @FILE to read it from a file")
	async := fs.Bool("async", false, "invoke asynchronously (InvocationType Event)")
	tail := fs.Bool("log", false, "print the invocation's log tail to stderr")
	tenant := fs.String("tenant-id", "", "tenant ID (X-Amz-Tenant-Id), required by a tenant-isolated function")
	arg, err := e.parseOne(fs, args, "updraft function invoke NAME [--payload JSON|@FILE] [--tenant-id ID] [--async] [--log] [--json]")
	if err != nil {
		return err
	}
	body := []byte(*payload)
	if strings.HasPrefix(*payload, "@") {
		if body, err = os.ReadFile((*payload)[1:]); err != nil {
			return err
		}
	}
	in := &lambda.InvokeInput{FunctionName: aws.String(arg), Payload: body}
	if *async {
		in.InvocationType = types.InvocationTypeEvent
	}
	if *tail {
		in.LogType = types.LogTypeTail
	}
	if *tenant != "" {
		in.TenantId = tenant
	}
	out, err := lambdaClient(cf.base(), nil).Invoke(ctx, in)
	if err != nil {
		return apiError(err)
	}
	if out.LogResult != nil {
		logText, _ := base64.StdEncoding.DecodeString(*out.LogResult)
		e.stderr.Write(logText)
	}
	if cf.json {
		return printJSON(e.stdout, map[string]any{
			"StatusCode": out.StatusCode, "FunctionError": out.FunctionError,
			"ExecutedVersion": out.ExecutedVersion, "Payload": json.RawMessage(orNull(out.Payload)),
		})
	}
	if *async {
		fmt.Fprintf(e.stderr, "accepted (%d)\n", out.StatusCode)
		return nil
	}
	e.stdout.Write(out.Payload)
	fmt.Fprintln(e.stdout)
	if out.FunctionError != nil {
		return fmt.Errorf("function error (%s)", aws.ToString(out.FunctionError))
	}
	return nil
}

func orNull(b []byte) []byte {
	if len(b) == 0 || !json.Valid(b) {
		q, _ := json.Marshal(string(b))
		if len(b) == 0 {
			return []byte("null")
		}
		return q
	}
	return b
}

func (e *env) logs(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function logs")
	var cf clientFlags
	cf.register(fs)
	follow := fs.Bool("follow", false, "keep printing new lines")
	fs.BoolVar(follow, "f", false, "same as --follow")
	since := fs.String("since", "", "only lines newer than this duration (10m) or RFC 3339 time")
	arg, err := e.parseOne(fs, args, "updraft function logs NAME [--follow] [--since 10m] [--json]")
	if err != nil {
		return err
	}
	q := url.Values{}
	if *follow {
		q.Set("follow", "true")
	}
	if *since != "" {
		q.Set("since", *since)
	}
	if cf.json {
		q.Set("format", "json")
	}
	u := cf.base() + "/_updraft/v1/functions/" + url.PathEscape(arg) + "/logs?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if err := sign(ctx, req, nil); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var body struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return fmt.Errorf("%s: %s", body.Type, body.Message)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintln(e.stdout, sc.Text())
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

func (e *env) list(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function ls")
	var cf clientFlags
	cf.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	client := lambdaClient(cf.base(), nil)
	var all []types.FunctionConfiguration
	p := lambda.NewListFunctionsPaginator(client, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		all = append(all, page.Functions...)
	}
	if cf.json {
		return printJSON(e.stdout, all)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRUNTIME\tMEMORY\tTIMEOUT\tLAST MODIFIED")
	for _, f := range all {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", aws.ToString(f.FunctionName), f.Runtime, aws.ToInt32(f.MemorySize), aws.ToInt32(f.Timeout), aws.ToString(f.LastModified))
	}
	return tw.Flush()
}

func (e *env) remove(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft function rm")
	var cf clientFlags
	cf.register(fs)
	arg, err := e.parseOne(fs, args, "updraft function rm NAME")
	if err != nil {
		return err
	}
	if _, err := lambdaClient(cf.base(), nil).DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(arg)}); err != nil {
		return apiError(err)
	}
	fmt.Fprintf(e.stderr, "deleted %s\n", arg)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
