package process_test

import (
	"bufio"
	"context"
	"fmt"
	"log"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
)

// A deployment running cat, the simplest stdio "server": whatever is
// written to the stream comes back.
func Example() {
	ctx := context.Background()
	rt, err := process.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)

	err = rt.Create(ctx, runtime.Spec{
		Name:    "local.cat",
		Command: "cat",
		Limits:  runtime.Limits{OpenFiles: 64},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := rt.Start(ctx, "local.cat"); err != nil {
		log.Fatal(err)
	}
	stdio, err := rt.Attach("local.cat")
	if err != nil {
		log.Fatal(err)
	}
	rwc, err := stdio.Open(ctx) // waits until the process is running
	if err != nil {
		log.Fatal(err)
	}
	defer rwc.Close()

	fmt.Fprintln(rwc, `{"jsonrpc":"2.0","method":"ping","id":1}`)
	line, _ := bufio.NewReader(rwc).ReadString('\n')
	fmt.Print(line)

	st, _ := rt.Status(ctx, "local.cat")
	fmt.Println(st.State)
	// Output:
	// {"jsonrpc":"2.0","method":"ping","id":1}
	// running
}
