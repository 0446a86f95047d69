package client

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

func eventsQuery(f api.EventFilter, follow bool) string {
	q := url.Values{}
	if f.After > 0 {
		q.Set("after", strconv.FormatInt(f.After, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if len(f.Kinds) > 0 {
		q.Set("kind", strings.Join(f.Kinds, ","))
	}
	for k, v := range map[string]string{"app": f.App, "server": f.Server, "run": f.Run} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if follow {
		q.Set("follow", "true")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// PlatformEvents returns the org's events selected by f (GET /v1/events):
// without f.After, the newest f.Limit (default 100).
func (c *Client) PlatformEvents(ctx context.Context, f api.EventFilter) ([]api.PlatformEvent, error) {
	var l api.PlatformEventList
	err := c.do(ctx, "GET", "/v1/events"+eventsQuery(f, false), nil, &l)
	return l.Events, err
}

// FollowPlatformEvents yields the events selected by f (without f.After,
// the newest f.Limit first), then new ones as they happen: deployment
// state changes, run status changes, human-input requests. It ends without
// an error when ctx is done.
func (c *Client) FollowPlatformEvents(ctx context.Context, f api.EventFilter) iter.Seq2[api.PlatformEvent, error] {
	return follow[api.PlatformEvent](ctx, c, "/v1/events"+eventsQuery(f, true))
}
