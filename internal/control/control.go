// Package control serves Updraft's own HTTP API, beside the AWS-compatible
// ones, under /_updraft/v1/: node status, function logs (read and follow),
// and code downloads for GetFunction's Code.Location. The updraft CLI is a
// client of this API and of the Lambda API; it never reaches into the
// server.
package control

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/scheduler"
	"github.com/updraft/updraft/internal/telemetry"
)

// Prefix is the path prefix of the control API.
const Prefix = "/_updraft/v1/"

// Status is what GET /_updraft/v1/status returns.
type Status struct {
	Version   string `json:"version"`
	Sandbox   string `json:"sandbox"`
	Backbone  string `json:"backbone"`
	Functions int    `json:"functions"`
	Envs      int    `json:"envs"`
	IdleEnvs  int    `json:"idleEnvs"`
	BusyEnvs  int    `json:"busyEnvs"`
	// ProvisionedEnvs counts initialised provisioned environments (also
	// counted as idle or busy).
	ProvisionedEnvs int `json:"provisionedEnvs"`
	// EnvMemoryBytes sums the resident memory of every environment.
	EnvMemoryBytes int64 `json:"envMemoryBytes"`
	// NodeMemoryBytes is the resident memory of the node process.
	NodeMemoryBytes int64 `json:"nodeMemoryBytes"`
}

// API is the control API.
type API struct {
	Store     *function.Store
	Scheduler *scheduler.Scheduler
	Logs      *telemetry.Logs
	Info      func() Status
	Log       *slog.Logger
}

// Register adds the routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Prefix+"status", a.status)
	mux.HandleFunc("GET "+Prefix+"functions/{name}/logs", a.logs)
	mux.HandleFunc("GET "+Prefix+"code/{name}", a.code)
}

func (a *API) status(w http.ResponseWriter, r *http.Request) {
	st := a.Info()
	stats := a.Scheduler.Stats(r.URL.Query().Get("memory") != "")
	st.Functions = len(a.Store.List())
	st.Envs, st.IdleEnvs, st.BusyEnvs, st.EnvMemoryBytes = stats.Envs, stats.Idle, stats.Busy, stats.MemoryBytes
	st.ProvisionedEnvs = stats.Provisioned
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

func httpError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// logs streams a function's log as text lines, or NDJSON with
// format=json. since is an RFC 3339 time or a duration back from now
// ("10m"); follow=true keeps the response open for new lines.
func (a *API) logs(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q := r.URL.Query()
	var since time.Time
	if s := q.Get("since"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			since = t
		} else {
			httpError(w, http.StatusBadRequest, "ValidationException", "since must be an RFC 3339 time or a duration such as 10m")
			return
		}
	}
	follow := q.Get("follow") == "true" || q.Get("follow") == "1"
	if _, err := a.Store.Get(name, ""); err != nil && !follow {
		// Logs outlive their function, but an unknown name is most likely a typo.
		if !a.hasLogs(r, name) {
			httpError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
			return
		}
	}
	asJSON := q.Get("format") == "json"
	if asJSON {
		w.Header().Set("Content-Type", "application/x-ndjson")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	err := a.Logs.Read(r.Context(), name, since, follow, func(e telemetry.Entry) error {
		var err error
		if asJSON {
			err = enc.Encode(e)
		} else {
			_, err = w.Write([]byte(e.Time.UTC().Format("2006-01-02T15:04:05.000Z") + " " + strings.TrimRight(e.Message, "\r") + "\n"))
		}
		if flusher != nil && follow {
			flusher.Flush()
		}
		return err
	})
	if err != nil {
		a.Log.WarnContext(r.Context(), "read logs", "function", name, "err", err)
	}
}

func (a *API) hasLogs(r *http.Request, name string) bool {
	found := false
	_ = a.Logs.Read(r.Context(), name, time.Time{}, false, func(telemetry.Entry) error {
		found = true
		return errStop
	})
	return found
}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

var errStop = stopErr{}

// code serves a function's package; a sha256 query, when given, must
// match the current code.
func (a *API) code(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if layer, ok := strings.CutPrefix(name, "layer:"); ok {
		a.layerCode(w, r, layer)
		return
	}
	fn, qualifier, _ := strings.Cut(name, ":")
	rec, err := a.Store.Get(fn, qualifier)
	if err != nil {
		httpError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
		return
	}
	if sha := r.URL.Query().Get("sha256"); sha != "" && sha != rec.Config.CodeSha256 {
		httpError(w, http.StatusNotFound, "ResourceNotFoundException", "the function's code has changed since this location was issued")
		return
	}
	zip, err := a.Store.Code(r.Context(), rec)
	if err != nil {
		a.Log.ErrorContext(r.Context(), "load code", "function", rec.Config.FunctionName, "err", err)
		httpError(w, http.StatusInternalServerError, "ServiceException", "could not load the code package")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+rec.Config.FunctionName+`.zip"`)
	_, _ = w.Write(zip)
}

// layerCode serves a layer version's package; layer is "NAME:VERSION".
func (a *API) layerCode(w http.ResponseWriter, r *http.Request, layer string) {
	name, v, _ := strings.Cut(layer, ":")
	version, _ := strconv.ParseInt(v, 10, 64)
	l, err := a.Store.GetLayerVersion(name, version)
	if err != nil {
		httpError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
		return
	}
	zip, err := a.Store.LayerCode(r.Context(), l)
	if err != nil {
		a.Log.ErrorContext(r.Context(), "load layer code", "layer", l.LayerVersionArn, "err", err)
		httpError(w, http.StatusInternalServerError, "ServiceException", "could not load the layer package")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"-"+v+`.zip"`)
	_, _ = w.Write(zip)
}
