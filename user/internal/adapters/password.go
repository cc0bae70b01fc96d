package adapters

import (
	"fmt"

	"github.com/alexedwards/argon2id"
)

// Argon2Hasher hashes passwords with argon2id. The default parameters are
// OWASP's recommendation (19 MiB, 2 iterations, 1 lane); each hash stores
// its own parameters, so raising them later keeps old hashes valid.
type Argon2Hasher struct {
	params *argon2id.Params
}

// NewArgon2Hasher returns a hasher using memoryKiB and iterations.
func NewArgon2Hasher(memoryKiB uint32, iterations uint32) *Argon2Hasher {
	return &Argon2Hasher{params: &argon2id.Params{
		Memory: memoryKiB, Iterations: iterations, Parallelism: 1, SaltLength: 16, KeyLength: 32,
	}}
}

// Hash implements app.PasswordHasher.
func (h *Argon2Hasher) Hash(password string) (string, error) {
	hash, err := argon2id.CreateHash(password, h.params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// Verify implements app.PasswordHasher.
func (h *Argon2Hasher) Verify(password, hash string) (bool, error) {
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}
