package main

import (
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), &out, "replay", ""); err != nil {
		t.Fatal(err)
	}
	want := `customer: Hi, I was charged twice for invoice INV-1042.
  (triage -> billing)
  [lookup_invoice {"invoice":"INV-1042"}]
billing: I can see invoice INV-1042 (89.00 EUR) was charged twice. Would you like me to refund the duplicate charge?

customer: Yes, please refund the duplicate charge.
  [refund_duplicate {"invoice":"INV-1042"}]
billing: Done, Ada Lovelace: 89.00 EUR for INV-1042 is on its way back to your card (3-5 business days).

customer: Thanks! Also, do you have a plan for teams?
  (billing -> triage)
  (triage -> sales)
sales: Yes: the Team plan is 29 EUR/month for 5 seats, with shared workspaces and an admin console. Want me to set up a trial?

context variables:
  customer = Ada Lovelace
  invoice = INV-1042
  refunded = 89
3,250 in / 170 out tokens · $0.0000
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
