package bridge

import "fmt"

// fallbackMiddleware answers a failed call with a fallback, as JS's
// Fallback middleware does: the call's FallbackResponse first, else, for
// a local action, its definition's Fallback.
func fallbackMiddleware(b *Broker) Middleware {
	wrap := func(next Handler, a *ActionSpec) Handler {
		var def FallbackFunc
		if a.Def != nil {
			def = a.Def.Fallback
			if name := a.Def.FallbackMethod; def == nil && name != "" {
				def = methodFallback(a, name)
			}
		}
		return func(c *Context) (any, error) {
			res, err := next(c)
			if err == nil {
				return res, nil
			}
			if fr := c.opts.FallbackResponse; fr != nil {
				b.log.Warn("The '"+c.Action+"' request is failed. Return fallback response.",
					"requestID", c.RequestID, "err", err.Error())
				c.fallbackResult = true
				switch fn := fr.(type) {
				case FallbackFunc:
					return fn(c, err)
				case func(*Context, error) (any, error):
					return fn(c, err)
				}
				return fr, nil
			}
			if def != nil {
				b.log.Warn("The '"+c.Action+"' request is failed. Return fallback response.",
					"requestID", c.RequestID, "err", err.Error())
				c.fallbackResult = true
				return def(c, err)
			}
			return nil, err
		}
	}
	return Middleware{Name: "Fallback", LocalAction: wrap, RemoteAction: wrap}
}

// methodFallback is the fallback that calls the service method name, or
// fails as JS does when there is no such method.
func methodFallback(a *ActionSpec, name string) FallbackFunc {
	return func(c *Context, err error) (any, error) {
		var m any
		if a.handle != nil {
			m = a.handle.Method(name)
		}
		switch fn := m.(type) {
		case FallbackFunc:
			return fn(c, err)
		case func(*Context, error) (any, error):
			return fn(c, err)
		}
		return nil, NewError(fmt.Sprintf("The 'fallback' of '%s' action is not a Function or valid method name: %s", a.Name, name), 500, "", nil)
	}
}
