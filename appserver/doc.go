// Package appserver serves an app as an MCP server, so that any MCP client
// (Claude Desktop, Cursor, the MCP Inspector, another mcp-agent app) can use
// its agents, workflows and tools. Tool names are the Python mcp-agent's, so
// clients and scripts written for it work:
//
//   - agents-list, and per agent agents-<name>-generate_str (message in,
//     answer out), agents-<name>-generate (every message of the turn) and
//     agents-<name>-generate_structured (an answer matching a JSON Schema);
//   - workflows-list, workflows-runs-list, workflows-run (workflow_name,
//     run_parameters), workflows-get_status, workflows-pause (run_id),
//     workflows-resume (run_id, signal_name default "resume", payload),
//     workflows-cancel, and workflows-<name>-run per workflow;
//   - the app's own tools (NewTool answers directly; NewAsyncTool starts a
//     workflow and returns {workflow_id, run_id});
//   - resources mcp-agent://runs/{run_id} (a run's status and result) and
//     mcp-agent://runs/{run_id}/history.
//
// Every agent call reports the tokens and cost of its own model calls as an
// llm.UsageNode: the "usage" field of agents-<name>-generate and of an agent
// workflow's result (AgentRunOutput, summed over the run's turns), and
// _meta.usage (MetaKeyUsage) of the text results. workflows-get_status and
// the run resources list a run's status transitions with their times.
//
// During an agent call the client gets progress notifications (model calls,
// tool calls) and log messages; the agent's questions to a human are elicited
// from the client, and sampling and elicitation requests from the app's own
// servers are forwarded to it (see Upstream). A client's cancellation cancels
// the call.
//
// Quick start:
//
//	up := appserver.NewUpstream()
//	a, err := app.New(app.Options{
//		SamplingHandler: up.SamplingHandler(llm.SamplingHandler(provider, nil)),
//		HumanInput:      up.HumanInput(nil),
//	})
//	...
//	srv, err := appserver.New(a, &appserver.Options{
//		Upstream: up,
//		NewLLM: func(ag *agent.Agent) (llm.AugmentedLLM, error) {
//			return llm.New(ag, provider, nil), nil
//		},
//		Executor: ex, // an executor/local Executor with the app's workflows
//	})
//	...
//	err = srv.ServeStdio(ctx)                                // a local server, or
//	err = srv.ListenAndServe(ctx, "127.0.0.1:8000", nil) // Streamable HTTP at /mcp, SSE at /sse
//
// Declarative apps are served by `mcp-agent serve`; see docs/serve.md.
package appserver
