package temporal

import (
	"context"
	"encoding/json"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/mcp-agent-go/mcp-agent/executor"
)

// History reads the run's Temporal history and returns it as executor
// events, oldest first. Event IDs are Temporal's event IDs. Temporal keeps
// a step's outcome in one LocalActivity marker, so a step appears as one
// step_completed (or step_failed) event whose Attempt is the attempts it
// took; there are no step_started events and no event per failed attempt.
func (e *Executor) History(ctx context.Context, runID string) ([]executor.Event, error) {
	it := e.c.GetWorkflowHistory(ctx, runID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var evs []executor.Event
	timers := map[int64]string{} // TimerStarted event ID -> summary
	started := false
	for it.HasNext() {
		he, err := it.Next()
		if err != nil {
			return nil, notFound(runID, err)
		}
		ev := executor.Event{ID: he.GetEventId(), RunID: runID, Time: he.GetEventTime().AsTime()}
		add := func(typ executor.EventType) *executor.Event {
			ev.Type = typ
			evs = append(evs, ev)
			return &evs[len(evs)-1]
		}
		switch he.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			a := he.GetWorkflowExecutionStartedEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Payload = decodePayloads(a.GetInput())
			add(executor.EventRunScheduled)
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			if !started {
				started = true
				add(executor.EventRunStarted)
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			markerEvent(he, &ev, add)
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			summary := summaryOf(he)
			timers[he.GetEventId()] = summary
			if summary == "sleep" {
				ev.Name = summary
				p, _ := json.Marshal(map[string]any{"duration": he.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration().String()})
				ev.Payload = p
				add(executor.EventTimerStarted)
			}
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			if timers[he.GetTimerFiredEventAttributes().GetStartedEventId()] == "sleep" {
				ev.Name = "sleep"
				add(executor.EventTimerFired)
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			a := he.GetWorkflowExecutionSignaledEventAttributes()
			switch a.GetSignalName() {
			case PauseSignal:
				add(executor.EventPauseRequested)
			case UnpauseSignal:
				add(executor.EventResumed)
			case checkpointSignal:
			default:
				ev.Name = a.GetSignalName()
				ev.Payload = decodePayloads(a.GetInput())
				add(executor.EventSignalReceived)
			}
		case enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
			st, ok, err := decodeState(he.GetWorkflowPropertiesModifiedEventAttributes().GetUpsertedMemo())
			if err != nil || !ok || st.Event == nil {
				continue
			}
			se := *st.Event
			ev.Seq, ev.Name, ev.Payload, ev.Error = se.Seq, se.Name, se.Payload, se.Error
			add(se.Type)
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			// reported when started
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
			a := he.GetChildWorkflowExecutionStartedEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Payload, _ = json.Marshal(map[string]string{"run_id": a.GetWorkflowExecution().GetWorkflowId()})
			add(executor.EventChildStarted)
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
			a := he.GetStartChildWorkflowExecutionFailedEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Error = "could not start run " + a.GetWorkflowId() + ": " + a.GetCause().String()
			add(executor.EventChildCompleted)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
			a := he.GetChildWorkflowExecutionCompletedEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Payload = decodePayloads(a.GetResult())
			add(executor.EventChildCompleted)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
			a := he.GetChildWorkflowExecutionFailedEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Error = failureMessage(a.GetFailure().GetMessage(), a.GetFailure().GetCause().GetMessage())
			add(executor.EventChildCompleted)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
			a := he.GetChildWorkflowExecutionCanceledEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Error = "cancelled"
			add(executor.EventChildCompleted)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
			a := he.GetChildWorkflowExecutionTerminatedEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Error = "terminated"
			add(executor.EventChildCompleted)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
			a := he.GetChildWorkflowExecutionTimedOutEventAttributes()
			ev.Name = a.GetWorkflowType().GetName()
			ev.Error = "timed out"
			add(executor.EventChildCompleted)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
			add(executor.EventCancelRequested)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			ev.Payload, _ = closeOutcome(he)
			add(executor.EventRunCompleted)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
			_, ev.Error = closeOutcome(he)
			add(executor.EventRunFailed)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
			_, ev.Error = closeOutcome(he)
			add(executor.EventRunCancelled)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
			_, ev.Error = closeOutcome(he)
			add(executor.EventRunTerminated)
		}
	}
	return evs, nil
}

// markerEvent maps a LocalActivity (step) or SideEffect marker.
func markerEvent(he *historypb.HistoryEvent, ev *executor.Event, add func(executor.EventType) *executor.Event) {
	a := he.GetMarkerRecordedEventAttributes()
	switch a.GetMarkerName() {
	case "LocalActivity":
		if f := a.GetFailure(); f != nil {
			var d stepFailure
			if ps := f.GetApplicationFailureInfo().GetDetails(); ps != nil && len(ps.Payloads) > 0 {
				_ = dataConverter.FromPayload(ps.Payloads[0], &d)
			}
			ev.Name, ev.Seq, ev.Attempt, ev.Error = d.Step, d.Seq, d.Attempt, f.GetMessage()
			add(executor.EventStepFailed)
			return
		}
		var r stepResult
		if ps := a.GetDetails()["result"]; ps != nil && len(ps.Payloads) > 0 {
			if err := dataConverter.FromPayload(ps.Payloads[0], &r); err != nil {
				return
			}
		}
		ev.Name, ev.Seq, ev.Attempt, ev.Payload = r.Step, r.Seq, r.Attempt, r.Result
		add(executor.EventStepCompleted)
	case "SideEffect":
		var se sideEffect
		if ps := a.GetDetails()["data"]; ps != nil && len(ps.Payloads) > 0 {
			if err := dataConverter.FromPayload(ps.Payloads[0], &se); err != nil {
				return
			}
		}
		ev.Name, ev.Seq, ev.Payload = se.Name, se.Seq, se.Value
		add(executor.EventSideEffect)
	}
}

func summaryOf(he *historypb.HistoryEvent) string {
	p := he.GetUserMetadata().GetSummary()
	if p == nil {
		return ""
	}
	var s string
	if err := dataConverter.FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

func failureMessage(msg, cause string) string {
	if cause != "" && cause != msg {
		return msg + ": " + cause
	}
	return msg
}
