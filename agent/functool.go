package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A Tool is a Go function offered to the LLM as a tool, next to the tools of
// the agent's MCP servers. Build one with NewTool; the zero Tool is invalid
// (New reports it).
type Tool struct {
	def *mcp.Tool
	run func(ctx context.Context, args json.RawMessage) (*mcp.CallToolResult, error)
	err error // a construction error, reported by New
}

// Name returns the tool's name ("" for the zero Tool).
func (t Tool) Name() string {
	if t.def == nil {
		return ""
	}
	return t.def.Name
}

// Definition returns a copy of the tool as an LLM sees it: name, description
// and input (and, for object outputs, output) JSON schema as map[string]any
// values. It returns nil for the zero Tool.
func (t Tool) Definition() *mcp.Tool {
	if t.def == nil {
		return nil
	}
	c := *t.def
	return &c
}

// outKind is how a function's output becomes a tool result.
type outKind int

const (
	outJSON   outKind = iota // JSON text
	outObject                // JSON text + structured content + output schema
	outString                // the string itself as text
	outResult                // *mcp.CallToolResult, returned as is
)

// NewTool returns a function tool named name that runs fn.
//
// The input schema is inferred from In with github.com/google/jsonschema-go:
// In must be a struct (or pointer to one) or a map with string keys, or any
// for "any object". Struct fields use their json names; fields without
// omitempty/omitzero are required, unknown fields are rejected, and a
// `jsonschema:"..."` tag is the field's description. Before fn runs, the
// arguments are validated against the schema; invalid arguments produce an
// IsError result naming the field, and fn is not called.
//
// The output depends on Out:
//   - a struct or map (or pointer to one): the tool gets an output schema,
//     and the result carries the value as structured content and as JSON text;
//   - string: the string is the result's text;
//   - *mcp.CallToolResult: returned as is (for images, several contents, ...);
//   - anything else: the value's JSON is the result's text.
//
// An error from fn becomes a result with IsError set and the error's text,
// for the LLM to read, unless ctx is done, in which case CallTool returns
// the error.
//
// Errors in the tool's definition (a nil fn, an In that is not an object, a
// type with no JSON schema) are reported by New.
func NewTool[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error)) Tool {
	def := &mcp.Tool{Name: name, Description: description}
	t := Tool{def: def}
	fail := func(format string, args ...any) Tool {
		t.err = fmt.Errorf("tool %q: %s", name, fmt.Sprintf(format, args...))
		return t
	}
	if fn == nil {
		return fail("function is nil")
	}

	// Input.
	inType := reflect.TypeFor[In]()
	var resolved *jsonschema.Resolved
	if inType == reflect.TypeFor[any]() {
		def.InputSchema = map[string]any{"type": "object"}
	} else {
		if inType.Kind() == reflect.Pointer {
			inType = inType.Elem()
		}
		s, err := jsonschema.ForType(inType, nil)
		if err != nil {
			return fail("input type %s: %v", inType, err)
		}
		if s.Type != "object" {
			return fail("input type %s has JSON schema type %q; it must be a struct or a map with string keys", inType, s.Type+strings.Join(s.Types, "|"))
		}
		if resolved, err = s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true}); err != nil {
			return fail("input schema: %v", err)
		}
		if def.InputSchema, err = schemaMap(s); err != nil {
			return fail("input schema: %v", err)
		}
	}

	// Output.
	outType := reflect.TypeFor[Out]()
	kind := outJSON
	var outZero any // for a pointer Out: the zero value of its element, used for nil
	switch {
	case outType == reflect.TypeFor[*mcp.CallToolResult]():
		kind = outResult
	case outType.Kind() == reflect.String:
		kind = outString
	case outType == reflect.TypeFor[any]():
	default:
		elem := outType
		if elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
			outZero = reflect.Zero(elem).Interface()
		}
		s, err := jsonschema.ForType(elem, nil)
		if err != nil {
			return fail("output type %s: %v", outType, err)
		}
		if s.Type == "object" {
			kind = outObject
			if def.OutputSchema, err = schemaMap(s); err != nil {
				return fail("output schema: %v", err)
			}
		}
	}

	t.run = func(ctx context.Context, args json.RawMessage) (*mcp.CallToolResult, error) {
		input, err := checkArgs(args, resolved)
		if err != nil {
			return errorResult(fmt.Sprintf("invalid arguments for tool %q: %v", name, err)), nil
		}
		var in In
		if err := json.Unmarshal(input, &in); err != nil {
			return errorResult(fmt.Sprintf("invalid arguments for tool %q: %v", name, err)), nil
		}
		out, err := fn(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return errorResult(err.Error()), nil
		}
		switch kind {
		case outResult:
			if r := any(out).(*mcp.CallToolResult); r != nil {
				return r, nil
			}
			return &mcp.CallToolResult{Content: []mcp.Content{}}, nil
		case outString:
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: reflect.ValueOf(out).String()}}}, nil
		}
		var v any = out
		if outZero != nil && reflect.ValueOf(out).IsNil() {
			v = outZero
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encoding output: %w", err)
		}
		if kind == outObject && string(b) == "null" { // a nil map
			b = []byte("{}")
		}
		res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}
		if kind == outObject {
			res.StructuredContent = json.RawMessage(b)
		}
		return res, nil
	}
	return t
}

// schemaMap returns s as the map[string]any a client sees for a server's
// tool, so function tools and server tools look alike to the LLM layer.
func schemaMap(s *jsonschema.Schema) (map[string]any, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkArgs checks that args is a JSON object valid against resolved (when
// non-nil), applies the schema's defaults and returns the object's JSON.
// Empty or null args are the empty object.
func checkArgs(args json.RawMessage, resolved *jsonschema.Resolved) (json.RawMessage, error) {
	args = bytes.TrimSpace(args)
	if len(args) == 0 || bytes.Equal(args, []byte("null")) {
		args = json.RawMessage("{}")
	}
	var obj map[string]any
	if err := json.Unmarshal(args, &obj); err != nil {
		return nil, fmt.Errorf("arguments must be a JSON object: %v", err)
	}
	if resolved == nil {
		return args, nil
	}
	var v any = obj
	if err := resolved.ApplyDefaults(&v); err != nil {
		return nil, err
	}
	if err := resolved.Validate(&v); err != nil {
		return nil, describeValidation(err)
	}
	return json.Marshal(v)
}

// describeValidation rewrites a jsonschema-go validation error so it names
// the offending field: "validating root: validating /properties/a: type: ..."
// becomes `field "a": type: ...`.
func describeValidation(err error) error {
	msg := strings.TrimPrefix(err.Error(), "validating root: ")
	const marker = "validating /"
	if i := strings.LastIndex(msg, marker); i >= 0 {
		if ptr, detail, ok := strings.Cut(msg[i+len(marker)-1:], ": "); ok {
			if f := fieldPath(ptr); f != "" {
				return fmt.Errorf("field %q: %s", f, detail)
			}
		}
	}
	return fmt.Errorf("%s", msg)
}

// fieldPath turns a schema JSON pointer such as
// "/properties/a/items/properties/b" into "a[].b".
func fieldPath(ptr string) string {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	var b strings.Builder
	for i := 0; i < len(parts); i++ {
		switch parts[i] {
		case "properties":
			if i+1 < len(parts) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(strings.NewReplacer("~1", "/", "~0", "~").Replace(parts[i+1]))
				i++
			}
		case "items", "prefixItems", "additionalItems":
			b.WriteString("[]")
		case "additionalProperties":
			b.WriteString(".*")
		}
	}
	return b.String()
}

// validateToolName checks name against the MCP tool name rules: 1 to 128
// characters from A-Z a-z 0-9 _ - . (the go-sdk's own check is unexported).
func validateToolName(name string) error {
	if name == "" {
		return fmt.Errorf("tool name is empty")
	}
	if len(name) > 128 {
		return fmt.Errorf("tool name %q is %d characters long; the limit is 128", name, len(name))
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if !ok {
			return fmt.Errorf("tool name %q contains %q; use only letters, digits, '_', '-' and '.'", name, r)
		}
	}
	return nil
}
