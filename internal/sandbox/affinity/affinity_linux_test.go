package affinity

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// withHost makes Pick choose among cpus, as if the node could use only
// those, for the length of the test.
func withHost(t *testing.T, cpus ...int) {
	mu.Lock()
	saved := struct {
		cpus, holders []int
		next          int
		loaded        bool
	}{hostCPUs, holders, next, loaded}
	hostCPUs, holders, next, loaded = cpus, make([]int, len(cpus)), 0, true
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		hostCPUs, holders, next, loaded = saved.cpus, saved.holders, saved.next, saved.loaded
		mu.Unlock()
	})
}

func TestPick_SpreadsAndRefills(t *testing.T) {
	withHost(t, 0, 2, 4, 6)
	var got []int
	for range 4 {
		got = append(got, Pick(1)...)
	}
	if !slices.Equal(got, []int{0, 2, 4, 6}) {
		t.Fatalf("four one-CPU environments got %v, want one on each CPU", got)
	}
	Drop([]int{4})
	if c := Pick(1); !slices.Equal(c, []int{4}) {
		t.Errorf("after CPU 4's environment ended, the next one got %v, want [4]", c)
	}
	// Every CPU holds one: the pair search wraps and takes the next two.
	if c := Pick(2); len(c) != 2 || c[0] == c[1] {
		t.Errorf("a two-CPU environment got %v", c)
	}
	if c := Pick(4); c != nil {
		t.Errorf("an environment as large as the host got %v, want nil (every CPU)", c)
	}
	if c := Pick(0); c != nil {
		t.Errorf("CPUs 0 got %v, want nil (every CPU)", c)
	}
}

func TestPick_LeastHeldPair(t *testing.T) {
	withHost(t, 0, 1, 2, 3)
	a, b := Pick(1), Pick(1) // 0 and 1
	if !slices.Equal(a, []int{0}) || !slices.Equal(b, []int{1}) {
		t.Fatalf("got %v and %v, want [0] and [1]", a, b)
	}
	if c := Pick(2); !slices.Equal(c, []int{2, 3}) {
		t.Errorf("a two-CPU environment got %v, want the free pair [2 3]", c)
	}
}

func TestRun_PinsStartThenRestores(t *testing.T) {
	before := ownCPUs(t)
	if len(before) < 2 {
		t.Skip("needs more than one CPU")
	}
	var inside []int
	if err := Run([]int{before[1]}, func() error { inside = ownCPUs(t); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inside, []int{before[1]}) {
		t.Errorf("start ran on CPUs %v, want [%d]", inside, before[1])
	}
	if after := ownCPUs(t); !slices.Equal(after, before) {
		t.Errorf("after Run this thread may use %v, want %v again", after, before)
	}
}

// ownCPUs is the calling thread's CPUs; Run's start runs on a locked
// thread, so from inside it this is that thread's.
func ownCPUs(t *testing.T) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for i := range len(set) * 64 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}
