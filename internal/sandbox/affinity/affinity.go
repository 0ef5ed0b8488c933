// Package affinity chooses the CPUs an execution environment runs on.
//
// Lambda gives a function CPU in proportion to its memory: the equivalent
// of one vCPU at 1,769 MB. Runtimes size themselves by the CPUs they see
// when they start (Go's GOMAXPROCS, the JVM's and .NET's thread pools,
// Rust's tokio workers, V8's platform threads), so an environment shown
// every CPU of a large host sizes itself for the host, and its threads
// wake each other across CPUs for every request. Drivers therefore run
// an environment on as many CPUs as its memory buys (sandbox.Spec.CPUs),
// the CPUs with the fewest environments, for its whole life.
package affinity
