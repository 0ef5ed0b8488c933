package affinity

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	mu       sync.Mutex
	hostCPUs []int // the CPUs the node may use, read once
	holders  []int // environments on each of hostCPUs
	next     int   // where the next search for the least used CPUs starts
	loaded   bool
)

func load() {
	if loaded {
		return
	}
	loaded = true
	var host unix.CPUSet
	if err := unix.SchedGetaffinity(0, &host); err != nil {
		return
	}
	for i := range len(host) * 64 {
		if host.IsSet(i) {
			hostCPUs = append(hostCPUs, i)
		}
	}
	holders = make([]int, len(hostCPUs))
}

// Pick chooses n of the node's CPUs for a new environment: the n
// consecutive ones (in the node's list, wrapping) that the fewest
// environments hold, the search starting after the last choice so that
// ties spread. It returns nil, meaning every CPU, when n is 0 or covers
// them all; otherwise the caller gives the CPUs back with Drop when the
// environment has ended.
func Pick(n int) []int {
	mu.Lock()
	defer mu.Unlock()
	load()
	m := len(hostCPUs)
	if n <= 0 || n >= m {
		return nil
	}
	best, bestLoad := 0, -1
	for k := range m {
		start := (next + k) % m
		l := 0
		for i := range n {
			l += holders[(start+i)%m]
		}
		if bestLoad < 0 || l < bestLoad {
			best, bestLoad = start, l
		}
	}
	next = (best + n) % m
	cpus := make([]int, n)
	for i := range cpus {
		j := (best + i) % m
		holders[j]++
		cpus[i] = hostCPUs[j]
	}
	return cpus
}

// Drop gives back the CPUs Pick chose for an environment that has ended.
func Drop(cpus []int) {
	mu.Lock()
	defer mu.Unlock()
	for _, c := range cpus {
		for j, h := range hostCPUs {
			if h == c && holders[j] > 0 {
				holders[j]--
				break
			}
		}
	}
}

// Run calls start on a thread that may run only on cpus, so that the
// process it starts inherits them; nil cpus call start as it is.
func Run(cpus []int, start func() error) error {
	if len(cpus) == 0 {
		return start()
	}
	var set, own unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	runtime.LockOSThread()
	if unix.SchedGetaffinity(0, &own) != nil || unix.SchedSetaffinity(0, &set) != nil {
		runtime.UnlockOSThread()
		return start()
	}
	err := start()
	if unix.SchedSetaffinity(0, &own) == nil {
		runtime.UnlockOSThread()
	}
	// Otherwise the thread stays locked to this goroutine and exits
	// with it, rather than run other goroutines on a few CPUs.
	return err
}
