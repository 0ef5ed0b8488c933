package lambda

import (
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
)

// Provisioning reports how far provisioned environments of a version have
// come on this node (the scheduler).
type Provisioning interface {
	ProvisionedStatus(function, version string) (ready, want int, failure string)
}

// page reads MaxItems (1–10000, default 50) and Marker.
func page(r *http.Request) (maxItems int, marker string, err error) {
	q := r.URL.Query()
	maxItems = 50
	if s := q.Get("MaxItems"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 || n > 10000 {
			return 0, "", fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", s)
		}
		maxItems = n
	}
	return maxItems, q.Get("Marker"), nil
}

// pageOf returns up to maxItems of items after the one whose key is
// marker, and the marker of the next page ("" when there is none).
func pageOf[T any](items []T, key func(T) string, maxItems int, marker string) ([]T, string) {
	start := 0
	if marker != "" {
		start = len(items)
		for i, it := range items {
			if key(it) == marker {
				start = i + 1
				break
			}
		}
	}
	end := min(start+maxItems, len(items))
	out := items[start:end]
	if end < len(items) && len(out) > 0 {
		return out, key(out[len(out)-1])
	}
	return out, ""
}

type publishRequest struct {
	CodeSha256  string `json:"CodeSha256"`
	Description string `json:"Description"`
	RevisionId  string `json:"RevisionId"`
}

func (a *API) publishVersion(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	var req publishRequest
	if err == nil {
		err = decode(r, &req)
	}
	var v *function.Record
	if err == nil {
		v, err = a.store.PublishVersion(r.Context(), name, req.CodeSha256, req.Description, req.RevisionId)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.view(v.Config, phaseRead))
}

func (a *API) listVersions(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	maxItems, marker, perr := page(r)
	if err == nil {
		err = perr
	}
	var all []*function.Record
	if err == nil {
		all, err = a.store.Versions(name)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, next := pageOf(all, func(v *function.Record) string { return v.Config.Version }, maxItems, marker)
	out := struct {
		Versions   []configuration `json:"Versions"`
		NextMarker string          `json:"NextMarker,omitempty"`
	}{Versions: []configuration{}, NextMarker: next}
	for _, v := range items {
		c := a.view(v.Config, phaseListed)
		if v.Config.Version == function.Latest {
			// Unlike ListFunctions, Lambda qualifies $LATEST here.
			c.FunctionArn += ":" + function.Latest
		}
		out.Versions = append(out.Versions, c)
	}
	writeJSON(w, http.StatusOK, out)
}

type aliasRequest struct {
	Name            string                  `json:"Name"`
	FunctionVersion *string                 `json:"FunctionVersion"`
	Description     *string                 `json:"Description"`
	RoutingConfig   *function.RoutingConfig `json:"RoutingConfig"`
	RevisionId      string                  `json:"RevisionId"`
}

func (r *aliasRequest) input() function.AliasInput {
	return function.AliasInput{FunctionVersion: r.FunctionVersion, Description: r.Description, RoutingConfig: r.RoutingConfig, RevisionID: r.RevisionId}
}

func (a *API) createAlias(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	var req aliasRequest
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil && req.Name == "" {
		err = fault.New(fault.Validation, "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	var al *function.Alias
	if err == nil {
		al, err = a.store.CreateAlias(r.Context(), name, req.Name, req.input())
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, al)
}

func (a *API) updateAlias(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	var req aliasRequest
	if err == nil {
		err = decode(r, &req)
	}
	var al *function.Alias
	if err == nil {
		al, err = a.store.UpdateAlias(r.Context(), name, r.PathValue("alias"), req.input())
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, al)
}

func (a *API) getAlias(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	var al *function.Alias
	if err == nil {
		al, err = a.store.GetAlias(name, r.PathValue("alias"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, al)
}

func (a *API) deleteAlias(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	if err == nil {
		err = a.store.DeleteAlias(r.Context(), name, r.PathValue("alias"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listAliases(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	maxItems, marker, perr := page(r)
	if err == nil {
		err = perr
	}
	var all []*function.Alias
	if err == nil {
		all, err = a.store.Aliases(name, r.URL.Query().Get("FunctionVersion"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, next := pageOf(all, func(al *function.Alias) string { return al.Name }, maxItems, marker)
	out := struct {
		Aliases    []*function.Alias `json:"Aliases"`
		NextMarker string            `json:"NextMarker,omitempty"`
	}{Aliases: append([]*function.Alias{}, items...), NextMarker: next}
	writeJSON(w, http.StatusOK, out)
}

// provisionedConfig is Lambda's provisioned concurrency config shape, as
// Get/Put return it and List lists it (with FunctionArn).
type provisionedConfig struct {
	FunctionArn                              string `json:"FunctionArn,omitempty"`
	RequestedProvisionedConcurrentExecutions int    `json:"RequestedProvisionedConcurrentExecutions"`
	AvailableProvisionedConcurrentExecutions int    `json:"AvailableProvisionedConcurrentExecutions"`
	AllocatedProvisionedConcurrentExecutions int    `json:"AllocatedProvisionedConcurrentExecutions"`
	Status                                   string `json:"Status"`
	StatusReason                             string `json:"StatusReason,omitempty"`
	LastModified                             string `json:"LastModified"`
}

// provisionedView combines what was asked for with what this node has
// initialised: each version the config routes to contributes its share
// of that version's ready environments.
func (a *API) provisionedView(p *function.ProvisionedConfig) provisionedConfig {
	out := provisionedConfig{
		RequestedProvisionedConcurrentExecutions: p.Requested,
		LastModified:                             p.LastModified,
		Status:                                   "IN_PROGRESS",
	}
	allocated, failure := 0, ""
	for v, n := range a.store.ProvisionedSplit(p) {
		if a.prov == nil {
			break
		}
		ready, want, fail := a.prov.ProvisionedStatus(p.Function(), v)
		if want > 0 {
			allocated += min(n, ready*n/want)
		}
		if fail != "" {
			failure = fail
		}
	}
	out.AllocatedProvisionedConcurrentExecutions = allocated
	out.AvailableProvisionedConcurrentExecutions = allocated
	switch {
	case allocated >= p.Requested:
		out.Status = "READY"
	case failure != "":
		out.Status, out.StatusReason = "FAILED", failure
	}
	return out
}

func (a *API) putProvisioned(w http.ResponseWriter, r *http.Request) {
	name, qualifier, err := a.pathName(r)
	var req struct {
		ProvisionedConcurrentExecutions *int `json:"ProvisionedConcurrentExecutions"`
	}
	if err == nil {
		err = decode(r, &req)
	}
	if err == nil && req.ProvisionedConcurrentExecutions == nil {
		err = fault.New(fault.Validation, "1 validation error detected: Value null at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
	}
	var p *function.ProvisionedConfig
	if err == nil {
		p, err = a.store.PutProvisionedConcurrency(r.Context(), name, qualifier, *req.ProvisionedConcurrentExecutions, a.account)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, a.provisionedView(p))
}

func (a *API) getProvisioned(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("List") == "ALL" {
		a.listProvisioned(w, r)
		return
	}
	name, qualifier, err := a.pathName(r)
	var p *function.ProvisionedConfig
	if err == nil {
		p, err = a.store.GetProvisionedConcurrency(name, qualifier)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.provisionedView(p))
}

func (a *API) deleteProvisioned(w http.ResponseWriter, r *http.Request) {
	name, qualifier, err := a.pathName(r)
	if err == nil {
		err = a.store.DeleteProvisionedConcurrency(r.Context(), name, qualifier)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listProvisioned(w http.ResponseWriter, r *http.Request) {
	name, _, err := a.pathName(r)
	maxItems, marker, perr := page(r)
	if err == nil {
		err = perr
	}
	var all []*function.ProvisionedConfig
	if err == nil {
		all, err = a.store.ProvisionedConcurrency(name)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, next := pageOf(all, (*function.ProvisionedConfig).Qualifier, maxItems, marker)
	out := struct {
		ProvisionedConcurrencyConfigs []provisionedConfig `json:"ProvisionedConcurrencyConfigs"`
		NextMarker                    string              `json:"NextMarker,omitempty"`
	}{ProvisionedConcurrencyConfigs: []provisionedConfig{}, NextMarker: next}
	for _, p := range items {
		v := a.provisionedView(p)
		v.FunctionArn = a.store.ARN(name) + ":" + p.Qualifier()
		out.ProvisionedConcurrencyConfigs = append(out.ProvisionedConcurrencyConfigs, v)
	}
	writeJSON(w, http.StatusOK, out)
}
