package bridge

import (
	"context"
	"math"
	"time"
)

// retryMiddleware makes a failed call again, as JS's Retry middleware
// does: when the error passes the policy's Check and attempts are left,
// after the policy's delay, the call goes through the balancer again (so
// to another node when there is one) with a copy of its context. A node
// serving another node's request never retries it: the caller does.
func retryMiddleware(b *Broker) Middleware {
	wrap := func(next Handler, a *ActionSpec) Handler {
		var over *RetryPolicy
		if a.Def != nil {
			over = a.Def.RetryPolicy
		} else {
			over = retryPolicyFromInfo(a.infoMap("retryPolicy"))
		}
		p := b.opts.RetryPolicy.merge(over)
		if !p.Enabled {
			return next
		}
		private := a.Def != nil && a.Def.Visibility == "private"
		return func(c *Context) (any, error) {
			base := c.Context // before the inner middlewares replace it
			res, err := next(c)
			if err == nil {
				return res, nil
			}
			if c.Endpoint != nil && c.Endpoint.Local && c.NodeID != b.nodeID {
				return nil, err
			}
			attempts := p.Retries
			if c.opts.Retries != 0 {
				attempts = max(c.opts.Retries, 0)
			}
			if !p.Check(err) || c.retryAttempts >= attempts {
				return nil, err
			}
			c.retryAttempts++
			delay := time.Duration(math.Min(float64(p.Delay)*math.Pow(p.Factor, float64(c.retryAttempts-1)), float64(p.MaxDelay)))
			b.log.Warn("Retry to call '"+c.Action+"' action after "+delay.String()+"...",
				"requestID", c.RequestID, "attempts", c.retryAttempts)
			if serr := b.clock.Sleep(base, delay); serr != nil {
				return nil, err
			}
			cc := c.retryCopy(base)
			if private {
				// Reachable only on this node, not through the registry.
				return c.Endpoint.action.handler(cc)
			}
			return b.dispatch(cc)
		}
	}
	return Middleware{Name: "Retry", LocalAction: wrap, RemoteAction: wrap}
}

// retryCopy is the context of a new attempt: a new ID, the same request,
// params, meta and options, as JS's ctx.copy. The balancer picks its
// endpoint afresh, even for a call made to one node: JS retries with
// broker.call(name, params, { ctx }), whose endpoint lookup sees no nodeID.
func (c *Context) retryCopy(base context.Context) *Context {
	c.Meta() // the attempts share one meta
	cc := *c
	cc.Context = base
	cc.ID = newID()
	cc.Endpoint = nil
	cc.opts.NodeID = ""
	cc.fallbackResult = false
	return &cc
}
