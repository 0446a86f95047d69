package patternkit

import (
	"fmt"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// Transcript renders a conversation for a routing or classifying prompt:
// the text of a single message, or each message's text prefixed by its
// role (tool results and messages without text left out).
func Transcript(conv []llm.Message) string {
	if len(conv) == 1 {
		return conv[0].Text()
	}
	var b strings.Builder
	for _, m := range conv {
		if m.Role == llm.RoleTool {
			continue
		}
		if t := m.Text(); t != "" {
			fmt.Fprintf(&b, "%s: %s\n\n", m.Role, t)
		}
	}
	return strings.TrimSpace(b.String())
}

// LastUserText is the text of the last user message, or "" when there is
// none.
func LastUserText(conv []llm.Message) string {
	for i := len(conv) - 1; i >= 0; i-- {
		if conv[i].Role == llm.RoleUser {
			return conv[i].Text()
		}
	}
	return ""
}
