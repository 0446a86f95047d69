package platform

// App secrets (minimal: the vault comes later). Values are encrypted at
// rest with AES-256-GCM under a key kept in DATA/secrets.key (mode 0600,
// created on first use) and stored in DATA/secrets.json (mode 0600), each
// sealed with its org, app and name as additional data, so a value copied
// under another name does not decrypt. They are injected into the app's
// environment when it starts, never returned by the API (only their names)
// and never logged.

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

// SecretsKeyFile and SecretsFile are the secret store's files in the data
// directory.
const (
	SecretsKeyFile = "secrets.key"
	SecretsFile    = "secrets.json"
)

// envNameRE is what an environment variable name (and a secret's name) may
// be.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxSecretBytes bounds one secret value.
const maxSecretBytes = 64 << 10

// secretBox is the encrypted secret store.
type secretBox struct {
	dir string

	mu   sync.Mutex
	aead cipher.AEAD
	// data: org -> app -> name -> base64(nonce || ciphertext)
	data map[string]map[string]map[string]string
	read bool
}

func (b *secretBox) load() error {
	if b.read {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(b.dir, SecretsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b.data = map[string]map[string]map[string]string{}
	case err != nil:
		return fmt.Errorf("secrets: %w", err)
	default:
		if err := json.Unmarshal(raw, &b.data); err != nil {
			return fmt.Errorf("secrets: %s is corrupt: %w", SecretsFile, err)
		}
		if b.data == nil {
			b.data = map[string]map[string]map[string]string{}
		}
	}
	b.read = true
	return nil
}

// cipher returns the AEAD, creating the key file on first use.
func (b *secretBox) cipher() (cipher.AEAD, error) {
	if b.aead != nil {
		return b.aead, nil
	}
	file := filepath.Join(b.dir, SecretsKeyFile)
	key, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(file, key); err != nil {
			return nil, fmt.Errorf("secrets: create the key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("secrets: read the key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets: %s holds %d bytes, want 32: restore it from a backup (without it the stored secrets cannot be read)", file, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	b.aead, err = cipher.NewGCM(block)
	return b.aead, err
}

func secretAD(org, app, name string) []byte { return []byte(org + "\x00" + app + "\x00" + name) }

// set stores (or replaces) a secret.
func (b *secretBox) set(org, app, name string, value []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.load(); err != nil {
		return err
	}
	aead, err := b.cipher()
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := aead.Seal(nonce, nonce, value, secretAD(org, app, name))
	if b.data[org] == nil {
		b.data[org] = map[string]map[string]string{}
	}
	if b.data[org][app] == nil {
		b.data[org][app] = map[string]string{}
	}
	b.data[org][app][name] = base64.StdEncoding.EncodeToString(sealed)
	return b.save()
}

// remove deletes a secret and reports whether it existed.
func (b *secretBox) remove(org, app, name string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.load(); err != nil {
		return false, err
	}
	if _, ok := b.data[org][app][name]; !ok {
		return false, nil
	}
	delete(b.data[org][app], name)
	if len(b.data[org][app]) == 0 {
		delete(b.data[org], app)
	}
	return true, b.save()
}

// names lists an app's secrets, sorted.
func (b *secretBox) names(org, app string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.load(); err != nil {
		return nil, err
	}
	var out []string
	for k := range b.data[org][app] {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// values decrypts an app's secrets.
func (b *secretBox) values(org, app string) (map[string]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.load(); err != nil {
		return nil, err
	}
	m := b.data[org][app]
	if len(m) == 0 {
		return nil, nil
	}
	aead, err := b.cipher()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for name, enc := range m {
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(raw) < aead.NonceSize() {
			return nil, fmt.Errorf("secrets: %s of app %s.%s is corrupt", name, org, app)
		}
		v, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], secretAD(org, app, name))
		if err != nil {
			return nil, fmt.Errorf("secrets: %s of app %s.%s does not decrypt (was %s replaced?)", name, org, app, SecretsKeyFile)
		}
		out[name] = string(v)
	}
	return out, nil
}

func (b *secretBox) save() error {
	raw, err := json.MarshalIndent(b.data, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(b.dir, SecretsFile), raw)
}

// writeFileAtomic writes data to file (mode 0600) through a temporary file
// and a rename.
func writeFileAtomic(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// appSecrets returns the decrypted secrets of app name in org, injected
// into its environment at start.
func (p *Platform) appSecrets(org, name string) (map[string]string, error) {
	return p.secretBox().values(org, name)
}

// appSecretNames lists the names of an app's secrets.
func (p *Platform) appSecretNames(org, name string) ([]string, error) {
	return p.secretBox().names(org, name)
}

func (p *Platform) secretBox() *secretBox { return p.apps.secrets }

// SetAppSecret implements api.SecretService. The app gets the new value
// when it next starts (`mcp-agent apps restart`).
func (p *Platform) SetAppSecret(_ context.Context, org, app, key, value string) error {
	if err := checkSecretName(app, key); err != nil {
		return err
	}
	if value == "" {
		return api.Invalid(`"value" is empty: to remove the secret, delete it`)
	}
	if len(value) > maxSecretBytes {
		return api.Invalid("the value of %s is %d bytes; a secret holds at most %d", key, len(value), maxSecretBytes)
	}
	if strings.ContainsRune(value, 0) {
		return api.Invalid("the value of %s contains a NUL byte, which an environment variable cannot hold", key)
	}
	if err := p.secretBox().set(org, app, key, []byte(value)); err != nil {
		return err
	}
	p.logger.Info("app secret set", "app", org+"."+app, "secret", key) // never the value
	return nil
}

// AppSecretNames implements api.SecretService.
func (p *Platform) AppSecretNames(_ context.Context, org, app string) ([]string, error) {
	if !nameRE.MatchString(app) {
		return nil, api.Invalid("invalid app name %q", app)
	}
	return p.secretBox().names(org, app)
}

// DeleteAppSecret implements api.SecretService.
func (p *Platform) DeleteAppSecret(_ context.Context, org, app, key string) error {
	if err := checkSecretName(app, key); err != nil {
		return err
	}
	ok, err := p.secretBox().remove(org, app, key)
	if err != nil {
		return err
	}
	if !ok {
		return api.NotFound("app %q has no secret %q: list them with `mcp-agent secrets list %s`", app, key, app)
	}
	p.logger.Info("app secret deleted", "app", org+"."+app, "secret", key)
	return nil
}

func checkSecretName(app, key string) error {
	if !nameRE.MatchString(app) {
		return api.Invalid("invalid app name %q: use lowercase letters, digits, '-' and '_'", app)
	}
	if !envNameRE.MatchString(key) {
		return api.Invalid("invalid secret name %q: a secret is an environment variable of the app (letters, digits and _, not starting with a digit), such as OPENAI_API_KEY", key)
	}
	return nil
}

// maskSecrets replaces the values of an app's secrets in a log line.
func maskSecrets(line string, values []string) string {
	for _, v := range values {
		if len(v) >= 4 && strings.Contains(line, v) {
			line = strings.ReplaceAll(line, v, "***")
		}
	}
	return line
}

var _ api.SecretService = (*Platform)(nil)
