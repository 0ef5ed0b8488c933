package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// payloadHashes returns the payload hash values to try in the canonical
// request, reading and restoring the body when its hash must be computed.
func (v *Verifier) payloadHashes(r *http.Request, s *signed) ([2]string, error) {
	switch p := s.payload; {
	case p == unsignedPayload || strings.HasPrefix(p, streamingPrefix):
		return [2]string{p}, nil
	case p != "":
		if len(p) != hex.EncodedLen(sha256.Size) {
			return [2]string{}, incompleteError("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-*, or a valid sha256 value.")
		}
		sum, err := v.hashBody(r)
		if err != nil {
			return [2]string{}, err
		}
		if !strings.EqualFold(p, sum) {
			return [2]string{}, invalidSignatureError("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		return [2]string{p}, nil
	case s.presigned:
		// Presigned URLs sign UNSIGNED-PAYLOAD (S3) or, for a request
		// without a body, the hash of nothing. Their bodies are not read.
		if r.ContentLength == 0 {
			return [2]string{unsignedPayload, emptySHA256}, nil
		}
		return [2]string{unsignedPayload}, nil
	default:
		sum, err := v.hashBody(r)
		return [2]string{sum}, err
	}
}

// hashBody returns the hex SHA-256 of r's body and replaces r.Body with a
// reader over the same bytes.
func (v *Verifier) hashBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	if r.ContentLength > v.maxBody {
		return "", tooLargeError(v.maxBody)
	}
	var body []byte
	var err error
	if n := r.ContentLength; n > 0 {
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return "", tooLargeError(v.maxBody)
		}
		return "", fmt.Errorf("read request body: %w", err)
	}
	if int64(len(body)) > v.maxBody {
		return "", tooLargeError(v.maxBody)
	}
	rb := &replayBody{orig: r.Body}
	rb.Reset(body)
	r.Body = rb
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// replayBody serves a body Verify has read, and closes the original.
type replayBody struct {
	bytes.Reader
	orig io.Closer
}

func (b *replayBody) Close() error { return b.orig.Close() }
