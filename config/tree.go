package config

// Design notes.
//
// Loading works on a small document tree of our own rather than on goccy's
// AST or on decoded Go values, because every later step needs to know where
// a value came from: ${VAR} expansion errors name the file and line, the
// secrets file is deep-merged into the config file value by value (so an
// error in a merged value names the secrets file), MCP_AGENT__* overrides
// are values from "the environment", and the strict decoder reports every
// problem at once with its file, line and key path. The steps are:
//
//	parse (goccy/go-yaml parser) -> tree -> expand ${VAR} -> merge secrets
//	-> apply env overrides -> decode into Settings -> validate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// position is where a value was written.
type position struct {
	file string
	line int
}

type nodeKind uint8

const (
	nullNode nodeKind = iota
	scalarNode
	mapNode
	seqNode
)

func (k nodeKind) String() string {
	switch k {
	case scalarNode:
		return "a scalar"
	case mapNode:
		return "a mapping"
	case seqNode:
		return "a list"
	}
	return "null"
}

// node is one value of a YAML document.
type node struct {
	kind nodeKind
	pos  position
	// scalars: val is string, int64, uint64, float64 or bool; text is the
	// value as written (used when a string is wanted).
	val  any
	text string
	// mappings, in document order
	entries []*entry
	// sequences
	items []*node
}

type entry struct {
	key    string
	keyPos position
	val    *node
}

func (n *node) lookup(key string) *entry {
	for _, e := range n.entries {
		if e.key == key {
			return e
		}
	}
	return nil
}

// describe names the value's kind for error messages.
func (n *node) describe() string {
	if n.kind != scalarNode {
		return n.kind.String()
	}
	switch n.val.(type) {
	case string:
		t := n.text
		if r := []rune(t); len(r) > 60 {
			t = string(r[:57]) + "..."
		}
		return fmt.Sprintf("the string %q", t)
	case bool:
		return "the boolean " + n.text
	}
	return "the number " + n.text
}

func (n *node) clone() *node {
	c := *n
	if n.entries != nil {
		c.entries = make([]*entry, len(n.entries))
		for i, e := range n.entries {
			c.entries[i] = &entry{key: e.key, keyPos: e.keyPos, val: e.val.clone()}
		}
	}
	if n.items != nil {
		c.items = make([]*node, len(n.items))
		for i, it := range n.items {
			c.items[i] = it.clone()
		}
	}
	return &c
}

func (n *node) size() int {
	total := 1
	for _, e := range n.entries {
		total += e.val.size()
	}
	for _, it := range n.items {
		total += it.size()
	}
	return total
}

// Limits that keep hostile input (deep nesting, alias bombs) cheap.
const (
	maxDepth = 200
	maxNodes = 100_000
)

// parseDocument parses data as one YAML document. An empty document is a
// null node. Syntax errors are reported in errs and return nil.
func parseDocument(file string, data []byte, errs *errorList) *node {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var se interface {
			GetMessage() string
			GetToken() *token.Token
		}
		line := 0
		msg := err.Error()
		if errors.As(err, &se) {
			msg = se.GetMessage()
			if tk := se.GetToken(); tk != nil && tk.Position != nil {
				line = tk.Position.Line
			}
		}
		errs.add(file, line, "", "invalid YAML: %s", msg)
		return nil
	}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			errs.add(file, lineOf(doc.Body), "", "invalid YAML: more than one document; put all settings in one document (remove the extra \"---\")")
			return nil
		}
		body = doc.Body
	}
	c := &converter{file: file, errs: errs, anchors: map[string]*node{}}
	n := c.convert(body, 0)
	if c.failed {
		return nil
	}
	return n
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}

type converter struct {
	file    string
	errs    *errorList
	anchors map[string]*node
	nodes   int
	failed  bool
}

func (c *converter) fail(line int, format string, args ...any) *node {
	if !c.failed {
		c.errs.add(c.file, line, "", format, args...)
	}
	c.failed = true
	return &node{kind: nullNode, pos: position{c.file, line}}
}

func (c *converter) convert(n ast.Node, depth int) *node {
	if c.failed {
		return &node{}
	}
	line := lineOf(n)
	if depth > maxDepth {
		return c.fail(line, "invalid YAML: nested more than %d levels deep", maxDepth)
	}
	c.nodes++
	if c.nodes > maxNodes {
		return c.fail(line, "invalid YAML: more than %d values (check anchors and aliases)", maxNodes)
	}
	pos := position{c.file, line}
	scalar := func(v any, text string) *node {
		return &node{kind: scalarNode, pos: pos, val: v, text: text}
	}
	switch n := n.(type) {
	case nil, *ast.NullNode:
		return &node{kind: nullNode, pos: pos}
	case *ast.StringNode:
		return scalar(n.Value, n.Value)
	case *ast.LiteralNode:
		if n.Value == nil {
			return scalar("", "")
		}
		return scalar(n.Value.Value, n.Value.Value)
	case *ast.IntegerNode:
		return scalar(n.Value, n.Token.Value)
	case *ast.FloatNode:
		return scalar(n.Value, n.Token.Value)
	case *ast.InfinityNode:
		return scalar(n.Value, n.Token.Value)
	case *ast.NanNode:
		return scalar(n.GetValue(), n.Token.Value)
	case *ast.BoolNode:
		return scalar(n.Value, n.Token.Value)
	case *ast.TagNode:
		v := c.convert(n.Value, depth+1)
		if n.Start != nil && n.Start.Value == "!!str" && v.kind == scalarNode {
			v.val = v.text
		}
		return v
	case *ast.AnchorNode:
		v := c.convert(n.Value, depth+1)
		if n.Name != nil {
			c.anchors[n.Name.GetToken().Value] = v
		}
		return v
	case *ast.AliasNode:
		name := ""
		if n.Value != nil {
			name = n.Value.GetToken().Value
		}
		target, ok := c.anchors[name]
		if !ok {
			return c.fail(line, "invalid YAML: alias *%s refers to no anchor &%s defined before it", name, name)
		}
		c.nodes += target.size()
		if c.nodes > maxNodes {
			return c.fail(line, "invalid YAML: more than %d values (check anchors and aliases)", maxNodes)
		}
		// Copy, so expanding and merging never sees one value twice.
		return target.clone()
	case *ast.SequenceNode:
		out := &node{kind: seqNode, pos: pos, items: []*node{}}
		for _, it := range n.Values {
			out.items = append(out.items, c.convert(it, depth+1))
		}
		return out
	case *ast.MappingNode:
		return c.mapping(pos, n.Values, depth)
	case *ast.MappingValueNode:
		return c.mapping(pos, []*ast.MappingValueNode{n}, depth)
	}
	return c.fail(line, "invalid YAML: unsupported %s value", n.Type())
}

func (c *converter) mapping(pos position, pairs []*ast.MappingValueNode, depth int) *node {
	out := &node{kind: mapNode, pos: pos, entries: []*entry{}}
	var merges []*node
	for _, p := range pairs {
		if p == nil {
			continue
		}
		keyLine := lineOf(p.Key)
		if _, ok := p.Key.(*ast.MergeKeyNode); ok {
			v := c.convert(p.Value, depth+1)
			switch v.kind {
			case mapNode:
				merges = append(merges, v)
			case seqNode:
				for _, it := range v.items {
					if it.kind != mapNode {
						return c.fail(keyLine, "invalid YAML: merge key << wants mappings, got %s", it.kind)
					}
					merges = append(merges, it)
				}
			default:
				return c.fail(keyLine, "invalid YAML: merge key << wants a mapping, got %s", v.kind)
			}
			continue
		}
		key, ok := c.key(p.Key)
		if !ok {
			return c.fail(keyLine, "invalid YAML: mapping keys must be scalars")
		}
		if out.lookup(key) != nil {
			return c.fail(keyLine, "invalid YAML: duplicate key %q", key)
		}
		out.entries = append(out.entries, &entry{key: key, keyPos: position{c.file, keyLine}, val: c.convert(p.Value, depth+1)})
	}
	// Keys written explicitly win over merged ones; earlier merges win over later.
	for _, m := range merges {
		for _, e := range m.entries {
			if out.lookup(e.key) == nil {
				out.entries = append(out.entries, e)
			}
		}
	}
	return out
}

func (c *converter) key(k ast.MapKeyNode) (string, bool) {
	var n ast.Node = k
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	if tn, ok := n.(*ast.TagNode); ok {
		n = tn.Value
	}
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case nil:
		return "", false
	case ast.ScalarNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

// expandTree replaces ${VAR} references in every string scalar of n.
func expandTree(n *node, path string, lookup func(string) (string, bool), errs *errorList) {
	switch n.kind {
	case scalarNode:
		s, ok := n.val.(string)
		if !ok || !strings.Contains(s, "$") {
			return
		}
		out, problems := expand(s, lookup)
		for _, p := range problems {
			errs.at(n.pos, path, "%s", p)
		}
		n.val, n.text = out, out
	case mapNode:
		for _, e := range n.entries {
			expandTree(e.val, joinPath(path, e.key), lookup, errs)
		}
	case seqNode:
		for i, it := range n.items {
			expandTree(it, indexPath(path, i), lookup, errs)
		}
	}
}

// expand expands ${VAR} and ${VAR:-default} in s; $$ is a literal $ and a $
// followed by anything else is kept as is. It returns the problems found
// (unset variables, malformed references).
func expand(s string, lookup func(string) (string, bool)) (string, []string) {
	var b strings.Builder
	var problems []string
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			problems = append(problems, fmt.Sprintf(`unterminated "${" in %q (close it with "}", or write "$${" for a literal "${")`, s))
			b.WriteString(s[i:])
			break
		}
		ref := s[i+2 : i+2+end]
		i += 2 + end + 1
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validVarName(name) {
			problems = append(problems, fmt.Sprintf(`invalid reference "${%s}": want ${NAME} or ${NAME:-default} with NAME of letters, digits and _ (write "$$" for a literal "$")`, ref))
			continue
		}
		v, ok := lookup(name)
		switch {
		case hasDef && (!ok || v == ""):
			b.WriteString(def)
		case ok:
			b.WriteString(v)
		default:
			problems = append(problems, fmt.Sprintf("environment variable %s is not set (set it, or give a default: ${%s:-default})", name, name))
		}
	}
	return b.String(), problems
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// merge deep-merges over into base: mappings key by key, anything else
// replaced. A null in over leaves base as it is.
func merge(base, over *node) *node {
	if over == nil || over.kind == nullNode {
		return base
	}
	if base == nil || base.kind != mapNode || over.kind != mapNode {
		return over
	}
	for _, e := range over.entries {
		if be := base.lookup(e.key); be != nil {
			be.val = merge(be.val, e.val)
		} else {
			base.entries = append(base.entries, e)
		}
	}
	return base
}

// envPrefix starts the names of generic environment overrides.
const envPrefix = "MCP_AGENT__"

// applyEnvOverride sets the value named by an MCP_AGENT__A__B variable in
// root (a mapping), creating mappings on the way; keys match
// case-insensitively. Values starting with "[" or "{" are parsed as YAML
// flow collections, anything else is a string.
func applyEnvOverride(root *node, name, value string, errs *errorList) {
	src := "environment " + name
	segs := strings.Split(name[len(envPrefix):], "__")
	for _, s := range segs {
		if s == "" {
			errs.add(src, 0, "", "empty key in the variable name (separate keys with exactly two underscores, e.g. MCP_AGENT__LOGGER__LEVEL)")
			return
		}
	}
	val := &node{kind: scalarNode, pos: position{src, 0}, val: value, text: value}
	if t := strings.TrimSpace(value); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		var perrs errorList
		v := parseDocument(src, []byte(value), &perrs)
		if len(perrs.errs) > 0 {
			errs.add(src, 0, "", "cannot parse the value as a YAML list or mapping: %s", perrs.errs[0].Msg)
			return
		}
		val = v
	}
	cur := root
	path := ""
	for i, s := range segs {
		key := strings.ToLower(s)
		var e *entry
		for _, ce := range cur.entries {
			if strings.EqualFold(ce.key, s) {
				e = ce
				break
			}
		}
		if e == nil {
			e = &entry{key: key, keyPos: position{src, 0}, val: &node{kind: nullNode, pos: position{src, 0}}}
			cur.entries = append(cur.entries, e)
		}
		path = joinPath(path, e.key)
		if i == len(segs)-1 {
			e.val = val
			return
		}
		switch e.val.kind {
		case nullNode:
			e.val = &node{kind: mapNode, pos: position{src, 0}, entries: []*entry{}}
		case mapNode:
		default:
			errs.add(src, 0, path, "cannot set a key inside %s", e.val.describe())
			return
		}
		cur = e.val
	}
}

// toAny converts n to plain Go values (map[string]any, []any, string, int64,
// uint64, float64, bool, nil).
func toAny(n *node) any {
	switch n.kind {
	case scalarNode:
		return n.val
	case mapNode:
		m := make(map[string]any, len(n.entries))
		for _, e := range n.entries {
			m[e.key] = toAny(e.val)
		}
		return m
	case seqNode:
		s := make([]any, len(n.items))
		for i, it := range n.items {
			s[i] = toAny(it)
		}
		return s
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
