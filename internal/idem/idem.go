// Package idem makes and checks idempotency keys.
package idem

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"strings"
)

// MaxLen is the longest key accepted, in bytes.
const MaxLen = 255

// New returns a random UUIDv4.
func New() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms since Go 1.24;
		// on older ones fall back to the runtime's ChaCha8 source rather
		// than send without a key.
		binary.LittleEndian.PutUint64(b[:8], mrand.Uint64())
		binary.LittleEndian.PutUint64(b[8:], mrand.Uint64())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return format(&b)
}

// From derives a stable key from parts: a UUIDv8 (RFC 9562) holding the
// first 122 bits of SHA-256 over the length-prefixed parts, so ("ab", "c")
// and ("a", "bc") give different keys.
func From(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	h.Write([]byte("sendivent-idempotency-v1"))
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	var b [16]byte
	copy(b[:], sum[:16])
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return format(&b)
}

func format(b *[16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// Check says why a caller's key cannot be sent as a header, or nil.
func Check(key string) error {
	if len(key) > MaxLen {
		return errors.New("longer than 255 bytes")
	}
	if key != "" && strings.TrimSpace(key) == "" {
		return errors.New("blank: white space only")
	}
	if strings.TrimSpace(key) != key {
		return errors.New("has leading or trailing white space, which a header loses")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == 0x7f {
			return errors.New("contains a control character")
		}
	}
	return nil
}
