package lambda

import (
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
)

type publishLayerRequest struct {
	Content struct {
		ZipFile         []byte `json:"ZipFile"`
		S3Bucket        string `json:"S3Bucket"`
		S3Key           string `json:"S3Key"`
		S3ObjectVersion string `json:"S3ObjectVersion"`
	} `json:"Content"`
	Description             string   `json:"Description"`
	CompatibleRuntimes      []string `json:"CompatibleRuntimes"`
	CompatibleArchitectures []string `json:"CompatibleArchitectures"`
	LicenseInfo             string   `json:"LicenseInfo"`
}

// layerVersion is a layer version as Lambda returns it: the compatibility
// lists are always there, empty when none were given.
type layerVersion struct {
	*function.LayerVersion
	CompatibleRuntimes      []string `json:"CompatibleRuntimes"`
	CompatibleArchitectures []string `json:"CompatibleArchitectures"`
}

// withLocation renders l with Content.Location set to a download URL.
func (a *API) withLocation(l *function.LayerVersion) layerVersion {
	c := *l
	c.Content.Location = a.codeURL("layer:"+l.Name()+":"+strconv.FormatInt(l.Version, 10), l.Content.CodeSha256)
	return layerVersion{LayerVersion: &c, CompatibleRuntimes: orEmpty(l.CompatibleRuntimes), CompatibleArchitectures: orEmpty(l.CompatibleArchitectures)}
}

// orEmpty is list, or an empty list for nil, so it encodes as [].
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func (a *API) publishLayerVersion(w http.ResponseWriter, r *http.Request) {
	var req publishLayerRequest
	err := decode(r, &req)
	if err == nil && (req.Content.S3Bucket != "" || req.Content.S3Key != "") {
		err = fault.New(fault.InvalidParameter, "Layer content from S3 is not supported by Updraft; send the zip file itself (Content.ZipFile).")
	}
	var l *function.LayerVersion
	if err == nil {
		l, err = a.store.PublishLayerVersion(r.Context(), r.PathValue("layer"), function.LayerInput{
			ZipFile:                 req.Content.ZipFile,
			Description:             req.Description,
			CompatibleRuntimes:      req.CompatibleRuntimes,
			CompatibleArchitectures: req.CompatibleArchitectures,
			LicenseInfo:             req.LicenseInfo,
		})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.withLocation(l))
}

// layerVersionNumber parses the {version} path parameter.
func layerVersionNumber(r *http.Request) (int64, error) {
	s := r.PathValue("version")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'versionNumber' failed to satisfy constraint: Member must be a number", s)
	}
	return n, nil
}

func (a *API) getLayerVersion(w http.ResponseWriter, r *http.Request) {
	n, err := layerVersionNumber(r)
	var l *function.LayerVersion
	if err == nil {
		l, err = a.store.GetLayerVersion(r.PathValue("layer"), n)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.withLocation(l))
}

func (a *API) deleteLayerVersion(w http.ResponseWriter, r *http.Request) {
	n, err := layerVersionNumber(r)
	if err == nil {
		err = a.store.DeleteLayerVersion(r.Context(), r.PathValue("layer"), n)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// layerVersionItem is a LayerVersionsListItem: a layer version without
// its content.
type layerVersionItem struct {
	LayerVersionArn         string   `json:"LayerVersionArn"`
	Version                 int64    `json:"Version"`
	Description             string   `json:"Description"`
	CreatedDate             string   `json:"CreatedDate"`
	CompatibleRuntimes      []string `json:"CompatibleRuntimes"`
	LicenseInfo             string   `json:"LicenseInfo,omitempty"`
	CompatibleArchitectures []string `json:"CompatibleArchitectures"`
}

func listItem(l *function.LayerVersion) layerVersionItem {
	return layerVersionItem{
		LayerVersionArn: l.LayerVersionArn, Version: l.Version, Description: l.Description, CreatedDate: l.CreatedDate,
		CompatibleRuntimes: orEmpty(l.CompatibleRuntimes), LicenseInfo: l.LicenseInfo, CompatibleArchitectures: orEmpty(l.CompatibleArchitectures),
	}
}

// layerFilter reads the CompatibleRuntime and CompatibleArchitecture
// filters of the layer listings.
func layerFilter(r *http.Request) (function.LayerFilter, error) {
	q := r.URL.Query()
	f := function.LayerFilter{Runtime: q.Get("CompatibleRuntime"), Architecture: q.Get("CompatibleArchitecture")}
	return f, function.CheckLayerFilter(f.Runtime, f.Architecture)
}

func (a *API) listLayerVersions(w http.ResponseWriter, r *http.Request) {
	maxItems, marker, err := page(r)
	f, ferr := layerFilter(r)
	if err == nil {
		err = ferr
	}
	var all []*function.LayerVersion
	if err == nil {
		all, err = a.store.LayerVersions(r.PathValue("layer"), f)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	items, next := pageOf(all, func(l *function.LayerVersion) string { return strconv.FormatInt(l.Version, 10) }, maxItems, marker)
	out := struct {
		LayerVersions []layerVersionItem `json:"LayerVersions"`
		NextMarker    string             `json:"NextMarker,omitempty"`
	}{LayerVersions: []layerVersionItem{}, NextMarker: next}
	for _, l := range items {
		out.LayerVersions = append(out.LayerVersions, listItem(l))
	}
	writeJSON(w, http.StatusOK, out)
}

// layers serves ListLayers, and GetLayerVersionByArn (?find=LayerVersion).
func (a *API) layers(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("find") == "LayerVersion" {
		a.getLayerVersionByArn(w, r)
		return
	}
	maxItems, marker, err := page(r)
	f, ferr := layerFilter(r)
	if err == nil {
		err = ferr
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	all := a.store.Layers(f)
	items, next := pageOf(all, (*function.LayerVersion).Name, maxItems, marker)
	type layersItem struct {
		LayerName             string           `json:"LayerName"`
		LayerArn              string           `json:"LayerArn"`
		LatestMatchingVersion layerVersionItem `json:"LatestMatchingVersion"`
	}
	out := struct {
		Layers     []layersItem `json:"Layers"`
		NextMarker string       `json:"NextMarker,omitempty"`
	}{Layers: []layersItem{}, NextMarker: next}
	for _, l := range items {
		out.Layers = append(out.Layers, layersItem{LayerName: l.Name(), LayerArn: l.LayerArn, LatestMatchingVersion: listItem(l)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getLayerVersionByArn(w http.ResponseWriter, r *http.Request) {
	name, n, err := function.ParseLayerVersionArn(r.URL.Query().Get("Arn"))
	var l *function.LayerVersion
	if err == nil {
		l, err = a.store.GetLayerVersion(name, n)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.withLocation(l))
}
