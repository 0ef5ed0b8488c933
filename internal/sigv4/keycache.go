package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
)

// keyCacheSize bounds the derived-key cache. A key is valid for one
// (access key, day, region, service), so a server sees few at a time.
const keyCacheSize = 256

// scopeKey identifies a derived signing key. The access key ID stands for its
// secret, which a Verifier never changes.
type scopeKey struct{ accessKeyID, date, region, service string }

// keyCache holds signing keys derived for requests whose signature checked
// out, so unauthenticated requests cannot evict useful entries.
type keyCache struct {
	mu   sync.RWMutex
	keys map[scopeKey][sha256.Size]byte
}

func (c *keyCache) get(k scopeKey) ([sha256.Size]byte, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	key, ok := c.keys[k]
	return key, ok
}

func (c *keyCache) put(k scopeKey, key [sha256.Size]byte) {
	// Clone so the entry does not pin the request's Authorization header.
	k = scopeKey{
		accessKeyID: strings.Clone(k.accessKeyID),
		date:        strings.Clone(k.date),
		region:      strings.Clone(k.region),
		service:     strings.Clone(k.service),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = make(map[scopeKey][sha256.Size]byte)
	}
	if _, ok := c.keys[k]; !ok && len(c.keys) >= keyCacheSize {
		for old := range c.keys { // evict an arbitrary entry
			delete(c.keys, old)
			break
		}
	}
	c.keys[k] = key
}

// deriveKey computes the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveKey(secret string, k scopeKey) [sha256.Size]byte {
	key := hmacSHA256([]byte("AWS4"+secret), k.date)
	key = hmacSHA256(key[:], k.region)
	key = hmacSHA256(key[:], k.service)
	return hmacSHA256(key[:], terminator)
}

func hmacSHA256(key []byte, data string) [sha256.Size]byte {
	var sum [sha256.Size]byte
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	m.Sum(sum[:0])
	return sum
}
