package bridge

import (
	"context"
	"errors"
	"sync"
)

// The states of a circuit breaker, as JS names them.
const (
	cbClosed       = "close"
	cbOpen         = "open"
	cbHalfOpen     = "half_open"
	cbHalfOpenWait = "half_open_wait"
)

// breakerItem is the state of one endpoint's circuit breaker.
type breakerItem struct {
	ep       *Endpoint
	service  string
	action   string
	opts     CircuitBreakerOptions
	count    int
	failures int
	state    string
	timer    stopper
}

// endpointKey names an endpoint: an action on a node (JS's ep.name,
// "<nodeID>:<action>").
type endpointKey struct{ nodeID, action string }

// breakers holds every endpoint's circuit breaker of a broker.
type breakers struct {
	b      *Broker
	mu     sync.Mutex
	items  map[endpointKey]*breakerItem
	window stopper
}

// circuitBreakerMiddleware counts the calls and failures of every endpoint
// and opens its circuit when too many fail, as JS's CircuitBreaker
// middleware does: an open endpoint takes no calls (the balancer skips it)
// until HalfOpenTime passes; then one call is let through, and the circuit
// closes if it succeeds. Every change is broadcast to the cluster as
// $circuit-breaker.opened, .half-opened and .closed with JS's payloads.
func circuitBreakerMiddleware(b *Broker) Middleware {
	s := &breakers{b: b, items: map[endpointKey]*breakerItem{}}
	wrap := func(next Handler, a *ActionSpec) Handler {
		var over *CircuitBreakerOptions
		if a.Def != nil {
			over = a.Def.CircuitBreaker
		} else {
			over = circuitBreakerFromInfo(a.infoMap("circuitBreaker"))
		}
		opts := b.opts.CircuitBreaker.merge(over)
		if !opts.Enabled {
			return next
		}
		return func(c *Context) (any, error) {
			ep := c.Endpoint
			if ep == nil {
				return next(c)
			}
			item := s.item(ep, a, opts)
			s.mu.Lock()
			if item.state == cbHalfOpen {
				s.halfOpenWait(item)
			}
			s.mu.Unlock()
			res, err := next(c)
			if err == nil {
				s.success(item)
				return res, nil
			}
			if !a.Local && callerTimedOut(err) {
				// The breaker never learns how such a call ended in JS:
				// its Timeout middleware, outside the breaker, rejects
				// the call while the request is pending, and the
				// ErrorHandler drops the pending request. Neither a call
				// nor a failure, then.
				return nil, err
			}
			if opts.Check(err) {
				// Only failures of the endpoint itself count, not errors
				// that a third node returned through it.
				var me *Error
				if !errors.As(err, &me) || me.NodeID == "" || me.NodeID == c.NodeID {
					s.failure(item)
				}
			}
			return nil, err
		}
	}
	return Middleware{
		Name:         "CircuitBreaker",
		LocalAction:  wrap,
		RemoteAction: wrap,
		Started: func(context.Context, *Broker) error {
			if b.opts.CircuitBreaker.Enabled {
				s.startWindow()
			}
			return nil
		},
		Stopped: func(context.Context, *Broker) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.window != nil {
				s.window.Stop()
				s.window = nil
			}
			for _, it := range s.items {
				if it.timer != nil {
					it.timer.Stop()
				}
			}
			return nil
		},
	}
}

// callerTimedOut reports whether err is the RequestTimeoutError of this
// node's own timer for a remote call, not one a remote node answered with
// (those carry the node's ID).
func callerTimedOut(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Name == "RequestTimeoutError" && e.NodeID == ""
}

func (s *breakers) item(ep *Endpoint, a *ActionSpec, opts CircuitBreakerOptions) *breakerItem {
	key := endpointKey{ep.NodeID, a.Name}
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[key]
	if it == nil {
		it = &breakerItem{ep: ep, service: a.Service, action: a.Name, opts: opts, state: cbClosed}
		s.items[key] = it
	}
	it.ep = ep // the registry may have renewed the endpoint
	return it
}

// startWindow resets the counters every WindowTime, forgetting the
// endpoints that had no calls.
func (s *breakers) startWindow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var tick func()
	tick = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.window == nil {
			return
		}
		for key, it := range s.items {
			if it.count == 0 {
				delete(s.items, key)
				continue
			}
			it.count, it.failures = 0, 0
		}
		s.window = s.b.clock.AfterFunc(s.b.opts.CircuitBreaker.WindowTime, tick)
	}
	s.window = s.b.clock.AfterFunc(s.b.opts.CircuitBreaker.WindowTime, tick)
}

func (s *breakers) success(it *breakerItem) {
	s.mu.Lock()
	it.count++
	var ev func()
	if it.state == cbHalfOpenWait {
		ev = s.close(it)
	} else {
		ev = s.check(it)
	}
	s.mu.Unlock()
	if ev != nil {
		ev()
	}
}

func (s *breakers) failure(it *breakerItem) {
	s.mu.Lock()
	it.count++
	it.failures++
	ev := s.check(it)
	s.mu.Unlock()
	if ev != nil {
		ev()
	}
}

// check trips the breaker when the failure rate reaches the threshold.
// Callers hold s.mu and run the returned broadcast after unlocking.
func (s *breakers) check(it *breakerItem) func() {
	if it.count < it.opts.MinRequestCount {
		return nil
	}
	if float64(it.failures)/float64(it.count) >= it.opts.Threshold {
		return s.trip(it)
	}
	return nil
}

func (s *breakers) trip(it *breakerItem) func() {
	if it.state == cbOpen {
		return nil
	}
	it.state = cbOpen
	it.ep.broken.Store(true)
	if it.timer != nil {
		it.timer.Stop()
	}
	it.timer = s.b.clock.AfterFunc(it.opts.HalfOpenTime, func() { s.halfOpen(it) })
	rate := 0.0
	if it.count > 0 {
		rate = float64(it.failures) / float64(it.count)
	}
	payload := map[string]any{"nodeID": it.ep.NodeID, "service": it.service, "action": it.action,
		"failures": it.failures, "count": it.count, "rate": rate}
	s.b.log.Debug("Circuit breaker has been opened.", "endpoint", it.ep.NodeID+":"+it.action)
	return func() { s.broadcast("$circuit-breaker.opened", payload) }
}

func (s *breakers) halfOpen(it *breakerItem) {
	s.mu.Lock()
	it.state = cbHalfOpen
	it.ep.broken.Store(false)
	if it.timer != nil {
		it.timer.Stop()
		it.timer = nil
	}
	payload := map[string]any{"nodeID": it.ep.NodeID, "service": it.service, "action": it.action}
	s.mu.Unlock()
	s.b.log.Debug("Circuit breaker has been half-opened.", "endpoint", it.ep.NodeID+":"+it.action)
	s.broadcast("$circuit-breaker.half-opened", payload)
}

// halfOpenWait lets one call through and holds the others until it ends
// (or, should it never end, for another HalfOpenTime). Callers hold s.mu.
func (s *breakers) halfOpenWait(it *breakerItem) {
	it.state = cbHalfOpenWait
	it.ep.broken.Store(true)
	it.timer = s.b.clock.AfterFunc(it.opts.HalfOpenTime, func() { s.halfOpen(it) })
}

func (s *breakers) close(it *breakerItem) func() {
	it.state = cbClosed
	it.ep.broken.Store(false)
	it.failures, it.count = 0, 0
	if it.timer != nil {
		it.timer.Stop()
		it.timer = nil
	}
	payload := map[string]any{"nodeID": it.ep.NodeID, "service": it.service, "action": it.action}
	s.b.log.Debug("Circuit breaker has been closed.", "endpoint", it.ep.NodeID+":"+it.action)
	return func() { s.broadcast("$circuit-breaker.closed", payload) }
}

func (s *breakers) broadcast(event string, payload map[string]any) {
	if err := s.b.Broadcast(context.Background(), event, payload); err != nil {
		s.b.log.Warn("Unable to broadcast "+event+".", "err", err)
	}
}
