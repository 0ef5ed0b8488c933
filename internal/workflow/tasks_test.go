package workflow

import (
	"errors"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/fault"
)

func TestLambdaError(t *testing.T) {
	tests := []struct {
		err   error
		name  string
		cause string
	}{
		{fault.New(fault.NotFound, "Function not found: x"), "Lambda.ResourceNotFoundException", "Function not found: x"},
		{fault.New(fault.Throttled, "Rate exceeded"), "Lambda.TooManyRequestsException", "Rate exceeded"},
		{&fault.Error{Kind: fault.AccessDenied, Untyped: true}, "Lambda.AWSLambdaException", "Error Code: AccessDeniedException"},
		{fault.New(fault.Conflict, "busy"), "Lambda.ServiceException", "busy"},
		{errors.New("disk on fire"), "Lambda.ServiceException", "An internal error occurred."},
	}
	for _, tt := range tests {
		got := lambdaError(tt.err)
		if got.Name != tt.name || !strings.Contains(got.Cause, tt.cause) {
			t.Errorf("lambdaError(%v): got %s %q, want %s containing %q", tt.err, got.Name, got.Cause, tt.name, tt.cause)
		}
	}
}
