package bridge

// Method returns the service's method of that name (see Service.Methods),
// or nil.
func (s *ServiceHandle) Method(name string) any { return s.def.Methods[name] }

// Metadata returns the service metadata, mixins' included.
func (s *ServiceHandle) Metadata() map[string]any { return s.def.Metadata }

// ServiceHandle returns the local service whose handler runs, or nil when
// the context is not a handler's (or the service has been removed).
func (c *Context) ServiceHandle() *ServiceHandle {
	if c.broker == nil || c.service == "" {
		return nil
	}
	if svc := c.broker.localService(c.service); svc != nil {
		return svc.handle
	}
	return nil
}

// localService returns the registered local service of a full name.
func (b *Broker) localService(fullName string) *localService {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.services {
		if s.fullName == fullName {
			return s
		}
	}
	return nil
}
