package function

import "testing"

func TestRuntimeVersion(t *testing.T) {
	for runtime, want := range map[string]string{
		"python3.12":      "python:3.12.v1",
		"python3.9":       "python:3.9.v1",
		"nodejs22.x":      "nodejs:22.v1",
		"provided.al2023": "provided:al2023.v1",
		"provided.al2":    "provided:al2.v1",
		"java21":          "java:21.v1",
		"ruby3.3":         "ruby:3.3.v1",
		"dotnet8":         "dotnet:8.v1",
	} {
		if got := RuntimeVersion(runtime); got != want {
			t.Errorf("%s: got %q, want %q", runtime, got, want)
		}
	}
}
