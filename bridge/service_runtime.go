package bridge

import (
	"context"
	"fmt"
	"slices"
)

// RemoveService stops and removes a local service, as JS's
// broker.destroyService does: its Stopped handlers run (if it had
// started), its actions and event handlers leave this node's registry, and
// a running broker announces its new service list (seq + 1), so that the
// other nodes drop the service's endpoints. Calls to its actions then fail
// with ServiceNotAvailableError, as with a JS service destroyed.
//
// fullName is the versioned name ("v2.greeter"). An unknown name is a
// ServiceNotFoundError. An error of Stopped is returned, but the service is
// removed all the same (JS logs it). A service that still waits for its
// dependencies is removed without starting, and its AddService returns nil.
func (b *Broker) RemoveService(ctx context.Context, fullName string) error {
	b.mu.Lock()
	i := slices.IndexFunc(b.services, func(s *localService) bool { return s.fullName == fullName && !s.removed })
	if i < 0 || fullName == "$node" {
		b.mu.Unlock()
		return &Error{Name: "ServiceNotFoundError", Message: fmt.Sprintf("Service '%s' not found.", fullName),
			Code: 404, Type: "SERVICE_NOT_FOUND", Data: map[string]any{"service": fullName}, Retryable: true}
	}
	svc := b.services[i]
	svc.removed = true // from now on, for other RemoveService calls and startService
	started := svc.started
	b.mu.Unlock()

	var stopErr error
	if started {
		if stopErr = b.stopService(ctx, svc); stopErr != nil {
			b.log.Error(fmt.Sprintf("Unable to stop '%s' service.", fullName), "err", stopErr)
		}
	}

	b.mu.Lock()
	b.services = slices.DeleteFunc(slices.Clone(b.services), func(s *localService) bool { return s == svc })
	svc.started = false
	b.seqDirty = true
	b.infoCache = nil
	b.mu.Unlock()
	b.reg.removeServiceEndpoints(svc)
	b.log.Info(fmt.Sprintf("Service '%s' is stopped.", fullName))
	b.notify(EventServicesChanged, map[string]any{"localService": true})
	if b.ready.Load() {
		b.broadcastInfo()
	}
	return stopErr
}

// removeServiceEndpoints drops a local service's endpoints. The lists
// stay, as when a node leaves.
func (r *registry) removeServiceEndpoints(svc *localService) {
	r.mu.Lock()
	defer r.mu.Unlock()
	of := func(ep *Endpoint) bool {
		return ep.action != nil && ep.action.svc == svc || ep.event != nil && ep.event.svc == svc
	}
	for _, l := range r.actions {
		l.removeFunc(of)
	}
	for _, l := range r.events {
		l.removeFunc(of)
	}
}

// removeFunc drops the endpoints for which drop is true. It builds new
// slices: readers may hold the old ones.
func (l *endpointList) removeFunc(drop func(*Endpoint) bool) {
	if !slices.ContainsFunc(l.endpoints, drop) {
		return
	}
	l.endpoints = slices.DeleteFunc(slices.Clone(l.endpoints), drop)
	l.local = slices.DeleteFunc(slices.Clone(l.local), drop)
}

// wasRemoved reports whether RemoveService has taken the service.
func (b *Broker) wasRemoved(svc *localService) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return svc.removed
}
