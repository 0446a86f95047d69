package llm

import (
	"context"
	"slices"
	"sync"
)

// SimpleMemory is the in-process [Memory]: a list of messages guarded by a
// mutex. The zero value is an empty memory ready to use. Stored messages are
// shared with callers, not copied: treat them as immutable.
type SimpleMemory struct {
	mu   sync.Mutex
	msgs []Message
}

// NewMemory returns an empty in-process memory.
func NewMemory() *SimpleMemory { return &SimpleMemory{} }

// Load returns the stored messages, oldest first.
func (m *SimpleMemory) Load(context.Context) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.msgs), nil
}

// Append adds messages at the end, atomically.
func (m *SimpleMemory) Append(_ context.Context, msgs ...Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msgs...)
	return nil
}

// Clear forgets every message.
func (m *SimpleMemory) Clear(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = nil
	return nil
}
