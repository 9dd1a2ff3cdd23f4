package bridge

import (
	"errors"
	"time"
)

// CircuitBreakerOptions are JS's circuitBreaker options. The breaker keeps,
// per endpoint (action on a node), the calls and failures of the current
// window; when at least MinRequestCount calls failed at a rate of Threshold
// or more, it opens: the endpoint takes no calls for HalfOpenTime, then
// takes one, which closes the breaker when it succeeds.
type CircuitBreakerOptions struct {
	// Enabled turns the breaker on; Disabled turns it off for one action
	// when the broker's is on.
	Enabled  bool
	Disabled bool
	// Threshold is the failure rate that opens the breaker; default 0.5.
	Threshold float64
	// WindowTime is the length of the counting window; default 60 s.
	WindowTime time.Duration
	// MinRequestCount is the number of calls in a window before the rate
	// counts; default 20.
	MinRequestCount int
	// HalfOpenTime is how long the breaker stays open; default 10 s.
	HalfOpenTime time.Duration
	// Check tells the failures that count; default: errors with a code of
	// 500 or more.
	Check func(error) bool
}

// RetryPolicy is JS's retryPolicy: a failed call whose error passes Check
// is made again, through the balancer (so on another node when there is
// one), up to Retries times, after Delay×Factor^(attempt-1), at most
// MaxDelay.
type RetryPolicy struct {
	// Enabled turns retries on; Disabled turns them off for one action
	// when the broker's are on.
	Enabled  bool
	Disabled bool
	// Retries is the number of retries; default 5. A call can set its own
	// with CallOptions.Retries.
	Retries int
	// Delay is the first pause; default 100 ms.
	Delay time.Duration
	// MaxDelay caps the pause; default 1 s.
	MaxDelay time.Duration
	// Factor multiplies the pause at each retry; default 2.
	Factor float64
	// Check tells the errors worth a retry; default: retryable Moleculer
	// errors.
	Check func(error) bool
}

// BulkheadOptions are JS's bulkhead options: at most Concurrency calls of
// an action (or deliveries to an event handler) run at once, at most
// MaxQueueSize wait, and the next ones fail with QueueIsFullError.
type BulkheadOptions struct {
	// Enabled turns the bulkhead on; Disabled turns it off for one action
	// or event when the broker's is on.
	Enabled  bool
	Disabled bool
	// Concurrency is the number of concurrent executions; default 10.
	Concurrency int
	// MaxQueueSize is the number of waiting ones; default 100, negative
	// for no limit (JS's 0).
	MaxQueueSize int
}

func (o CircuitBreakerOptions) withDefaults() CircuitBreakerOptions {
	if o.Threshold == 0 {
		o.Threshold = 0.5
	}
	if o.WindowTime == 0 {
		o.WindowTime = 60 * time.Second
	}
	if o.MinRequestCount == 0 {
		o.MinRequestCount = 20
	}
	if o.HalfOpenTime == 0 {
		o.HalfOpenTime = 10 * time.Second
	}
	if o.Check == nil {
		o.Check = func(err error) bool {
			var e *Error
			return err != nil && errors.As(err, &e) && e.Code >= 500
		}
	}
	return o
}

// merge returns o with the fields that over sets, as JS's
// Object.assign({}, broker, action) does.
func (o CircuitBreakerOptions) merge(over *CircuitBreakerOptions) CircuitBreakerOptions {
	if over == nil {
		return o
	}
	if over.Enabled {
		o.Enabled = true
	}
	if over.Disabled {
		o.Enabled = false
	}
	if over.Threshold != 0 {
		o.Threshold = over.Threshold
	}
	if over.WindowTime != 0 {
		o.WindowTime = over.WindowTime
	}
	if over.MinRequestCount != 0 {
		o.MinRequestCount = over.MinRequestCount
	}
	if over.HalfOpenTime != 0 {
		o.HalfOpenTime = over.HalfOpenTime
	}
	if over.Check != nil {
		o.Check = over.Check
	}
	return o
}

// descriptor is how the options travel in an action's INFO descriptor.
func (o *CircuitBreakerOptions) descriptor() map[string]any {
	m := map[string]any{}
	if o.Enabled {
		m["enabled"] = true
	}
	if o.Disabled {
		m["enabled"] = false
	}
	if o.Threshold != 0 {
		m["threshold"] = o.Threshold
	}
	if o.WindowTime != 0 {
		m["windowTime"] = o.WindowTime.Seconds()
	}
	if o.MinRequestCount != 0 {
		m["minRequestCount"] = float64(o.MinRequestCount)
	}
	if o.HalfOpenTime != 0 {
		m["halfOpenTime"] = float64(o.HalfOpenTime.Milliseconds())
	}
	return m
}

// circuitBreakerFromInfo reads the circuitBreaker object of a remote
// action's descriptor.
func circuitBreakerFromInfo(m map[string]any) *CircuitBreakerOptions {
	if m == nil {
		return nil
	}
	o := &CircuitBreakerOptions{}
	if en, ok := m["enabled"].(bool); ok {
		o.Enabled, o.Disabled = en, !en
	}
	o.Threshold, _ = m["threshold"].(float64)
	if s, ok := m["windowTime"].(float64); ok {
		o.WindowTime = time.Duration(s * float64(time.Second))
	}
	if n, ok := m["minRequestCount"].(float64); ok {
		o.MinRequestCount = int(n)
	}
	o.HalfOpenTime, _ = durationMS(m["halfOpenTime"])
	return o
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Retries == 0 {
		p.Retries = 5
	}
	if p.Delay == 0 {
		p.Delay = 100 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = time.Second
	}
	if p.Factor == 0 {
		p.Factor = 2
	}
	if p.Check == nil {
		p.Check = IsRetryable
	}
	return p
}

func (p RetryPolicy) merge(over *RetryPolicy) RetryPolicy {
	if over == nil {
		return p
	}
	if over.Enabled {
		p.Enabled = true
	}
	if over.Disabled {
		p.Enabled = false
	}
	if over.Retries != 0 {
		p.Retries = over.Retries
	}
	if over.Delay != 0 {
		p.Delay = over.Delay
	}
	if over.MaxDelay != 0 {
		p.MaxDelay = over.MaxDelay
	}
	if over.Factor != 0 {
		p.Factor = over.Factor
	}
	if over.Check != nil {
		p.Check = over.Check
	}
	return p
}

func (p *RetryPolicy) descriptor() map[string]any {
	m := map[string]any{}
	if p.Enabled {
		m["enabled"] = true
	}
	if p.Disabled {
		m["enabled"] = false
	}
	if p.Retries != 0 {
		m["retries"] = float64(p.Retries)
	}
	if p.Delay != 0 {
		m["delay"] = float64(p.Delay.Milliseconds())
	}
	if p.MaxDelay != 0 {
		m["maxDelay"] = float64(p.MaxDelay.Milliseconds())
	}
	if p.Factor != 0 {
		m["factor"] = p.Factor
	}
	return m
}

func retryPolicyFromInfo(m map[string]any) *RetryPolicy {
	if m == nil {
		return nil
	}
	p := &RetryPolicy{}
	if en, ok := m["enabled"].(bool); ok {
		p.Enabled, p.Disabled = en, !en
	}
	if n, ok := m["retries"].(float64); ok {
		p.Retries = int(n)
	}
	p.Delay, _ = durationMS(m["delay"])
	p.MaxDelay, _ = durationMS(m["maxDelay"])
	p.Factor, _ = m["factor"].(float64)
	return p
}

func (o BulkheadOptions) withDefaults() BulkheadOptions {
	if o.Concurrency == 0 {
		o.Concurrency = 10
	}
	if o.MaxQueueSize == 0 {
		o.MaxQueueSize = 100
	}
	return o
}

func (o BulkheadOptions) merge(over *BulkheadOptions) BulkheadOptions {
	if over == nil {
		return o
	}
	if over.Enabled {
		o.Enabled = true
	}
	if over.Disabled {
		o.Enabled = false
	}
	if over.Concurrency != 0 {
		o.Concurrency = over.Concurrency
	}
	if over.MaxQueueSize != 0 {
		o.MaxQueueSize = over.MaxQueueSize
	}
	return o
}

func (o *BulkheadOptions) descriptor() map[string]any {
	m := map[string]any{}
	if o.Enabled {
		m["enabled"] = true
	}
	if o.Disabled {
		m["enabled"] = false
	}
	if o.Concurrency != 0 {
		m["concurrency"] = float64(o.Concurrency)
	}
	if o.MaxQueueSize != 0 {
		m["maxQueueSize"] = float64(o.MaxQueueSize)
	}
	return m
}

// IsRetryable reports whether err is a Moleculer error marked retryable
// (RequestTimeoutError, ServiceNotAvailableError, ... and the errors of
// remote nodes that say so), the errors JS's retry policy retries.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}
