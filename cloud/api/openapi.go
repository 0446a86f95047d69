package api

import _ "embed"

// openAPIDoc is the OpenAPI 3.1 description of the API, served at
// /v1/openapi.json.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 description of the API (JSON).
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }
