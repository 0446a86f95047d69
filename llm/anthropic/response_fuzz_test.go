package anthropic

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// FuzzResponse decodes arbitrary message JSON and translates it: the
// translation must never panic, every tool call it returns must carry
// arguments, and a structured answer must be valid JSON text.
func FuzzResponse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
		f.Add(data, uint8(1))
		f.Add(data, uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		var msg sdk.Message
		if json.Unmarshal(data, &msg) != nil {
			return
		}
		pl := &plan{}
		switch mode % 3 {
		case 1:
			pl.outputTool = "Forecast"
		case 2:
			pl.outputTool, pl.wrapped = "Forecast", true
		}
		resp := pl.response(&msg)
		if resp.Message.Role != llm.RoleAssistant {
			t.Errorf("role = %q", resp.Message.Role)
		}
		for _, c := range resp.Message.ToolCalls() {
			if len(c.Arguments) == 0 {
				t.Errorf("tool call %q without arguments", c.ID)
			}
			if c.Name == pl.outputTool && pl.outputTool != "" {
				t.Errorf("the output tool came back as a tool call")
			}
		}
	})
}
