package platform

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// keyPrefix starts every API key, so that leaked keys are easy to find.
const keyPrefix = "mcpa_"

// keyCacheTTL is how long a checked key is trusted without asking the
// store: a revoked key stops working at most this long after revocation.
const keyCacheTTL = 10 * time.Second

// newKeySecret returns a new random API key.
func newKeySecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return keyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// CreateAPIKey creates an API key for org (creating the org when it does
// not exist) and returns its secret, which is not stored: only its hash is.
func (p *Platform) CreateAPIKey(ctx context.Context, org, name string) (string, error) {
	if _, err := p.store.CreateOrg(ctx, org); err != nil && !errors.Is(err, store.ErrConflict) {
		return "", err
	}
	secret := newKeySecret()
	if _, err := p.store.CreateAPIKey(ctx, store.APIKey{Org: org, Name: name, Prefix: secret[:len(keyPrefix)+6], Hash: store.HashAPIKey(secret)}); err != nil {
		return "", err
	}
	return secret, nil
}

// ensureAdminKey makes sure dataDir/admin.key holds a valid admin key of
// the org "local", creating one on first start.
func (p *Platform) ensureAdminKey(ctx context.Context) (string, error) {
	path := filepath.Join(p.dataDir, AdminKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		if _, err := p.store.LookupAPIKey(ctx, store.HashAPIKey(secret)); err == nil {
			return path, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("platform: check the admin key: %w", err)
		}
		p.logger.Warn("the admin key file holds a key the store does not know (revoked, or a new store): writing a new one", "path", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("platform: read the admin key: %w", err)
	}
	secret, err := p.CreateAPIKey(ctx, store.DefaultOrg, "admin")
	if err != nil {
		return "", fmt.Errorf("platform: create the admin key: %w", err)
	}
	tmp, err := os.CreateTemp(p.dataDir, ".admin.key-*")
	if err != nil {
		return "", fmt.Errorf("platform: write the admin key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.WriteString(secret + "\n")
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			return "", fmt.Errorf("platform: write the admin key: %w", err)
		}
	} else {
		tmp.Close()
		return "", fmt.Errorf("platform: write the admin key: %w", err)
	}
	p.logger.Info("created the admin API key of org local", "path", path)
	return path, nil
}

// Authenticate implements api.Service.
func (p *Platform) Authenticate(ctx context.Context, key string) (api.Principal, error) {
	return p.keys.lookup(ctx, key)
}

// keyCache remembers checked keys for keyCacheTTL.
type keyCache struct {
	store store.Store
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]keyEntry // by hash
}

type keyEntry struct {
	p       api.Principal
	expires time.Time
}

func newKeyCache(s store.Store) *keyCache {
	return &keyCache{store: s, now: time.Now, entries: make(map[string]keyEntry)}
}

func (c *keyCache) lookup(ctx context.Context, secret string) (api.Principal, error) {
	if !strings.HasPrefix(secret, keyPrefix) || len(secret) > 256 {
		return api.Principal{}, api.ErrUnauthorized
	}
	hash := store.HashAPIKey(secret)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	k, err := c.store.LookupAPIKey(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return api.Principal{}, api.ErrUnauthorized
	}
	if err != nil {
		return api.Principal{}, err
	}
	pr := api.Principal{Org: k.Org, KeyID: k.ID}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[hash] = keyEntry{p: pr, expires: now.Add(keyCacheTTL)}
	c.mu.Unlock()
	return pr, nil
}
