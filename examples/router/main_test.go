package main

import (
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), &out, settings{provider: "replay"}); err != nil {
		t.Fatal(err)
	}
	want := `> Where is my order 1234?
  order_status         function  0.95  The customer asks where an order is.
  billing              agent     0.10  Orders relate to payments, but nothing here is about money.
Order 1234 left the warehouse on Monday and arrives on Thursday.

> Should we move our database from MySQL to Postgres?
  architecture_review  agent     0.90  A database migration is an architecture decision.
  billing              agent     0.05  Not about payments.
Migrate, but not now: the benefits are real, yet none of them is urgent. Start by moving one new service to Postgres to build experience. Revisit the full migration next quarter.

`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestEmbeddingsNeedKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	err := run(t.Context(), &strings.Builder{}, settings{provider: "replay", embeddings: true})
	if err == nil || err.Error() != "-embeddings needs OPENAI_API_KEY (or OPENAI_BASE_URL for a keyless compatible server)" {
		t.Errorf("err = %v", err)
	}
}
