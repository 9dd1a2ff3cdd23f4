package bridge

import "context"

// timeoutMiddleware gives every call its timeout, as JS's Timeout
// middleware does: the call's own, else the action's, else the broker's
// RequestTimeout. A local handler still running when it expires is
// abandoned: the caller gets RequestTimeoutError and the handler's context
// is done. A remote call carries the timeout in its REQ and waits no longer.
func timeoutMiddleware(b *Broker) Middleware {
	wrap := func(next Handler, a *ActionSpec) Handler {
		actionTimeout := a.actionTimeout()
		local := a.Local
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
	return Middleware{Name: "Timeout", LocalAction: wrap, RemoteAction: wrap}
}
