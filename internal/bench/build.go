package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is the module the benchmark programs are built from.
const modulePath = "github.com/updraft/updraft"

// Packages of the programs Build builds.
const (
	helloPackage    = modulePath + "/examples/hello-go"
	sleeperPackage  = modulePath + "/internal/bench/testdata/sleeper"
	baselinePackage = modulePath + "/internal/bench/testdata/baseline"
)

// Code is what the scenarios run.
type Code struct {
	// Hello is the zip of examples/hello-go (bootstrap at the root).
	Hello []byte
	// Sleeper is the zip of the function that sleeps for event.sleepMs.
	Sleeper []byte
	// Baseline is the path of the baseline net/http server executable.
	Baseline string
}

// ModuleDir returns the root of the Updraft source tree holding the
// working directory, where Build finds the programs it builds.
func ModuleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find module: the working directory is not inside the Updraft source tree (%s)", modulePath)
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("find module: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if strings.TrimSpace(strings.TrimPrefix(first, "module")) != modulePath {
		return "", fmt.Errorf("find module: %s is not %s: run inside the Updraft source tree", gomod, modulePath)
	}
	return filepath.Dir(gomod), nil
}

// Build compiles the example function, the sleeper function and the
// baseline server from the source tree at moduleDir into outDir, with the
// flags `updraft function deploy` uses (CGO_ENABLED=0, -trimpath, -s -w,
// -tags lambda.norpc), and zips the functions.
func Build(ctx context.Context, moduleDir, outDir string) (*Code, error) {
	var c Code
	for _, b := range []struct {
		pkg string
		out *[]byte
	}{{helloPackage, &c.Hello}, {sleeperPackage, &c.Sleeper}, {baselinePackage, nil}} {
		bin := filepath.Join(outDir, filepath.Base(b.pkg), "bootstrap")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", bin, b.pkg)
		cmd.Dir = moduleDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
		if b.out == nil {
			c.Baseline = bin
			continue
		}
		z, err := zipBootstrap(bin)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", b.pkg, err)
		}
		*b.out = z
	}
	return &c, nil
}

// zipBootstrap returns a zip holding bin as an executable "bootstrap".
func zipBootstrap(bin string) ([]byte, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
