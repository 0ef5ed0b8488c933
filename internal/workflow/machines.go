// Package workflow keeps Step Functions state machines and (later) runs
// their executions on the backbone. State machines live in a KV bucket
// with revision-checked updates and an in-memory index fed by a watch,
// like functions; definitions are validated by internal/states.
//
// Machines is safe for concurrent use.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/states"
)

// BucketMachines holds state machines by name.
const BucketMachines = "updraft_state_machines"

// State machine types.
const (
	Standard = "STANDARD"
	Express  = "EXPRESS"
)

// Machine is a stored state machine, with Step Functions' field names.
type Machine struct {
	Name                 string            `json:"name"`
	StateMachineArn      string            `json:"stateMachineArn"`
	Definition           string            `json:"definition"`
	RoleArn              string            `json:"roleArn"`
	Type                 string            `json:"type"`
	Status               string            `json:"status"`
	CreationDate         time.Time         `json:"creationDate"`
	UpdateDate           time.Time         `json:"updateDate"`
	RevisionID           string            `json:"revisionId"`
	LoggingConfiguration map[string]any    `json:"loggingConfiguration,omitempty"`
	TracingConfiguration map[string]any    `json:"tracingConfiguration,omitempty"`
	Tags                 map[string]string `json:"tags,omitempty"`

	revision uint64
	parsed   *states.Machine
}

// Parsed is the validated definition.
func (m *Machine) Parsed() *states.Machine { return m.parsed }

// Machines stores state machines.
type Machines struct {
	kv      jetstream.KeyValue
	region  string
	account string
	index   *backbone.Index[*Machine]
}

// NewMachines opens the bucket; Start loads the index.
func NewMachines(ctx context.Context, bb *backbone.Backbone, region, account string, log *slog.Logger) (*Machines, error) {
	kv, err := bb.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketMachines, History: 1})
	if err != nil {
		return nil, err
	}
	return &Machines{kv: kv, region: region, account: account, index: backbone.NewIndex(kv, decodeMachine, log)}, nil
}

// Start loads the index and keeps it current until Stop.
func (s *Machines) Start(ctx context.Context) error { return s.index.Start(ctx) }

// Stop ends the watch.
func (s *Machines) Stop(ctx context.Context) error { return s.index.Stop(ctx) }

func decodeMachine(name string, b []byte, revision uint64) (*Machine, error) {
	var m Machine
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode state machine %s: %w", name, err)
	}
	parsed, err := states.Parse([]byte(m.Definition))
	if err != nil {
		return nil, fmt.Errorf("parse state machine %s: %w", name, err)
	}
	m.parsed, m.revision = parsed, revision
	return &m, nil
}

// ARN is a state machine's ARN.
func (s *Machines) ARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.region, s.account, name)
}

var (
	namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,80}$`)
	rolePattern = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+$`)
)

// NameFromARN returns the name in a state machine ARN.
func (s *Machines) NameFromARN(arn string) (string, error) {
	if err := checkARN(arn, "stateMachine"); err != nil {
		return "", err
	}
	prefix := fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:", s.region, s.account)
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || strings.Contains(name, ":") || name == "" {
		// Another region, account or a qualified ARN: nothing of that name here.
		return "", fault.Typed(fault.NotFound, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return name, nil
}

// Get returns a state machine by ARN.
func (s *Machines) Get(arn string) (*Machine, error) {
	name, err := s.NameFromARN(arn)
	if err != nil {
		return nil, err
	}
	m := s.index.Get(name)
	if m == nil {
		return nil, fault.Typed(fault.NotFound, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return m, nil
}

// List returns the state machines by name.
func (s *Machines) List() []*Machine {
	out := s.index.Values()
	slices.SortFunc(out, func(a, b *Machine) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// CreateInput is what CreateStateMachine accepts.
type CreateInput struct {
	Name, Definition, RoleArn, Type string
	LoggingConfiguration            map[string]any
	TracingConfiguration            map[string]any
	Tags                            map[string]string
}

// Validate parses a definition, returning AWS's InvalidDefinition on error.
func Validate(definition string) (*states.Machine, error) {
	if definition == "" {
		return nil, fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value null at 'definition' failed to satisfy constraint: Member must not be null")
	}
	m, err := states.Parse([]byte(definition))
	if err != nil {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidDefinition", "%s", err.Error())
	}
	return m, nil
}

// ValidateFor is Validate for a machine of type typ: EXPRESS machines may
// not wait for task tokens, run .sync integrations or use activities.
func ValidateFor(definition, typ string) (*states.Machine, error) {
	m, err := Validate(definition)
	if err != nil || typ != Express {
		return m, err
	}
	if problems := states.ExpressProblems(m); len(problems) > 0 {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidDefinition", "%s", (&states.DefinitionError{Problems: problems}).Error())
	}
	return m, nil
}

// Create stores a new state machine. Creating one that exists with the
// same definition, role and type returns it, as Step Functions does.
func (s *Machines) Create(ctx context.Context, in CreateInput) (*Machine, error) {
	if !namePattern.MatchString(in.Name) {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidName", "Invalid Name: '%s'", in.Name)
	}
	if in.Type == "" {
		in.Type = Standard
	}
	if in.Type != Standard && in.Type != Express {
		return nil, fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", in.Type)
	}
	if !rolePattern.MatchString(in.RoleArn) {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", in.RoleArn)
	}
	parsed, err := ValidateFor(in.Definition, in.Type)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	m := &Machine{
		Name: in.Name, StateMachineArn: s.ARN(in.Name), Definition: in.Definition, RoleArn: in.RoleArn,
		Type: in.Type, Status: "ACTIVE", CreationDate: now, UpdateDate: now, RevisionID: function.NewUUID(),
		LoggingConfiguration: in.LoggingConfiguration, TracingConfiguration: in.TracingConfiguration, Tags: in.Tags,
		parsed: parsed,
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	rev, err := s.kv.Create(ctx, in.Name, data)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			if old, gerr := s.Get(s.ARN(in.Name)); gerr == nil && old.Definition == in.Definition && old.RoleArn == in.RoleArn && old.Type == in.Type {
				return old, nil
			}
			return nil, fault.Typed(fault.Conflict, "StateMachineAlreadyExists", "State Machine Already Exists: '%s'", s.ARN(in.Name))
		}
		return nil, fmt.Errorf("store state machine %s: %w", in.Name, err)
	}
	m.revision = rev
	s.index.Apply(in.Name, m, rev)
	return m, nil
}

// Update changes a state machine's definition and/or role.
func (s *Machines) Update(ctx context.Context, arn string, definition, roleArn *string) (*Machine, error) {
	cur, err := s.Get(arn)
	if err != nil {
		return nil, err
	}
	if definition == nil && roleArn == nil {
		return nil, fault.Typed(fault.InvalidRequest, "MissingRequiredParameter", "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")
	}
	next := *cur
	if definition != nil {
		parsed, err := ValidateFor(*definition, cur.Type)
		if err != nil {
			return nil, err
		}
		next.Definition, next.parsed = *definition, parsed
	}
	if roleArn != nil {
		if !rolePattern.MatchString(*roleArn) {
			return nil, fault.Typed(fault.InvalidParameter, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", *roleArn)
		}
		next.RoleArn = *roleArn
	}
	next.UpdateDate = time.Now().UTC()
	next.RevisionID = function.NewUUID()
	data, err := json.Marshal(&next)
	if err != nil {
		return nil, err
	}
	rev, err := s.kv.Update(ctx, cur.Name, data, cur.revision)
	if err != nil {
		return nil, fault.Typed(fault.Conflict, "ConflictException", "The state machine was changed concurrently; retry.")
	}
	next.revision = rev
	s.index.Apply(cur.Name, &next, rev)
	return &next, nil
}

// Delete removes a state machine. Deleting one that does not exist
// succeeds, as Step Functions does.
func (s *Machines) Delete(ctx context.Context, arn string) error {
	name, err := s.NameFromARN(arn)
	if err != nil {
		return err
	}
	e, err := s.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete state machine %s: %w", name, err)
	}
	if err := s.kv.Delete(ctx, name, jetstream.LastRevision(e.Revision())); err != nil {
		return fmt.Errorf("delete state machine %s: %w", name, err)
	}
	s.index.Apply(name, nil, e.Revision()+1)
	return nil
}
