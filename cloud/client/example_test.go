package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

// The CLI's way to a platform: $MCP_AGENT_CLOUD_URL and $MCP_AGENT_API_KEY,
// or the local platform's admin key.
func ExampleFromEnv() {
	c, err := client.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	servers, err := c.ListServers(ctx)
	if err != nil {
		log.Fatal(err) // e.g. "cannot reach the platform at ...: start one with `mcp-agent cloud up`"
	}
	for _, s := range servers {
		fmt.Println(s.Name, s.Status, s.Endpoint)
	}
}

// Follow a server's logs, like `mcp-agent logs NAME -f --since 10m`.
func ExampleClient_FollowLogs() {
	c, _ := client.FromEnv()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for l, err := range c.FollowLogs(ctx, "files", &client.LogsOptions{Since: time.Now().Add(-10 * time.Minute)}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(l.Time.Format(time.TimeOnly), l.Stream, l.Line)
	}
}
