package states

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// passChain is a machine of n Pass states, each adding to the input.
func passChain(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt": "S0", "States": {`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		next := fmt.Sprintf(`"Next": "S%d"`, i+1)
		if i == n-1 {
			next = `"End": true`
		}
		fmt.Fprintf(&b, `"S%d": {"Type": "Pass", "Parameters": {"i": %d, "prev.$": "$.i"}, %s}`, i, i, next)
	}
	b.WriteString(`}}`)
	return b.String()
}

// BenchmarkExecution_Transitions measures pure interpreter state
// transitions (Pass states with Parameters), the ceiling for Express
// workflows.
func BenchmarkExecution_Transitions(b *testing.B) {
	m, err := Parse([]byte(passChain(100)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	transitions := 0
	start := time.Now()
	for b.Loop() {
		x, step := m.Start(Info{ExecutionID: "bench"}, map[string]any{"i": 0}, t0, Env{})
		if x.Status != Succeeded {
			b.Fatalf("status %s", x.Status)
		}
		transitions += step.Transitions
	}
	b.ReportMetric(float64(transitions)/time.Since(start).Seconds(), "transitions/s")
}

// BenchmarkExecution_Map10000 runs a Map over 10,000 items whose
// processor is a Pass state.
func BenchmarkExecution_Map10000(b *testing.B) {
	m, err := Parse([]byte(`{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
	  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}}}}}`))
	if err != nil {
		b.Fatal(err)
	}
	items := make([]any, 10000)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		x, _ := m.Start(Info{ExecutionID: "bench"}, items, t0, Env{})
		if x.Status != Succeeded || len(x.Output.([]any)) != 10000 {
			b.Fatalf("status %s", x.Status)
		}
	}
}

// BenchmarkExecution_JSONataTransitions is BenchmarkExecution_Transitions
// with JSONata Pass states that read the input and a variable and assign
// one: the cost of the JSONata layer per transition.
func BenchmarkExecution_JSONataTransitions(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"QueryLanguage": "JSONata", "StartAt": "S0", "States": {`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		next := fmt.Sprintf(`"Next": "S%d"`, i+1)
		if i == 99 {
			next = `"End": true`
		}
		fmt.Fprintf(&sb, `"S%d": {"Type": "Pass", "Output": {"i": %d, "prev": "{%% $states.input.i %%}"}, "Assign": {"last": "{%% $states.input.i %%}"}, %s}`, i, i, next)
	}
	sb.WriteString(`}}`)
	m, err := Parse([]byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	transitions := 0
	start := time.Now()
	for b.Loop() {
		x, step := m.Start(Info{ExecutionID: "bench"}, map[string]any{"i": 0}, t0, Env{})
		if x.Status != Succeeded {
			b.Fatalf("status %s: %v", x.Status, x.Err)
		}
		transitions += step.Transitions
	}
	b.ReportMetric(float64(transitions)/time.Since(start).Seconds(), "transitions/s")
}
