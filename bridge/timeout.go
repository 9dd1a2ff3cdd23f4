package bridge

import "context"

// timeoutMiddleware gives every call its timeout, as JS's Timeout
// middleware does: the call's own, else the action's, else the broker's
// RequestTimeout. A local handler still running when it expires is
// abandoned: the caller gets RequestTimeoutError and the handler's context
// is done. A remote call carries the timeout in its REQ and waits no longer.
// A node serving another node's request runs the handler on the request's
// goroutine with the deadline on its context: the caller does not wait for
// it past its own timer.
func timeoutMiddleware(b *Broker) Middleware {
	wrap := func(next Handler, a *ActionSpec, local bool) Handler {
		actionTimeout := a.actionTimeout()
		return func(c *Context) (any, error) {
			t := c.opts.Timeout
			if t == 0 {
				t = actionTimeout
				if t == 0 {
					t = b.opts.RequestTimeout
				}
				c.opts.Timeout = t
			}
			if t <= 0 || !local {
				return next(c) // Broker.request waits at most c.opts.Timeout
			}
			parent := c.Context
			tctx, cancel := context.WithTimeout(parent, t)
			defer cancel()
			c.Context = tctx
			if c.NodeID != b.nodeID {
				// A request of another node: its caller has a timer of
				// its own, so nobody waits on this goroutine past the
				// deadline. The handler runs here, its context done at
				// the deadline, and a late result is a timeout.
				res, err := next(c)
				if tctx.Err() == context.DeadlineExceeded {
					return nil, errRequestTimeout(c.Action, c.NodeID)
				}
				return res, err
			}
			type outcome struct {
				res any
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := next(c)
				done <- outcome{res, err}
			}()
			select {
			case o := <-done:
				return o.res, o.err
			case <-tctx.Done():
				if parent.Err() != nil && parent.Err() != context.DeadlineExceeded {
					return nil, parent.Err()
				}
				b.log.Warn("Request '"+c.Action+"' is timed out.", "requestID", c.RequestID, "nodeID", c.NodeID, "timeout", t)
				return nil, errRequestTimeout(c.Action, c.NodeID)
			}
		}
	}
	return Middleware{
		Name:         "Timeout",
		LocalAction:  func(next Handler, a *ActionSpec) Handler { return wrap(next, a, true) },
		RemoteAction: func(next Handler, a *ActionSpec) Handler { return wrap(next, a, false) },
	}
}
