package function

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// RuntimeVersion names the version of runtime that Updraft runs, in the
// form Lambda's INIT_START log line gives it ("python:3.12.v1",
// "nodejs:22.v1", "provided:al2023.v1"). Updraft runs one version of
// each runtime: v1.
func RuntimeVersion(runtime string) string {
	i := strings.IndexAny(runtime, "0123456789.")
	if i <= 0 {
		return runtime + ".v1"
	}
	release := strings.TrimSuffix(strings.TrimPrefix(runtime[i:], "."), ".x")
	return runtime[:i] + ":" + release + ".v1"
}

// RuntimeVersionARN names the runtime version a function runs, in
// Lambda's form (arn:aws:lambda:<region>::runtime:<64 hex digits>); the
// digits are a digest of the runtime's name.
func RuntimeVersionARN(region, runtime string) string {
	sum := sha256.Sum256([]byte("updraft runtime " + runtime))
	return "arn:aws:lambda:" + region + "::runtime:" + hex.EncodeToString(sum[:])
}
