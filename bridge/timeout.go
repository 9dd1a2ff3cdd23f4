package bridge

import "context"

// timeoutMiddleware gives every call its timeout, as JS's Timeout
// middleware does: the call's own, else the action's, else the broker's
// RequestTimeout. A remote call carries the timeout in its REQ and waits no
// longer (Broker.request). A local handler runs with the deadline on its
// context and its caller gets RequestTimeoutError when the deadline passed
// before it returned. Handlers are expected to end when their context is
// done, as Go code does: a local handler that ignores it holds its caller
// until it returns (where a JS caller's promise would settle at the
// deadline); the remote callers of this node keep timers of their own and
// never wait for it.
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
			res, err := next(c)
			if tctx.Err() == context.DeadlineExceeded {
				if perr := parent.Err(); perr != nil && perr != context.DeadlineExceeded {
					return nil, perr
				}
				b.log.Warn("Request '"+c.Action+"' is timed out.", "requestID", c.RequestID, "nodeID", c.NodeID, "timeout", t)
				return nil, errRequestTimeout(c.Action, c.NodeID)
			}
			return res, err
		}
	}
	return Middleware{
		Name:         "Timeout",
		LocalAction:  func(next Handler, a *ActionSpec) Handler { return wrap(next, a, true) },
		RemoteAction: func(next Handler, a *ActionSpec) Handler { return wrap(next, a, false) },
	}
}
