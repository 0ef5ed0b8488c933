package sigv4

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// AWS error codes carried by [Error.Code].
const (
	// CodeMissingAuthenticationToken: the request carries neither an
	// Authorization header nor presigned query parameters.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: the signature is present but malformed or
	// lacks a required part.
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeUnrecognizedClient: the access key ID is not configured.
	CodeUnrecognizedClient = "UnrecognizedClientException"
	// CodeInvalidSignature: the signature does not match, or it is expired
	// or not yet valid.
	CodeInvalidSignature = "InvalidSignatureException"
	// CodeRequestEntityTooLarge: the body is larger than Config.MaxBodySize
	// and had to be read to check its hash.
	CodeRequestEntityTooLarge = "RequestEntityTooLargeException"
)

// msgSignatureMismatch is the message AWS returns for a wrong signature.
const msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// Error is an authentication failure that the wire layer can write in its
// protocol's error shape. Message is safe to return to the client; it never
// contains the secret or the expected signature.
type Error struct {
	Code    string // AWS error code, one of the Code constants
	Message string // public message, as AWS words it where AWS has one
	Status  int    // HTTP status code AWS uses for Code
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func missingAuthError() *Error {
	return &Error{Code: CodeMissingAuthenticationToken, Message: "Missing Authentication Token", Status: http.StatusForbidden}
}

func incompleteError(format string, args ...any) *Error {
	return &Error{Code: CodeIncompleteSignature, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func unrecognizedClientError() *Error {
	return &Error{Code: CodeUnrecognizedClient, Message: "The security token included in the request is invalid.", Status: http.StatusForbidden}
}

func invalidSignatureError(format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: CodeInvalidSignature, Message: msg, Status: http.StatusForbidden}
}

func tooLargeError(max int64) *Error {
	return &Error{
		Code:    CodeRequestEntityTooLarge,
		Message: "Request must be smaller than " + strconv.FormatInt(max, 10) + " bytes for the signature to be checked.",
		Status:  http.StatusRequestEntityTooLarge,
	}
}

// expiredError words a stale request the way AWS does:
// "Signature expired: 20190110T200233Z is now earlier than 20190110T200302Z (20190110T200802Z - 5 min.)"
func expiredError(t, now time.Time, skew time.Duration) *Error {
	return invalidSignatureError("Signature expired: %s is now earlier than %s (%s - %s.)",
		t.Format(timeFormat), now.Add(-skew).Format(timeFormat), now.Format(timeFormat), formatSkew(skew))
}

// notYetCurrentError words a request from the future the way AWS does.
func notYetCurrentError(t, now time.Time, skew time.Duration) *Error {
	return invalidSignatureError("Signature not yet current: %s is still later than %s (%s + %s.)",
		t.Format(timeFormat), now.Add(skew).Format(timeFormat), now.Format(timeFormat), formatSkew(skew))
}

// presignExpiredError reports a presigned request past its X-Amz-Expires.
func presignExpiredError(t, now time.Time, expires int64) *Error {
	return invalidSignatureError("Signature expired: %s is now earlier than %s (%s + %d sec.)",
		t.Add(time.Duration(expires)*time.Second).Format(timeFormat), now.Format(timeFormat), t.Format(timeFormat), expires)
}

func formatSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}
