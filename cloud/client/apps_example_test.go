package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

// Package an app directory: secrets, local run state and what
// .mcpagentignore lists stay out.
func ExamplePackageApp() {
	dir, _ := os.MkdirTemp("", "app")
	defer os.RemoveAll(dir)
	for name, body := range map[string]string{
		"mcp_agent.config.yaml":  "name: demo\n",
		"mcp_agent.secrets.yaml": "openai:\n  api_key: sk-...\n",
		"prompts/intro.md":       "Hello.\n",
		"scratch.log":            "...",
		".mcpagentignore":        "*.log\n",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	pkg, err := client.PackageApp(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pkg.Files)
	fmt.Println(pkg.Skipped)
	// Output:
	// [.mcpagentignore mcp_agent.config.yaml prompts/intro.md]
	// [mcp_agent.secrets.yaml (secrets) scratch.log (.mcpagentignore)]
}

// Deploy an app, start a run of its workflow, wait until it asks for input,
// and answer.
func ExampleClient_DeployApp() {
	c, _ := client.FromEnv()
	ctx := context.Background()
	pkg, err := client.PackageApp("examples/approval", nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.DeployApp(ctx, api.DeployAppRequest{Name: "approval", ReplayScript: "approval.replay.yaml"}, pkg)
	if err != nil {
		log.Fatal(err) // a config error names the file, line and key
	}
	fmt.Println("version", res.Version, "at", res.App.Endpoint)

	run, err := c.RunWorkflow(ctx, "approval", "publisher", json.RawMessage(`{"message":"publish the launch post"}`))
	if err != nil {
		log.Fatal(err)
	}
	run, err = c.WaitRun(ctx, run.ID, func(r api.Run) bool { return r.Waiting != nil || r.Terminal() })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(run.Waiting.Prompt) // Publish this post? Answer yes or no.
	if _, err := c.ResumeRun(ctx, run.ID, api.ResumeRequest{Payload: json.RawMessage(`"yes"`)}); err != nil {
		log.Fatal(err)
	}
	run, _ = c.WaitRun(ctx, run.ID, nil)
	fmt.Println(run.Status, string(run.Result))
}

// Stream an agent's run: its status as it goes, its question, and the
// answer with the tokens and cost it took; answer a question by the
// agent's name.
func ExampleClient_StreamAgent() {
	c, _ := client.FromEnv()
	ctx := context.Background()
	for ev, err := range c.StreamAgent(ctx, "approval", "publisher", "publish the launch post", 0) {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Type {
		case api.AgentStarted, api.AgentStatus:
			fmt.Println(ev.Run, ev.Status)
		case api.AgentHumanInput:
			fmt.Println("the agent asks:", ev.Waiting.Prompt)
		case api.AgentResult:
			if u := ev.Result.Usage; u != nil {
				fmt.Println(ev.Result.Answer, u.Tokens.InputTokens, u.Tokens.OutputTokens, u.Cost.USD)
			}
		}
	}
	// The agent's one paused run, answered.
	if _, err := c.ResumeAgent(ctx, "approval", "publisher", api.AgentRunControl{Payload: json.RawMessage(`"yes"`)}); err != nil {
		log.Fatal(err)
	}
}
