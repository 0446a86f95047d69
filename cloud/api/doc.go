// Package api is the HTTP API of the mcp-agent cloud platform: the REST
// endpoints that deploy and manage servers and apps, their logs and events
// (JSON, or Server-Sent Events when followed), runs of the apps' workflows
// and agents (an agent's answer with its token usage and cost, or its run
// streamed as events; pause, resume and stop by run or by agent), the
// org's event stream (with live log lines), the OpenAPI description,
// API-key authentication, and the authorization in front of the gateway,
// which serves each deployment as an MCP server at /servers/{name}/mcp.
//
// The package holds the wire types (shared with package cloud/client) and an
// http.Handler over a Service, which the platform (package cloud/platform)
// implements:
//
//	h := api.New(svc, gw, &api.Options{Logger: logger})
//	srv := &http.Server{Handler: h}
//
// Every error is JSON: {"error":{"code":"not_found","message":"server \"x\" not found"}}.
// Names in paths are the server's name in the API key's org, or
// "{org}.{name}"; a deployment of another org is not found. See
// docs/cloud.md and /v1/openapi.json.
package api
