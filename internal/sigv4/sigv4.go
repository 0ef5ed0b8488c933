// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests,
// so the server can refuse unsigned or badly signed requests from AWS SDKs,
// the AWS CLI and other SigV4 clients.
//
// A [Verifier] accepts both the Authorization header form and the presigned
// query-string form, for any region and service named in the credential
// scope. It follows what aws-sdk-go-v2's signer and botocore produce: paths
// are encoded twice for every service except S3, query parameters are sorted
// after encoding, header values are trimmed and joined with ','.
//
// The payload is covered as the client chose: when X-Amz-Content-Sha256 is
// UNSIGNED-PAYLOAD or a STREAMING-* value, that value is what is signed and
// the body is not read (chunk signatures of streaming uploads are not
// checked); otherwise Verify hashes the body, up to Config.MaxBodySize, and
// puts it back in r.Body for the handler.
//
// Failures are [*Error] values carrying the AWS error code, message and HTTP
// status, for the wire layer to write in its protocol's shape.
//
// The server's HTTP front end imports this package; nothing outside the
// module can. A Verifier is safe for concurrent use by multiple goroutines.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults for zero Config fields.
const (
	// MaxSkewDefault is how far a signing time may be from the server's
	// clock, as AWS allows.
	MaxSkewDefault = 15 * time.Minute
	// MaxBodySizeDefault is the largest body Verify reads to check its hash.
	MaxBodySizeDefault = 7 << 20
)

const (
	unsignedPayload = "UNSIGNED-PAYLOAD"
	streamingPrefix = "STREAMING-"
	// emptySHA256 is the hex SHA-256 of an empty payload.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Credentials is an access key the server accepts.
type Credentials struct {
	AccessKeyID     string // as in the Credential scope, e.g. "AKIAIOSFODNN7EXAMPLE"
	SecretAccessKey string // the shared secret signing keys are derived from
}

// Config configures a Verifier.
type Config struct {
	// Credentials are the access keys accepted. At least one is required
	// unless Lookup is set, and access key IDs must be unique.
	Credentials []Credentials

	// Lookup, when set, gives the secret of an access key that is not among
	// Credentials (keys derived per function, for example).
	Lookup func(accessKeyID string) (secret string, ok bool)

	// MaxSkew is how far the signing time may be from Now, earlier or later.
	// A presigned request is valid from its signing time minus MaxSkew to its
	// signing time plus X-Amz-Expires (plus MaxSkew when X-Amz-Expires is
	// absent). Zero means MaxSkewDefault, 15 minutes.
	MaxSkew time.Duration

	// MaxBodySize is the most bytes Verify reads from a body whose SHA-256 it
	// must check. Larger bodies fail with CodeRequestEntityTooLarge. Zero means
	// MaxBodySizeDefault, 7 MiB.
	MaxBodySize int64

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	if len(c.Credentials) == 0 && c.Lookup == nil {
		return errors.New("sigv4 config: Credentials: none configured")
	}
	seen := make(map[string]bool, len(c.Credentials))
	for i, cr := range c.Credentials {
		switch {
		case cr.AccessKeyID == "":
			return fmt.Errorf("sigv4 config: Credentials[%d].AccessKeyID: empty", i)
		case strings.ContainsAny(cr.AccessKeyID, "/ ,="):
			return fmt.Errorf("sigv4 config: Credentials[%d].AccessKeyID: contains '/', ' ', ',' or '='", i)
		case cr.SecretAccessKey == "":
			return fmt.Errorf("sigv4 config: Credentials[%d].SecretAccessKey: empty", i)
		case seen[cr.AccessKeyID]:
			return fmt.Errorf("sigv4 config: Credentials[%d].AccessKeyID: duplicate %q", i, cr.AccessKeyID)
		}
		seen[cr.AccessKeyID] = true
	}
	if c.MaxSkew < 0 {
		return fmt.Errorf("sigv4 config: MaxSkew: negative (%v)", c.MaxSkew)
	}
	if c.MaxBodySize < 0 {
		return fmt.Errorf("sigv4 config: MaxBodySize: negative (%d)", c.MaxBodySize)
	}
	return nil
}

// Verifier checks SigV4 signatures against a fixed set of access keys.
type Verifier struct {
	secrets map[string]string // access key ID -> secret access key
	lookup  func(string) (string, bool)
	maxSkew time.Duration
	maxBody int64
	now     func() time.Time
	keys    keyCache
}

// NewVerifier returns a Verifier for cfg, or the error from cfg.Validate.
func NewVerifier(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{
		secrets: make(map[string]string, len(cfg.Credentials)),
		lookup:  cfg.Lookup,
		maxSkew: cfg.MaxSkew,
		maxBody: cfg.MaxBodySize,
		now:     cfg.Now,
	}
	for _, c := range cfg.Credentials {
		v.secrets[c.AccessKeyID] = c.SecretAccessKey
	}
	if v.maxSkew == 0 {
		v.maxSkew = MaxSkewDefault
	}
	if v.maxBody == 0 {
		v.maxBody = MaxBodySizeDefault
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// signed is what Verify learns about a request before checking its signature.
type signed struct {
	authorization
	amzDate   string    // signing time as it appears in the string to sign
	time      time.Time // signing time
	presigned bool      // query-string form
	expires   int64     // X-Amz-Expires in seconds; 0 when absent
	payload   string    // X-Amz-Content-Sha256 from header or query; "" when absent
}

// Verify checks the signature of r and returns the access key ID that signed
// it. Failures are *Error, except that an error reading the body (other than
// *http.MaxBytesError, which is CodeRequestEntityTooLarge) is returned
// wrapped as it is. When Verify reads the body to hash it, it replaces r.Body
// with an unread reader over the same bytes that closes the original. It takes
// the path from r.RequestURI when that is set, so call it before anything
// rewrites the request.
func (v *Verifier) Verify(r *http.Request) (string, error) {
	var params [32]queryParam // the canonical query, kept on the stack
	s, query, err := parse(r, params[:0])
	if err != nil {
		return "", err
	}
	secret, ok := v.secrets[s.accessKeyID]
	if !ok && v.lookup != nil {
		secret, ok = v.lookup(s.accessKeyID)
	}
	if !ok {
		return "", unrecognizedClientError()
	}
	if err := v.checkTime(&s); err != nil {
		return "", err
	}
	payloads, err := v.payloadHashes(r, &s)
	if err != nil {
		return "", err
	}

	sk := scopeKey{s.accessKeyID, s.date, s.region, s.service}
	key, cached := v.keys.get(sk)
	if !cached {
		key = deriveKey(secret, sk)
	}
	rawPath := requestPath(r)
	paths := [2]string{rawPath}
	np := 1
	if !singleEncoded(s.service) && needsNormalizing(rawPath) {
		paths[1], np = normalizePath(rawPath), 2
	}
	for _, p := range paths[:np] {
		for _, payload := range payloads {
			if payload != "" && checkSignature(&key, r, &s, query, p, payload) {
				if !cached {
					v.keys.put(sk, key)
				}
				return s.accessKeyID, nil
			}
		}
	}
	return "", invalidSignatureError(msgSignatureMismatch)
}

// checkTime checks that the credential scope date matches the signing time
// and that the signing time is within the allowed window.
func (v *Verifier) checkTime(s *signed) error {
	if s.date != s.amzDate[:len(dateFormat)] {
		return invalidSignatureError("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			s.date, s.amzDate[:len(dateFormat)], s.amzDate)
	}
	now := v.now().UTC()
	switch {
	case s.time.After(now.Add(v.maxSkew)):
		return notYetCurrentError(s.time, now, v.maxSkew)
	case s.presigned && s.expires > 0:
		if now.After(s.time.Add(time.Duration(s.expires) * time.Second)) {
			return presignExpiredError(s.time, now, s.expires)
		}
	case s.time.Before(now.Add(-v.maxSkew)):
		return expiredError(s.time, now, v.maxSkew)
	}
	return nil
}

// checkSignature computes the signature of r with the given canonical query,
// path and payload hash and compares it with the one sent, in constant time.
func checkSignature(key *[sha256.Size]byte, r *http.Request, s *signed, query []queryParam, rawPath, payload string) bool {
	var buf [2048]byte
	cr := buf[:0]
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	cr = append(cr, method...)
	cr = append(cr, '\n')
	cr = appendCanonicalURI(cr, rawPath, s.service)
	cr = append(cr, '\n')
	for i, p := range query {
		if i > 0 {
			cr = append(cr, '&')
		}
		cr = append(cr, p.key...)
		cr = append(cr, '=')
		cr = append(cr, p.value...)
	}
	cr = append(cr, '\n')
	cr = appendCanonicalHeaders(cr, r, s.signedHeaders)
	cr = append(cr, '\n')
	cr = append(cr, s.signedHeaders...)
	cr = append(cr, '\n')
	cr = append(cr, payload...)
	crHash := sha256.Sum256(cr)

	sts := make([]byte, 0, 128)
	sts = append(sts, algorithm+"\n"...)
	sts = append(sts, s.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, s.scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crHash[:])
	want := hmacSHA256(key[:], string(sts))
	return hmac.Equal(want[:], s.signature[:])
}
