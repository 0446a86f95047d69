package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadBytes checks that no input makes LoadBytes panic, that every error
// names the file, and that loaded settings can be redacted and printed.
// The seed corpus is testdata/fuzz/FuzzLoadBytes plus testdata/python.
func FuzzLoadBytes(f *testing.F) {
	files, _ := filepath.Glob("testdata/python/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	env := envOf(map[string]string{"HOME": "/home/me", "EMPTY": ""})
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		s, err := LoadBytes(name, data, LoadOptions{Env: env, Environ: []string{}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("error does not start with the file name: %q", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("error %T is not a non-empty *ValidationError: %v", err, err)
			}
			for _, fe := range ve.Errors {
				if fe.File != name || fe.Msg == "" {
					t.Fatalf("field error without file or message: %#v", fe)
				}
			}
			return
		}
		if _, err := s.Redacted().YAML(); err != nil {
			t.Fatalf("YAML of loaded settings: %v", err)
		}
	})
}
