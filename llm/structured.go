package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// GenerateStructured runs one turn asking for an answer of type T and
// decodes it. The JSON Schema is inferred from T with jsonschema.For (use a
// struct; `jsonschema:"..."` field tags become descriptions) and passed to
// the LLM as params.ResponseSchema; the answer is validated against the
// schema and decoded into T. When it does not validate, the validation error
// is sent back to the model once, asking for a corrected answer; a second
// failure returns an error wrapping [ErrInvalidStructuredOutput].
//
// Tools remain available during the turn: the model may call them before it
// answers.
func GenerateStructured[T any](ctx context.Context, l AugmentedLLM, msgs []Message, params *RequestParams) (T, error) {
	var zero T
	schema, err := jsonschema.For[T](nil)
	if err != nil {
		return zero, fmt.Errorf("llm: structured output: cannot derive a JSON schema from %T: %w", zero, err)
	}
	resolved, err := schema.Resolve(nil)
	if err != nil {
		return zero, fmt.Errorf("llm: structured output: schema of %T: %w", zero, err)
	}
	raw, err := json.Marshal(schema)
	if err != nil {
		return zero, err
	}
	p := MergeParams(params, nil)
	p.ResponseSchema = &ResponseSchema{Name: schemaName(reflect.TypeFor[T]()), Schema: raw, Strict: strictCompatible(schema)}

	out, err := l.Generate(ctx, msgs, p)
	if err != nil {
		return zero, err
	}
	answer := FinalText(out)
	v, verr := decodeStructured[T](resolved, answer)
	if verr == nil {
		return v, nil
	}
	repair := UserText(fmt.Sprintf("Your answer does not match the required JSON schema: %v\nReply with only the corrected JSON value, no other text.", verr))
	next := []Message{repair}
	if !p.useHistory() {
		next = append(append(slices.Clip(msgs), out...), repair)
	}
	out, err = l.Generate(ctx, next, p)
	if err != nil {
		return zero, err
	}
	answer = FinalText(out)
	v, verr = decodeStructured[T](resolved, answer)
	if verr != nil {
		return zero, fmt.Errorf("llm %q: %w after one repair attempt: %v; answer: %s", l.Name(), ErrInvalidStructuredOutput, verr, truncate(answer, 300))
	}
	return v, nil
}

var fence = regexp.MustCompile("(?s)^```[a-zA-Z]*\\s*(.*?)\\s*```$")

// decodeStructured extracts the JSON value from an answer (tolerating a
// Markdown code fence around it), validates it and decodes it into T.
func decodeStructured[T any](schema *jsonschema.Resolved, answer string) (T, error) {
	var zero T
	s := strings.TrimSpace(answer)
	if m := fence.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	if s == "" {
		return zero, fmt.Errorf("the answer is empty; a JSON value was expected")
	}
	var instance any
	if err := json.Unmarshal([]byte(s), &instance); err != nil {
		return zero, fmt.Errorf("the answer is not valid JSON: %v", err)
	}
	if err := schema.Validate(instance); err != nil {
		return zero, err
	}
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return zero, fmt.Errorf("the answer does not decode into %T: %v", zero, err)
	}
	return v, nil
}

var nonName = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

func schemaName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := nonName.ReplaceAllString(t.Name(), "_")
	if name == "" {
		return "output"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// strictCompatible reports whether a schema meets OpenAI strict mode:
// every object lists all its properties as required and forbids others.
func strictCompatible(s *jsonschema.Schema) bool {
	if s == nil {
		return true
	}
	if s.Type == "object" || len(s.Properties) > 0 {
		if len(s.Required) != len(s.Properties) {
			return false
		}
		if s.AdditionalProperties == nil || s.AdditionalProperties.Not == nil {
			return false
		}
	}
	for _, p := range s.Properties {
		if !strictCompatible(p) {
			return false
		}
	}
	return strictCompatible(s.Items)
}
