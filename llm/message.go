package llm

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Role is the author of a [Message].
type Role string

// Roles of messages. The system prompt is not a message: it is
// [Request.System] (from [RequestParams.SystemPrompt] or the agent's
// instruction).
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	// RoleTool marks a message that carries only [*ToolResult] parts answering
	// the tool calls of the preceding assistant message, in call order.
	// Providers map it onto their wire format (OpenAI: one "tool" message per
	// result; Anthropic: a user message of tool_result blocks).
	RoleTool Role = "tool"
)

// A Message is one provider-neutral message of a conversation.
type Message struct {
	Role  Role
	Parts []Part
}

// UserText returns a user message holding one text part.
func UserText(s string) Message {
	return Message{Role: RoleUser, Parts: []Part{&Text{Text: s}}}
}

// AssistantText returns an assistant message holding one text part.
func AssistantText(s string) Message {
	return Message{Role: RoleAssistant, Parts: []Part{&Text{Text: s}}}
}

// Prompt returns a conversation of one user message: the usual input of
// [AugmentedLLM.Generate].
func Prompt(s string) []Message { return []Message{UserText(s)} }

// Text returns the concatenation of the message's text parts (thinking,
// tool calls and tool results are left out).
func (m Message) Text() string {
	var b strings.Builder
	for _, p := range m.Parts {
		if t, ok := p.(*Text); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

// ToolCalls returns the message's tool call parts, in order.
func (m Message) ToolCalls() []*ToolCall {
	var calls []*ToolCall
	for _, p := range m.Parts {
		if c, ok := p.(*ToolCall); ok {
			calls = append(calls, c)
		}
	}
	return calls
}

// A Part is one piece of a message's content. It is a closed set:
// [*Text], [*Image], [*Thinking], [*ToolCall], [*ToolResult], [*Resource].
type Part interface {
	isPart()
}

// Text is plain text.
type Text struct {
	Text string
}

// Image is an image given either inline (Data with MIMEType, such as
// "image/png") or by URL.
type Image struct {
	Data     []byte
	MIMEType string
	URL      string
}

// Thinking is the model's reasoning as returned by the provider. Providers
// that need it back verbatim on the next request keep what they need in it:
// Anthropic extended thinking its Signature (a redacted block carries only
// RedactedData), OpenAI's Responses API the reasoning item's ID and
// EncryptedContent.
//
// Provider names the provider that produced it ("anthropic", "openai", the
// replay provider's name): a provider sends back only its own thinking and
// drops the rest, so a conversation can move between providers. Thinking
// without a Provider (stored before the field existed) that has a Signature
// or RedactedData is taken as Anthropic's.
type Thinking struct {
	Text         string
	Signature    string
	RedactedData string
	// Provider is the name of the provider that produced the thinking
	// ("" for unmarked thinking, see above).
	Provider string
	// ID is the provider's ID of the reasoning (OpenAI: the reasoning
	// item's "rs_..." ID).
	ID string
	// EncryptedContent is the opaque, encrypted reasoning OpenAI returns
	// with include: ["reasoning.encrypted_content"], sent back so that a
	// stateless (store: false) conversation keeps the model's reasoning.
	EncryptedContent string
}

// ToolCall is the model asking for a tool to be called. Arguments is a JSON
// object as produced by the model (it may be invalid JSON when the model
// erred; the loop reports that back to the model as an error result).
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// ToolResult answers the [ToolCall] whose ID is CallID. Content holds
// [*Text], [*Image] and [*Resource] parts derived from the MCP tool result.
// IsError reports a failed call: the model sees the content as an error.
type ToolResult struct {
	CallID  string
	Name    string
	Content []Part
	IsError bool
}

// Text returns the concatenation of the result's text parts.
func (r *ToolResult) Text() string {
	return Message{Parts: r.Content}.Text()
}

// Resource is an MCP resource in a tool result: embedded (Text or Blob set)
// or a link (only URI, Name, MIMEType).
type Resource struct {
	URI      string
	Name     string
	MIMEType string
	Text     string
	Blob     []byte
}

func (*Text) isPart()       {}
func (*Image) isPart()      {}
func (*Thinking) isPart()   {}
func (*ToolCall) isPart()   {}
func (*ToolResult) isPart() {}
func (*Resource) isPart()   {}

// partWire is the JSON form of a Part, discriminated by Type. It is the
// format messages take in memory stores, journals and replay recordings.
type partWire struct {
	Type         string          `json:"type"`
	Text         string          `json:"text,omitempty"`
	Data         []byte          `json:"data,omitempty"`
	MIMEType     string          `json:"mime_type,omitempty"`
	URL          string          `json:"url,omitempty"`
	Signature    string          `json:"signature,omitempty"`
	RedactedData string          `json:"redacted_data,omitempty"`
	Provider     string          `json:"provider,omitempty"`
	Encrypted    string          `json:"encrypted_content,omitempty"`
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Arguments    json.RawMessage `json:"arguments,omitempty"`
	CallID       string          `json:"call_id,omitempty"`
	Content      []partWire      `json:"content,omitempty"`
	IsError      bool            `json:"is_error,omitempty"`
	URI          string          `json:"uri,omitempty"`
	Blob         []byte          `json:"blob,omitempty"`
}

type messageWire struct {
	Role  Role       `json:"role"`
	Parts []partWire `json:"parts"`
}

// MarshalJSON encodes the message as {"role": ..., "parts": [{"type": ...}]}.
func (m Message) MarshalJSON() ([]byte, error) {
	parts, err := partsToWire(m.Parts)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		parts = []partWire{}
	}
	return json.Marshal(messageWire{Role: m.Role, Parts: parts})
}

// UnmarshalJSON decodes the form written by MarshalJSON.
func (m *Message) UnmarshalJSON(data []byte) error {
	var w messageWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	parts, err := partsFromWire(w.Parts)
	if err != nil {
		return err
	}
	*m = Message{Role: w.Role, Parts: parts}
	return nil
}

func partsToWire(parts []Part) ([]partWire, error) {
	var out []partWire
	for _, p := range parts {
		var w partWire
		switch p := p.(type) {
		case *Text:
			w = partWire{Type: "text", Text: p.Text}
		case *Image:
			w = partWire{Type: "image", Data: p.Data, MIMEType: p.MIMEType, URL: p.URL}
		case *Thinking:
			w = partWire{Type: "thinking", Text: p.Text, Signature: p.Signature, RedactedData: p.RedactedData,
				Provider: p.Provider, ID: p.ID, Encrypted: p.EncryptedContent}
		case *ToolCall:
			w = partWire{Type: "tool_call", ID: p.ID, Name: p.Name, Arguments: p.Arguments}
			if len(w.Arguments) > 0 && !json.Valid(w.Arguments) {
				// Keep invalid model output losslessly as a JSON string.
				s, _ := json.Marshal(string(p.Arguments))
				w.Arguments = s
			}
		case *ToolResult:
			content, err := partsToWire(p.Content)
			if err != nil {
				return nil, err
			}
			w = partWire{Type: "tool_result", CallID: p.CallID, Name: p.Name, Content: content, IsError: p.IsError}
		case *Resource:
			w = partWire{Type: "resource", URI: p.URI, Name: p.Name, MIMEType: p.MIMEType, Text: p.Text, Blob: p.Blob}
		case nil:
			return nil, fmt.Errorf("llm: nil message part")
		default:
			return nil, fmt.Errorf("llm: unknown message part %T", p)
		}
		out = append(out, w)
	}
	return out, nil
}

func partsFromWire(ws []partWire) ([]Part, error) {
	var out []Part
	for _, w := range ws {
		var p Part
		switch w.Type {
		case "text":
			p = &Text{Text: w.Text}
		case "image":
			p = &Image{Data: w.Data, MIMEType: w.MIMEType, URL: w.URL}
		case "thinking":
			p = &Thinking{Text: w.Text, Signature: w.Signature, RedactedData: w.RedactedData,
				Provider: w.Provider, ID: w.ID, EncryptedContent: w.Encrypted}
		case "tool_call":
			p = &ToolCall{ID: w.ID, Name: w.Name, Arguments: w.Arguments}
		case "tool_result":
			content, err := partsFromWire(w.Content)
			if err != nil {
				return nil, err
			}
			p = &ToolResult{CallID: w.CallID, Name: w.Name, Content: content, IsError: w.IsError}
		case "resource":
			p = &Resource{URI: w.URI, Name: w.Name, MIMEType: w.MIMEType, Text: w.Text, Blob: w.Blob}
		default:
			return nil, fmt.Errorf("llm: unknown message part type %q (want text, image, thinking, tool_call, tool_result or resource)", w.Type)
		}
		out = append(out, p)
	}
	return out, nil
}

// MarshalJSON encodes the call as in a message's parts.
func (c *ToolCall) MarshalJSON() ([]byte, error) { return marshalPart(c) }

// UnmarshalJSON decodes the form written by MarshalJSON.
func (c *ToolCall) UnmarshalJSON(data []byte) error { return unmarshalPart(data, c) }

// MarshalJSON encodes the result as in a message's parts.
func (r *ToolResult) MarshalJSON() ([]byte, error) { return marshalPart(r) }

// UnmarshalJSON decodes the form written by MarshalJSON.
func (r *ToolResult) UnmarshalJSON(data []byte) error { return unmarshalPart(data, r) }

func marshalPart(p Part) ([]byte, error) {
	ws, err := partsToWire([]Part{p})
	if err != nil {
		return nil, err
	}
	return json.Marshal(ws[0])
}

func unmarshalPart[T any, P interface {
	*T
	Part
}](data []byte, dst P) error {
	var w partWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	ps, err := partsFromWire([]partWire{w})
	if err != nil {
		return err
	}
	got, ok := ps[0].(P)
	if !ok {
		return fmt.Errorf("llm: part type %q does not decode into %T", w.Type, dst)
	}
	*dst = *got
	return nil
}
