package workflow

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/states"
)

// PayloadMax is the most bytes (UTF-8) an execution's input, a state's
// input or output, or a task's result may have: Step Functions' 256 KiB
// quota, a hard limit on AWS.
const PayloadMax = 256 << 10

// NameMax is the longest name, in characters, an execution may have.
const NameMax = 80

// CheckExecutionName applies Step Functions' rules for execution names:
// 1 to 80 characters, none of them white space, a bracket (< > { } [ ]),
// a wildcard (? *), one of " # % \ ^ | ~ ` $ & , ; : / or a control
// character. Other non-ASCII characters are allowed, as on AWS.
func CheckExecutionName(name string) error {
	n := utf8.RuneCountInString(name)
	if n > NameMax {
		return fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must have length less than or equal to %d", name, NameMax)
	}
	if n == 0 || !utf8.ValidString(name) || strings.IndexFunc(name, badNameRune) >= 0 {
		return fault.Typed(fault.InvalidParameter, "InvalidName", "Invalid Name: '%s'", name)
	}
	return nil
}

func badNameRune(r rune) bool {
	switch {
	case r <= 0x20, r >= 0x7f && r <= 0xa0, r == 0x1680, r >= 0x2000 && r <= 0x200a,
		r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000, r == 0xfeff:
		return true // control characters and white space
	}
	return strings.ContainsRune(`<>{}[]?*"#%\^|~`+"`"+`$&,;:/`, r)
}

// CheckInput refuses an execution input larger than PayloadMax, with
// the error StartExecution gives on AWS.
func CheckInput(input []byte) error {
	if len(input) > PayloadMax {
		return fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to %d", PayloadMax)
	}
	return nil
}

// dataLimit is the error a Task state gets when its resource returned
// more than PayloadMax bytes. States.DataLimitExceeded is terminal: no
// Retry or Catch (not even one naming it) handles it.
func dataLimit(resource string) *states.Error {
	return &states.Error{Name: states.ErrDataLimitExceeded,
		Cause: "The state/task '" + resource + "' returned a result with a size exceeding the maximum number of bytes service limit."}
}

// subjectToken is a name as one token of a backbone subject. Names made
// only of letters, digits, '_' and '-' are used as they are; any other
// name (AWS allows '.', non-ASCII letters, …) is '=' followed by its
// base64url encoding, which no plain name can start with.
func subjectToken(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "=" + base64.RawURLEncoding.EncodeToString([]byte(name))
		}
	}
	return name
}

// nameFromToken reverses subjectToken.
func nameFromToken(tok string) (string, bool) {
	enc, ok := strings.CutPrefix(tok, "=")
	if !ok {
		return tok, tok != ""
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	return string(b), err == nil
}
