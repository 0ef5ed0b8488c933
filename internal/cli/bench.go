package cli

import (
	"context"
	"fmt"
)

func (e *env) bench(ctx context.Context, args []string) error {
	return fmt.Errorf("bench: not implemented yet")
}
