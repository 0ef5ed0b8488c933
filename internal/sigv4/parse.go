package sigv4

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	timeFormat = "20060102T150405Z"
	dateFormat = "20060102"

	// maxExpires is the longest X-Amz-Expires AWS accepts: one week.
	maxExpires = 7 * 24 * 60 * 60
)

// Presigned query parameter names.
const (
	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	queryContentSHA256 = "X-Amz-Content-Sha256"
	querySecurityToken = "X-Amz-Security-Token"
)

// credential is the parsed Credential value:
// AKID/20240101/us-east-1/lambda/aws4_request.
type credential struct {
	accessKeyID string
	date        string // YYYYMMDD
	region      string
	service     string
	scope       string // date/region/service/aws4_request, as signed
}

// authorization is what either signature form says about the request.
type authorization struct {
	credential
	signedHeaders string   // lowercase names joined by ';', as sent
	signature     [32]byte // decoded
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex
//
// The three parameters may come in any order, each exactly once.
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		return a, incompleteError("Unsupported AWS 'algorithm': '%s'.", truncate(alg))
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, incompleteError("'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", truncate(strings.TrimSpace(part)))
		}
		var dup bool
		switch k {
		case "Credential":
			dup, haveCred, cred = haveCred, true, v
		case "SignedHeaders":
			dup, haveSigned, signed = haveSigned, true, v
		case "Signature":
			dup, haveSig, sig = haveSig, true, v
		default:
			return a, incompleteError("Unknown parameter '%s' in Authorization header.", truncate(k))
		}
		if dup {
			return a, incompleteError("Authorization header has parameter '%s' more than once.", k)
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		var msg strings.Builder
		for _, p := range [...]struct {
			name string
			have bool
		}{{"Credential", haveCred}, {"Signature", haveSig}, {"SignedHeaders", haveSigned}} {
			if !p.have {
				msg.WriteString("Authorization header requires '" + p.name + "' parameter. ")
			}
		}
		return a, incompleteError("%s", strings.TrimSpace(msg.String()))
	}
	return newAuthorization(cred, signed, sig)
}

// newAuthorization validates the three signature parts common to both forms.
func newAuthorization(cred, signed, sig string) (authorization, error) {
	var a authorization
	var err error
	if a.credential, err = parseCredential(cred); err != nil {
		return a, err
	}
	if err := checkSignedHeaders(signed); err != nil {
		return a, err
	}
	a.signedHeaders = signed
	if len(sig) != 2*len(a.signature) {
		return a, incompleteError("Signature must be %d hexadecimal characters.", 2*len(a.signature))
	}
	if _, err := hex.Decode(a.signature[:], []byte(sig)); err != nil {
		return a, incompleteError("Signature must be %d hexadecimal characters.", 2*len(a.signature))
	}
	return a, nil
}

// parseCredential splits AKID/date/region/service/aws4_request.
func parseCredential(s string) (credential, error) {
	var c credential
	akid, scope, ok := strings.Cut(s, "/")
	if !ok || akid == "" {
		return c, incompleteError("Credential must have the form AKID/YYYYMMDD/region/service/aws4_request.")
	}
	date, rest, _ := strings.Cut(scope, "/")
	region, rest, _ := strings.Cut(rest, "/")
	service, term, _ := strings.Cut(rest, "/")
	switch {
	case len(date) != len(dateFormat) || !allDigits(date):
		return c, incompleteError("Credential should be scoped to a valid date (YYYYMMDD).")
	case region == "":
		return c, incompleteError("Credential should be scoped to a valid region.")
	case service == "":
		return c, incompleteError("Credential should be scoped to correct service.")
	case term != terminator:
		return c, incompleteError("Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, truncate(term))
	}
	return credential{accessKeyID: akid, date: date, region: region, service: service, scope: scope}, nil
}

// checkSignedHeaders accepts a ';'-separated list of lowercase header names
// that includes host, which AWS requires to be signed.
func checkSignedHeaders(s string) error {
	var host bool
	for name := range strings.SplitSeq(s, ";") {
		if name == "" {
			return incompleteError("SignedHeaders must be a ';'-separated list of header names.")
		}
		for i := range len(name) {
			if c := name[i]; !isTokenByte(c) || ('A' <= c && c <= 'Z') {
				return incompleteError("SignedHeaders must list lowercase header names.")
			}
		}
		host = host || name == "host"
	}
	if !host {
		return incompleteError("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// parseExpires parses X-Amz-Expires: whole seconds, 1 to one week.
func parseExpires(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, incompleteError("X-Amz-Expires must be a positive number of seconds.")
	}
	if n > maxExpires {
		return 0, incompleteError("X-Amz-Expires must be less than a week (in seconds) that is %d.", maxExpires)
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isTokenByte reports whether c may appear in an HTTP header name (RFC 9110 token).
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// truncate bounds client-supplied text echoed in error messages.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// parse reads the signature from the Authorization header or the query, and
// returns the canonical query appended to params.
func parse(r *http.Request, params []queryParam) (signed, []queryParam, error) {
	var s signed
	auth := r.Header["Authorization"]
	if len(auth) == 1 && strings.TrimSpace(auth[0]) == "" {
		auth = nil
	}
	presigned := hasQueryKey(r.URL.RawQuery, queryAlgorithm)
	switch {
	case len(auth) == 0 && !presigned:
		return s, nil, missingAuthError()
	case len(auth) > 1:
		return s, nil, incompleteError("Authorization header must appear once.")
	case len(auth) == 1 && presigned:
		return s, nil, incompleteError("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	}
	query, err := canonicalQuery(params, r.URL.RawQuery)
	if err != nil {
		return s, nil, err
	}
	if presigned {
		s, query, err = parsePresigned(query)
	} else {
		s, err = parseHeaders(r.Header, auth[0])
	}
	if err != nil {
		return s, nil, err
	}
	if _, ok := r.Header["X-Amz-Security-Token"]; ok && !listed(s.signedHeaders, "x-amz-security-token") {
		return s, nil, incompleteError("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if s.payload == "" {
		s.payload = r.Header.Get(queryContentSHA256)
	}
	return s, query, nil
}

// parseHeaders reads the Authorization header form and its signing time.
func parseHeaders(h http.Header, auth string) (signed, error) {
	var s signed
	var err error
	if s.authorization, err = parseAuthorization(auth); err != nil {
		return s, err
	}
	if s.amzDate = h.Get("X-Amz-Date"); s.amzDate != "" {
		s.time, err = parseAmzDate(s.amzDate)
		return s, err
	}
	date := h.Get("Date")
	if date == "" {
		return s, incompleteError("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if s.time, err = http.ParseTime(date); err != nil {
		return s, incompleteError("Date header must be an HTTP date.")
	}
	s.time = s.time.UTC()
	s.amzDate = s.time.Format(timeFormat)
	return s, nil
}

// parsePresigned reads the X-Amz-* query parameters of a presigned request and
// returns the canonical query without X-Amz-Signature.
func parsePresigned(query []queryParam) (signed, []queryParam, error) {
	var s signed
	var alg, cred, date, expires, headers, sig string
	var seen [6]bool
	sigAt := -1
	for i, p := range query {
		var slot int
		var dst *string
		switch p.key {
		case queryAlgorithm:
			slot, dst = 0, &alg
		case queryCredential:
			slot, dst = 1, &cred
		case queryDate:
			slot, dst = 2, &date
		case queryExpires:
			slot, dst = 3, &expires
		case querySignedHeaders:
			slot, dst = 4, &headers
		case querySignature:
			slot, dst, sigAt = 5, &sig, i
		case queryContentSHA256:
			s.payload = unescape(p.value)
			continue
		default:
			continue
		}
		if seen[slot] {
			return s, nil, incompleteError("Query parameter '%s' must appear once.", p.key)
		}
		seen[slot], *dst = true, unescape(p.value)
	}
	for i, name := range [...]string{queryAlgorithm, queryCredential, queryDate, "", querySignedHeaders, querySignature} {
		if name != "" && !seen[i] {
			return s, nil, incompleteError("AWS query-string parameters must include '%s'. Re-examine the query-string parameters.", name)
		}
	}
	if alg != algorithm {
		return s, nil, incompleteError("X-Amz-Algorithm only supports '%s'.", algorithm)
	}
	var err error
	if s.authorization, err = newAuthorization(cred, headers, sig); err != nil {
		return s, nil, err
	}
	if seen[3] {
		if s.expires, err = parseExpires(expires); err != nil {
			return s, nil, err
		}
	}
	s.presigned = true
	s.amzDate = date
	if s.time, err = parseAmzDate(date); err != nil {
		return s, nil, err
	}
	return s, append(query[:sigAt], query[sigAt+1:]...), nil
}

func parseAmzDate(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return t, incompleteError("Date must be in ISO-8601 'basic format'. Got '%s'.", truncate(s))
	}
	return t, nil
}

// hasQueryKey reports whether the raw query has a parameter named key, spelled
// literally.
func hasQueryKey(raw, key string) bool {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if k, _, _ := strings.Cut(pair, "="); k == key {
			return true
		}
	}
	return false
}

// unescape decodes a strictly encoded query component.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	d, err := url.PathUnescape(s)
	if err != nil { // cannot happen: canonicalQuery produced s
		return s
	}
	return d
}

// listed reports whether name is one of the ';'-separated names in list.
func listed(list, name string) bool {
	for n := range strings.SplitSeq(list, ";") {
		if n == name {
			return true
		}
	}
	return false
}
