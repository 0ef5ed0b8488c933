package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// functionKeyPrefix starts the access key ID of every function's own key.
const functionKeyPrefix = "UPDRAFTFN"

// functionCredentials is the access key a function's environments get: with
// access keys configured, a key of its own derived from the node's first
// secret, so code inside a function can call Updraft but never holds the
// operator's key; on an open loopback node, placeholders.
func (s *Server) functionCredentials(name string) (string, string) {
	if len(s.cfg.AccessKeys) == 0 {
		return "test", "test"
	}
	id := functionKeyPrefix + name
	return id, s.deriveSecret(id)
}

// functionSecret is the sigv4 lookup for function keys: the secret of a
// function's key while the function exists.
func (s *Server) functionSecret(accessKeyID string) (string, bool) {
	name, ok := strings.CutPrefix(accessKeyID, functionKeyPrefix)
	if !ok || name == "" {
		return "", false
	}
	if _, err := s.store.Get(name, ""); err != nil {
		return "", false
	}
	return s.deriveSecret(accessKeyID), true
}

func (s *Server) deriveSecret(accessKeyID string) string {
	_, secret, _ := strings.Cut(s.cfg.AccessKeys[0], ":")
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("updraft-function-key\n" + accessKeyID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
