package bridge

import (
	"slices"
	"sync"
	"time"

	"github.com/molbridge/molbridge/packets"
)

// Node is what the registry knows of a node of the cluster.
type Node struct {
	ID         string   `json:"id"`
	InstanceID string   `json:"instanceID"`
	Available  bool     `json:"available"`
	Local      bool     `json:"local"`
	Seq        int64    `json:"seq"`
	CPU        *float64 `json:"cpu"`
	CPUSeq     int64    `json:"cpuSeq"`
	// LastHeartbeat is when the node was last heard of.
	LastHeartbeat time.Time `json:"lastHeartbeatTime"`
	// OfflineSince is when the node went offline, zero while online.
	OfflineSince time.Time          `json:"offlineSince"`
	Hostname     string             `json:"hostname"`
	IPList       []string           `json:"ipList"`
	Client       packets.ClientInfo `json:"client"`
	Config       map[string]any     `json:"config"`
	Metadata     map[string]any     `json:"metadata"`
	Port         int                `json:"port,omitempty"`
	// Services are the node's service descriptors, as last announced.
	Services []packets.ServiceInfo `json:"services"`
}

// endpointList holds every endpoint of one action, or of one event group.
type endpointList struct {
	name      string // action name, or event pattern
	group     string // event group
	internal  bool   // a "$" service: always served locally
	endpoints []*Endpoint
	local     []*Endpoint
	strategy  Strategy
}

func (l *endpointList) add(ep *Endpoint) {
	l.endpoints = append(slices.Clip(l.endpoints), ep)
	if ep.Local {
		l.local = append(slices.Clip(l.local), ep)
	}
}

// removeNode drops the endpoints of a node.
func (l *endpointList) removeNode(nodeID string) {
	keep := func(eps []*Endpoint) []*Endpoint {
		out := make([]*Endpoint, 0, len(eps))
		for _, ep := range eps {
			if ep.NodeID != nodeID {
				out = append(out, ep)
			}
		}
		return out
	}
	l.endpoints = keep(l.endpoints)
	l.local = keep(l.local)
}

// next picks an endpoint as JS's EndpointList.next does.
func (l *endpointList) next(ctx *Context, preferLocal bool) *Endpoint {
	eps := l.endpoints
	if len(eps) == 0 {
		return nil
	}
	if l.internal && len(l.local) > 0 {
		return l.nextLocal(ctx)
	}
	if len(eps) == 1 {
		if eps[0].available() {
			return eps[0]
		}
		return nil
	}
	if preferLocal && len(l.local) > 0 {
		if ep := l.nextLocal(ctx); ep != nil {
			return ep
		}
	}
	return l.pick(eps, ctx)
}

func (l *endpointList) nextLocal(ctx *Context) *Endpoint {
	switch len(l.local) {
	case 0:
		return nil
	case 1:
		if l.local[0].available() {
			return l.local[0]
		}
		return nil
	}
	return l.pick(l.local, ctx)
}

func (l *endpointList) pick(eps []*Endpoint, ctx *Context) *Endpoint {
	avail := eps
	for i, ep := range eps {
		if !ep.available() {
			avail = make([]*Endpoint, 0, len(eps))
			avail = append(avail, eps[:i]...)
			for _, e := range eps[i+1:] {
				if e.available() {
					avail = append(avail, e)
				}
			}
			break
		}
	}
	if len(avail) == 0 {
		return nil
	}
	return l.strategy.Select(avail, ctx)
}

func (e *Endpoint) available() bool { return e.node.Available && !e.broken.Load() }

// registry is the catalog of nodes, actions and events of the cluster.
type registry struct {
	mu          sync.RWMutex
	nodes       map[string]*Node
	nodeOrder   []string // node IDs in first-seen order, this node first
	actions     map[string]*endpointList
	actionOrder []*endpointList // in first-registration order
	events      []*endpointList
	preferLocal bool
	// newStrategy makes the strategy of a new endpoint list, as the
	// definition of its first endpoint asks.
	newStrategy func(first *Endpoint) Strategy
	// wrapRemote makes the handler of a remote action endpoint.
	wrapRemote func(spec *ActionSpec) Handler
}

func newRegistry(preferLocal bool, newStrategy func(first *Endpoint) Strategy) *registry {
	return &registry{
		nodes:       map[string]*Node{},
		actions:     map[string]*endpointList{},
		preferLocal: preferLocal,
		newStrategy: newStrategy,
	}
}

// addAction registers an action endpoint. Callers hold r.mu.
func (r *registry) addAction(name string, ep *Endpoint) {
	l := r.actions[name]
	if l == nil {
		l = &endpointList{name: name, strategy: r.newStrategy(ep),
			internal: len(name) > 0 && name[0] == '$'}
		r.actions[name] = l
		r.actionOrder = append(r.actionOrder, l)
	}
	l.add(ep)
}

// addEvent registers an event endpoint. Callers hold r.mu.
func (r *registry) addEvent(pattern, group string, ep *Endpoint) {
	for _, l := range r.events {
		if l.name == pattern && l.group == group {
			l.add(ep)
			return
		}
	}
	l := &endpointList{name: pattern, group: group, strategy: r.newStrategy(ep)}
	l.add(ep)
	r.events = append(slices.Clip(r.events), l)
}

// removeNodeEndpoints drops every endpoint of a node. Emptied lists stay,
// as in JS: a call to an action whose nodes all left fails with
// ServiceNotAvailableError, not ServiceNotFoundError. Callers hold r.mu.
func (r *registry) removeNodeEndpoints(nodeID string) {
	for _, l := range r.actions {
		l.removeNode(nodeID)
	}
	for _, l := range r.events {
		l.removeNode(nodeID)
	}
}

// registerRemoteServices replaces a remote node's endpoints with those of
// its announced services. Callers hold r.mu.
func (r *registry) registerRemoteServices(n *Node, services []packets.ServiceInfo) {
	// Keep the endpoints that stay, as JS updates them in place: their
	// circuit breaker state goes on.
	old := map[string]*Endpoint{}
	for name, l := range r.actions {
		for _, ep := range l.endpoints {
			if ep.NodeID == n.ID {
				old[name] = ep
			}
		}
	}
	r.removeNodeEndpoints(n.ID)
	for _, svc := range services {
		for _, a := range svc.Actions {
			switch a.Visibility() {
			case "", "published", "public":
			default:
				continue
			}
			name := a.Name()
			if name == "" {
				continue
			}
			ep := old[name]
			if ep == nil {
				ep = &Endpoint{NodeID: n.ID, node: n}
			}
			ep.info = a.Object()
			ep.handler = r.wrapRemote(&ActionSpec{Name: name, RawName: a.RawName(), Service: svc.FullName, NodeID: n.ID, Info: a})
			r.addAction(name, ep)
		}
		for _, e := range svc.Events {
			name := e.Name()
			if name == "" {
				continue
			}
			group := e.Group()
			if group == "" {
				group = svc.Name
			}
			r.addEvent(name, group, &Endpoint{NodeID: n.ID, node: n, info: e.Object()})
		}
	}
}

// nextAction picks an endpoint for a call: the error is
// ServiceNotFoundError when nobody has the action, ServiceNotAvailableError
// when nobody available has it.
func (r *registry) nextAction(name, nodeID string, ctx *Context) (*Endpoint, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := r.actions[name]
	if nodeID != "" {
		if l != nil {
			for _, ep := range l.endpoints {
				if ep.NodeID == nodeID && ep.available() {
					return ep, nil
				}
			}
		}
		return nil, errServiceNotFound(name, nodeID)
	}
	if l == nil {
		return nil, errServiceNotFound(name, "")
	}
	ep := l.next(ctx, r.preferLocal)
	if ep == nil {
		return nil, errServiceNotAvailable(name, "")
	}
	return ep, nil
}

// firstAction returns the first available endpoint of an action, for the
// calls that the message broker balances.
func (r *registry) firstAction(name string) (*Endpoint, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := r.actions[name]
	if l == nil {
		return nil, errServiceNotFound(name, "")
	}
	for _, ep := range l.endpoints {
		if ep.available() {
			return ep, nil
		}
	}
	return nil, errServiceNotAvailable(name, "")
}

// eventGroups returns the groups of the lists matching an event name.
func (r *registry) eventGroups(event string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var groups []string
	for _, l := range r.events {
		if matchEvent(event, l.name) && !slices.Contains(groups, l.group) {
			groups = append(groups, l.group)
		}
	}
	return groups
}

type groupedEndpoint struct {
	ep    *Endpoint
	group string
}

// balancedEventEndpoints picks one endpoint per matching event group.
func (r *registry) balancedEventEndpoints(event string, groups []string, ctx *Context) []groupedEndpoint {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []groupedEndpoint
	for _, l := range r.events {
		if !matchEvent(event, l.name) || (len(groups) > 0 && !slices.Contains(groups, l.group)) {
			continue
		}
		if ep := l.next(ctx, r.preferLocal); ep != nil {
			out = append(out, groupedEndpoint{ep, l.group})
		}
	}
	return out
}

// allEventEndpoints returns one available endpoint per node among the lists
// matching an event name and groups, in the order JS finds them.
func (r *registry) allEventEndpoints(event string, groups []string) []*Endpoint {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Endpoint
	for _, l := range r.events {
		if !matchEvent(event, l.name) || (len(groups) > 0 && !slices.Contains(groups, l.group)) {
			continue
		}
		for _, ep := range l.endpoints {
			if ep.available() && !slices.ContainsFunc(out, func(o *Endpoint) bool { return o.NodeID == ep.NodeID }) {
				out = append(out, ep)
			}
		}
	}
	return out
}

// localEventTargets returns the local endpoints that an incoming or local
// event reaches: every local endpoint of each matching list for broadcasts,
// one per list otherwise.
func (r *registry) localEventTargets(event string, groups []string, broadcast bool, ctx *Context) []*Endpoint {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Endpoint
	for _, l := range r.events {
		if !matchEvent(event, l.name) || (len(groups) > 0 && !slices.Contains(groups, l.group)) {
			continue
		}
		if broadcast {
			for _, ep := range l.local {
				if ep.event != nil {
					out = append(out, ep)
				}
			}
		} else if ep := l.nextLocal(ctx); ep != nil && ep.event != nil {
			out = append(out, ep)
		}
	}
	return out
}

// addNode registers a node. Callers hold r.mu.
func (r *registry) addNode(n *Node) {
	r.nodes[n.ID] = n
	r.nodeOrder = append(r.nodeOrder, n.ID)
}

// deleteNode forgets a node. Callers hold r.mu.
func (r *registry) deleteNode(id string) {
	delete(r.nodes, id)
	r.nodeOrder = slices.DeleteFunc(r.nodeOrder, func(s string) bool { return s == id })
}

// nodeList returns a snapshot of the nodes in first-seen order, this node
// first.
func (r *registry) nodeList() []Node {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Node, 0, len(r.nodes))
	for _, id := range r.nodeOrder {
		out = append(out, *r.nodes[id])
	}
	return out
}
