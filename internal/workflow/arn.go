package workflow

import (
	"strings"

	"github.com/updraft/updraft/internal/fault"
)

// checkARN refuses an ARN that is not a Step Functions ARN of resource
// type want, with AWS's InvalidArn messages: "Invalid ARN prefix: x" for
// what is not an ARN at all, "Resource type not valid in this context:
// t" for another kind of resource.
func checkARN(arn, want string) error {
	if !strings.HasPrefix(arn, "arn:") {
		return fault.Typed(fault.InvalidParameter, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %s'", arn)
	}
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[2] != "states" {
		return fault.Typed(fault.InvalidParameter, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	if parts[5] != want {
		return fault.Typed(fault.InvalidParameter, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", parts[5])
	}
	return nil
}
