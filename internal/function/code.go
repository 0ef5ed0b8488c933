package function

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/fault"
)

// errBadZip is Lambda's message for a package it cannot read.
const errBadZip = "Could not unzip uploaded file. Please check your file, then try to upload again."

// Package is a validated zip deployment package.
type Package struct {
	Zip      []byte
	Sha256   string // base64 of the SHA-256 of Zip, as Lambda's CodeSha256
	key      string // hex digest: object name and cache directory
	Unzipped int64
}

// ParsePackage checks zip for a runtime: it must be a readable zip within
// Lambda's size limits, with no path escaping its root, and for the
// provided runtimes it must hold an executable named bootstrap at its root.
func ParsePackage(data []byte, runtime string) (*Package, error) {
	if len(data) > ZipMax {
		return nil, fault.Typed(fault.TooLarge, "RequestEntityTooLargeException", "Zipped size must be smaller than %d bytes", ZipMax)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidParameterValueException", errBadZip)
	}
	var total uint64
	hasBootstrap := false
	for _, f := range zr.File {
		name := f.Name
		if !validEntry(name) {
			return nil, fault.New(fault.InvalidParameter, "%s (entry %q escapes the package root)", errBadZip, name)
		}
		// Compared one by one first, so a huge declared size cannot wrap the
		// sum. Lambda refuses a package of exactly UnzippedMax ("smaller than").
		if f.UncompressedSize64 >= UnzippedMax || total+f.UncompressedSize64 >= UnzippedMax {
			return nil, fault.New(fault.InvalidParameter, "Unzipped size must be smaller than %d bytes", UnzippedMax)
		}
		total += f.UncompressedSize64
		if strings.TrimPrefix(name, "./") == "bootstrap" && f.Mode().IsRegular() {
			hasBootstrap = true
		}
	}
	if RuntimeFamily(runtime) == "provided" && !hasBootstrap {
		return nil, fault.New(fault.InvalidParameter, "The deployment package for runtime %s must contain an executable file named bootstrap at its root.", runtime)
	}
	sum := sha256.Sum256(data)
	return &Package{
		Zip:      data,
		Sha256:   base64.StdEncoding.EncodeToString(sum[:]),
		key:      fmt.Sprintf("%x", sum[:]),
		Unzipped: int64(total),
	}, nil
}

func validEntry(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) {
		return false
	}
	clean := path.Clean(name)
	return clean != ".." && !strings.HasPrefix(clean, "../")
}

// keyOf turns a CodeSha256 back into the hex object key.
func keyOf(codeSha256 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(codeSha256)
	if err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("bad code sha256 %q", codeSha256)
	}
	return fmt.Sprintf("%x", raw), nil
}

// codeStore keeps packages in the object store and unpacks them to a local
// cache directory, once per node.
type codeStore struct {
	obj   jetstream.ObjectStore
	dir   string
	mu    sync.Mutex
	ready map[string]*sync.Once
	errs  map[string]error
}

func (c *codeStore) put(ctx context.Context, p *Package) error {
	if _, err := c.obj.GetInfo(ctx, p.key); err == nil {
		return nil
	}
	if _, err := c.obj.PutBytes(ctx, p.key, p.Zip); err != nil {
		return fmt.Errorf("store code %s: %w", p.key, err)
	}
	return nil
}

// get returns the stored zip for a CodeSha256.
func (c *codeStore) get(ctx context.Context, codeSha256 string) ([]byte, error) {
	key, err := keyOf(codeSha256)
	if err != nil {
		return nil, err
	}
	b, err := c.obj.GetBytes(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("load code %s: %w", key, err)
	}
	return b, nil
}

// dirFor returns the local directory holding the unpacked package,
// unpacking it first when this node has not yet.
func (c *codeStore) dirFor(ctx context.Context, codeSha256 string) (string, error) {
	key, err := keyOf(codeSha256)
	if err != nil {
		return "", err
	}
	return c.prepare(key, func(tmp string) error { return c.unpackInto(ctx, key, tmp) })
}

// mergedDir returns the local directory name holding the packages
// unpacked one over the other, in order: a function's layers, as /opt.
func (c *codeStore) mergedDir(ctx context.Context, name string, codeSha256s []string) (string, error) {
	return c.prepare(name, func(tmp string) error {
		for _, sha := range codeSha256s {
			key, err := keyOf(sha)
			if err != nil {
				return err
			}
			if err := c.unpackInto(ctx, key, tmp); err != nil {
				return err
			}
		}
		return nil
	})
}

// prepare returns the cache directory name, filling it once per node
// with fill (into a temporary directory renamed into place).
func (c *codeStore) prepare(name string, fill func(tmp string) error) (string, error) {
	dir := filepath.Join(c.dir, name)
	c.mu.Lock()
	once, ok := c.ready[name]
	if !ok {
		once = new(sync.Once)
		c.ready[name] = once
	}
	c.mu.Unlock()
	once.Do(func() {
		var err error
		if _, statErr := os.Stat(dir); statErr != nil {
			err = c.fill(dir, fill)
		}
		c.mu.Lock()
		c.errs[name] = err
		if err != nil {
			delete(c.ready, name) // let a later call retry
		}
		c.mu.Unlock()
	})
	c.mu.Lock()
	err := c.errs[name]
	c.mu.Unlock()
	return dir, err
}

// unpackInto extracts the stored package key into dir.
func (c *codeStore) unpackInto(ctx context.Context, key, dir string) error {
	data, err := c.obj.GetBytes(ctx, key)
	if err != nil {
		return fmt.Errorf("load code %s: %w", key, err)
	}
	if err := Unzip(data, dir); err != nil {
		return fmt.Errorf("unpack code %s: %w", key, err)
	}
	return nil
}

func (c *codeStore) fill(dir string, fill func(tmp string) error) error {
	tmp, err := os.MkdirTemp(c.dir, ".unpack-")
	if err != nil {
		return fmt.Errorf("unpack code: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	// MkdirTemp made it private; the function's own user (linux sandbox)
	// must be able to enter it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("unpack code %s: %w", filepath.Base(dir), err)
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, statErr := os.Stat(dir); statErr == nil {
			return nil // another process unpacked it first
		}
		return fmt.Errorf("unpack code %s: %w", filepath.Base(dir), err)
	}
	return nil
}

// Unzip extracts a package into dir. Entries keep their permission bits;
// a bootstrap at the root is always executable, as on Lambda.
func Unzip(data []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	var budget int64 = UnzippedMax // what the whole package may still write
	for _, f := range zr.File {
		if !validEntry(f.Name) {
			return fmt.Errorf("entry %q escapes the package root", f.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		mode := f.Mode().Perm()
		if mode == 0 {
			mode = 0o644
		}
		if strings.TrimPrefix(f.Name, "./") == "bootstrap" || f.Mode()&0o111 != 0 {
			mode |= 0o555
		}
		if f.Mode()&os.ModeSymlink != 0 {
			continue // symlinks are not followed or created
		}
		n, err := writeEntry(f, target, mode, budget)
		if err != nil {
			return err
		}
		budget -= n
	}
	return nil
}

// writeEntry writes one file of at most budget bytes with the entry's mode,
// never writable by group or others.
func writeEntry(f *zip.File, target string, mode os.FileMode, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	// A file of an earlier layer may be read-only: replace it.
	_ = os.Remove(target)
	out, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if err == nil && n > budget {
		err = fmt.Errorf("unzipped size exceeds %d bytes", UnzippedMax)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(target, mode&^0o022)
	}
	return n, err
}
