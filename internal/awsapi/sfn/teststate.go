package sfn

import (
	"errors"
	"net/http"
	"strings"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/states"
)

// testState is TestState: run one state with an input (and variables, and
// optionally a mocked task result) and report its output, error and next
// state; inspectionLevel DEBUG or TRACE adds the data at each step.
func (a *API) testState(r *http.Request, body []byte) (any, error) {
	var in struct {
		Definition      string `json:"definition"`
		RoleArn         string `json:"roleArn"`
		Input           string `json:"input"`
		InspectionLevel string `json:"inspectionLevel"`
		RevealSecrets   bool   `json:"revealSecrets"`
		Variables       string `json:"variables"`
		StateName       string `json:"stateName"`
		Mock            *struct {
			Result      *string `json:"result"`
			ErrorOutput *struct {
				Error string `json:"error"`
				Cause string `json:"cause"`
			} `json:"errorOutput"`
			FieldValidationMode string `json:"fieldValidationMode"`
		} `json:"mock"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("definition", in.Definition); err != nil {
		return nil, err
	}
	switch in.InspectionLevel {
	case "", "INFO", "DEBUG", "TRACE":
	default:
		return nil, fault.New(fault.Validation, "1 validation error detected: Value '%s' at 'inspectionLevel' failed to satisfy constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]", in.InspectionLevel)
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	input, err := states.Decode([]byte(in.Input))
	if err != nil {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidExecutionInput", "Invalid State Machine Execution Input: '%v'", err)
	}
	if in.StateName == "" && strings.Contains(string(body), `"stateName"`) {
		return nil, fault.New(fault.Validation, "1 validation error detected: Value '' at 'stateName' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	req := states.TestStateRequest{Definition: []byte(in.Definition), StateName: in.StateName, Input: input,
		RoleArn: in.RoleArn, RevealSecrets: in.RevealSecrets}
	if in.Variables != "" {
		v, err := states.Decode([]byte(in.Variables))
		vars, isObj := v.(map[string]any)
		if err != nil || !isObj {
			return nil, fault.New(fault.Validation, "The variables must be a JSON object of variable names and values")
		}
		req.Variables = vars
	}
	if m := in.Mock; m != nil {
		switch {
		case m.Result != nil && m.ErrorOutput != nil:
			return nil, fault.New(fault.Validation, "A test mock should have only one of the following fields: [result, errorOutput].")
		case m.Result != nil:
			v, err := states.Decode([]byte(*m.Result))
			if err != nil {
				return nil, fault.New(fault.Validation, "Mocked result must be valid JSON")
			}
			req.Mock, req.MockResult = true, v
		case m.ErrorOutput != nil:
			req.Mock, req.MockError = true, &states.Error{Name: m.ErrorOutput.Error, Cause: m.ErrorOutput.Cause}
		default:
			return nil, fault.New(fault.Validation, "A test mock should have only one of the following fields: [result, errorOutput].")
		}
	}
	res, err := a.tasks.TestState(r.Context(), req)
	if err != nil {
		var de *states.DefinitionError
		if errors.As(err, &de) {
			return nil, fault.Typed(fault.InvalidParameter, "InvalidDefinition", "%v", err)
		}
		var ie *states.TestStateInputError
		if errors.As(err, &ie) {
			return nil, fault.New(fault.Validation, "%s", ie.Msg)
		}
		return nil, err
	}
	out := map[string]any{"status": res.Status}
	if res.Status == states.TestSucceeded || res.Status == states.TestCaughtError {
		out["output"] = states.Encode(res.Output)
	}
	if res.Err != nil {
		out["error"], out["cause"] = res.Err.Name, res.Err.Cause
	}
	if res.NextState != "" {
		out["nextState"] = res.NextState
	}
	if in.InspectionLevel == "DEBUG" || in.InspectionLevel == "TRACE" {
		data := map[string]any{"input": in.Input}
		for k, v := range res.Inspect {
			switch v := v.(type) {
			case int, float64:
				data[k] = v // maxConcurrency and the tolerated failure figures are numbers
			default:
				data[k] = states.Encode(v)
			}
		}
		details := map[string]any{}
		if res.RetryIndex >= 0 {
			details["retryIndex"] = res.RetryIndex
			details["retryBackoffIntervalSeconds"] = int(res.RetryBackoff)
		}
		if res.CatchIndex >= 0 {
			details["catchIndex"] = res.CatchIndex
		}
		if len(details) > 0 {
			data["errorDetails"] = details
		}
		out["inspectionData"] = data
	}
	return out, nil
}
