package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// DefaultAgentSearchPaths are searched, relative to the config file's
// directory, when agents.search_paths is not set. .claude/agents holds Claude
// Code subagents, which load unchanged.
var DefaultAgentSearchPaths = []string{".claude/agents", ".mcp-agent/agents"}

// agentFileExts are the agent file formats: YAML, JSON, and Markdown with a
// front matter.
var agentFileExts = []string{".yaml", ".yml", ".json", ".md"}

// loadAgentFiles appends the agents defined in files under the search paths
// to s.Agents.Definitions, recording where each was written so validation
// errors name the agent file and line. base is the config file's directory.
// A name defined in the config file wins over a file agent of the same name
// (so a project can override a shared agent); two files defining the same
// name is an error.
func loadAgentFiles(s *Settings, base string, d *decoder) {
	paths := DefaultAgentSearchPaths
	explicit := s.Agents != nil && s.Agents.SearchPaths != nil
	if explicit {
		paths = s.Agents.SearchPaths
	}
	if s.Agents != nil && s.Agents.Enabled != nil && !*s.Agents.Enabled {
		return
	}
	inConfig := map[string]bool{}
	if s.Agents != nil {
		for _, a := range s.Agents.Definitions {
			inConfig[a.Name] = true
		}
	}
	fromFile := map[string]position{}
	for i, sp := range paths {
		dir := sp
		if strings.HasPrefix(dir, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				dir = filepath.Join(home, dir[2:])
			}
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(base, dir)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			if explicit && !os.IsNotExist(err) {
				d.errs.at(d.pos[indexPath("agents.search_paths", i)], indexPath("agents.search_paths", i), "cannot read agent folder %s: %v", dir, err)
			}
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !slices.Contains(agentFileExts, strings.ToLower(filepath.Ext(e.Name()))) {
				continue
			}
			file := filepath.Join(dir, e.Name())
			for _, spec := range parseAgentFile(file, d) {
				if inConfig[spec.spec.Name] {
					continue
				}
				if prev, dup := fromFile[spec.spec.Name]; dup {
					d.errs.at(spec.pos, "name", "agent %q is also defined in %s:%d", spec.spec.Name, prev.file, prev.line)
					continue
				}
				fromFile[spec.spec.Name] = spec.pos
				if s.Agents == nil {
					s.Agents = &AgentsSettings{}
				}
				idx := len(s.Agents.Definitions)
				p := indexPath("agents.definitions", idx)
				for k, v := range spec.pos2 {
					d.pos[p+k] = v
				}
				s.Agents.Definitions = append(s.Agents.Definitions, spec.spec)
			}
		}
	}
}

type fileAgent struct {
	spec AgentSpec
	pos  position
	pos2 map[string]position // key path suffix (".name", ".server_names[0]") -> position
}

// parseAgentFile reads one agent file: a YAML or JSON mapping holding one
// agent, a list of agents, or a mapping with an "agents" list; or a Markdown
// file whose front matter holds the agent's fields and whose body is its
// instruction (the Claude Code subagent format).
func parseAgentFile(file string, d *decoder) []fileAgent {
	data, err := os.ReadFile(file)
	if err != nil {
		d.errs.add(file, 0, "", "cannot read agent file: %v", err)
		return nil
	}
	var body string
	md := strings.EqualFold(filepath.Ext(file), ".md")
	if md {
		fm, rest, ok := splitFrontMatter(data)
		if !ok {
			d.errs.add(file, 1, "", "agent file has no front matter: start it with a line \"---\", then name: and description:, then \"---\" and the instruction")
			return nil
		}
		// One leading newline keeps line numbers those of the file (the
		// opening "---" is line 1).
		data = append([]byte("\n"), fm...)
		body = strings.TrimSpace(string(rest))
	}
	root := parseDocument(file, data, d.errs)
	if root == nil {
		return nil
	}
	var items []*node
	switch {
	case root.kind == seqNode:
		items = root.items
	case root.kind == mapNode && root.lookup("agents") != nil:
		e := root.lookup("agents")
		if e.val.kind != seqNode {
			d.errs.at(e.val.pos, "agents", "want a list of agents, got %s", e.val.describe())
			return nil
		}
		items = e.val.items
	case root.kind == mapNode:
		items = []*node{root}
	default:
		d.errs.at(root.pos, "", "an agent file holds an agent (a mapping with name:), a list of agents, or agents: [...], got %s", root.describe())
		return nil
	}
	var out []fileAgent
	for i, n := range items {
		if n.kind != mapNode {
			d.errs.at(n.pos, "", "want an agent (a mapping with name:), got %s", n.describe())
			continue
		}
		if md {
			claudeCodeFrontMatter(n)
		}
		sub := &decoder{errs: d.errs, pos: map[string]position{}}
		var spec AgentSpec
		before := len(d.errs.errs)
		path := ""
		if len(items) > 1 || root.kind != mapNode || root.lookup("agents") != nil {
			path = indexPath("agents", i)
		}
		sub.decode(n, reflect.ValueOf(&spec).Elem(), path)
		if len(d.errs.errs) > before {
			continue
		}
		if md && spec.Instruction == "" {
			spec.Instruction = body
		}
		if spec.Instruction == "" {
			spec.Instruction = spec.Description
		}
		if strings.TrimSpace(spec.Name) == "" {
			d.errs.at(n.pos, path, "agent has no name (set name)")
			continue
		}
		fa := fileAgent{spec: spec, pos: n.pos, pos2: map[string]position{"": n.pos}}
		for k, v := range sub.pos {
			suffix := strings.TrimPrefix(k, path)
			if path == "" {
				suffix = "." + k
			}
			fa.pos2[suffix] = v
		}
		if e := n.lookup("name"); e != nil {
			fa.pos = e.val.pos
		}
		out = append(out, fa)
	}
	return out
}

// claudeCodeFrontMatter adapts a Claude Code subagent's front matter: tools
// written as "Read, Grep" become a list, model "inherit" means no model, and
// the display-only color key is dropped.
func claudeCodeFrontMatter(n *node) {
	kept := n.entries[:0]
	for _, e := range n.entries {
		switch e.key {
		case "color":
			continue
		case "tools":
			if e.val.kind == scalarNode {
				var items []*node
				for _, t := range strings.Split(e.val.text, ",") {
					if t = strings.TrimSpace(t); t != "" {
						items = append(items, &node{kind: scalarNode, pos: e.val.pos, val: t, text: t})
					}
				}
				e.val = &node{kind: seqNode, pos: e.val.pos, items: items}
			}
		case "model":
			if e.val.kind == scalarNode && e.val.text == "inherit" {
				e.val = &node{kind: nullNode, pos: e.val.pos}
			}
		}
		kept = append(kept, e)
	}
	n.entries = kept
}

// splitFrontMatter splits "---\n<yaml>\n---\n<body>".
func splitFrontMatter(data []byte) (fm, body []byte, ok bool) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	first, rest, found := bytes.Cut(data, []byte("\n"))
	if !found || strings.TrimSpace(string(first)) != "---" {
		return nil, nil, false
	}
	for off := 0; off <= len(rest); {
		line, next, more := bytes.Cut(rest[off:], []byte("\n"))
		if strings.TrimSpace(string(line)) == "---" {
			return rest[:off], next, true
		}
		if !more {
			break
		}
		off += len(line) + 1
	}
	return nil, nil, false
}
