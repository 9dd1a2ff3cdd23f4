package bridge

import (
	"fmt"
	"sync"
)

// bulkhead limits the concurrent executions of one action or event handler
// and queues the calls beyond, first in first out.
type bulkhead struct {
	opts     BulkheadOptions
	mu       sync.Mutex
	inFlight int
	queue    []chan struct{}
}

// acquire takes a slot, waiting in the queue when none is free; it fails
// when the queue is full.
func (h *bulkhead) acquire() bool {
	h.mu.Lock()
	if h.inFlight < h.opts.Concurrency {
		h.inFlight++
		h.mu.Unlock()
		return true
	}
	if h.opts.MaxQueueSize > 0 && len(h.queue) >= h.opts.MaxQueueSize {
		h.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	h.queue = append(h.queue, ch)
	h.mu.Unlock()
	<-ch // the slot of a finished execution is handed over
	return true
}

// release hands the slot to the first waiting call, or frees it.
func (h *bulkhead) release() {
	h.mu.Lock()
	if len(h.queue) > 0 {
		ch := h.queue[0]
		h.queue = h.queue[1:]
		h.mu.Unlock()
		close(ch)
		return
	}
	h.inFlight--
	h.mu.Unlock()
}

// bulkheadMiddleware applies the bulkhead options to local actions and
// event handlers, as JS's Bulkhead middleware does. A call or event beyond
// the queue fails with QueueIsFullError.
func bulkheadMiddleware(b *Broker) Middleware {
	return Middleware{
		Name: "Bulkhead",
		LocalAction: func(next Handler, a *ActionSpec) Handler {
			var over *BulkheadOptions
			if a.Def != nil {
				over = a.Def.Bulkhead
			}
			opts := b.opts.Bulkhead.merge(over)
			if !opts.Enabled {
				return next
			}
			h := &bulkhead{opts: opts}
			return func(c *Context) (any, error) {
				if !h.acquire() {
					return nil, errBulkheadFull(map[string]any{"action": a.Name, "nodeID": c.NodeID}, a.Name, c.NodeID)
				}
				defer h.release()
				return next(c)
			}
		},
		LocalEvent: func(next EventHandler, e *EventSpec) EventHandler {
			opts := b.opts.Bulkhead.merge(e.Def.Bulkhead)
			if !opts.Enabled {
				return next
			}
			h := &bulkhead{opts: opts}
			return func(c *Context) error {
				if !h.acquire() {
					return errBulkheadFull(map[string]any{"event": c.EventName, "service": e.Service, "nodeID": c.NodeID}, "", c.NodeID)
				}
				defer h.release()
				return next(c)
			}
		},
	}
}

// errBulkheadFull is the QueueIsFullError of a full bulkhead queue; JS
// builds its message from data.action, "undefined" for events.
func errBulkheadFull(data map[string]any, action, nodeID string) *Error {
	if action == "" {
		action = "undefined"
	}
	return &Error{Name: "QueueIsFullError", Code: 429, Type: "QUEUE_FULL", Retryable: true,
		Message: fmt.Sprintf("Queue is full. Request '%s' action on '%s' node is rejected.", action, nodeID),
		Data:    data}
}
