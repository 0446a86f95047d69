package agent

// Resources and prompts of the agent's servers.
//
// Resources keep their URIs (a URI already says what it is; renaming it would
// break links the server puts in tool results), and each listed resource
// carries the name of its server. ReadResource takes (server, uri); with an
// empty server it finds the one server that lists the URI.
//
// Prompts are namespaced like tools, "server_prompt", with the same
// collision rule, and GetPrompt takes the namespaced name.

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A ServerResource is a resource and the server that offers it.
type ServerResource struct {
	Server   string
	Resource *mcp.Resource
}

// A ServerResourceTemplate is a resource template and the server that offers it.
type ServerResourceTemplate struct {
	Server   string
	Template *mcp.ResourceTemplate
}

// A ServerPrompt is a prompt of one of the agent's servers.
type ServerPrompt struct {
	// Name is the namespaced name to pass to GetPrompt: "server_prompt",
	// suffixed "_2", "_3", ... on collision, as for tools.
	Name string
	// Server is the server that offers the prompt.
	Server string
	// Prompt is the prompt as the server lists it (under its own name).
	Prompt *mcp.Prompt
}

// ListResources returns the resources of all the agent's servers, in
// ServerNames order. Servers without resources contribute nothing.
func (a *Agent) ListResources(ctx context.Context) ([]ServerResource, error) {
	lists, err := eachServer(ctx, a, a.serverNames, "list resources of", func(ctx context.Context, s string) ([]*mcp.Resource, error) {
		return a.servers.ListResources(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	var out []ServerResource
	for i, l := range lists {
		for _, r := range l {
			if r != nil {
				out = append(out, ServerResource{Server: a.serverNames[i], Resource: r})
			}
		}
	}
	return out, nil
}

// ListResourceTemplates returns the resource templates of all the agent's
// servers, in ServerNames order.
func (a *Agent) ListResourceTemplates(ctx context.Context) ([]ServerResourceTemplate, error) {
	lists, err := eachServer(ctx, a, a.serverNames, "list resource templates of", func(ctx context.Context, s string) ([]*mcp.ResourceTemplate, error) {
		return a.servers.ListResourceTemplates(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	var out []ServerResourceTemplate
	for i, l := range lists {
		for _, t := range l {
			if t != nil {
				out = append(out, ServerResourceTemplate{Server: a.serverNames[i], Template: t})
			}
		}
	}
	return out, nil
}

// ReadResource reads uri from server, which must be one of the agent's
// servers (else the error wraps ErrUnknownServer).
//
// With server "", the agent lists its servers' resources and reads from the
// one server that lists uri; it is an error (wrapping ErrResourceNotFound)
// when none does (as for a URI made from a template: name the server), and
// an error naming the servers when several do.
func (a *Agent) ReadResource(ctx context.Context, server, uri string) (*mcp.ReadResourceResult, error) {
	if server == "" {
		all, err := a.ListResources(ctx)
		if err != nil {
			return nil, err
		}
		var owners []string
		for _, r := range all {
			if r.Resource.URI == uri {
				owners = append(owners, r.Server)
			}
		}
		switch len(owners) {
		case 0:
			return nil, fmt.Errorf("agent %q: %w: no server of %q lists %q; to read a resource made from a template, name its server", a.name, ErrResourceNotFound, a.serverNames, uri)
		case 1:
			server = owners[0]
		default:
			return nil, fmt.Errorf("agent %q: resource %q is listed by servers %q; name the server to read it from", a.name, uri, owners)
		}
	} else if !a.hasServer(server) {
		return nil, fmt.Errorf("agent %q: %w %q: the agent's servers are %q", a.name, ErrUnknownServer, server, a.serverNames)
	}
	res, err := a.servers.ReadResource(ctx, server, uri)
	if err != nil {
		return nil, fmt.Errorf("agent %q: read resource %q from server %q: %w", a.name, uri, server, err)
	}
	return res, nil
}

type promptIndex struct {
	prompts []ServerPrompt
	routes  map[string]ServerPrompt
}

// ListPrompts returns the prompts of all the agent's servers, namespaced
// "server_prompt", in ServerNames order.
func (a *Agent) ListPrompts(ctx context.Context) ([]ServerPrompt, error) {
	idx, err := a.listPrompts(ctx)
	if err != nil {
		return nil, err
	}
	return append([]ServerPrompt(nil), idx.prompts...), nil
}

func (a *Agent) listPrompts(ctx context.Context) (*promptIndex, error) {
	lists, err := eachServer(ctx, a, a.serverNames, "list prompts of", func(ctx context.Context, s string) ([]*mcp.Prompt, error) {
		return a.servers.ListPrompts(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	idx := &promptIndex{routes: make(map[string]ServerPrompt)}
	taken := make(names)
	for i, l := range lists {
		server := a.serverNames[i]
		for _, p := range l {
			if p == nil {
				continue
			}
			sp := ServerPrompt{Name: taken.claim(server + NamespaceSeparator + p.Name), Server: server, Prompt: p}
			idx.prompts = append(idx.prompts, sp)
			idx.routes[sp.Name] = sp
		}
	}
	a.mu.Lock()
	a.prompts = idx
	a.mu.Unlock()
	return idx, nil
}

// GetPrompt gets the prompt ListPrompts lists as name, with args. It uses
// the last listing, and lists the prompts first if there is none or the name
// is not in it; an unlisted name is an error wrapping ErrUnknownPrompt.
func (a *Agent) GetPrompt(ctx context.Context, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	a.mu.Lock()
	idx := a.prompts
	a.mu.Unlock()
	sp, ok := ServerPrompt{}, false
	if idx != nil {
		sp, ok = idx.routes[name]
	}
	if !ok {
		var err error
		if idx, err = a.listPrompts(ctx); err != nil {
			return nil, err
		}
		if sp, ok = idx.routes[name]; !ok {
			listed := make([]string, len(idx.prompts))
			for i, p := range idx.prompts {
				listed[i] = p.Name
			}
			return nil, fmt.Errorf("agent %q: %w %q%s", a.name, ErrUnknownPrompt, name, suggestion(name, listed, "prompts"))
		}
	}
	res, err := a.servers.GetPrompt(ctx, sp.Server, sp.Prompt.Name, args)
	if err != nil {
		return nil, fmt.Errorf("agent %q: prompt %q (%q of server %q): %w", a.name, name, sp.Prompt.Name, sp.Server, err)
	}
	return res, nil
}
