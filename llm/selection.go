package llm

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// ModelPreferences weigh cost, speed and intelligence when choosing a model
// (the MCP sampling ModelPreferences, plus a provider restriction).
type ModelPreferences struct {
	// Priorities in [0, 1]; when all are 0 they weigh equally.
	CostPriority         float64
	SpeedPriority        float64
	IntelligencePriority float64
	// Hints are substrings of model names tried in order: the first hint
	// that matches a candidate restricts the choice to its matches.
	Hints []string
	// Providers restricts the candidates to these providers ("openai",
	// "anthropic"); nil allows every provider except "replay".
	Providers []string
}

// SelectModel picks the model of prices (nil: [DefaultPrices]) that best
// fits prefs: the highest weighted sum of a cost score (cheapest 1, dearest
// 0, on a log scale of the blended price 3:1 input:output), the speed and
// the intelligence scores of the table. Ties go to the cheaper, then the
// alphabetically first model.
func SelectModel(prices *PriceTable, prefs ModelPreferences) (string, error) {
	if prices == nil {
		prices = DefaultPrices()
	}
	type cand struct {
		name    string
		blended float64
		p       ModelPrice
	}
	var cands []cand
	for name, p := range prices.Models {
		if prefs.Providers == nil && p.Provider == "replay" {
			continue
		}
		if prefs.Providers != nil && !slices.Contains(prefs.Providers, p.Provider) {
			continue
		}
		cands = append(cands, cand{name: name, blended: (3*p.Input + p.Output) / 4, p: p})
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("llm: no model in the price table for providers %v: add models to the price table or allow other providers", prefs.Providers)
	}
	for _, h := range prefs.Hints {
		var matched []cand
		for _, c := range cands {
			if h != "" && strings.Contains(c.name, h) {
				matched = append(matched, c)
			}
		}
		if len(matched) > 0 {
			cands = matched
			break
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cands {
		lc := math.Log(c.blended + 0.01)
		lo, hi = min(lo, lc), max(hi, lc)
	}
	cw, sw, iw := prefs.CostPriority, prefs.SpeedPriority, prefs.IntelligencePriority
	if cw == 0 && sw == 0 && iw == 0 {
		cw, sw, iw = 1, 1, 1
	}
	score := func(c cand) float64 {
		cost := 1.0
		if hi > lo {
			cost = 1 - (math.Log(c.blended+0.01)-lo)/(hi-lo)
		}
		return cw*cost + sw*c.p.Speed + iw*c.p.Intelligence
	}
	best := slices.MinFunc(cands, func(a, b cand) int {
		sa, sb := score(a), score(b)
		switch {
		case sa > sb+1e-9:
			return -1
		case sb > sa+1e-9:
			return 1
		case a.blended != b.blended:
			return cmpFloat(a.blended, b.blended)
		}
		return strings.Compare(a.name, b.name)
	})
	return best.name, nil
}

func cmpFloat(a, b float64) int {
	if a < b {
		return -1
	}
	return 1
}
