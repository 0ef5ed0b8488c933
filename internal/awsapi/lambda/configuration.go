package lambda

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/updraft/updraft/internal/function"
)

// configuration is a FunctionConfiguration as Lambda returns it: the
// stored configuration with the fields Lambda derives for each operation.
// Fields declared here shadow the embedded Config's of the same name.
type configuration struct {
	function.Config
	State                      string                `json:"State,omitempty"`
	StateReason                string                `json:"StateReason,omitempty"`
	StateReasonCode            string                `json:"StateReasonCode,omitempty"`
	LastUpdateStatus           string                `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string                `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string                `json:"LastUpdateStatusReasonCode,omitempty"`
	SnapStart                  snapStart             `json:"SnapStart"`
	RuntimeVersionConfig       *runtimeVersionConfig `json:"RuntimeVersionConfig,omitempty"`
}

// snapStart is SnapStartResponse. Updraft has no SnapStart, so it is
// always Lambda's default.
type snapStart struct {
	ApplyOn            string `json:"ApplyOn"`
	OptimizationStatus string `json:"OptimizationStatus"`
}

type runtimeVersionConfig struct {
	RuntimeVersionArn string `json:"RuntimeVersionArn"`
}

// Lambda reports a function it has just created, or a version it has
// just published with it, as Pending, and a function it has just changed
// as InProgress, for the same reason. Updraft's changes take effect at
// once, so the next read already says Active and Successful, as Lambda's
// does once it is done.
const (
	reasonCreating     = "The function is being created."
	reasonCodeCreating = "Creating"
)

// phase says which operation a configuration answers, since Lambda's
// State fields differ between them.
type phase int

const (
	phaseRead    phase = iota // Get*, PublishVersion: the stored state
	phaseCreated              // CreateFunction, or a version published with it: Pending
	phaseUpdated              // UpdateFunctionConfiguration/Code: InProgress
	phaseListed               // ListFunctions, ListVersionsByFunction: no state at all
)

// view renders c for an operation in phase p.
func (a *API) view(c function.Config, p phase) configuration {
	out := configuration{
		Config:    c,
		SnapStart: snapStart{ApplyOn: "None", OptimizationStatus: "Off"},
	}
	switch p {
	case phaseRead:
		out.State, out.LastUpdateStatus = c.State, c.LastUpdateStatus
	case phaseCreated:
		out.State, out.StateReason, out.StateReasonCode = "Pending", reasonCreating, reasonCodeCreating
		out.RevisionId = transitionRevision(c.RevisionId)
	case phaseUpdated:
		out.State, out.LastUpdateStatus = c.State, "InProgress"
		out.LastUpdateStatusReason, out.LastUpdateStatusReasonCode = reasonCreating, reasonCodeCreating
		out.RevisionId = transitionRevision(c.RevisionId)
	case phaseListed:
		return out
	}
	if c.Runtime != "" {
		out.RuntimeVersionConfig = &runtimeVersionConfig{RuntimeVersionArn: a.runtimeVersionARN(c.Runtime)}
	}
	return out
}

// transitionRevision is the RevisionId of a configuration still Pending or
// InProgress. Lambda gives a function a new RevisionId when it becomes
// Active or its update Successful, so the one a create or update answers
// with is never the one the next read shows (and no longer passes a
// revision check). Updraft's changes are done at once; it answers with
// an id derived from the stored one, which it never stores.
func transitionRevision(stored string) string {
	sum := sha256.Sum256([]byte("updraft transition " + stored))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// runtimeVersionARN names the runtime version a function runs
// (function.RuntimeVersionARN).
func (a *API) runtimeVersionARN(runtime string) string {
	return function.RuntimeVersionARN(a.store.Region(), runtime)
}

// views renders every configuration of a listing.
func (a *API) views(rs []function.Config) []configuration {
	out := make([]configuration, 0, len(rs))
	for _, c := range rs {
		out = append(out, a.view(c, phaseListed))
	}
	return out
}
