package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file builds the canonical request of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// the way aws-sdk-go-v2's signer (aws/signer/v4) and botocore build it.

// queryParam is one query parameter with name and value in canonical
// (strictly URI-encoded) form.
type queryParam struct{ key, value string }

// canonicalQuery parses a raw query string the way url.ParseQuery does
// ('+' is a space, empty pairs are skipped), re-encodes every name and value
// strictly, and sorts by encoded name, then encoded value. It appends to dst.
// Pairs that are not valid percent-encoding are an error rather than being
// dropped, so nothing the handler might see goes unsigned.
func canonicalQuery(dst []queryParam, raw string) ([]queryParam, error) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		ck, err := canonicalComponent(k)
		if err != nil {
			return dst, err
		}
		cv, err := canonicalComponent(v)
		if err != nil {
			return dst, err
		}
		dst = append(dst, queryParam{ck, cv})
	}
	slices.SortFunc(dst, func(a, b queryParam) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	return dst, nil
}

// canonicalComponent returns s re-encoded strictly; s itself when it already is.
func canonicalComponent(s string) (string, error) {
	if isStrictlyEncoded(s) {
		return s, nil
	}
	d, err := url.QueryUnescape(s)
	if err != nil {
		return "", incompleteError("Query string is not valid percent-encoding.")
	}
	return string(appendEscaped(nil, d, true)), nil
}

// isStrictlyEncoded reports whether s is its own strict encoding: only
// unreserved bytes and %XX (uppercase hex) escapes of reserved bytes.
func isStrictlyEncoded(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			continue
		}
		if c != '%' || i+2 >= len(s) || !upperHex(s[i+1]) || !upperHex(s[i+2]) {
			return false
		}
		if unreserved(unhex(s[i+1])<<4 | unhex(s[i+2])) {
			return false
		}
		i += 2
	}
	return true
}

// appendEscaped appends s with every byte outside A-Z a-z 0-9 - . _ ~
// percent-encoded in uppercase hex; '/' is kept when encodeSlash is false.
// This is httpbinding.EscapePath, which the AWS SDK signer uses for paths, and
// the SigV4 encoding of query names and values.
func appendEscaped(dst []byte, s string, encodeSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func upperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}

// requestPath returns the path as the client sent it, still percent-encoded:
// from r.RequestURI on the server side, else from r.URL. Clients sign the
// bytes they send, so this is the base of the canonical URI.
func requestPath(r *http.Request) string {
	if u := r.RequestURI; u != "" && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	var p string
	if o := r.URL.Opaque; o != "" {
		// "//host/path" form, as the AWS signer reads it.
		o, _, _ = strings.Cut(o, "?")
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			p = o[i:]
		}
	} else {
		p = r.URL.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// singleEncoded reports whether service signs its path encoded once (S3) rather
// than twice (every other service).
func singleEncoded(service string) bool { return service == "s3" }

// appendCanonicalURI appends the canonical URI for the sent path rawPath.
// S3 signs the path as sent; every other service signs it encoded again, so
// "arn%3Aaws" on the wire is "arn%253Aaws" in the canonical request.
func appendCanonicalURI(dst []byte, rawPath, service string) []byte {
	if singleEncoded(service) {
		return append(dst, rawPath...)
	}
	return appendEscaped(dst, rawPath, false)
}

// needsNormalizing reports whether p has empty, "." or ".." segments, which
// botocore and the Rust SDK remove before signing (the Go SDK does not).
func needsNormalizing(p string) bool {
	for seg := range strings.SplitSeq(strings.TrimPrefix(p, "/"), "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return strings.Contains(p, "//")
}

// normalizePath removes dot segments and empty segments from p as botocore's
// remove_dot_segments does, keeping a leading and a trailing slash.
func normalizePath(p string) string {
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	s := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") {
		s = "/" + s
	}
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		s += "/"
	}
	if s == "" {
		s = "/"
	}
	return s
}

// appendCanonicalHeaders appends "name:value\n" for every signed header, in the
// order SignedHeaders lists them.
func appendCanonicalHeaders(dst []byte, r *http.Request, signedHeaders string) []byte {
	for name := range strings.SplitSeq(signedHeaders, ";") {
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = appendHeaderValues(dst, r, name)
		dst = append(dst, '\n')
	}
	return dst
}

// appendHeaderValues appends the canonical value of header name: each value
// trimmed, runs of spaces collapsed, several values joined with ','. Host
// always comes from r.Host, as the client sends it; Content-Length and
// Transfer-Encoding fall back to their fields when r.Header lacks them.
func appendHeaderValues(dst []byte, r *http.Request, name string) []byte {
	if name == "host" {
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return appendTrimmed(dst, host)
	}
	values := headerValues(r.Header, name)
	if len(values) == 0 {
		switch name {
		case "content-length":
			if r.ContentLength > 0 {
				return strconv.AppendInt(dst, r.ContentLength, 10)
			}
		case "transfer-encoding":
			values = r.TransferEncoding
		}
	}
	for i, v := range values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, v)
	}
	return dst
}

// headerValues looks up a lowercase header name without allocating: first
// under its canonical key, then case-insensitively for keys set directly in
// the map.
func headerValues(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) <= len(buf) {
		key := buf[:len(name)]
		upper := true
		for i := range len(name) {
			c := name[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			key[i] = c
			upper = c == '-'
		}
		if v, ok := h[string(key)]; ok {
			return v
		}
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// appendTrimmed appends v without leading and trailing white space and with
// each run of spaces collapsed to one, as the AWS signer does.
func appendTrimmed(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		dst = append(dst, v[i])
	}
	return dst
}
