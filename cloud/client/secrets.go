package client

import (
	"context"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

// SetSecret stores (or replaces) a secret of app: an environment variable
// the app gets, encrypted on the platform, never returned. The app may not
// be deployed yet; a running app gets the value when it restarts.
func (c *Client) SetSecret(ctx context.Context, app, key, value string) error {
	return c.do(ctx, "PUT", "/v1/apps/"+esc(app)+"/secrets/"+esc(key), api.SetSecretRequest{Value: value}, nil)
}

// Secrets lists the names of app's secrets.
func (c *Client) Secrets(ctx context.Context, app string) ([]string, error) {
	var l api.SecretList
	err := c.do(ctx, "GET", "/v1/apps/"+esc(app)+"/secrets", nil, &l)
	return l.Secrets, err
}

// DeleteSecret removes a secret of app.
func (c *Client) DeleteSecret(ctx context.Context, app, key string) error {
	return c.do(ctx, "DELETE", "/v1/apps/"+esc(app)+"/secrets/"+esc(key), nil, nil)
}
