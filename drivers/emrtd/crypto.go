package emrtd

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Cipher is a block cipher suite of ICAO 9303 secure messaging: two-key
// 3DES with ISO 9797-1 MAC algorithm 3 (BAC, PACE-3DES), or AES with CMAC.
type Cipher int

// Cipher suites.
const (
	TDES   Cipher = iota + 1 // 2-key 3DES-CBC, retail MAC, 8-byte SSC
	AES128                   // AES-128-CBC, CMAC, 16-byte SSC
	AES192                   // AES-192-CBC, CMAC, 16-byte SSC
	AES256                   // AES-256-CBC, CMAC, 16-byte SSC
)

// CipherSuite is another name for Cipher.
type CipherSuite = Cipher

// KDF counters of ICAO 9303-11 §9.7.1.
const (
	KDFEnc uint32 = 1 // encryption key
	KDFMAC uint32 = 2 // MAC key
	KDFPI  uint32 = 3 // PACE password key K_pi
)

// String returns the suite name.
func (c Cipher) String() string {
	switch c {
	case TDES:
		return "3DES"
	case AES128:
		return "AES-128"
	case AES192:
		return "AES-192"
	case AES256:
		return "AES-256"
	}
	return fmt.Sprintf("Cipher(%d)", int(c))
}

// KeyLen returns the key length in bytes (16 for 2-key 3DES).
func (c Cipher) KeyLen() int {
	switch c {
	case TDES, AES128:
		return 16
	case AES192:
		return 24
	case AES256:
		return 32
	}
	return 0
}

// BlockSize returns the cipher block size: 8 for 3DES, 16 for AES. It is
// also the length of the send sequence counter.
func (c Cipher) BlockSize() int {
	if c == TDES {
		return 8
	}
	return 16
}

// Valid reports whether c is a known suite.
func (c Cipher) Valid() bool { return c >= TDES && c <= AES256 }

// KDF derives a key of c's length from a shared secret and a counter
// (ICAO 9303-11 §9.7.1): SHA-1 for 3DES and AES-128, SHA-256 for AES-192 and
// AES-256. 3DES keys get odd DES parity, as in the worked examples.
func KDF(seed []byte, counter uint32, c Cipher) []byte {
	in := make([]byte, len(seed)+4)
	copy(in, seed)
	binary.BigEndian.PutUint32(in[len(seed):], counter)
	var k []byte
	switch c {
	case TDES, AES128:
		h := sha1.Sum(in)
		k = h[:16]
	case AES192:
		h := sha256.Sum256(in)
		k = h[:24]
	default:
		h := sha256.Sum256(in)
		k = h[:32]
	}
	out := append([]byte(nil), k...)
	if c == TDES {
		setDESParity(out)
	}
	return out
}

func setDESParity(k []byte) {
	for i, b := range k {
		b &^= 1
		p := b ^ b>>1 ^ b>>2 ^ b>>3 ^ b>>4 ^ b>>5 ^ b>>6 ^ b>>7
		k[i] = b | (^p & 1)
	}
}

func (c Cipher) block(key []byte) (cipher.Block, error) {
	switch c {
	case TDES:
		var k [24]byte
		switch len(key) {
		case 16:
			copy(k[:], key)
			copy(k[16:], key[:8])
		case 24:
			copy(k[:], key)
		default:
			return nil, fmt.Errorf("emrtd: 3DES key of %d bytes", len(key))
		}
		return des.NewTripleDESCipher(k[:])
	case AES128, AES192, AES256:
		if len(key) != c.KeyLen() {
			return nil, fmt.Errorf("emrtd: %v key of %d bytes", c, len(key))
		}
		return aes.NewCipher(key)
	}
	return nil, fmt.Errorf("emrtd: unknown cipher %d", int(c))
}

// ErrBadPadding is returned by Unpad and by decryption of padded data whose
// ISO 9797-1 method 2 padding is wrong.
var ErrBadPadding = errors.New("emrtd: bad padding")

// Encrypt encrypts data, whose length must be a multiple of the block size,
// in CBC mode with the given IV (nil means zero).
func (c Cipher) Encrypt(key, iv, data []byte) ([]byte, error) {
	b, err := c.block(key)
	if err != nil {
		return nil, err
	}
	if len(data)%b.BlockSize() != 0 {
		return nil, fmt.Errorf("emrtd: %v encrypt: %d bytes is not a whole number of blocks", c, len(data))
	}
	if iv == nil {
		iv = make([]byte, b.BlockSize())
	}
	out := make([]byte, len(data))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, data)
	return out, nil
}

// Decrypt decrypts CBC data with the given IV (nil means zero).
func (c Cipher) Decrypt(key, iv, data []byte) ([]byte, error) {
	b, err := c.block(key)
	if err != nil {
		return nil, err
	}
	if len(data)%b.BlockSize() != 0 {
		return nil, fmt.Errorf("emrtd: %v decrypt: %d bytes is not a whole number of blocks", c, len(data))
	}
	if iv == nil {
		iv = make([]byte, b.BlockSize())
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, data)
	return out, nil
}

// encryptBlock encrypts one block in ECB mode (the AES SM IV is E(KSenc, SSC)).
func (c Cipher) encryptBlock(key, in []byte) ([]byte, error) {
	b, err := c.block(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, b.BlockSize())
	b.Encrypt(out, in)
	return out, nil
}

// MAC returns the 8-byte message authentication code of data. For 3DES it is
// ISO 9797-1 MAC algorithm 3 (retail MAC) with DES, and data must already be
// padded to a multiple of 8 (use Pad); data that is not is padded first. For
// AES it is CMAC (NIST SP 800-38B) truncated to 8 bytes, over data as given:
// secure messaging pads its MAC input first, PACE tokens do not.
func (c Cipher) MAC(key, data []byte) ([]byte, error) {
	if c == TDES {
		return retailMAC(key, data)
	}
	m, err := c.CMAC(key, data)
	if err != nil {
		return nil, err
	}
	return m[:8], nil
}

func retailMAC(key, data []byte) ([]byte, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("emrtd: retail MAC key of %d bytes", len(key))
	}
	if len(data)%8 != 0 {
		data = Pad(data, 8)
	}
	k1, err := des.NewCipher(key[:8])
	if err != nil {
		return nil, err
	}
	k2, err := des.NewCipher(key[8:16])
	if err != nil {
		return nil, err
	}
	var h [8]byte
	for i := 0; i < len(data); i += 8 {
		subtle.XORBytes(h[:], h[:], data[i:i+8])
		k1.Encrypt(h[:], h[:])
	}
	k2.Decrypt(h[:], h[:])
	k1.Encrypt(h[:], h[:])
	return h[:], nil
}

// CMAC returns the full 16-byte AES-CMAC of data.
func (c Cipher) CMAC(key, data []byte) ([]byte, error) {
	if c == TDES {
		return nil, errors.New("emrtd: CMAC needs AES")
	}
	b, err := c.block(key)
	if err != nil {
		return nil, err
	}
	const bs = 16
	var l, k1, k2 [bs]byte
	b.Encrypt(l[:], l[:])
	dbl := func(dst, src []byte) {
		var carry byte
		for i := bs - 1; i >= 0; i-- {
			dst[i] = src[i]<<1 | carry
			carry = src[i] >> 7
		}
		if carry != 0 {
			dst[bs-1] ^= 0x87
		}
	}
	dbl(k1[:], l[:])
	dbl(k2[:], k1[:])
	n := (len(data) + bs - 1) / bs
	complete := n > 0 && len(data)%bs == 0
	if n == 0 {
		n = 1
	}
	var last [bs]byte
	if complete {
		subtle.XORBytes(last[:], data[(n-1)*bs:], k1[:])
	} else {
		rem := data[(n-1)*bs:]
		copy(last[:], rem)
		last[len(rem)] = 0x80
		subtle.XORBytes(last[:], last[:], k2[:])
	}
	var x [bs]byte
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(x[:], x[:], data[i*bs:(i+1)*bs])
		b.Encrypt(x[:], x[:])
	}
	subtle.XORBytes(x[:], x[:], last[:])
	b.Encrypt(x[:], x[:])
	return x[:], nil
}

// Pad appends ISO 9797-1 padding method 2 (0x80 then zeros) up to a multiple
// of blockSize. It always adds at least one byte. data is not modified.
func Pad(data []byte, blockSize int) []byte {
	n := len(data) + 1
	if r := n % blockSize; r != 0 {
		n += blockSize - r
	}
	out := make([]byte, n)
	copy(out, data)
	out[len(data)] = 0x80
	return out
}

// Unpad removes ISO 9797-1 method 2 padding, or returns ErrBadPadding.
func Unpad(data []byte) ([]byte, error) {
	for i := len(data) - 1; i >= 0; i-- {
		switch data[i] {
		case 0x00:
			continue
		case 0x80:
			return data[:i], nil
		}
		break
	}
	return nil, ErrBadPadding
}

// macEqual compares two MACs in constant time.
func macEqual(a, b []byte) bool { return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1 }
