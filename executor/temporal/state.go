package temporal

import (
	"encoding/json"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// Names this package gives to Temporal objects.
const (
	// DefaultTaskQueue is the task queue used when none is configured.
	DefaultTaskQueue = "mcp-agent"
	// StateQuery is the query every run answers with its live state (a
	// JSON object: started, waiting, paused, cancel_requested,
	// status_message, progress, pending), e.g.
	// `temporal workflow query --type mcp-agent.state -w RUN_ID`.
	StateQuery = "mcp-agent.state"
	// PauseSignal and UnpauseSignal carry Pause and the pause-lifting part
	// of Resume.
	PauseSignal   = "mcp-agent.pause"
	UnpauseSignal = "mcp-agent.unpause"
	// checkpointSignal is the signal a run sends itself to make a step
	// durable (see WorkerOptions.BatchSteps).
	checkpointSignal = "mcp-agent.checkpoint"

	// memoKey is the memo field holding a run's state; the workflow upserts
	// it whenever the state changes, so Status and List read it without a
	// worker.
	memoKey = "mcp_agent"
	// stepErrorType is the ApplicationError type of a failed step attempt.
	stepErrorType = "mcp-agent.step"
	// workflowErrorType is the ApplicationError type of a failed run.
	workflowErrorType = "mcp-agent.workflow"
)

// runState is what a run reports about itself: in its memo (for Status and
// List) and through StateQuery. Event is set only in the memo upsert that
// records an event that Temporal's own history does not have (a wait
// starting, a delivered or rejected signal, a status message, progress);
// History reads it back from the WorkflowPropertiesModified event.
type runState struct {
	Started         bool               `json:"started"`
	Waiting         *executor.Wait     `json:"waiting,omitempty"`
	Paused          bool               `json:"paused,omitempty"`
	CancelRequested bool               `json:"cancel_requested,omitempty"`
	StatusMessage   string             `json:"status_message,omitempty"`
	Progress        *workflow.Progress `json:"progress,omitempty"`
	// Pending counts signals received and not yet consumed, by name.
	Pending map[string]int `json:"pending,omitempty"`
	// UpdatedAt is the workflow time of the last change.
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
	Event     *executor.Event `json:"event,omitempty"`
}

// stepResult is what a step's local activity returns: the step's identity
// travels with its result so that History can name the step and replay can
// check that the code still asks for the same step.
type stepResult struct {
	Step    string          `json:"step"`
	Seq     int             `json:"seq"`
	Attempt int             `json:"attempt"`
	Result  json.RawMessage `json:"result"`
}

// stepFailure is the detail of a failed step attempt's ApplicationError.
type stepFailure struct {
	Step    string `json:"step"`
	Seq     int    `json:"seq"`
	Attempt int    `json:"attempt"`
}

// sideEffect is what a side effect marker records.
type sideEffect struct {
	Name  string          `json:"name"`
	Seq   int             `json:"seq"`
	Value json.RawMessage `json:"value"`
}

var dataConverter = converter.GetDefaultDataConverter()

// decodeState reads the run state from a memo; ok is false if the run has
// not recorded one (it has not started).
func decodeState(memo *commonpb.Memo) (st runState, ok bool, err error) {
	if memo == nil || memo.Fields[memoKey] == nil {
		return st, false, nil
	}
	if err := dataConverter.FromPayload(memo.Fields[memoKey], &st); err != nil {
		return st, false, fmt.Errorf("decoding the run's %s memo: %w", memoKey, err)
	}
	return st, true, nil
}

// decodePayloads decodes the first payload into JSON.
func decodePayloads(ps *commonpb.Payloads) json.RawMessage {
	if ps == nil || len(ps.Payloads) == 0 {
		return nil
	}
	var raw json.RawMessage
	if err := dataConverter.FromPayload(ps.Payloads[0], &raw); err != nil {
		// Not JSON (another SDK's payload): show it as a string.
		b, _ := json.Marshal(string(ps.Payloads[0].GetData()))
		return b
	}
	return raw
}
