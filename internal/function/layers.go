package function

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/fault"
)

// LayerVersion is one published version of a layer, as Lambda's
// GetLayerVersion returns it (Content.Location is filled in by the wire
// layer). It is stored in BucketLayers under "<layer>.<number>"; its zip is
// in the code object store like function code.
type LayerVersion struct {
	Content                 LayerContent `json:"Content"`
	LayerArn                string       `json:"LayerArn"`
	LayerVersionArn         string       `json:"LayerVersionArn"`
	Description             string       `json:"Description"`
	CreatedDate             string       `json:"CreatedDate"`
	Version                 int64        `json:"Version"`
	CompatibleRuntimes      []string     `json:"CompatibleRuntimes,omitempty"`
	LicenseInfo             string       `json:"LicenseInfo,omitempty"`
	CompatibleArchitectures []string     `json:"CompatibleArchitectures,omitempty"`

	name     string // from the key
	revision uint64
}

// LayerContent describes a layer version's package.
type LayerContent struct {
	Location   string `json:"Location,omitempty"`
	CodeSha256 string `json:"CodeSha256"`
	CodeSize   int64  `json:"CodeSize"`
}

// Name is the layer's name.
func (l *LayerVersion) Name() string { return l.name }

func (l *LayerVersion) rev() uint64 {
	if l == nil {
		return 0
	}
	return l.revision
}

func decodeLayerVersion(key string, data []byte, revision uint64) (*LayerVersion, error) {
	var l LayerVersion
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("decode layer version %s: %w", key, err)
	}
	l.name, _, _ = strings.Cut(key, ".")
	l.revision = revision
	return &l, nil
}

// Layer limits, as Lambda's.
const (
	layersMax             = 5
	layerRuntimesMax      = 15
	layerLicenseMax       = 512
	layerNameMax          = 140
	layerVersionArnPrefix = "arn:aws:lambda:"
)

var (
	layerNamePattern = newLazyRegexp(`^(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:)?([a-zA-Z0-9-_]+)$`)
	layerArnPattern  = newLazyRegexp(`^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9-_]+):([0-9]+)$`)
)

// LayerArn is a layer's ARN.
func (s *Store) LayerArn(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:layer:%s", s.cfg.Region, s.cfg.Account, name)
}

// ParseLayerName accepts a layer name or layer ARN and returns the name.
func ParseLayerName(s string) (string, error) {
	m := layerNamePattern.FindStringSubmatch(s)
	if m == nil || len(s) > layerNameMax {
		return "", validationError(s, "layerName", "Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")
	}
	return m[2], nil
}

// layerVersionArnPatternText is Lambda's pattern for a layer version ARN,
// as its messages quote it.
const layerVersionArnPatternText = `(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`

// ParseLayerVersionArn splits a layer version ARN into name and number.
func ParseLayerVersionArn(arn string) (name string, version int64, err error) {
	m := layerArnPattern.FindStringSubmatch(arn)
	if m == nil || len(arn) > layerNameMax {
		return "", 0, validationError(arn, "arn", "Member must satisfy regular expression pattern: "+layerVersionArnPatternText)
	}
	v, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return "", 0, validationError(arn, "arn", "Member must have a valid version number")
	}
	return m[1], v, nil
}

// LayerInput is what PublishLayerVersion accepts.
type LayerInput struct {
	ZipFile                 []byte
	Description             string
	CompatibleRuntimes      []string
	CompatibleArchitectures []string
	LicenseInfo             string
}

func checkLayerInput(in *LayerInput) error {
	switch {
	case len(in.ZipFile) == 0:
		return fault.New(fault.InvalidParameter, "Please provide a source for the layer content (Content.ZipFile).")
	case len(in.Description) > 256:
		return validationError(in.Description, "description", "Member must have length less than or equal to 256")
	case len(in.LicenseInfo) > layerLicenseMax:
		return validationError(in.LicenseInfo, "licenseInfo", "Member must have length less than or equal to 512")
	case len(in.CompatibleRuntimes) > layerRuntimesMax:
		return validationError(in.CompatibleRuntimes, "compatibleRuntimes", "Member must have length less than or equal to 15")
	case len(in.CompatibleArchitectures) > 2:
		return validationError(in.CompatibleArchitectures, "compatibleArchitectures", "Member must have length less than or equal to 2")
	}
	var violations []string
	for _, rt := range in.CompatibleRuntimes {
		// Lambda still accepts runtimes it has retired (nodejs14.x, java8,
		// go1.x, provided, ...), though its message lists only current ones.
		if _, ok := runtimes[rt]; !ok && !deprecated[rt] && !slices.Contains(awsRuntimes, rt) {
			violations = append(violations, violation(listValue(in.CompatibleRuntimes), "compatibleRuntimes", "Member must satisfy enum value set: "+listValue(awsRuntimes)))
			break
		}
	}
	for _, a := range in.CompatibleArchitectures {
		if a != "x86_64" && a != "arm64" {
			violations = append(violations, violation(listValue(in.CompatibleArchitectures), "compatibleArchitectures", architecturesConstraint))
			break
		}
	}
	if len(violations) > 0 {
		return validationErrors(violations...)
	}
	return nil
}

// PublishLayerVersion stores a new version of a layer, creating the layer
// with version 1.
func (s *Store) PublishLayerVersion(ctx context.Context, layer string, in LayerInput) (*LayerVersion, error) {
	name, err := ParseLayerName(layer)
	if err != nil {
		return nil, err
	}
	if err := checkLayerInput(&in); err != nil {
		return nil, err
	}
	pkg, err := ParsePackage(in.ZipFile, "")
	if err != nil {
		return nil, err
	}
	if err := s.code.put(ctx, pkg); err != nil {
		return nil, err
	}
	number, err := s.nextLayerVersion(ctx, name)
	if err != nil {
		return nil, err
	}
	arn := s.LayerArn(name)
	l := &LayerVersion{
		Content:                 LayerContent{CodeSha256: pkg.Sha256, CodeSize: int64(len(pkg.Zip))},
		LayerArn:                arn,
		LayerVersionArn:         arn + ":" + strconv.FormatInt(number, 10),
		Description:             in.Description,
		CreatedDate:             formatTime(time.Now().UTC()),
		Version:                 number,
		CompatibleRuntimes:      in.CompatibleRuntimes,
		LicenseInfo:             in.LicenseInfo,
		CompatibleArchitectures: in.CompatibleArchitectures,
		name:                    name,
	}
	data, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encode layer version %s: %w", l.LayerVersionArn, err)
	}
	key := qualifiedKey(name, strconv.FormatInt(number, 10))
	rev, err := s.layersKV.Create(ctx, key, data)
	if err != nil {
		return nil, fmt.Errorf("store layer version %s: %w", l.LayerVersionArn, err)
	}
	l.revision = rev
	s.layers.Apply(key, l, rev)
	return l, nil
}

// nextLayerVersion hands out the layer's next version number.
func (s *Store) nextLayerVersion(ctx context.Context, name string) (int64, error) {
	for attempt := 0; attempt < 10; attempt++ {
		e, err := s.layerNames.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err := s.layerNames.Create(ctx, name, []byte("1")); err == nil {
				return 1, nil
			} else if !isWrongRevision(err) {
				return 0, fmt.Errorf("number layer %s: %w", name, err)
			}
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("number layer %s: %w", name, err)
		}
		last, _ := strconv.ParseInt(string(e.Value()), 10, 64)
		next := last + 1
		if _, err := s.layerNames.Update(ctx, name, []byte(strconv.FormatInt(next, 10)), e.Revision()); err == nil {
			return next, nil
		} else if !isWrongRevision(err) {
			return 0, fmt.Errorf("number layer %s: %w", name, err)
		}
	}
	return 0, fault.New(fault.Conflict, "The layer %s is being published concurrently; try again.", name)
}

func errLayerVersionBelowOne() error {
	return fault.New(fault.InvalidParameter, "Layer Version Cannot be less than 1")
}

func errNoLayer() error {
	return fault.New(fault.NotFound, "The resource you requested does not exist.")
}

// GetLayerVersion returns one version of a layer.
func (s *Store) GetLayerVersion(layer string, version int64) (*LayerVersion, error) {
	name, err := ParseLayerName(layer)
	if err != nil {
		return nil, err
	}
	if version < 1 {
		return nil, errLayerVersionBelowOne()
	}
	l := s.layers.Get(qualifiedKey(name, strconv.FormatInt(version, 10)))
	if l == nil {
		return nil, errNoLayer()
	}
	return l, nil
}

// DeleteLayerVersion deletes one version of a layer; deleting one that
// does not exist succeeds, as on Lambda. Functions that use it keep it.
func (s *Store) DeleteLayerVersion(ctx context.Context, layer string, version int64) error {
	name, err := ParseLayerName(layer)
	if err != nil {
		return err
	}
	if version < 1 {
		return errLayerVersionBelowOne()
	}
	key := qualifiedKey(name, strconv.FormatInt(version, 10))
	return deleteEntry(ctx, s.layersKV, s.layers, key, s.layers.Get(key).rev())
}

// LayerFilter narrows layer listings to versions compatible with a
// runtime and architecture; empty fields match everything.
type LayerFilter struct {
	Runtime, Architecture string
}

func (f LayerFilter) match(l *LayerVersion) bool {
	return (f.Runtime == "" || slices.Contains(l.CompatibleRuntimes, f.Runtime)) &&
		(f.Architecture == "" || slices.Contains(l.CompatibleArchitectures, f.Architecture))
}

// LayerVersions returns the layer's versions that match f, newest first.
func (s *Store) LayerVersions(layer string, f LayerFilter) ([]*LayerVersion, error) {
	name, err := ParseLayerName(layer)
	if err != nil {
		return nil, err
	}
	var out []*LayerVersion
	for _, l := range s.layers.Values() {
		if l.name == name && f.match(l) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *LayerVersion) int { return int(b.Version - a.Version) })
	return out, nil
}

// Layers returns the newest version matching f of every layer, by name.
func (s *Store) Layers(f LayerFilter) []*LayerVersion {
	latest := map[string]*LayerVersion{}
	for _, l := range s.layers.Values() {
		if cur := latest[l.name]; f.match(l) && (cur == nil || l.Version > cur.Version) {
			latest[l.name] = l
		}
	}
	out := make([]*LayerVersion, 0, len(latest))
	for _, l := range latest {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *LayerVersion) int { return strings.Compare(a.name, b.name) })
	return out
}

// resolveLayers checks a function's Layers parameter and returns the
// configuration entries and the code of each layer, in order.
func (s *Store) resolveLayers(arns []string) ([]Layer, []string, error) {
	if len(arns) > layersMax {
		return nil, nil, fault.New(fault.InvalidParameter, "Cannot reference more than %d layers.", layersMax)
	}
	var layers []Layer
	var code []string
	seen := map[string]string{}
	for _, arn := range arns {
		name, version, err := ParseLayerVersionArn(arn)
		if err != nil {
			return nil, nil, validationError(listValue(arns), "layers", "Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "+layerVersionArnPatternText+", Member must not be null]")
		}
		if parts := strings.Split(arn, ":"); parts[3] != s.cfg.Region {
			return nil, nil, fault.New(fault.InvalidParameter, "Layers are not in the same region as the function. Layers are expected to be in region %s.", s.cfg.Region)
		}
		if other, ok := seen[name]; ok {
			return nil, nil, fault.New(fault.InvalidParameter, "Two different versions of the same layer are not allowed to be referenced in the same function. %s and %s are versions of the same layer.", other, arn)
		}
		seen[name] = arn
		l := s.layers.Get(qualifiedKey(name, strconv.FormatInt(version, 10)))
		if l == nil || !strings.HasPrefix(arn, layerVersionArnPrefix) || arn != l.LayerVersionArn {
			return nil, nil, fault.New(fault.InvalidParameter, "Layer version %s does not exist.", arn)
		}
		layers = append(layers, Layer{Arn: l.LayerVersionArn, CodeSize: l.Content.CodeSize})
		code = append(code, l.Content.CodeSha256)
	}
	return layers, code, nil
}

// LayerCode returns a layer version's zip.
func (s *Store) LayerCode(ctx context.Context, l *LayerVersion) ([]byte, error) {
	return s.code.get(ctx, l.Content.CodeSha256)
}

// OptDir returns the local directory holding the function's layers merged
// in order (a later layer's file replaces an earlier one's), or "" when
// the function has no layers.
func (s *Store) OptDir(ctx context.Context, r *Record) (string, error) {
	if len(r.LayerCode) == 0 {
		return "", nil
	}
	sum := sha256.Sum256([]byte(strings.Join(r.LayerCode, "\n")))
	return s.code.mergedDir(ctx, fmt.Sprintf("opt-%x", sum[:16]), r.LayerCode)
}
