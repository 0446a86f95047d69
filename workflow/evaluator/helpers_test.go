package evaluator_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The fixtures these tests share with the other patterns are in
// workflow/internal/patterntest.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
