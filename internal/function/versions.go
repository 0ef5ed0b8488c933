package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/fault"
)

// A version is an immutable copy of $LATEST's configuration and code,
// numbered from 1 per function and stored as a Record in BucketVersions
// under "<function>.<number>". Numbers are never reused: the function's
// record keeps the last one handed out.

// IsVersion reports whether q names a published version (digits only).
func IsVersion(q string) bool {
	if q == "" || len(q) > 10 {
		return false
	}
	for i := 0; i < len(q); i++ {
		if q[i] < '0' || q[i] > '9' {
			return false
		}
	}
	return true
}

func qualifiedKey(name, qualifier string) string { return name + "." + qualifier }

// errUnchanged ends a publish whose $LATEST has not changed since the last
// version.
var errUnchanged = errors.New("unchanged since the last version")

// PublishVersion publishes $LATEST as a new version. codeSha256 and
// revisionID, when set, must match $LATEST. When nothing changed since the
// last version (and that version still exists), that version is returned
// as it is, whatever description is given, as Lambda does.
func (s *Store) PublishVersion(ctx context.Context, name, codeSha256, description, revisionID string) (*Record, error) {
	if len(description) > 256 {
		return nil, validationError(description, "description", "Member must have length less than or equal to 256")
	}
	var same *Record
	var number int
	fn, err := s.update(ctx, name, revisionID, false, func(r *Record) error {
		if codeSha256 != "" && codeSha256 != r.Config.CodeSha256 {
			return fault.New(fault.InvalidParameter, "CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", codeSha256, r.Config.CodeSha256)
		}
		if r.LastVersion > 0 && r.Published == r.Config.RevisionId {
			last := s.versions.Get(qualifiedKey(name, strconv.Itoa(r.LastVersion)))
			if last != nil {
				same = last
				return errUnchanged
			}
		}
		r.LastVersion++
		// Lambda gives $LATEST a new RevisionId when it publishes it, so
		// the one read before no longer passes a revision check; what its
		// environments run is unchanged.
		r.Runs = r.EnvRevision()
		r.Config.RevisionId = newRevisionID()
		r.Published = r.Config.RevisionId
		number = r.LastVersion
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return same, nil
	}
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	v := fn.clone()
	v.Tags, v.ReservedConcurrency, v.EventInvoke, v.QualifiedEventInvoke = nil, nil, nil, nil
	v.LastVersion, v.Published, v.Runs = 0, "", ""
	v.Created = now
	q := strconv.Itoa(number)
	v.Config.Version = q
	v.Config.FunctionArn = s.ARN(name) + ":" + q
	v.Config.RevisionId = newRevisionID()
	v.Config.LastModified = formatTime(now)
	if description != "" {
		v.Config.Description = description
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode version %s:%s: %w", name, q, err)
	}
	key := qualifiedKey(name, q)
	rev, err := s.versionsKV.Create(ctx, key, data)
	if err != nil {
		return nil, fmt.Errorf("store version %s:%s: %w", name, q, err)
	}
	v.revision = rev
	s.versions.Apply(key, v, rev)
	return v, nil
}

// Versions returns $LATEST followed by the function's published versions
// in ascending order.
func (s *Store) Versions(name string) ([]*Record, error) {
	fn, err := s.Get(name, "")
	if err != nil {
		return nil, err
	}
	out := []*Record{fn}
	return append(out, s.versionsOf(name)...), nil
}

// versionsOf returns the function's published versions in ascending order.
func (s *Store) versionsOf(name string) []*Record {
	var out []*Record
	for _, v := range s.versions.Values() {
		if v.Config.FunctionName == name {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *Record) int {
		x, _ := strconv.Atoi(a.Config.Version)
		y, _ := strconv.Atoi(b.Config.Version)
		return x - y
	})
	return out
}

// deleteVersion removes a published version, and the provisioned
// concurrency config on it. A version an alias points to stays.
func (s *Store) deleteVersion(ctx context.Context, name, version string) error {
	key := qualifiedKey(name, version)
	v := s.versions.Get(key)
	if v == nil {
		return s.notFound(name, version)
	}
	var users []string
	for _, a := range s.aliasesOf(name) {
		if a.FunctionVersion == version || a.weight(version) >= 0 {
			users = append(users, a.Name)
		}
	}
	if len(users) > 0 {
		return fault.New(fault.Conflict, "Unable to delete version because the following aliases reference it: [%s]", strings.Join(users, ", "))
	}
	if err := deleteEntry(ctx, s.provisionedKV, s.provisioned, key, s.provisioned.Get(key).rev()); err != nil {
		return err
	}
	if err := s.dropEventInvoke(ctx, name, version); err != nil {
		return err
	}
	return deleteEntry(ctx, s.versionsKV, s.versions, key, v.revision)
}

// revisioned is a stored value that knows its bucket revision.
type revisioned interface {
	comparable
	rev() uint64
}

func (r *Record) rev() uint64 {
	if r == nil {
		return 0
	}
	return r.revision
}

// deleteEntry deletes key when revision is non-zero (the key exists as of
// that revision) and removes it from the index.
func deleteEntry[T revisioned](ctx context.Context, kv jetstream.KeyValue, x *backbone.Index[T], key string, revision uint64) error {
	if revision == 0 {
		return nil
	}
	if err := kv.Delete(ctx, key, jetstream.LastRevision(revision)); err != nil {
		if isWrongRevision(err) {
			return fault.New(fault.Conflict, "The resource %s is being modified; try again.", key)
		}
		return fmt.Errorf("delete %s: %w", key, err)
	}
	var zero T
	x.Apply(key, zero, revision+1)
	return nil
}

// purgeQualifiers deletes every version, alias and provisioned
// concurrency config of a function that is gone (or never was).
func (s *Store) purgeQualifiers(ctx context.Context, name string) error {
	for _, kv := range []jetstream.KeyValue{s.provisionedKV, s.aliasesKV, s.versionsKV} {
		keys, err := kv.ListKeysFiltered(ctx, name+".>")
		if err != nil {
			return fmt.Errorf("list %s of %s: %w", kv.Bucket(), name, err)
		}
		var all []string
		for key := range keys.Keys() {
			all = append(all, key)
		}
		for _, key := range all {
			if err := kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				return fmt.Errorf("delete %s: %w", key, err)
			}
		}
	}
	// The writer's own indexes forget at once; watches tell other nodes.
	for _, v := range s.versionsOf(name) {
		s.versions.Apply(qualifiedKey(name, v.Config.Version), nil, v.revision+1)
	}
	for _, a := range s.aliasesOf(name) {
		s.aliases.Apply(qualifiedKey(name, a.Name), nil, a.revision+1)
	}
	for _, p := range s.provisionedOf(name) {
		s.provisioned.Apply(qualifiedKey(name, p.qualifier), nil, p.revision+1)
	}
	return nil
}
