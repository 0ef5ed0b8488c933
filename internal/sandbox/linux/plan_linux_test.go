package linux

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPlan_EncodeDecode(t *testing.T) {
	var p plan
	p.add(opMount, "mount /tmp", p.str("tmpfs"), p.str("/r/tmp"), p.str("tmpfs"), num(unix.MS_NOSUID), p.str("size=512m"))
	p.add(opPrctl, "drop", num(unix.PR_CAPBSET_DROP), num(3)).ignore = unix.EINVAL
	p.add(opSetgroups, "setgroups")
	p.add(opSeccomp, "seccomp", []byte{1, 0, 0, 0, 4, 0, 0, 0})
	b, err := p.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodePlan(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(p.steps) {
		t.Fatalf("got %d steps, want %d", len(got), len(p.steps))
	}
	for i, s := range got {
		w := p.steps[i]
		if s.op != w.op || s.ignore != w.ignore || !slices.EqualFunc(s.args, w.args, bytes.Equal) {
			t.Errorf("step %d: got %v %v %q, want %v %v %q", i, s.op, s.ignore, s.args, w.op, w.ignore, w.args)
		}
	}
	if v, ok := got[0].argStr(3); ok {
		t.Errorf("got a number as string %q", v)
	}
	if v, ok := got[0].argNum(3); !ok || v != unix.MS_NOSUID {
		t.Errorf("got flags %d %v, want %d", v, ok, unix.MS_NOSUID)
	}
	if v, ok := got[0].argStr(4); !ok || v != "size=512m" {
		t.Errorf("got data %q %v, want size=512m", v, ok)
	}
	// Every proper prefix is malformed.
	for n := range len(b) {
		if _, err := decodePlan(b[:n]); err == nil {
			t.Errorf("decoded the first %d of %d bytes", n, len(b))
		}
	}
}

func TestPlan_RefusesNUL(t *testing.T) {
	var p plan
	p.add(opChdir, "chdir", p.str("/a\x00b"))
	if _, err := p.encode(); err == nil {
		t.Error("encoded a string holding a NUL")
	}
}

func TestPlan_Failure(t *testing.T) {
	var p plan
	p.add(opMkdir, "mkdir /r/opt", p.str("/r/opt"), num(0o755))
	p.add(opResolve, "program x").fail = func(unix.Errno) error { return errors.New("program x: not found in PATH") }
	tests := []struct {
		i     uint32
		errno unix.Errno
		want  string
	}{
		{0, unix.EEXIST, "mkdir /r/opt: file exists"},
		{1, unix.ENOENT, "program x: not found in PATH"},
		{2, unix.EPROTO, "step 2 of 2 failed: protocol error"},
		{stepConfig, unix.EMSGSIZE, "read config: message too long"},
	}
	for _, tt := range tests {
		i, errno, ok := decodeFailure(encodeFailure(tt.i, tt.errno))
		if !ok || i != tt.i || errno != tt.errno {
			t.Errorf("decode(encode(%d, %v)): got %d %v %v", tt.i, tt.errno, i, errno, ok)
		}
		err := p.failure(i, errno)
		if err.Error() != tt.want {
			t.Errorf("failure(%d, %v): got %q, want %q", tt.i, tt.errno, err, tt.want)
		}
		if tt.i != 1 && !errors.Is(err, tt.errno) {
			t.Errorf("failure(%d, %v) does not wrap the errno", tt.i, tt.errno)
		}
	}
	for _, b := range []string{"", "oops", failedMark, failedMark + "1234567", listenersMark} {
		if _, _, ok := decodeFailure([]byte(b)); ok {
			t.Errorf("decoded %q as a failure", b)
		}
	}
}

func FuzzDecodePlan(f *testing.F) {
	var p plan
	p.add(opExec, "exec", num(1), p.str("./bootstrap"), p.str("PATH=/bin"))
	b, _ := p.encode()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		steps, err := decodePlan(b)
		if err != nil {
			return
		}
		again := plan{steps: steps}
		b2, err := again.encode()
		if err != nil || !bytes.Equal(b, b2) {
			t.Errorf("decoded %x, encoded again %x (%v)", b, b2, err)
		}
		for i := range steps {
			_, _ = steps[i].argStr(0)
			_, _ = steps[i].argNum(0)
		}
	})
}

// ops lists a plan's steps as "op what", for comparisons.
func ops(p *plan) []string {
	var out []string
	for _, s := range p.steps {
		out = append(out, s.what)
	}
	return out
}

func TestPlanSandbox(t *testing.T) {
	// A host with a merged /usr: /lib is a link to usr/lib; /etc/resolv.conf
	// links outside everything shown.
	host := t.TempDir()
	for _, d := range []string{"usr/lib", "etc", "run/resolve", "code"} {
		if err := os.MkdirAll(filepath.Join(host, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{{"usr/lib", "lib"}, {"../run/resolve/stub.conf", "etc/resolv.conf"}} {
		if err := os.Symlink(l[0], filepath.Join(host, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(host, "run/resolve/stub.conf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &childConfig{
		Root:     "/r",
		Hostname: "updraft-x",
		HostDirs: []string{host + "/usr", host + "/lib", host + "/missing"},
		Etc:      []string{host + "/etc/resolv.conf"},
		CodeDir:  host + "/code",
		TmpMB:    16,
		UID:      993, GID: 990,
		Args:    []string{"bootstrap", "-v"},
		Env:     []string{"PATH=/var/task:/usr/bin"},
		Network: true,
		Listen:  []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9001")},
		LastCap: 1,
		Filter:  []byte{1, 2, 3, 4, 5, 6, 7, 8},
		CPUs:    []int{1, 3},
	}
	p, err := planSandbox(c)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ops(p), "\n")
	r := "/r" + host
	want := strings.Join([]string{
		"cgroup namespace",
		"network namespace", "loopback up", "listen 127.0.0.1:9001 in network namespace", "send listeners",
		"make mounts private", "mount root tmpfs",
	}, "\n")
	if !strings.HasPrefix(got, want+"\n") {
		t.Fatalf("plan starts\n%s\nwant\n%s", got, want)
	}
	// Each directory once, parents first; the link copied, then followed
	// to where it leads, which the root does not otherwise show.
	for _, w := range []string{
		"mkdir " + r + "\nmkdir " + r + "/usr\nbind " + host + "/usr\nremount " + host + "/usr read-only\nsymlink " + r + "/lib\n",
		"mkdir " + r + "/etc\nsymlink " + r + "/etc/resolv.conf\nmkdir " + r + "/run\nmkdir " + r + "/run/resolve\ncreate " + r + "/run/resolve/stub.conf\nbind " + host + "/run/resolve/stub.conf\n",
		"mkdir /r/var\nmkdir /r/var/task\nbind " + host + "/code\n",
		"remount root read-only\nsethostname\nsched_setaffinity [1 3]\nchdir /r\npivot_root\ndetach old root\nchdir /\nchdir /var/task\nprogram bootstrap\n" +
			"drop bounding capability 0\ndrop bounding capability 1\nclear ambient capabilities\nsetgroups\nsetresgid 990\nsetresuid 993\ncapset\n" +
			"set parent-death signal\nno_new_privs\nseccomp\nexec bootstrap",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("plan\n%s\ndoes not hold\n%s", got, w)
		}
	}
	if strings.Contains(got, "missing") || strings.Count(got, "mkdir "+r+"\n") != 1 {
		t.Errorf("plan\n%s\nshows a missing path or makes a directory twice", got)
	}
	last := p.steps[len(p.steps)-1]
	if want := [][]byte{num(2), []byte("bootstrap\x00"), []byte("-v\x00"), []byte("PATH=/var/task:/usr/bin\x00")}; !slices.EqualFunc(last.args, want, bytes.Equal) {
		t.Errorf("exec args %q, want %q", last.args, want)
	}
	for _, s := range p.steps {
		if s.op == opSetaffinity {
			if want := [][]byte{num(1), num(3)}; !slices.EqualFunc(s.args, want, bytes.Equal) || s.ignore != unix.EINVAL {
				t.Errorf("sched_setaffinity args %q ignoring %v, want %q ignoring EINVAL", s.args, s.ignore, want)
			}
		}
		if s.op == opResolve {
			if want := [][]byte{[]byte("/var/task/bootstrap\x00"), []byte("/usr/bin/bootstrap\x00")}; !slices.EqualFunc(s.args, want, bytes.Equal) {
				t.Errorf("candidates %q, want %q", s.args, want)
			}
			if err := s.fail(unix.ENOENT); err.Error() != "program bootstrap: not found in PATH" {
				t.Errorf("got %q, want not found in PATH", err)
			}
		}
	}

	c.Probe, c.Network, c.UserNS = true, false, true
	if p, err = planSandbox(c); err != nil {
		t.Fatal(err)
	}
	got = strings.Join(ops(p), "\n")
	if strings.Contains(got, "network") || strings.Contains(got, "program") || strings.Contains(got, "setgroups") || !strings.HasSuffix(got, "no_new_privs\nseccomp\nexit") {
		t.Errorf("probe in a user namespace, plan\n%s\nwant no network, program lookup or setgroups, and an exit after seccomp", got)
	}
}

func TestSockaddr(t *testing.T) {
	b := sockaddr(netip.MustParseAddrPort("127.0.0.2:8080"))
	if len(b) != unix.SizeofSockaddrInet4 || b[2] != 0x1f || b[3] != 0x90 || !bytes.Equal(b[4:8], []byte{127, 0, 0, 2}) {
		t.Errorf("got %x, want AF_INET, port 0x1f90 and 127.0.0.2", b)
	}
	b = sockaddr(netip.MustParseAddrPort("[::1]:80"))
	if len(b) != unix.SizeofSockaddrInet6 || b[2] != 0 || b[3] != 80 || b[23] != 1 {
		t.Errorf("got %x, want AF_INET6, port 80 and ::1", b)
	}
}
