package config

import (
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Redacted returns a deep copy of s with secrets masked: provider, temporal
// and server auth api_key; header values whose name contains key, token,
// secret or auth (Authorization, X-Api-Key, ...); server env values whose
// name contains KEY, TOKEN, SECRET or PASSWORD; and string values in Extra
// and auth.oauth whose key contains key, token, secret or password. A masked
// value is "****" followed by its last 4 characters when it has at least 12,
// else "****". s is not modified.
func (s *Settings) Redacted() *Settings {
	if s == nil {
		return nil
	}
	c := deepCopy(reflect.ValueOf(s)).Interface().(*Settings)
	for _, p := range []*ProviderSettings{c.OpenAI, c.Anthropic} {
		if p != nil {
			p.APIKey = mask(p.APIKey)
			maskMap(p.Headers, isSecretHeader)
			maskMap(p.DefaultHeaders, isSecretHeader)
		}
	}
	if t := c.Temporal; t != nil {
		t.APIKey = mask(t.APIKey)
		maskMap(t.RPCMetadata, isSecretHeader)
	}
	maskMap(c.Logger.HTTPHeaders, isSecretHeader)
	if c.OTel != nil && c.OTel.OTLPSettings != nil {
		maskMap(c.OTel.OTLPSettings.Headers, isSecretHeader)
	}
	for name, srv := range c.MCP.Servers {
		if srv.Auth != nil {
			srv.Auth.APIKey = mask(srv.Auth.APIKey)
			maskAny(srv.Auth.OAuth)
		}
		maskMap(srv.Headers, isSecretHeader)
		maskMap(srv.Env, isSecretEnv)
		c.MCP.Servers[name] = srv
	}
	maskAny(c.Extra)
	return c
}

// mask hides a secret, keeping the last 4 characters of long ones.
func mask(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	if len(r) >= 12 {
		return "****" + string(r[len(r)-4:])
	}
	return "****"
}

func containsAnyFold(s string, words ...string) bool {
	l := strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

func isSecretHeader(name string) bool { return containsAnyFold(name, "key", "token", "secret", "auth") }
func isSecretEnv(name string) bool {
	return containsAnyFold(name, "key", "token", "secret", "password")
}

func maskMap(m map[string]string, secret func(string) bool) {
	for k, v := range m {
		if secret(k) {
			m[k] = mask(v)
		}
	}
}

// maskAny masks string values under secret-looking keys in decoded YAML.
func maskAny(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && isSecretEnv(k) {
				v[k] = mask(s)
				continue
			}
			maskAny(x)
		}
	case []any:
		for _, x := range v {
			maskAny(x)
		}
	}
}

// deepCopy copies v, following pointers, maps, slices and interfaces.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(deepCopy(v.Elem()))
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			if c.Field(i).CanSet() {
				c.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			c.SetMapIndex(iter.Key(), deepCopy(iter.Value()))
		}
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(deepCopy(v.Elem()))
		return c
	}
	return v
}

// MarshalYAML makes yaml.Marshal print the known sections in declaration
// order followed by the Extra sections sorted by name.
func (s Settings) MarshalYAML() (any, error) {
	out := yaml.MapSlice{}
	v := reflect.ValueOf(s)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || name == "" || v.Field(i).IsZero() {
			continue
		}
		out = append(out, yaml.MapItem{Key: name, Value: v.Field(i).Interface()})
	}
	keys := make([]string, 0, len(s.Extra))
	for k := range s.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, yaml.MapItem{Key: k, Value: s.Extra[k]})
	}
	return out, nil
}

// YAML returns the settings as YAML, including Extra. Print
// s.Redacted().YAML() to show settings to a user.
func (s *Settings) YAML() ([]byte, error) {
	if s == nil {
		return []byte("{}\n"), nil
	}
	return yaml.MarshalWithOptions(s, yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
}
