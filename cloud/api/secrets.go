package api

// App secrets: set, list (names only), delete. Values are write-only.

import (
	"context"
	"net/http"
)

// SetSecretRequest is the body of PUT /v1/apps/{name}/secrets/{key}.
type SetSecretRequest struct {
	Value string `json:"value"`
}

// SecretList is the body of GET /v1/apps/{name}/secrets: names only.
type SecretList struct {
	App     string   `json:"app"`
	Secrets []string `json:"secrets"`
}

// SecretService stores app secrets, encrypted; they reach the app's
// environment when it (re)starts. A Service that also implements it serves
// /v1/apps/{name}/secrets. Secrets may be set before the app is deployed.
type SecretService interface {
	SetAppSecret(ctx context.Context, org, app, key, value string) error
	AppSecretNames(ctx context.Context, org, app string) ([]string, error)
	DeleteAppSecret(ctx context.Context, org, app, key string) error
}

func (h *Handler) secretService(w http.ResponseWriter) (SecretService, bool) {
	s, ok := h.svc.(SecretService)
	if !ok {
		writeError(w, notImplemented("secrets"))
	}
	return s, ok
}

func (h *Handler) listSecrets(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.secretService(w)
	if !ok {
		return
	}
	app := r.PathValue("name")
	names, err := svc.AppSecretNames(r.Context(), p.Org, app)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, SecretList{App: app, Secrets: names})
}

func (h *Handler) setSecret(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.secretService(w)
	if !ok {
		return
	}
	var req SetSecretRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := svc.SetAppSecret(r.Context(), p.Org, r.PathValue("name"), r.PathValue("key"), req.Value); err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteSecret(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.secretService(w)
	if !ok {
		return
	}
	if err := svc.DeleteAppSecret(r.Context(), p.Org, r.PathValue("name"), r.PathValue("key")); err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
