package bench

import (
	"slices"
	"time"
)

// Latency summarises a set of request-to-response times.
type Latency struct {
	N    int           `json:"n"`
	Mean time.Duration `json:"meanNs"`
	P50  time.Duration `json:"p50Ns"`
	P90  time.Duration `json:"p90Ns"`
	P99  time.Duration `json:"p99Ns"`
	Max  time.Duration `json:"maxNs"`
}

// summarize sorts samples and returns their summary; percentiles are
// nearest-rank.
func summarize(samples []time.Duration) Latency {
	l := Latency{N: len(samples)}
	if len(samples) == 0 {
		return l
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	l.Mean = sum / time.Duration(len(samples))
	l.P50 = percentile(samples, 50)
	l.P90 = percentile(samples, 90)
	l.P99 = percentile(samples, 99)
	l.Max = samples[len(samples)-1]
	return l
}

// percentile returns the nearest-rank p-th percentile of sorted samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
