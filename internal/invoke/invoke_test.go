package invoke

import (
	"testing"

	"github.com/updraft/updraft/internal/fault"
)

func TestCheckPayload(t *testing.T) {
	const prefix = "Could not parse request body into json: Could not parse payload into json: "
	const source = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		// What the aws CLI v2 sends for an inline JSON payload without
		// --cli-binary-format raw-in-base64-out: base64-decoded JSON.
		{"stray continuation byte", []byte("t\x9bz\xa9q{\x01"), prefix + "Invalid UTF-8 start byte 0x9b" + source + "line: 1, column: 3]"},
		{"control character first", []byte("\x85\x17n"), prefix + "Unexpected character ((CTRL-CHAR, code 133)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')" + source + "line: 1, column: 1]"},
		{"second line", []byte("{\n \"a\": \"\xff\"}"), prefix + "Invalid UTF-8 start byte 0xff" + source + "line: 2, column: 9]"},
		{"truncated sequence", []byte("\"\xe2\x82\""), prefix + "Invalid UTF-8 middle byte 0x22" + source + "line: 1, column: 5]"},
		{"not JSON", []byte("{oops"), prefix + "Unexpected character: was expecting a JSON value"},
	}
	for _, tt := range tests {
		_, err := checkPayload(tt.payload, SyncPayloadMax, "Invoke")
		f := fault.As(err)
		if f == nil || f.Kind != fault.InvalidRequest || f.Message != tt.want {
			t.Errorf("%s: checkPayload(%q): got %v, want InvalidRequest %q", tt.name, tt.payload, err, tt.want)
		}
	}
	for _, ok := range []string{"{}", `"héllo"`, " [1, 2]\n", "null"} {
		if _, err := checkPayload([]byte(ok), SyncPayloadMax, "Invoke"); err != nil {
			t.Errorf("checkPayload(%q): got %v, want nil", ok, err)
		}
	}
}
