package sigv4

import (
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/lambda/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"AWS4-HMAC-SHA256 Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,SignedHeaders=host,Credential=A/20250314/r/s/aws4_request",
		"AWS4-HMAC-SHA256 Credential=A/20250314/r/s/aws4_request, SignedHeaders=host, Signature=xyz",
		"AWS4-HMAC-SHA256 Credential=A/2025/r/s/aws4_request, SignedHeaders=Host;;, Signature=",
		"AWS4-HMAC-SHA256 Credential=, Credential=",
		"AWS4-HMAC-SHA256",
		"AWS4-ECDSA-P256-SHA256 Credential=A/20250314/s/aws4_request",
		"Bearer token",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeIncompleteSignature || e.Message == "" {
				t.Fatalf("parseAuthorization(%q): got error %#v, want IncompleteSignature", h, err)
			}
			return
		}
		c := a.credential
		if c.accessKeyID == "" || strings.Contains(c.accessKeyID, "/") ||
			len(c.date) != len(dateFormat) || c.region == "" || c.service == "" ||
			c.scope != c.date+"/"+c.region+"/"+c.service+"/"+terminator {
			t.Fatalf("parseAuthorization(%q): bad credential %+v", h, c)
		}
		if err := checkSignedHeaders(a.signedHeaders); err != nil {
			t.Fatalf("parseAuthorization(%q): accepted SignedHeaders %q: %v", h, a.signedHeaders, err)
		}
		// The canonical rendering parses to the same value.
		again := algorithm + " Credential=" + c.accessKeyID + "/" + c.scope +
			", SignedHeaders=" + a.signedHeaders + ", Signature=" + hex.EncodeToString(a.signature[:])
		b, err := parseAuthorization(again)
		if err != nil || b != a {
			t.Fatalf("parseAuthorization(%q) = %+v; re-parse of %q: got %+v, %v", h, a, again, b, err)
		}
	})
}

func FuzzCanonicalQuery(f *testing.F) {
	for _, s := range []string{
		"a=1&b=2", "b=2&a=z&a=y&k=a%2Fb&k=a-b", "h=a+b&flag&empty=&%24key=1", "x=%zz", "=v&&k=", "a=%c3%a9&t=%7E", "a;b=c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := canonicalQuery(nil, raw)
		if err != nil {
			return
		}
		var enc []string
		for i, p := range got {
			if !isStrictlyEncoded(p.key) || !isStrictlyEncoded(p.value) {
				t.Fatalf("canonicalQuery(%q): %+v not strictly encoded", raw, p)
			}
			if i > 0 && (got[i-1].key > p.key || got[i-1].key == p.key && got[i-1].value > p.value) {
				t.Fatalf("canonicalQuery(%q): not sorted: %+v", raw, got)
			}
			enc = append(enc, p.key+"="+p.value)
		}
		// Canonical form is a fixed point.
		joined := strings.Join(enc, "&")
		again, err := canonicalQuery(nil, joined)
		if err != nil || len(again) != len(got) {
			t.Fatalf("canonicalQuery(%q) = %q; again: %+v, %v", raw, joined, again, err)
		}
		for i := range got {
			if again[i] != got[i] {
				t.Fatalf("canonicalQuery(%q) = %q; again: %+v", raw, joined, again)
			}
		}
		// It decodes to what handlers see through url.ParseQuery.
		if strings.Contains(raw, ";") {
			return
		}
		want, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("canonicalQuery(%q) succeeded, url.ParseQuery: %v", raw, err)
		}
		n := 0
		for _, vs := range want {
			n += len(vs)
		}
		if n != len(got) {
			t.Fatalf("canonicalQuery(%q): %d params, url.ParseQuery has %d", raw, len(got), n)
		}
		for _, p := range got {
			k, _ := url.PathUnescape(p.key)
			v, _ := url.PathUnescape(p.value)
			found := false
			for _, w := range want[k] {
				found = found || w == v
			}
			if !found {
				t.Fatalf("canonicalQuery(%q): %q=%q not in url.ParseQuery %v", raw, k, v, want)
			}
		}
	})
}

func TestNormalizePath(t *testing.T) {
	// Expected values follow botocore's remove_dot_segments.
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/a/b/c", "/a/b/c"},
		{"/a//b/./x/../c", "/a/b/c"},
		{"/a/b/", "/a/b/"},
		{"//", "/"},
		{"/..", "/"},
		{"/a/..", "/"},
		{"/a/%2E%2E/b", "/a/%2E%2E/b"},
		{"/./a/./", "/a/"},
	}
	for _, tt := range tests {
		if got := normalizePath(tt.in); got != tt.want {
			t.Errorf("normalizePath(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
