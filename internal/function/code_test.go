package function

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/fault"
)

// entry is one file in a test zip.
type entry struct {
	name string
	body string
	mode fs.FileMode // set with SetMode when non-zero
	// unixNoMode marks the entry as made on Unix with no permission bits,
	// as some zip tools write it.
	unixNoMode bool
}

// makeZip builds a zip of entries in order.
func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		if e.unixNoMode {
			h.CreatorVersion = 3 << 8 // Unix
			h.ExternalAttrs = 0
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("zip %q: %v", e.name, err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatalf("zip %q: %v", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParsePackage(t *testing.T) {
	tests := []struct {
		name     string
		runtime  string
		entries  []entry
		unzipped int64
	}{
		{"bootstrap", "provided.al2023", []entry{{name: "bootstrap", body: "#!/bin/sh\n", mode: 0o755}}, 10},
		{"dot slash bootstrap", "provided.al2", []entry{{name: "./bootstrap", body: "x", mode: 0o755}}, 1},
		{"bootstrap without mode", "provided", []entry{{name: "bootstrap", body: "xy"}}, 2},
		{"bootstrap and more", "provided.al2023", []entry{
			{name: "lib/", mode: fs.ModeDir | 0o755},
			{name: "lib/a.so", body: "aaaa"},
			{name: "bootstrap", body: "b", mode: 0o755},
		}, 5},
		{"python without bootstrap", "python3.12", []entry{{name: "app.py", body: "def handler(e, c): pass\n"}}, 24},
		{"node nested", "nodejs22.x", []entry{{name: "src/index.mjs", body: "export {}"}}, 9},
		{"python with a dir named bootstrap", "python3.12", []entry{{name: "bootstrap/", mode: fs.ModeDir | 0o755}, {name: "bootstrap/x.py", body: "x"}}, 1},
		{"dot dot inside the root", "python3.12", []entry{{name: "a/../b.py", body: "b"}}, 1},
		{"empty zip", "python3.12", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := makeZip(t, tt.entries...)
			p, err := ParsePackage(data, tt.runtime)
			if err != nil {
				t.Fatalf("ParsePackage: got error %v, want nil", err)
			}
			sum := sha256.Sum256(data)
			if want := base64.StdEncoding.EncodeToString(sum[:]); p.Sha256 != want {
				t.Errorf("Sha256: got %q, want %q", p.Sha256, want)
			}
			if want := fmt.Sprintf("%x", sum); p.key != want {
				t.Errorf("key: got %q, want %q", p.key, want)
			}
			if key, err := keyOf(p.Sha256); err != nil || key != p.key {
				t.Errorf("keyOf(Sha256): got %q, %v, want %q", key, err, p.key)
			}
			if !bytes.Equal(p.Zip, data) {
				t.Errorf("Zip: got %d bytes, want the %d input bytes", len(p.Zip), len(data))
			}
			if p.Unzipped != tt.unzipped {
				t.Errorf("Unzipped: got %d, want %d", p.Unzipped, tt.unzipped)
			}
		})
	}
}

func TestParsePackage_invalid(t *testing.T) {
	good := makeZip(t, entry{name: "bootstrap", body: "x", mode: 0o755})
	tests := []struct {
		name    string
		runtime string
		data    []byte
		kind    fault.Kind
		parts   []string
	}{
		{"nil", "python3.12", nil, fault.InvalidParameter, []string{errBadZip}},
		{"not a zip", "python3.12", []byte("PK\x03\x04 definitely not a zip"), fault.InvalidParameter, []string{errBadZip}},
		{"truncated", "provided.al2023", good[:len(good)-10], fault.InvalidParameter, []string{errBadZip}},
		{"dot dot", "python3.12", makeZip(t, entry{name: "../x", body: "x"}), fault.InvalidParameter, []string{errBadZip, `"../x"`, "escapes"}},
		{"bare dot dot", "python3.12", makeZip(t, entry{name: "..", body: "x"}), fault.InvalidParameter, []string{"escapes"}},
		{"absolute", "python3.12", makeZip(t, entry{name: "/etc/passwd", body: "x"}), fault.InvalidParameter, []string{"escapes"}},
		{"up twice", "python3.12", makeZip(t, entry{name: "a/../../b", body: "x"}), fault.InvalidParameter, []string{"escapes"}},
		{"deep escape", "python3.12", makeZip(t, entry{name: "a/b/../../../c", body: "x"}), fault.InvalidParameter, []string{"escapes"}},
		{"backslash", "python3.12", makeZip(t, entry{name: `..\x`, body: "x"}), fault.InvalidParameter, []string{"escapes"}},
		{"backslash inside", "python3.12", makeZip(t, entry{name: `a\b`, body: "x"}), fault.InvalidParameter, []string{"escapes"}},
		{"empty name", "python3.12", makeZip(t, entry{name: "", body: "x"}), fault.InvalidParameter, []string{"escapes"}},
		{"escape after good entries", "provided.al2023", makeZip(t,
			entry{name: "bootstrap", body: "x", mode: 0o755},
			entry{name: "lib/../../evil", body: "x"},
		), fault.InvalidParameter, []string{"escapes"}},
		{"no bootstrap", "provided.al2023", makeZip(t, entry{name: "main", body: "x", mode: 0o755}), fault.InvalidParameter, []string{"provided.al2023", "bootstrap"}},
		{"bootstrap not at root", "provided.al2", makeZip(t, entry{name: "bin/bootstrap", body: "x", mode: 0o755}), fault.InvalidParameter, []string{"bootstrap at its root"}},
		{"bootstrap is a directory", "provided.al2023", makeZip(t,
			entry{name: "bootstrap/", mode: fs.ModeDir | 0o755},
			entry{name: "bootstrap/main", body: "x", mode: 0o755},
		), fault.InvalidParameter, []string{"bootstrap"}},
		{"bootstrap dir by mode", "provided", makeZip(t, entry{name: "bootstrap", mode: fs.ModeDir | 0o755}), fault.InvalidParameter, []string{"bootstrap"}},
		{"empty zip for provided", "provided.al2023", makeZip(t), fault.InvalidParameter, []string{"bootstrap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePackage(tt.data, tt.runtime)
			if err == nil {
				t.Fatalf("ParsePackage: got %+v, want an error", p)
			}
			wantFault(t, "ParsePackage", err, tt.kind, tt.parts...)
		})
	}
}

func TestParsePackage_corruptType(t *testing.T) {
	_, err := ParsePackage([]byte("not a zip"), "python3.12")
	if f := fault.As(err); f == nil || f.Type != "InvalidParameterValueException" {
		t.Errorf("ParsePackage(corrupt): got %#v, want Type InvalidParameterValueException", err)
	}
}

func TestParsePackage_tooLarge(t *testing.T) {
	data := make([]byte, ZipMax+1) // the one large allocation in these tests
	_, err := ParsePackage(data, "python3.12")
	wantFault(t, "ParsePackage(ZipMax+1)", err, fault.TooLarge, "Zipped size must be smaller than 52428800 bytes")
	if f := fault.As(err); f != nil && f.Type != "RequestEntityTooLargeException" {
		t.Errorf("ParsePackage(ZipMax+1): got Type %q, want RequestEntityTooLargeException", f.Type)
	}
}

// rawZip builds a zip whose headers declare the given uncompressed sizes
// without holding that much data.
func rawZip(t testing.TB, sizes map[string]uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, size := range sizes {
		if _, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, UncompressedSize64: size}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParsePackage_unzippedTooLarge(t *testing.T) {
	tests := []struct {
		name  string
		sizes map[string]uint64
	}{
		{"one entry", map[string]uint64{"big.bin": UnzippedMax + 1}},
		{"sum of entries", map[string]uint64{"a.bin": UnzippedMax / 2, "b.bin": UnzippedMax/2 + 1}},
		{"exactly UnzippedMax", map[string]uint64{"a.bin": UnzippedMax / 2, "b.bin": UnzippedMax / 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePackage(rawZip(t, tt.sizes), "python3.12")
			wantFault(t, "ParsePackage", err, fault.InvalidParameter, "Unzipped size must be smaller than "+strconv.Itoa(UnzippedMax))
		})
	}
	data := rawZip(t, map[string]uint64{"a.bin": UnzippedMax / 2, "b.bin": UnzippedMax/2 - 1})
	if _, err := ParsePackage(data, "python3.12"); err != nil {
		t.Errorf("ParsePackage(UnzippedMax-1): got %v, want nil", err)
	}
}

func TestParsePackage_unzippedOverflow(t *testing.T) {
	// An entry declaring 2^63+1 bytes makes int64(UncompressedSize64)
	// negative, and the sum passes the limit check.
	data := rawZip(t, map[string]uint64{"big.bin": 300 << 20, "wrap.bin": 1<<63 | 1})
	p, err := ParsePackage(data, "python3.12")
	if err == nil {
		t.Fatalf("ParsePackage: got Unzipped %d, want an error", p.Unzipped)
	}
	wantFault(t, "ParsePackage", err, fault.InvalidParameter, "Unzipped size")
}

func TestParsePackage_bootstrapSymlink(t *testing.T) {
	// A bootstrap that is a symlink counts as present, but Unzip does not
	// create symlinks, so the unpacked package has no bootstrap.
	data := makeZip(t,
		entry{name: "bin/app", body: "x", mode: 0o755},
		entry{name: "bootstrap", body: "bin/app", mode: fs.ModeSymlink | 0o777},
	)
	if _, err := ParsePackage(data, "provided.al2023"); err == nil {
		dir := t.TempDir()
		if err := Unzip(data, dir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
			t.Errorf("ParsePackage accepted the package; after Unzip: %v", err)
		}
	}
}

// umask reads the process umask, assuming the usual 022 when it cannot.
func umask() fs.FileMode {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0o022
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			if err == nil {
				return fs.FileMode(n)
			}
		}
	}
	return 0o022
}

func TestUnzip(t *testing.T) {
	data := makeZip(t,
		entry{name: "bootstrap", body: "#!/bin/sh\necho hi\n", mode: 0o755},
		entry{name: "lib/", mode: fs.ModeDir | 0o755},
		entry{name: "lib/data.txt", body: "data", mode: 0o644},
		entry{name: "lib/secret.txt", body: "secret", mode: 0o600},
		entry{name: "bin/tool", body: "tool", mode: 0o750},
		entry{name: "deep/a/b/c/file.txt", body: "deep"}, // parents without entries
		entry{name: "./dot.txt", body: "dot", mode: 0o644},
		entry{name: "empty/", mode: fs.ModeDir | 0o755},
	)
	dir := t.TempDir()
	if err := Unzip(data, dir); err != nil {
		t.Fatalf("Unzip: %v", err)
	}
	mask := umask()
	files := []struct {
		path string
		body string
		perm fs.FileMode
	}{
		{"bootstrap", "#!/bin/sh\necho hi\n", 0o755},
		{"lib/data.txt", "data", 0o644},
		{"lib/secret.txt", "secret", 0o600},
		// An executable entry is made readable and executable by all.
		{"bin/tool", "tool", 0o755},
		{"deep/a/b/c/file.txt", "deep", 0o666},
		{"dot.txt", "dot", 0o644},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read %s: %v", f.path, err)
			continue
		}
		if string(got) != f.body {
			t.Errorf("%s: got body %q, want %q", f.path, got, f.body)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		// Unzip opens files owner-writable; the umask applies as usual.
		want := (f.perm | 0o200) &^ mask
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: got mode %v, want %v", f.path, got, want)
		}
	}
	for _, d := range []string{"lib", "empty", "deep/a/b/c"} {
		fi, err := os.Stat(filepath.Join(dir, d))
		if err != nil || !fi.IsDir() {
			t.Errorf("%s: got %v, %v, want a directory", d, fi, err)
		}
	}
}

func TestUnzip_bootstrapExecutable(t *testing.T) {
	tests := []struct {
		name string
		e    entry
	}{
		{"no SetMode", entry{name: "bootstrap", body: "x"}},
		{"unix attrs without mode bits", entry{name: "bootstrap", body: "x", unixNoMode: true}},
		{"read-only", entry{name: "bootstrap", body: "x", mode: 0o444}},
		{"dot slash", entry{name: "./bootstrap", body: "x", mode: 0o644}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Unzip(makeZip(t, tt.e, entry{name: "lib/bootstrap", body: "not root"}), dir); err != nil {
				t.Fatalf("Unzip: %v", err)
			}
			fi, err := os.Stat(filepath.Join(dir, "bootstrap"))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got&0o111 != 0o111 {
				t.Errorf("bootstrap: got mode %v, want executable by all", got)
			}
			// Only the root bootstrap is special.
			fi, err = os.Stat(filepath.Join(dir, "lib", "bootstrap"))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got&0o111 != 0 {
				t.Errorf("lib/bootstrap: got mode %v, want not executable", got)
			}
		})
	}
}

func TestUnzip_noModeBits(t *testing.T) {
	dir := t.TempDir()
	if err := Unzip(makeZip(t, entry{name: "data.txt", body: "x", unixNoMode: true}), dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "data.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), fs.FileMode(0o644)&^umask(); got != want {
		t.Errorf("data.txt: got mode %v, want %v", got, want)
	}
}

func TestUnzip_readOnlyKept(t *testing.T) {
	// "Entries keep their permission bits": a 0444 entry is written 0644.
	dir := t.TempDir()
	if err := Unzip(makeZip(t, entry{name: "ro.txt", body: "x", mode: 0o444}), dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "ro.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o444 {
		t.Errorf("ro.txt: got mode %v, want -r--r--r--", got)
	}
}

func TestUnzip_symlinkSkipped(t *testing.T) {
	dir := t.TempDir()
	data := makeZip(t,
		entry{name: "link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777},
		entry{name: "file.txt", body: "x"},
	)
	if err := Unzip(data, dir); err != nil {
		t.Fatalf("Unzip: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "link")); !os.IsNotExist(err) {
		t.Errorf("link: got %v, want it not created", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "file.txt")); err != nil {
		t.Errorf("file.txt: %v", err)
	}
}

func TestUnzip_escaping(t *testing.T) {
	for _, name := range []string{"../x", "..", "/abs", "a/../../b", `..\x`, `a\b`, ""} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "root")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			err := Unzip(makeZip(t, entry{name: "ok.txt", body: "ok"}, entry{name: name, body: "evil"}), dir)
			if err == nil || !strings.Contains(err.Error(), "escapes the package root") {
				t.Errorf("Unzip(%q): got %v, want an escape error", name, err)
			}
			ents, err := os.ReadDir(parent)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 1 || ents[0].Name() != "root" {
				t.Errorf("Unzip(%q): wrote outside the root: %v", name, ents)
			}
		})
	}
}

func TestUnzip_corrupt(t *testing.T) {
	if err := Unzip([]byte("not a zip"), t.TempDir()); err == nil {
		t.Error("Unzip(garbage): got nil, want an error")
	}
}

func TestKeyOf(t *testing.T) {
	for _, s := range []string{"", "!!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if k, err := keyOf(s); err == nil {
			t.Errorf("keyOf(%q): got %q, want an error", s, k)
		}
	}
}

func FuzzParsePackage(f *testing.F) {
	f.Add(makeZip(f, entry{name: "bootstrap", body: "x", mode: 0o755}), "provided.al2023")
	f.Add(makeZip(f, entry{name: "app.py", body: "x"}, entry{name: "lib/", mode: fs.ModeDir | 0o755}), "python3.12")
	f.Add(makeZip(f, entry{name: "../x", body: "x"}), "python3.12")
	f.Add(makeZip(f, entry{name: "a/../../b", body: "x"}), "python3.12")
	f.Add(makeZip(f, entry{name: `a\..\..\b`, body: "x"}), "python3.12")
	f.Add(makeZip(f, entry{name: "/abs", body: "x"}), "python3.12")
	f.Add(makeZip(f, entry{name: "bootstrap", body: "x", mode: fs.ModeSymlink | 0o777}), "provided")
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "python3.12")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, data []byte, runtime string) {
		p, err := ParsePackage(data, runtime)
		if err != nil {
			if fault.As(err) == nil {
				t.Fatalf("ParsePackage: got non-fault error %v", err)
			}
			return
		}
		sum := sha256.Sum256(data)
		if p.Sha256 != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Fatalf("Sha256: got %q", p.Sha256)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("ParsePackage accepted a zip the reader refuses: %v", err)
		}
		small := true
		for _, zf := range zr.File {
			// Independently of validEntry: the entry must resolve inside a root.
			joined := filepath.Join("/root", zf.Name)
			if zf.Name == "" || strings.HasPrefix(zf.Name, "/") || strings.Contains(zf.Name, `\`) ||
				(joined != "/root" && !strings.HasPrefix(joined, "/root/")) {
				t.Fatalf("ParsePackage accepted escaping entry %q", zf.Name)
			}
			if zf.UncompressedSize64 > 1<<20 {
				small = false
			}
		}
		if RuntimeFamily(runtime) == "provided" {
			found := false
			for _, zf := range zr.File {
				if filepath.Clean(zf.Name) == "bootstrap" && !zf.FileInfo().IsDir() {
					found = true
				}
			}
			if !found {
				t.Fatalf("ParsePackage accepted a %s package without bootstrap", runtime)
			}
		}
		if !small || len(zr.File) > 64 {
			return
		}
		// Small packages unpack without writing outside their root.
		parent := t.TempDir()
		dir := filepath.Join(parent, "root")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = Unzip(data, dir) // may fail on bad checksums or clashing names
		ents, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != 1 {
			t.Fatalf("Unzip wrote outside its root: %v", ents)
		}
	})
}
