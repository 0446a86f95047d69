package config

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// decoder decodes a tree into Go values strictly: unknown keys and wrong
// types are recorded as errors (all of them, not only the first), and the
// position of every key path is remembered for the validation that follows.
type decoder struct {
	errs *errorList
	pos  map[string]position
}

// fieldInfo describes the yaml-tagged fields of a struct type.
type fieldInfo struct {
	byName map[string]int // yaml name -> field index
	names  []string       // sorted
	inline int            // index of the ",inline" map field, or -1
}

var fieldCache sync.Map // reflect.Type -> *fieldInfo

func fieldsOf(t reflect.Type) *fieldInfo {
	if fi, ok := fieldCache.Load(t); ok {
		return fi.(*fieldInfo)
	}
	fi := &fieldInfo{byName: map[string]int{}, inline: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			fi.inline = i
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fi.byName[name] = i
		fi.names = append(fi.names, name)
	}
	sort.Strings(fi.names)
	fieldCache.Store(t, fi)
	return fi
}

func (d *decoder) errorf(n *node, path, format string, args ...any) {
	d.errs.at(n.pos, path, format, args...)
}

// decode decodes n into v (settable), at key path path.
func (d *decoder) decode(n *node, v reflect.Value, path string) {
	if n.kind == nullNode {
		return // leave the zero value
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		if n.kind != mapNode {
			d.errorf(n, path, "want a mapping, got %s", n.describe())
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.entries))
		for _, e := range n.entries {
			p := joinPath(path, e.key)
			d.pos[p] = e.keyPos
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(e.val, ev, p)
			m.SetMapIndex(reflect.ValueOf(e.key).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
	case reflect.Slice:
		if n.kind != seqNode {
			d.errorf(n, path, "want a list, got %s", n.describe())
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
		for i, it := range n.items {
			p := indexPath(path, i)
			d.pos[p] = it.pos
			d.decode(it, s.Index(i), p)
		}
		v.Set(s)
	case reflect.Interface:
		if a := toAny(n); a != nil {
			v.Set(reflect.ValueOf(a))
		}
	case reflect.String:
		if n.kind != scalarNode {
			d.errorf(n, path, "want a string, got %s", n.describe())
			return
		}
		// Numbers and booleans are taken as written ("8080", "true").
		v.SetString(n.text)
	case reflect.Bool:
		b, ok := toBool(n)
		if !ok {
			d.errorf(n, path, "want true or false, got %s", n.describe())
			return
		}
		v.SetBool(b)
	case reflect.Float64, reflect.Float32:
		f, ok := toFloat(n)
		if !ok {
			d.errorf(n, path, "want a number, got %s", n.describe())
			return
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			d.errorf(n, path, "want a finite number, got %s", n.text)
			return
		}
		v.SetFloat(f)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, ok := toInt(n)
		if !ok || v.OverflowInt(i) {
			d.errorf(n, path, "want a whole number, got %s", n.describe())
			return
		}
		v.SetInt(i)
	default:
		// Only reachable if a field of an unsupported type is added to Settings.
		d.errorf(n, path, "cannot decode into %s", v.Type())
	}
}

func (d *decoder) decodeStruct(n *node, v reflect.Value, path string) {
	if n.kind != mapNode {
		d.errorf(n, path, "want a mapping, got %s", n.describe())
		return
	}
	fi := fieldsOf(v.Type())
	for _, e := range n.entries {
		p := joinPath(path, e.key)
		d.pos[p] = e.keyPos
		if i, ok := fi.byName[e.key]; ok {
			d.decode(e.val, v.Field(i), p)
			continue
		}
		if fi.inline >= 0 {
			m := v.Field(fi.inline)
			if m.IsNil() {
				m.Set(reflect.MakeMap(m.Type()))
			}
			d.recordPositions(e.val, p)
			if a := toAny(e.val); a != nil {
				m.SetMapIndex(reflect.ValueOf(e.key), reflect.ValueOf(a))
			} else {
				m.SetMapIndex(reflect.ValueOf(e.key), reflect.Zero(m.Type().Elem()))
			}
			continue
		}
		d.errs.at(e.keyPos, p, "%s", unknownKeyMsg(e.key, fi.names))
	}
}

// unknownKeyMsg names the unknown key and suggests the closest known one, or
// lists them all.
func unknownKeyMsg(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(key), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", key, best)
	}
	return fmt.Sprintf("unknown key %q (known keys: %s)", key, strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance of short ASCII strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func toBool(n *node) (bool, bool) {
	if n.kind != scalarNode {
		return false, false
	}
	switch v := n.val.(type) {
	case bool:
		return v, true
	case int64:
		return v == 1, v == 0 || v == 1
	case uint64:
		return v == 1, v == 0 || v == 1
	case string:
		// Strings come from ${VAR} expansion and environment overrides.
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "on", "1":
			return true, true
		case "false", "no", "off", "0":
			return false, true
		}
	}
	return false, false
}

func toFloat(n *node) (float64, bool) {
	if n.kind != scalarNode {
		return 0, false
	}
	switch v := n.val.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

func toInt(n *node) (int64, bool) {
	if n.kind != scalarNode {
		return 0, false
	}
	switch v := n.val.(type) {
	case int64:
		return v, true
	case uint64:
		if v > math.MaxInt64 {
			return 0, false
		}
		return int64(v), true
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, false
		}
		return int64(v), true
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// recordPositions records where every value under n was written, for values
// kept as decoded YAML (inline options), so that their validation errors
// name the line of the entry at fault rather than of the enclosing key.
func (d *decoder) recordPositions(n *node, path string) {
	switch n.kind {
	case mapNode:
		for _, e := range n.entries {
			p := joinPath(path, e.key)
			d.pos[p] = e.keyPos
			d.recordPositions(e.val, p)
		}
	case seqNode:
		for i, it := range n.items {
			p := indexPath(path, i)
			d.pos[p] = it.pos
			d.recordPositions(it, p)
		}
	}
}
