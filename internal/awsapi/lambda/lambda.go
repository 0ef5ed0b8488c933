// Package lambda is the wire adapter for the AWS Lambda API (REST-JSON,
// 2015-03-31 and its later dated paths). It decodes requests, calls the
// function store and the invoke service, and encodes results and errors
// exactly as Lambda does, so the aws CLI and AWS SDKs work unchanged. It
// holds no behaviour of its own.
package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/invoke"
)

// API serves the Lambda operations.
type API struct {
	store   *function.Store
	invoker *invoke.Service
	account int // account concurrency limit
	codeURL func(name, codeSha256 string) string
	prov    Provisioning
	log     *slog.Logger
}

// New returns the Lambda API. codeURL gives GetFunction's Code.Location,
// a URL from which the package can be downloaded without credentials.
func New(store *function.Store, invoker *invoke.Service, accountConcurrency int, codeURL func(name, codeSha256 string) string, log *slog.Logger) *API {
	return &API{store: store, invoker: invoker, account: accountConcurrency, codeURL: codeURL, log: log}
}

// WithProvisioning makes provisioned concurrency configs report how far
// allocation has come, from p.
func (a *API) WithProvisioning(p Provisioning) *API {
	a.prov = p
	return a
}

// Register adds the Lambda routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /2015-03-31/functions", a.createFunction)
	mux.HandleFunc("POST /2015-03-31/functions/{$}", a.createFunction)
	mux.HandleFunc("GET /2015-03-31/functions/{$}", a.listFunctions)
	mux.HandleFunc("GET /2015-03-31/functions", a.listFunctions)
	mux.HandleFunc("GET /2015-03-31/functions/{name}", a.getFunction)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/configuration", a.getFunctionConfiguration)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/configuration", a.updateFunctionConfiguration)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/code", a.updateFunctionCode)
	mux.HandleFunc("DELETE /2015-03-31/functions/{name}", a.deleteFunction)
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", a.invoke)
	mux.HandleFunc("POST /2014-11-13/functions/{name}/invoke-async/{$}", a.invokeAsyncLegacy)
	mux.HandleFunc("PUT /2017-10-31/functions/{name}/concurrency", a.putFunctionConcurrency)
	mux.HandleFunc("GET /2019-09-30/functions/{name}/concurrency", a.getFunctionConcurrency)
	mux.HandleFunc("DELETE /2017-10-31/functions/{name}/concurrency", a.deleteFunctionConcurrency)
	mux.HandleFunc("PUT /2019-09-25/functions/{name}/event-invoke-config", a.putEventInvokeConfig)
	mux.HandleFunc("POST /2019-09-25/functions/{name}/event-invoke-config", a.updateEventInvokeConfig)
	mux.HandleFunc("GET /2019-09-25/functions/{name}/event-invoke-config", a.getEventInvokeConfig)
	mux.HandleFunc("DELETE /2019-09-25/functions/{name}/event-invoke-config", a.deleteEventInvokeConfig)
	mux.HandleFunc("GET /2019-09-25/functions/{name}/event-invoke-config/list", a.listEventInvokeConfigs)
	mux.HandleFunc("GET /2016-08-19/account-settings/{$}", a.getAccountSettings)
	mux.HandleFunc("GET /2016-08-19/account-settings", a.getAccountSettings)
	mux.HandleFunc("POST /2015-03-31/functions/{name}/versions", a.publishVersion)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/versions", a.listVersions)
	mux.HandleFunc("POST /2015-03-31/functions/{name}/aliases", a.createAlias)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/aliases", a.listAliases)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/aliases/{alias}", a.getAlias)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/aliases/{alias}", a.updateAlias)
	mux.HandleFunc("DELETE /2015-03-31/functions/{name}/aliases/{alias}", a.deleteAlias)
	mux.HandleFunc("PUT /2019-09-30/functions/{name}/provisioned-concurrency", a.putProvisioned)
	mux.HandleFunc("GET /2019-09-30/functions/{name}/provisioned-concurrency", a.getProvisioned)
	mux.HandleFunc("DELETE /2019-09-30/functions/{name}/provisioned-concurrency", a.deleteProvisioned)
	mux.HandleFunc("POST /2018-10-31/layers/{layer}/versions", a.publishLayerVersion)
	mux.HandleFunc("GET /2018-10-31/layers/{layer}/versions", a.listLayerVersions)
	mux.HandleFunc("GET /2018-10-31/layers/{layer}/versions/{version}", a.getLayerVersion)
	mux.HandleFunc("DELETE /2018-10-31/layers/{layer}/versions/{version}", a.deleteLayerVersion)
	mux.HandleFunc("GET /2018-10-31/layers", a.layers)
	mux.HandleFunc("GET /2018-10-31/layers/{$}", a.layers)
	mux.HandleFunc("GET /2017-03-31/tags/{arn}", a.listTags)
	mux.HandleFunc("POST /2017-03-31/tags/{arn}", a.tagResource)
	mux.HandleFunc("DELETE /2017-03-31/tags/{arn}", a.untagResource)
	mux.HandleFunc("/", a.unknownOperation)
}

// unknownOperation answers every route no operation claims, in Lambda's
// error shape, so clients see which call Updraft lacks.
func (a *API) unknownOperation(w http.ResponseWriter, r *http.Request) {
	a.fail(w, r, fault.Typed(fault.NotFound, "UnknownOperationException", "Updraft does not support the operation %s %s yet; see docs/compatibility.md.", r.Method, r.URL.Path))
}

// requestBodyMax bounds control-plane request bodies: a 50 MB zip
// base64-encoded in JSON, plus the rest. It is Lambda's limit.
const requestBodyMax = 70167211

// largeOperations names the operations that carry code, by route, for the
// message Lambda gives when their request is too large.
var largeOperations = map[string]string{
	"POST /2015-03-31/functions":               "CreateFunction",
	"POST /2015-03-31/functions/{$}":           "CreateFunction",
	"PUT /2015-03-31/functions/{name}/code":    "UpdateFunctionCode",
	"POST /2018-10-31/layers/{layer}/versions": "PublishLayerVersion",
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(r.Context(), a.log, w, err)
}

// decode reads a JSON request body into v. An empty body is an empty object.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, requestBodyMax+1))
	if err != nil {
		return fault.New(fault.InvalidRequest, "Could not read request body: %v", err)
	}
	if len(body) > requestBodyMax {
		if op := largeOperations[r.Pattern]; op != "" {
			return fault.Typed(fault.TooLarge, "RequestEntityTooLargeException", "Request must be smaller than %d bytes for the %s operation", requestBodyMax, op)
		}
		return fault.Typed(fault.TooLarge, "RequestEntityTooLargeException", "Request must be smaller than %d bytes.", requestBodyMax)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return fault.New(fault.InvalidRequest, "Could not parse request body into json: field %s: cannot take a %s", ute.Field, ute.Value)
		}
		return fault.New(fault.InvalidRequest, "Could not parse request body into json: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// pathName parses the {name} path parameter and the Qualifier query.
func (a *API) pathName(r *http.Request) (name, qualifier string, err error) {
	return locate(r, a.store.Region(), a.store.Account())
}

// locate is pathName for a node of region and account.
func locate(r *http.Request, region, account string) (name, qualifier string, err error) {
	return function.Locate(r.PathValue("name"), r.URL.Query().Get("Qualifier"), region, account)
}

type createRequest struct {
	FunctionName     string                     `json:"FunctionName"`
	Runtime          string                     `json:"Runtime"`
	Role             string                     `json:"Role"`
	Handler          string                     `json:"Handler"`
	Description      string                     `json:"Description"`
	Timeout          int                        `json:"Timeout"`
	MemorySize       int                        `json:"MemorySize"`
	Publish          bool                       `json:"Publish"`
	PackageType      string                     `json:"PackageType"`
	Code             codeInput                  `json:"Code"`
	Environment      *function.Environment      `json:"Environment"`
	TracingConfig    *function.TracingConfig    `json:"TracingConfig"`
	Tags             map[string]string          `json:"Tags"`
	Architectures    []string                   `json:"Architectures"`
	EphemeralStorage *function.EphemeralStorage `json:"EphemeralStorage"`
	LoggingConfig    *function.LoggingConfig    `json:"LoggingConfig"`
	Layers           []string                   `json:"Layers"`
	DeadLetterConfig *deadLetterConfig          `json:"DeadLetterConfig"`
	TenancyConfig    *function.TenancyConfig    `json:"TenancyConfig"`

	CapacityProviderConfig *function.CapacityProviderConfig `json:"CapacityProviderConfig"`
}

// deadLetterConfig is accepted only empty: dead-letter queues come with
// the queue service.
type deadLetterConfig struct {
	TargetArn string `json:"TargetArn"`
}

func (d *deadLetterConfig) check() error {
	if d != nil && d.TargetArn != "" {
		return fault.New(fault.InvalidParameter, "DeadLetterConfig is not supported yet; use an on-failure destination (PutFunctionEventInvokeConfig) instead.")
	}
	return nil
}

type codeInput struct {
	ZipFile         []byte `json:"ZipFile"`
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion"`
	ImageUri        string `json:"ImageUri"`
}

func (c codeInput) zip() ([]byte, error) {
	switch {
	case c.S3Bucket != "" || c.S3Key != "":
		return nil, fault.New(fault.InvalidParameter, "Code from S3 is not supported by Updraft; send the zip file itself (ZipFile).")
	case c.ImageUri != "":
		return nil, fault.New(fault.InvalidParameter, "Container images are not supported by Updraft; use a zip package.")
	}
	return c.ZipFile, nil
}

func (a *API) createFunction(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := req.DeadLetterConfig.check(); err != nil {
		a.fail(w, r, err)
		return
	}
	zipFile, err := req.Code.zip()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if req.FunctionName == "" {
		a.fail(w, r, fault.New(fault.Validation, "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null"))
		return
	}
	c := function.Config{
		FunctionName: req.FunctionName,
		Runtime:      req.Runtime,
		Role:         req.Role,
		Handler:      req.Handler,
		Description:  req.Description,
		Timeout:      req.Timeout,
		MemorySize:   req.MemorySize,
		PackageType:  req.PackageType,
		Environment:  req.Environment,

		TenancyConfig:          req.TenancyConfig,
		CapacityProviderConfig: req.CapacityProviderConfig,
	}
	if req.TracingConfig != nil {
		c.TracingConfig = *req.TracingConfig
	}
	if req.EphemeralStorage != nil {
		c.EphemeralStorage = *req.EphemeralStorage
	}
	if req.LoggingConfig != nil {
		c.LoggingConfig = *req.LoggingConfig
	}
	c.Architectures = req.Architectures
	if c.Environment != nil && c.Environment.Variables == nil {
		// Lambda keeps an empty Environment and returns {"Variables":{}}.
		c.Environment.Variables = map[string]string{}
	}
	rec, err := a.store.Create(r.Context(), function.CreateInput{Config: c, ZipFile: zipFile, Tags: req.Tags, Layers: req.Layers})
	if err == nil && req.Publish {
		rec, err = a.store.PublishVersion(r.Context(), rec.Config.FunctionName, "", "", "")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.view(rec.Config, phaseCreated))
}

func (a *API) listFunctions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	maxItems := 50
	if s := q.Get("MaxItems"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			a.fail(w, r, fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", s))
			return
		}
		maxItems = n
	}
	marker := q.Get("Marker")
	all := a.store.List()
	switch fv := q.Get("FunctionVersion"); fv {
	case "":
	case "ALL":
		// Every version of every function, each function's $LATEST first;
		// the marker still names a function. Listed with its versions,
		// $LATEST has a qualified ARN, as on Lambda.
		var versions []*function.Record
		for _, rec := range all {
			vs, err := a.store.Versions(rec.Config.FunctionName)
			if err != nil {
				continue // deleted meanwhile
			}
			for _, v := range vs {
				if v.Config.Version == function.Latest {
					c := *v
					c.Config.FunctionArn = a.store.ARN(c.Config.FunctionName) + ":" + function.Latest
					v = &c
				}
				versions = append(versions, v)
			}
		}
		all = versions
	default:
		a.fail(w, r, fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]", fv))
		return
	}
	start := 0
	if marker != "" {
		start = len(all)
		for i, rec := range all {
			if rec.Config.FunctionName > marker {
				start = i
				break
			}
		}
	}
	out := struct {
		Functions  []configuration `json:"Functions"`
		NextMarker string          `json:"NextMarker,omitempty"`
	}{Functions: []configuration{}}
	for i := start; i < len(all) && len(out.Functions) < maxItems; i++ {
		out.Functions = append(out.Functions, a.view(all[i].Config, phaseListed))
	}
	if end := start + len(out.Functions); end < len(all) && len(out.Functions) > 0 {
		last := out.Functions[len(out.Functions)-1].FunctionName
		// A page ends at a function boundary, so a marker resumes after
		// all of its versions.
		for end < len(all) && all[end].Config.FunctionName == last {
			out.Functions = append(out.Functions, a.view(all[end].Config, phaseListed))
			end++
		}
		if end < len(all) {
			out.NextMarker = last
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) record(w http.ResponseWriter, r *http.Request) (*function.Record, bool) {
	name, qualifier, err := a.pathName(r)
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	rec, err := a.store.Get(name, qualifier)
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	if qualifier == function.Latest {
		// Asked for by qualifier, $LATEST answers with a qualified ARN.
		c := *rec
		c.Config.FunctionArn += ":" + function.Latest
		rec = &c
	}
	return rec, true
}

func (a *API) getFunction(w http.ResponseWriter, r *http.Request) {
	rec, ok := a.record(w, r)
	if !ok {
		return
	}
	codeName := rec.Config.FunctionName
	if rec.Config.Version != function.Latest {
		codeName += ":" + rec.Config.Version
	}
	out := map[string]any{
		"Configuration": a.view(rec.Config, phaseRead),
		"Code": map[string]string{
			"RepositoryType": "S3",
			"Location":       a.codeURL(codeName, rec.Config.CodeSha256),
		},
	}
	// Tags and concurrency belong to the function, whatever the qualifier.
	fn, err := a.store.Get(rec.Config.FunctionName, "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if len(fn.Tags) > 0 {
		out["Tags"] = fn.Tags
	}
	if fn.ReservedConcurrency != nil {
		out["Concurrency"] = map[string]int{"ReservedConcurrentExecutions": *fn.ReservedConcurrency}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getFunctionConfiguration(w http.ResponseWriter, r *http.Request) {
	rec, ok := a.record(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, a.view(rec.Config, phaseRead))
}

type configRequest struct {
	Role             *string                    `json:"Role"`
	Handler          *string                    `json:"Handler"`
	Description      *string                    `json:"Description"`
	Timeout          *int                       `json:"Timeout"`
	MemorySize       *int                       `json:"MemorySize"`
	Runtime          *string                    `json:"Runtime"`
	Environment      *function.Environment      `json:"Environment"`
	EphemeralStorage *function.EphemeralStorage `json:"EphemeralStorage"`
	TracingConfig    *function.TracingConfig    `json:"TracingConfig"`
	LoggingConfig    *function.LoggingConfig    `json:"LoggingConfig"`
	RevisionId       string                     `json:"RevisionId"`
	Layers           *[]string                  `json:"Layers"`
	DeadLetterConfig *deadLetterConfig          `json:"DeadLetterConfig"`

	CapacityProviderConfig *function.CapacityProviderConfig `json:"CapacityProviderConfig"`
}

func (a *API) updateFunctionConfiguration(w http.ResponseWriter, r *http.Request) {
	name, qualifier, err := a.pathName(r)
	if err == nil && qualifier != "" {
		err = fault.New(fault.InvalidParameter, "Qualifier is not allowed for UpdateFunctionConfiguration.")
	}
	var req configRequest
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil {
		err = req.DeadLetterConfig.check()
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Environment != nil && req.Environment.Variables == nil {
		req.Environment.Variables = map[string]string{}
	}
	rec, err := a.store.UpdateConfig(r.Context(), name, req.RevisionId, function.ConfigUpdate{
		Role: req.Role, Handler: req.Handler, Description: req.Description, Timeout: req.Timeout,
		MemorySize: req.MemorySize, Runtime: req.Runtime, Environment: req.Environment,
		EphemeralStorage: req.EphemeralStorage, TracingConfig: req.TracingConfig, LoggingConfig: req.LoggingConfig,
		Layers: req.Layers, CapacityProviderConfig: req.CapacityProviderConfig,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.view(rec.Config, phaseUpdated))
}

type codeRequest struct {
	ZipFile    []byte `json:"ZipFile"`
	S3Bucket   string `json:"S3Bucket"`
	S3Key      string `json:"S3Key"`
	ImageUri   string `json:"ImageUri"`
	Publish    bool   `json:"Publish"`
	DryRun     bool   `json:"DryRun"`
	RevisionId string `json:"RevisionId"`
}

func (a *API) updateFunctionCode(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	var req codeRequest
	if err == nil {
		err = decode(r, &req)
	}
	var zipFile []byte
	if err == nil {
		zipFile, err = codeInput{ZipFile: req.ZipFile, S3Bucket: req.S3Bucket, S3Key: req.S3Key, ImageUri: req.ImageUri}.zip()
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if req.DryRun {
		rec, err := a.store.Get(name, "")
		if err == nil {
			_, err = function.ParsePackage(zipFile, rec.Config.Runtime)
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, a.view(rec.Config, phaseRead))
		return
	}
	rec, err := a.store.UpdateCode(r.Context(), name, req.RevisionId, zipFile)
	p := phaseUpdated
	if err == nil && req.Publish {
		// The version published with the update is reported as new.
		rec, err = a.store.PublishVersion(r.Context(), name, "", "", "")
		p = phaseCreated
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.view(rec.Config, p))
}

func (a *API) deleteFunction(w http.ResponseWriter, r *http.Request) {
	name, qualifier, err := a.pathName(r)
	if err == nil {
		_, err = a.store.Delete(r.Context(), name, qualifier)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) invoke(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > invoke.SyncPayloadMax {
		a.fail(w, r, fault.Typed(fault.TooLarge, "RequestTooLargeException", "Request must be smaller than %d bytes for the Invoke operation", invoke.SyncPayloadMax))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, invoke.SyncPayloadMax+1))
	if err != nil {
		a.fail(w, r, fault.New(fault.InvalidRequest, "Could not read request body: %v", err))
		return
	}
	req := invoke.Request{
		Function:      r.PathValue("name"),
		Qualifier:     r.URL.Query().Get("Qualifier"),
		Payload:       payload,
		ClientContext: r.Header.Get("X-Amz-Client-Context"),
		TraceID:       r.Header.Get("X-Amzn-Trace-Id"),
		TenantID:      r.Header.Get("X-Amz-Tenant-Id"),
		RequestID:     w.Header().Get("X-Amzn-Requestid"),
	}
	switch lt := r.Header.Get("X-Amz-Log-Type"); lt {
	case "", "None":
	case "Tail":
		req.LogTail = true
	default:
		a.fail(w, r, fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]", lt))
		return
	}
	switch it := r.Header.Get("X-Amz-Invocation-Type"); it {
	case "", "RequestResponse":
		a.invokeSync(w, r, req)
	case "Event":
		a.invokeEvent(w, r, req)
	case "DryRun":
		if err := a.invoker.DryRun(req); err != nil {
			a.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		a.fail(w, r, fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]", it))
	}
}

func (a *API) invokeSync(w http.ResponseWriter, r *http.Request, req invoke.Request) {
	// The invocation runs to its end even when the caller goes away, as on
	// Lambda; the platform never retries it.
	resp, err := a.invoker.Invoke(context.WithoutCancel(r.Context()), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h["X-Amzn-Requestid"] = []string{resp.RequestID}
	h["X-Amz-Executed-Version"] = []string{resp.ExecutedVersion}
	if resp.FunctionError != "" {
		h["X-Amz-Function-Error"] = []string{resp.FunctionError}
	}
	if resp.LogResult != "" {
		h["X-Amz-Log-Result"] = []string{resp.LogResult}
	}
	ct := resp.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h["Content-Type"] = []string{ct}
	h["Content-Length"] = []string{strconv.Itoa(len(resp.Payload))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp.Payload)
}

func (a *API) invokeEvent(w http.ResponseWriter, r *http.Request, req invoke.Request) {
	if req.LogTail {
		a.fail(w, r, fault.New(fault.InvalidParameter, "LogType Tail is only supported for synchronous invocation."))
		return
	}
	id, err := a.invoker.InvokeAsync(r.Context(), req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("X-Amzn-Requestid", id)
	w.WriteHeader(http.StatusAccepted)
}

func (a *API) invokeAsyncLegacy(w http.ResponseWriter, r *http.Request) {
	payload, err := io.ReadAll(io.LimitReader(r.Body, invoke.AsyncPayloadMax+1))
	if err != nil {
		a.fail(w, r, fault.New(fault.InvalidRequest, "Could not read request body: %v", err))
		return
	}
	id, err := a.invoker.InvokeAsync(r.Context(), invoke.Request{Function: r.PathValue("name"), Payload: payload})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("X-Amzn-Requestid", id)
	writeJSON(w, http.StatusAccepted, map[string]int{"Status": 202})
}

// unqualifiedName parses the {name} path parameter of an operation that
// only applies to a function as a whole.
func (a *API) unqualifiedName(r *http.Request) (string, error) {
	name, qualifier, err := a.pathName(r)
	if err == nil && qualifier != "" {
		err = fault.New(fault.InvalidParameter, "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.")
	}
	return name, err
}

func (a *API) putFunctionConcurrency(w http.ResponseWriter, r *http.Request) {
	name, err := a.unqualifiedName(r)
	var req struct {
		ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions"`
	}
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil && req.ReservedConcurrentExecutions == nil {
		err = fault.New(fault.Validation, "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
	}
	if err == nil {
		// Lambda names $LATEST when the function is missing.
		if _, gerr := a.store.Get(name, ""); gerr != nil {
			err = fault.New(fault.NotFound, "Function not found: %s:%s", a.store.ARN(name), function.Latest)
		}
	}
	if err == nil {
		_, err = a.store.PutReservedConcurrency(r.Context(), name, *req.ReservedConcurrentExecutions, a.account)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"ReservedConcurrentExecutions": *req.ReservedConcurrentExecutions})
}

func (a *API) getFunctionConcurrency(w http.ResponseWriter, r *http.Request) {
	rec, ok := a.record(w, r)
	if !ok {
		return
	}
	// The reservation belongs to the function, whatever the qualifier.
	rec, err := a.store.Get(rec.Config.FunctionName, "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := map[string]int{}
	if rec.ReservedConcurrency != nil {
		out["ReservedConcurrentExecutions"] = *rec.ReservedConcurrency
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteFunctionConcurrency(w http.ResponseWriter, r *http.Request) {
	name, err := a.unqualifiedName(r)
	if err == nil {
		err = a.store.DeleteReservedConcurrency(r.Context(), name)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) putEventInvokeConfig(w http.ResponseWriter, r *http.Request) {
	a.eventInvokeConfig(w, r, true)
}

func (a *API) updateEventInvokeConfig(w http.ResponseWriter, r *http.Request) {
	a.eventInvokeConfig(w, r, false)
}

func (a *API) eventInvokeConfig(w http.ResponseWriter, r *http.Request, replace bool) {
	name, qualifier, err := a.pathName(r)
	var req function.EventInvokeConfig
	if err == nil {
		err = decode(r, &req)
	}
	var out *function.EventInvokeConfig
	if err == nil {
		out, err = a.store.PutEventInvokeConfig(r.Context(), name, qualifier, req, replace)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventInvokeView(out))
}

// eventInvokeView renders c as Lambda does: DestinationConfig always has
// OnSuccess and OnFailure, empty when not set.
func eventInvokeView(c *function.EventInvokeConfig) *function.EventInvokeConfig {
	v := *c
	d := function.DestinationConfig{OnSuccess: &function.Destination{}, OnFailure: &function.Destination{}}
	if c.DestinationConfig != nil {
		if c.DestinationConfig.OnSuccess != nil {
			d.OnSuccess = c.DestinationConfig.OnSuccess
		}
		if c.DestinationConfig.OnFailure != nil {
			d.OnFailure = c.DestinationConfig.OnFailure
		}
	}
	v.DestinationConfig = &d
	return &v
}

func (a *API) getEventInvokeConfig(w http.ResponseWriter, r *http.Request) {
	name, qualifier, err := a.pathName(r)
	var out *function.EventInvokeConfig
	if err == nil {
		out, err = a.store.GetEventInvokeConfig(name, qualifier)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, eventInvokeView(out))
}

func (a *API) deleteEventInvokeConfig(w http.ResponseWriter, r *http.Request) {
	name, qualifier, err := a.pathName(r)
	if err == nil {
		err = a.store.DeleteEventInvokeConfig(r.Context(), name, qualifier)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listEventInvokeConfigs(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	maxItems := 50
	if err == nil {
		maxItems, err = eventInvokeMaxItems(r.URL.Query().Get("MaxItems"))
	}
	var configs []*function.EventInvokeConfig
	if err == nil {
		configs, err = a.store.EventInvokeConfigs(name)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		FunctionEventInvokeConfigs []*function.EventInvokeConfig `json:"FunctionEventInvokeConfigs"`
		NextMarker                 string                        `json:"NextMarker,omitempty"`
	}{FunctionEventInvokeConfigs: []*function.EventInvokeConfig{}}
	// The configs come ordered by qualifier ($LATEST sorts first); the
	// marker is the last qualifier returned.
	marker := r.URL.Query().Get("Marker")
	for _, c := range configs {
		q := c.FunctionArn[strings.LastIndex(c.FunctionArn, ":")+1:]
		if marker != "" && q <= marker {
			continue
		}
		if len(out.FunctionEventInvokeConfigs) == maxItems {
			out.NextMarker = marker
			break
		}
		out.FunctionEventInvokeConfigs = append(out.FunctionEventInvokeConfigs, eventInvokeView(c))
		marker = q
	}
	writeJSON(w, http.StatusOK, out)
}

// eventInvokeMaxItems reads ListFunctionEventInvokeConfigs' MaxItems,
// 1–50 (default 50).
func eventInvokeMaxItems(s string) (int, error) {
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be an integer", s)
	case n < 1:
		return 0, fault.New(fault.Validation, "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
	case n > 50:
		return 0, fault.New(fault.Validation, "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50", n)
	}
	return n, nil
}

func (a *API) getAccountSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"AccountLimit": map[string]int64{
			"TotalCodeSize":                  80530636800,
			"CodeSizeUnzipped":               function.UnzippedMax,
			"CodeSizeZipped":                 function.ZipMax,
			"ConcurrentExecutions":           int64(a.account),
			"UnreservedConcurrentExecutions": int64(a.store.UnreservedConcurrency(a.account)),
		},
		"AccountUsage": map[string]int64{
			"TotalCodeSize": a.store.TotalCodeSize(),
			"FunctionCount": int64(len(a.store.List())),
		},
	})
}

// tagResourcePattern is Lambda's pattern for a taggable resource ARN.
var tagResourcePattern = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)$`)

// tagged parses the {arn} of the tag operations: an unqualified function
// ARN, the only resource Updraft tags.
func (a *API) tagged(r *http.Request) (string, error) {
	arn := r.PathValue("arn")
	if !tagResourcePattern.MatchString(arn) {
		return "", fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", arn,
			strings.TrimSuffix(strings.TrimPrefix(tagResourcePattern.String(), "^"), "$"))
	}
	if !strings.Contains(arn, ":function:") {
		return "", fault.New(fault.InvalidParameter, "Updraft tags functions only; %s is not a function ARN.", arn)
	}
	name, qualifier, err := function.ParseName(arn)
	if err == nil && qualifier != "" {
		err = fault.New(fault.InvalidParameter, "Tags on function aliases and versions are not supported. Please specify a function ARN.")
	}
	return name, err
}

func (a *API) listTags(w http.ResponseWriter, r *http.Request) {
	name, err := a.tagged(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rec, err := a.store.Get(name, "")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	tags := rec.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Tags": tags})
}

func (a *API) tagResource(w http.ResponseWriter, r *http.Request) {
	name, err := a.tagged(r)
	var req struct {
		Tags map[string]string `json:"Tags"`
	}
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil && req.Tags == nil {
		err = fault.New(fault.Validation, "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err == nil && len(req.Tags) == 0 {
		err = fault.New(fault.InvalidParameter, "An error occurred and the request cannot be processed.")
	}
	if err == nil {
		err = a.store.TagResource(r.Context(), name, req.Tags)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) untagResource(w http.ResponseWriter, r *http.Request) {
	name, err := a.tagged(r)
	keys := r.URL.Query()["tagKeys"]
	if err == nil && len(keys) == 0 {
		err = fault.New(fault.Validation, "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	if err == nil {
		err = a.store.UntagResource(r.Context(), name, keys)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
