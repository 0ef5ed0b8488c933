// Package function keeps the functions users create: their configuration
// in a backbone KV bucket (revision-checked updates), their code in the
// backbone object store, and an in-memory index fed by a KV watch so any
// node answers lookups without a round trip.
//
// Store is the only writer of the functions bucket. It is safe for
// concurrent use; Get returns immutable snapshots.
package function

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/fault"
)

// Bucket names in the backbone.
const (
	BucketFunctions = "updraft_functions"
	BucketCode      = "updraft_code"
	// BucketVersions holds published versions, key "<function>.<number>".
	BucketVersions = "updraft_versions"
	// BucketAliases holds aliases, key "<function>.<alias>".
	BucketAliases = "updraft_aliases"
	// BucketProvisioned holds provisioned concurrency configs, key
	// "<function>.<version or alias>".
	BucketProvisioned = "updraft_provisioned"
	// BucketLayers holds layer versions, key "<layer>.<number>".
	BucketLayers = "updraft_layers"
	// BucketLayerNames holds each layer's last version number, key
	// "<layer>", so numbers are never reused.
	BucketLayerNames = "updraft_layer_names"
)

// Latest is the qualifier of the mutable version.
const Latest = "$LATEST"

// StoreConfig configures a Store.
type StoreConfig struct {
	// Region and Account make up ARNs. Defaults: us-east-1, 000000000000.
	Region  string
	Account string
	// CacheDir is where this node unpacks code. Required.
	CacheDir string
}

// Store creates, changes and finds functions, their versions, aliases,
// provisioned concurrency configs, and layers.
type Store struct {
	cfg   StoreConfig
	kv    jetstream.KeyValue
	code  *codeStore
	log   *slog.Logger
	index *backbone.Index[*Record]

	versionsKV    jetstream.KeyValue
	versions      *backbone.Index[*Record]
	aliasesKV     jetstream.KeyValue
	aliases       *backbone.Index[*Alias]
	provisionedKV jetstream.KeyValue
	provisioned   *backbone.Index[*ProvisionedConfig]
	layersKV      jetstream.KeyValue
	layers        *backbone.Index[*LayerVersion]
	layerNames    jetstream.KeyValue
}

// NewStore opens the buckets. Call Start to load the index.
func NewStore(ctx context.Context, bb *backbone.Backbone, cfg StoreConfig, log *slog.Logger) (*Store, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("function store config: CacheDir is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("create code cache: %w", err)
	}
	kv, err := bb.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketFunctions, History: 1})
	if err != nil {
		return nil, err
	}
	obj, err := bb.ObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: BucketCode})
	if err != nil {
		return nil, err
	}
	s := &Store{
		cfg:   cfg,
		kv:    kv,
		code:  &codeStore{obj: obj, dir: cfg.CacheDir, ready: map[string]*sync.Once{}, errs: map[string]error{}},
		log:   log,
		index: backbone.NewIndex(kv, decodeRecord, log),
	}
	buckets := []struct {
		name string
		kv   *jetstream.KeyValue
	}{
		{BucketVersions, &s.versionsKV}, {BucketAliases, &s.aliasesKV}, {BucketProvisioned, &s.provisionedKV},
		{BucketLayers, &s.layersKV}, {BucketLayerNames, &s.layerNames},
	}
	for _, b := range buckets {
		if *b.kv, err = bb.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: b.name, History: 1}); err != nil {
			return nil, err
		}
	}
	s.versions = backbone.NewIndex(s.versionsKV, decodeRecord, log)
	s.aliases = backbone.NewIndex(s.aliasesKV, decodeAlias, log)
	s.provisioned = backbone.NewIndex(s.provisionedKV, decodeProvisioned, log)
	s.layers = backbone.NewIndex(s.layersKV, decodeLayerVersion, log)
	return s, nil
}

func decodeRecord(name string, data []byte, revision uint64) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode function %s: %w", name, err)
	}
	r.revision = revision
	return &r, nil
}

// OnChange registers fn to be called whenever a function is created (old
// nil), changed, or deleted (new nil). Register before Start.
func (s *Store) OnChange(fn func(old, new *Record)) { s.index.OnChange(fn) }

// OnQualifiersChange registers fn to be called with a function's name
// whenever one of its versions, aliases or provisioned concurrency
// configs is created, changed or deleted. Register before Start.
func (s *Store) OnQualifiersChange(fn func(function string)) {
	s.versions.OnChange(func(old, new *Record) {
		if new != nil {
			fn(new.Config.FunctionName)
		} else if old != nil {
			fn(old.Config.FunctionName)
		}
	})
	s.aliases.OnChange(func(old, new *Alias) {
		if new != nil {
			fn(new.function)
		} else if old != nil {
			fn(old.function)
		}
	})
	s.provisioned.OnChange(func(old, new *ProvisionedConfig) {
		if new != nil {
			fn(new.function)
		} else if old != nil {
			fn(old.function)
		}
	})
}

type lifecycle interface {
	Start(context.Context) error
	Stop(context.Context) error
}

func (s *Store) indexes() []lifecycle {
	return []lifecycle{s.index, s.versions, s.aliases, s.provisioned, s.layers}
}

// Start loads the indexes and keeps them current until Stop.
func (s *Store) Start(ctx context.Context) error {
	for _, x := range s.indexes() {
		if err := x.Start(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Stop ends the watches.
func (s *Store) Stop(ctx context.Context) error {
	var errs []error
	for _, x := range s.indexes() {
		errs = append(errs, x.Stop(ctx))
	}
	return errors.Join(errs...)
}

// ARN is the function's unqualified ARN.
func (s *Store) ARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.cfg.Region, s.cfg.Account, name)
}

// Region is the region ARNs name.
func (s *Store) Region() string { return s.cfg.Region }

// Account is the account ARNs name.
func (s *Store) Account() string { return s.cfg.Account }

// Locate is the package function Locate in the store's region and account.
func (s *Store) Locate(fn, qualifier string) (string, string, error) {
	return Locate(fn, qualifier, s.cfg.Region, s.cfg.Account)
}

func (s *Store) notFound(name, qualifier string) error {
	arn := s.ARN(name)
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return fault.New(fault.NotFound, "Function not found: %s", arn)
}

// Get returns the record a qualifier names: $LATEST ("" or "$LATEST"), a
// published version, or the version an alias points to (its FunctionArn
// then names the alias). Routing weights are not applied; see Resolve.
func (s *Store) Get(name, qualifier string) (*Record, error) {
	r := s.index.Get(name)
	if r == nil {
		return nil, s.notFound(name, qualifier)
	}
	switch {
	case qualifier == "" || qualifier == Latest:
		return r, nil
	case IsVersion(qualifier):
		if v := s.versions.Get(qualifiedKey(name, qualifier)); v != nil {
			return v, nil
		}
	default:
		if a := s.aliases.Get(qualifiedKey(name, qualifier)); a != nil {
			v, err := s.Get(name, a.FunctionVersion)
			if err != nil {
				return nil, err
			}
			c := *v
			c.Config.FunctionArn = s.ARN(name) + ":" + qualifier
			return &c, nil
		}
	}
	return nil, s.notFound(name, qualifier)
}

// Resolve returns the record an invocation of qualifier runs: as Get,
// except that an alias with a routing config picks one of its versions
// by weight.
func (s *Store) Resolve(name, qualifier string) (*Record, error) {
	if qualifier == "" || qualifier == Latest || IsVersion(qualifier) {
		return s.Get(name, qualifier)
	}
	if s.index.Get(name) != nil {
		if a := s.aliases.Get(qualifiedKey(name, qualifier)); a != nil {
			return s.Get(name, a.pick())
		}
	}
	return nil, s.notFound(name, qualifier)
}

// List returns the functions in name order.
func (s *Store) List() []*Record {
	out := s.index.Values()
	slices.SortFunc(out, func(a, b *Record) int { return strings.Compare(a.Config.FunctionName, b.Config.FunctionName) })
	return out
}

// CodeDir returns the local directory holding the function's unpacked code.
func (s *Store) CodeDir(ctx context.Context, r *Record) (string, error) {
	return s.code.dirFor(ctx, r.Config.CodeSha256)
}

// Code returns the function's zip package.
func (s *Store) Code(ctx context.Context, r *Record) ([]byte, error) {
	return s.code.get(ctx, r.Config.CodeSha256)
}

// TotalCodeSize sums the code size of every function, published version
// and layer version, as Lambda counts it.
func (s *Store) TotalCodeSize() int64 {
	var n int64
	for _, r := range s.index.Values() {
		n += r.Config.CodeSize
	}
	for _, v := range s.versions.Values() {
		n += v.Config.CodeSize
	}
	for _, l := range s.layers.Values() {
		n += l.Content.CodeSize
	}
	return n
}

// CreateInput is what CreateFunction accepts.
type CreateInput struct {
	Config  Config
	ZipFile []byte
	Tags    map[string]string
	// Layers are layer version ARNs, in the order they are merged.
	Layers []string
}

// Create validates and stores a new function. Nothing is stored when
// validation fails.
func (s *Store) Create(ctx context.Context, in CreateInput) (*Record, error) {
	c := in.Config
	name, err := ValidateName(c.FunctionName)
	if err != nil {
		return nil, err
	}
	if _, _, region, _ := parseName(c.FunctionName); region != "" && region != s.cfg.Region {
		return nil, errOtherRegion(region, s.cfg.Region)
	}
	if err := CheckAccount(c.FunctionName, s.cfg.Account); err != nil {
		return nil, err
	}
	c.FunctionName = name
	defaults(&c)
	if err := checkConfig(&c); err != nil {
		return nil, err
	}
	if err := checkNewRuntime(c.Runtime); err != nil {
		return nil, err
	}
	if len(in.ZipFile) == 0 {
		return nil, fault.New(fault.InvalidParameter, "Please provide a source for function code.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	layers, layerCode, err := s.resolveLayers(in.Layers)
	if err != nil {
		return nil, err
	}
	c.Layers = layers
	pkg, err := ParsePackage(in.ZipFile, c.Runtime)
	if err != nil {
		return nil, err
	}
	if err := s.code.put(ctx, pkg); err != nil {
		return nil, err
	}
	if s.index.Get(name) == nil {
		// Versions and aliases a crash left behind while deleting a
		// function of this name must not come back with the new one.
		if err := s.purgeQualifiers(ctx, name); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	c.FunctionArn = s.ARN(name)
	c.CodeSha256 = pkg.Sha256
	c.CodeSize = int64(len(pkg.Zip))
	c.Version = Latest
	c.LastModified = formatTime(now)
	c.RevisionId = newRevisionID()
	r := &Record{Config: c, Tags: in.Tags, Created: now, LayerCode: layerCode}
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode function %s: %w", name, err)
	}
	rev, err := s.kv.Create(ctx, name, data)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fault.New(fault.Conflict, "Function already exist: %s", name)
		}
		return nil, fmt.Errorf("store function %s: %w", name, err)
	}
	r.revision = rev
	s.index.Apply(name, r, rev)
	return r, nil
}

// Update applies change to the current record of function name and stores
// it with a revision check, retrying when another writer won the race.
// expectRevisionID, when set, must equal the current RevisionId. The
// function gets a new RevisionId and LastModified, so its environments are
// replaced.
func (s *Store) Update(ctx context.Context, name, expectRevisionID string, change func(*Record) error) (*Record, error) {
	return s.update(ctx, name, expectRevisionID, true, change)
}

// updateSettings changes settings kept beside the function (concurrency,
// async config): the configuration's RevisionId stays, so warm
// environments stay too.
func (s *Store) updateSettings(ctx context.Context, name string, change func(*Record) error) (*Record, error) {
	return s.update(ctx, name, "", false, change)
}

func (s *Store) update(ctx context.Context, name, expectRevisionID string, touch bool, change func(*Record) error) (*Record, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.read(ctx, name)
		if err != nil {
			return nil, err
		}
		if expectRevisionID != "" && cur.Config.RevisionId != expectRevisionID {
			return nil, fault.New(fault.PreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
		}
		next := cur.clone()
		if err := change(next); err != nil {
			return nil, err
		}
		if touch {
			next.Config.RevisionId = newRevisionID()
			next.Runs = ""
			next.Config.LastModified = formatTime(time.Now().UTC())
		}
		data, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("encode function %s: %w", name, err)
		}
		rev, err := s.kv.Update(ctx, name, data, cur.revision)
		if err != nil {
			if isWrongRevision(err) && attempt < 10 {
				continue
			}
			return nil, fmt.Errorf("store function %s: %w", name, err)
		}
		next.revision = rev
		s.index.Apply(name, next, rev)
		return next, nil
	}
}

// read fetches the record from the bucket (not the index) so updates
// start from the latest revision.
func (s *Store) read(ctx context.Context, name string) (*Record, error) {
	if !isPlainName(name) {
		return nil, s.notFound(name, "") // no function has such a name
	}
	e, err := s.kv.Get(ctx, name)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, s.notFound(name, "")
		}
		return nil, fmt.Errorf("load function %s: %w", name, err)
	}
	return decodeRecord(name, e.Value(), e.Revision())
}

func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}

// UpdateCode replaces the function's code.
func (s *Store) UpdateCode(ctx context.Context, name, revisionID string, zipFile []byte) (*Record, error) {
	if len(zipFile) == 0 {
		return nil, fault.New(fault.InvalidParameter, "Please provide a source for function code.")
	}
	cur, err := s.Get(name, "")
	if err != nil {
		return nil, err
	}
	pkg, err := ParsePackage(zipFile, cur.Config.Runtime)
	if err != nil {
		return nil, err
	}
	if err := s.code.put(ctx, pkg); err != nil {
		return nil, err
	}
	return s.Update(ctx, name, revisionID, func(r *Record) error {
		if RuntimeFamily(r.Config.Runtime) == "provided" {
			if _, err := ParsePackage(zipFile, r.Config.Runtime); err != nil {
				return err
			}
		}
		r.Config.CodeSha256 = pkg.Sha256
		r.Config.CodeSize = int64(len(pkg.Zip))
		return nil
	})
}

// ConfigUpdate lists the fields UpdateFunctionConfiguration may change;
// nil fields stay as they are.
type ConfigUpdate struct {
	Role             *string
	Handler          *string
	Description      *string
	Timeout          *int
	MemorySize       *int
	Runtime          *string
	Environment      *Environment
	EphemeralStorage *EphemeralStorage
	TracingConfig    *TracingConfig
	LoggingConfig    *LoggingConfig
	// Layers, when set, replaces the layers (an empty list removes them).
	Layers *[]string
	// CapacityProviderConfig, when set, replaces the Lambda Managed
	// Instances settings; one without LambdaManagedInstancesCapacityProviderConfig
	// is refused.
	CapacityProviderConfig *CapacityProviderConfig
}

// UpdateConfig changes the function's configuration.
func (s *Store) UpdateConfig(ctx context.Context, name, revisionID string, u ConfigUpdate) (*Record, error) {
	var layers []Layer
	var layerCode []string
	if u.Layers != nil {
		var err error
		if layers, layerCode, err = s.resolveLayers(*u.Layers); err != nil {
			return nil, err
		}
	}
	return s.Update(ctx, name, revisionID, func(r *Record) error {
		if u.Layers != nil {
			r.Config.Layers, r.LayerCode = layers, layerCode
		}
		c := &r.Config
		if u.Role != nil {
			c.Role = *u.Role
		}
		if u.Handler != nil {
			c.Handler = *u.Handler
		}
		if u.Description != nil {
			c.Description = *u.Description
		}
		if u.Timeout != nil {
			c.Timeout = *u.Timeout
		}
		if u.MemorySize != nil {
			c.MemorySize = *u.MemorySize
		}
		if u.Runtime != nil {
			if err := checkNewRuntime(*u.Runtime); err != nil {
				return err
			}
			c.Runtime = *u.Runtime
		}
		if u.Environment != nil {
			// An empty map stays: Lambda then returns {"Variables":{}}.
			c.Environment = u.Environment
		}
		if u.EphemeralStorage != nil {
			c.EphemeralStorage = *u.EphemeralStorage
		}
		if u.TracingConfig != nil && u.TracingConfig.Mode != "" {
			c.TracingConfig = *u.TracingConfig
		}
		if u.CapacityProviderConfig != nil {
			c.CapacityProviderConfig = u.CapacityProviderConfig
		}
		if u.LoggingConfig != nil {
			if u.LoggingConfig.LogFormat != "" {
				c.LoggingConfig.LogFormat = u.LoggingConfig.LogFormat
			}
			if u.LoggingConfig.LogGroup != "" {
				c.LoggingConfig.LogGroup = u.LoggingConfig.LogGroup
			}
			if u.LoggingConfig.ApplicationLogLevel != "" {
				c.LoggingConfig.ApplicationLogLevel = u.LoggingConfig.ApplicationLogLevel
			}
			if u.LoggingConfig.SystemLogLevel != "" {
				c.LoggingConfig.SystemLogLevel = u.LoggingConfig.SystemLogLevel
			}
		}
		return checkConfig(c)
	})
}

// Delete removes a function with its versions, aliases and provisioned
// concurrency configs, or with a version qualifier only that version;
// a version that is not there is no error, as on Lambda (nil record).
func (s *Store) Delete(ctx context.Context, name, qualifier string) (*Record, error) {
	// Lambda judges the qualifier before it looks for the function.
	switch {
	case qualifier == Latest:
		return nil, fault.New(fault.InvalidParameter, "$LATEST version cannot be deleted without deleting the function.")
	case IsAliasName(qualifier):
		return nil, fault.New(fault.InvalidParameter, "Deletion of aliases is not currently supported.")
	}
	r, err := s.read(ctx, name)
	if err != nil {
		return nil, err
	}
	if qualifier != "" {
		v := s.versions.Get(qualifiedKey(name, qualifier))
		if v == nil {
			return nil, nil // Lambda answers 204 for a version that is not there
		}
		return v, s.deleteVersion(ctx, name, qualifier)
	}
	if err := s.kv.Delete(ctx, name, jetstream.LastRevision(r.revision)); err != nil {
		if isWrongRevision(err) {
			return nil, fault.New(fault.Conflict, "The function %s is being modified; try again.", name)
		}
		return nil, fmt.Errorf("delete function %s: %w", name, err)
	}
	s.index.Apply(name, nil, r.revision+1)
	if err := s.purgeQualifiers(ctx, name); err != nil {
		return nil, err
	}
	return r, nil
}

func defaults(c *Config) {
	if c.MemorySize == 0 {
		c.MemorySize = MemoryDefault
	}
	if c.Timeout == 0 {
		c.Timeout = TimeoutDefault
	}
	if c.EphemeralStorage.Size == 0 {
		c.EphemeralStorage.Size = EphemeralDefault
	}
	if len(c.Architectures) == 0 {
		c.Architectures = []string{"x86_64"}
	}
	if c.TracingConfig.Mode == "" {
		c.TracingConfig.Mode = "PassThrough"
	}
	if c.LoggingConfig.LogFormat == "" {
		c.LoggingConfig.LogFormat = "Text"
	}
	if c.LoggingConfig.LogGroup == "" {
		c.LoggingConfig.LogGroup = "/aws/lambda/" + c.FunctionName
	}
	if c.PackageType == "" {
		c.PackageType = "Zip"
	}
	c.State = "Active"
	c.LastUpdateStatus = "Successful"
}

func checkConfig(c *Config) error {
	if c.PackageType != "Zip" {
		return fault.New(fault.InvalidParameter, "PackageType %s is not supported; use Zip.", c.PackageType)
	}
	if err := checkRole(c.Role); err != nil {
		return err
	}
	if err := checkRuntime(c.Runtime, c.Handler); err != nil {
		return err
	}
	if err := checkSizes(c.MemorySize, c.Timeout, c.EphemeralStorage.Size); err != nil {
		return err
	}
	if len(c.Description) > 256 {
		return fault.New(fault.Validation, "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	if c.TracingConfig.Mode != "PassThrough" && c.TracingConfig.Mode != "Active" {
		return fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]", c.TracingConfig.Mode)
	}
	if c.LoggingConfig.LogFormat != "Text" && c.LoggingConfig.LogFormat != "JSON" {
		return fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'loggingConfig.logFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, Text]", c.LoggingConfig.LogFormat)
	}
	if err := settleLogLevels(&c.LoggingConfig); err != nil {
		return err
	}
	if err := checkArchitectures(c.Architectures); err != nil {
		return err
	}
	if err := checkTenancy(c.TenancyConfig); err != nil {
		return err
	}
	if err := checkCapacityProvider(c.CapacityProviderConfig); err != nil {
		return err
	}
	return checkEnvironment(c.Environment)
}

// settleLogLevels checks the log levels and applies Lambda's rule: JSON
// logs have both levels, INFO unless set; text logs have none, so
// switching to Text drops them.
func settleLogLevels(l *LoggingConfig) error {
	if v := l.ApplicationLogLevel; v != "" && !slices.Contains(applicationLogLevels, v) {
		return fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'loggingConfig.applicationLogLevel' failed to satisfy constraint: Member must satisfy enum value set: %s", v, listValue(applicationLogLevels))
	}
	if v := l.SystemLogLevel; v != "" && !slices.Contains(systemLogLevels, v) {
		return fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'loggingConfig.systemLogLevel' failed to satisfy constraint: Member must satisfy enum value set: %s", v, listValue(systemLogLevels))
	}
	if l.LogFormat != "JSON" {
		l.ApplicationLogLevel, l.SystemLogLevel = "", ""
		return nil
	}
	if l.ApplicationLogLevel == "" {
		l.ApplicationLogLevel = "INFO"
	}
	if l.SystemLogLevel == "" {
		l.SystemLogLevel = "INFO"
	}
	return nil
}

var (
	applicationLogLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	systemLogLevels      = []string{"DEBUG", "INFO", "WARN"}
)

// formatTime renders a time as Lambda's LastModified.
func formatTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000-0700") }

func newRevisionID() string { return NewUUID() }

// NewUUID returns a random (version 4) UUID string.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
