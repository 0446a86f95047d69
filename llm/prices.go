package llm

import (
	_ "embed"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
)

//go:embed prices.yaml
var defaultPricesYAML []byte

// ModelPrice is one model's entry in a [PriceTable]: prices in US dollars
// per 1 million tokens, and relative scores for [SelectModel].
type ModelPrice struct {
	Provider string  `yaml:"provider,omitempty" json:"provider,omitempty"`
	Input    float64 `yaml:"input" json:"input"`
	Output   float64 `yaml:"output" json:"output"`
	// CachedInput prices prompt-cache reads; nil means Input.
	CachedInput *float64 `yaml:"cached_input,omitempty" json:"cached_input,omitempty"`
	// CacheWrite prices prompt-cache writes; nil means Input.
	CacheWrite *float64 `yaml:"cache_write,omitempty" json:"cache_write,omitempty"`
	// Intelligence and Speed are relative scores in [0, 1].
	Intelligence float64 `yaml:"intelligence,omitempty" json:"intelligence,omitempty"`
	Speed        float64 `yaml:"speed,omitempty" json:"speed,omitempty"`
}

// Cost returns the price of u in US dollars.
func (p ModelPrice) Cost(u Usage) float64 {
	cachedIn, cacheWrite := p.Input, p.Input
	if p.CachedInput != nil {
		cachedIn = *p.CachedInput
	}
	if p.CacheWrite != nil {
		cacheWrite = *p.CacheWrite
	}
	plain := max(u.InputTokens-u.CacheReadTokens-u.CacheWriteTokens, 0)
	return (float64(plain)*p.Input + float64(u.CacheReadTokens)*cachedIn +
		float64(u.CacheWriteTokens)*cacheWrite + float64(u.OutputTokens)*p.Output) / 1e6
}

// A PriceTable maps model names to prices. The default table is the
// prices.yaml file embedded in this package. A PriceTable is immutable once
// built: safe for concurrent use.
type PriceTable struct {
	Models map[string]ModelPrice `yaml:"models" json:"models"`
}

// ParsePrices parses a price table in the format of prices.yaml. Unknown
// keys and negative prices are errors naming the line.
func ParsePrices(data []byte) (*PriceTable, error) {
	var t PriceTable
	if err := yaml.UnmarshalWithOptions(data, &t, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("price table: %s", yaml.FormatError(err, false, true))
	}
	for name, p := range t.Models {
		neg := p.Input < 0 || p.Output < 0 || (p.CachedInput != nil && *p.CachedInput < 0) || (p.CacheWrite != nil && *p.CacheWrite < 0)
		if neg {
			return nil, fmt.Errorf("price table: model %q has a negative price", name)
		}
	}
	return &t, nil
}

var defaultPrices = sync.OnceValue(func() *PriceTable {
	t, err := ParsePrices(defaultPricesYAML)
	if err != nil {
		panic("llm: embedded prices.yaml: " + err.Error())
	}
	return t
})

// DefaultPrices returns the embedded price table.
func DefaultPrices() *PriceTable { return defaultPrices() }

// With returns a new table: t's entries replaced or extended by over's.
func (t *PriceTable) With(over *PriceTable) *PriceTable {
	out := &PriceTable{Models: maps.Clone(t.Models)}
	if out.Models == nil {
		out.Models = make(map[string]ModelPrice)
	}
	if over != nil {
		maps.Copy(out.Models, over.Models)
	}
	return out
}

// Lookup finds a model's price: by exact name, else by the longest entry
// that is a prefix of the name followed by "-" (dated snapshots). A
// "provider/" or "provider:" prefix and an Ollama-style ":tag" suffix are
// ignored when the full name is not found.
func (t *PriceTable) Lookup(model string) (ModelPrice, bool) {
	if t == nil {
		return ModelPrice{}, false
	}
	cands := []string{model}
	if i := strings.LastIndex(model, "/"); i >= 0 {
		model = model[i+1:]
		cands = append(cands, model)
	}
	if before, after, ok := strings.Cut(model, ":"); ok {
		cands = append(cands, after, before)
	}
	for _, c := range cands {
		if p, ok := t.lookup(c); ok {
			return p, true
		}
	}
	return ModelPrice{}, false
}

func (t *PriceTable) lookup(model string) (ModelPrice, bool) {
	if p, ok := t.Models[model]; ok {
		return p, true
	}
	best, found := "", false
	for name := range t.Models {
		if len(name) > len(best) && strings.HasPrefix(model, name+"-") {
			best, found = name, true
		}
	}
	if !found {
		return ModelPrice{}, false
	}
	return t.Models[best], true
}

// Cost prices u for model; ok is false when the model is not in the table.
func (t *PriceTable) Cost(model string, u Usage) (usd float64, ok bool) {
	p, ok := t.Lookup(model)
	if !ok {
		return 0, false
	}
	return p.Cost(u), true
}
