package bridge

import "context"

// timeoutMiddleware gives every call its timeout, as JS's Timeout
// middleware does: the call's own, else the action's, else the broker's
// RequestTimeout. A remote call carries the timeout in its REQ and waits no
// longer (Broker.request). A local handler runs with the deadline on its
// context; a local caller gets RequestTimeoutError at the deadline even if
// the handler goes on (it runs on a goroutine of its own, as a JS caller's
// promise settles at the deadline). A node serving another node's request
// runs the handler on the request's goroutine: the caller keeps its own
// timer, so nobody waits on it past the deadline, and a late result is a
// timeout.
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
			timedOut := func() (any, error) {
				if perr := parent.Err(); perr != nil && perr != context.DeadlineExceeded {
					return nil, perr
				}
				b.log.Warn("Request '"+c.Action+"' is timed out.", "requestID", c.RequestID, "nodeID", c.NodeID, "timeout", t)
				return nil, errRequestTimeout(c.Action, c.NodeID)
			}
			if c.NodeID != b.nodeID {
				res, err := next(c)
				if tctx.Err() != nil {
					return timedOut()
				}
				return res, err
			}
			type outcome struct {
				res any
				err error
			}
			done := make(chan outcome, 1)
			c.Meta() // made here: the caller may read it while the handler runs on
			go func() {
				res, err := next(c)
				done <- outcome{res, err}
			}()
			select {
			case o := <-done:
				// Both may be ready when this goroutine comes late to the
				// select: an outcome after the deadline (often the handler's
				// own ctx.Err()) is a timeout, as on the other path.
				if tctx.Err() != nil {
					return timedOut()
				}
				return o.res, o.err
			case <-tctx.Done():
				return timedOut()
			}
		}
	}
	return Middleware{
		Name:         "Timeout",
		LocalAction:  func(next Handler, a *ActionSpec) Handler { return wrap(next, a, true) },
		RemoteAction: func(next Handler, a *ActionSpec) Handler { return wrap(next, a, false) },
	}
}
