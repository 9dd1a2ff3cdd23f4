package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	"github.com/molbridge/molbridge/transporters"
)

// Version is the molbridge version announced in INFO packets.
const Version = "0.1.0"

// Broker is a Moleculer node: it runs local services, knows the cluster's
// nodes and services, and calls and emits across the cluster.
type Broker struct {
	opts       Options
	nodeID     string
	instanceID string
	prefix     string
	log        *slog.Logger
	ser        serializers.Serializer
	tr         transporters.Transporter
	balanced   bool // the message broker balances (disableBalancer in effect)
	reg        *registry
	local      *Node
	// gossipRaw holds the node info of remote nodes as gossip brought
	// it (guarded by reg.mu); see gossip.go.
	gossipRaw map[string]map[string]any

	mu       sync.Mutex // guards services, infoCache, seqDirty, balancedSubs
	services []*localService
	// infoCache is the last INFO built; seqDirty makes the next one new.
	infoCache    *packets.Info
	seqDirty     bool
	balancedSubs []protocol.Topic

	started   atomic.Bool
	ready     atomic.Bool
	stopping  atomic.Bool
	connected atomic.Bool

	pendingMu sync.Mutex
	pending   map[string]*pendingCall
	callPool  sync.Pool // of *pendingCall
	pings     map[string]chan *packets.Pong

	created   time.Time
	loops     context.CancelFunc
	loopsDone sync.WaitGroup

	// mws are the middlewares, the user's then the built-in ones; the
	// functions below are the broker's methods wrapped by their hooks.
	mws              []Middleware
	callFn           CallFunc
	emitFn           EmitFunc
	broadcastFn      EmitFunc
	broadcastLocalFn EmitFunc
	sendFn           SendFunc
	receiveFn        ReceiveFunc

	clock clock
	bus   localBus
	// latency is the round-trip table of the Latency strategies.
	latency latencyShared
}

// localService is a service running on this broker.
type localService struct {
	def      Service
	handle   *ServiceHandle
	fullName string
	actions  []*localAction
	events   []*localEvent
	info     packets.ServiceInfo
	started  bool
	removed  bool // by RemoveService; guarded by Broker.mu
}

type localAction struct {
	name    string // full name
	svc     *localService
	def     Action
	spec    ActionSpec
	handler Handler // the handler wrapped by the LocalAction hooks
	remote  Handler // a request through the message broker, wrapped by the RemoteAction hooks
}

type localEvent struct {
	svc     *localService
	def     Event
	group   string
	handler EventHandler // wrapped by the LocalEvent hooks
}

// A pendingCall is a request waiting for its RES. Its channel and timer
// are reused through the broker's callPool once its result is taken.
type pendingCall struct {
	nodeID, action string
	ch             chan callResult // holds one result; one sender ever
	timer          *time.Timer     // stopped while the call is not pending
}

type callResult struct {
	res *packets.Response
	err error
}

// New returns a broker with the given options. It does not connect until
// Start.
func New(opts Options) (*Broker, error) {
	if err := opts.applyDefaults(); err != nil {
		return nil, err
	}
	strategy := opts.StrategyFactory
	if strategy == nil {
		var err error
		if strategy, err = LookupStrategy(opts.Strategy); err != nil {
			return nil, err
		}
	}
	b := &Broker{
		opts:       opts,
		nodeID:     opts.NodeID,
		instanceID: opts.InstanceID,
		prefix:     protocol.Prefix(opts.Namespace),
		log:        opts.Logger.With("nodeID", opts.NodeID),
		ser:        opts.Serializer,
		tr:         opts.Transporter,
		reg:        newRegistry(!opts.NoPreferLocal, nil),
		pending:    map[string]*pendingCall{},
		pings:      map[string]chan *packets.Pong{},
		gossipRaw:  map[string]map[string]any{},
		created:    time.Now(),
		clock:      realClock{},
	}
	b.reg.newStrategy = func(first *Endpoint) Strategy { return b.endpointStrategy(strategy, first) }
	b.mws = append(slices.Clone(opts.Middlewares), b.internalMiddlewares()...)
	b.buildChains()
	b.reg.wrapRemote = func(spec *ActionSpec) Handler { return b.wrapRemoteAction(b.request, spec) }
	if b.instanceID == "" {
		b.instanceID = newID()
	}
	if opts.DisableBalancer && b.tr != nil {
		if b.tr.BuiltInBalancer() {
			b.balanced = true
		} else {
			b.log.Warn("The transporter has no built-in balancer; disableBalancer is ignored.")
		}
	}
	host, _ := os.Hostname()
	b.local = &Node{
		ID: b.nodeID, InstanceID: b.instanceID, Available: true, Local: true, Seq: 1,
		Hostname: host, IPList: ipList(),
		Client: packets.ClientInfo{Type: "go", Version: Version, LangVersion: runtime.Version()},
		Config: map[string]any{}, Metadata: opts.Metadata, LastHeartbeat: time.Now(),
	}
	b.reg.addNode(b.local)
	if err := b.AddService(nodeService(b)); err != nil {
		return nil, err
	}
	for i := range b.mws {
		if f := b.mws[i].Created; f != nil {
			f(b)
		}
	}
	return b, nil
}

// NodeID returns this node's ID.
func (b *Broker) NodeID() string { return b.nodeID }

// InstanceID returns this process's instance ID.
func (b *Broker) InstanceID() string { return b.instanceID }

// Namespace returns the broker's namespace.
func (b *Broker) Namespace() string { return b.opts.Namespace }

// Logger returns the broker's logger.
func (b *Broker) Logger() *slog.Logger { return b.log }

// AddService registers a service, merged with its mixins first (see
// Service.Mixins). Services added before Start start with the broker; a
// service added to a running broker starts at once and is announced to the
// cluster.
func (b *Broker) AddService(def Service) error {
	def, err := resolveService(def)
	if err != nil {
		return err
	}
	svc, err := b.buildService(def)
	if err != nil {
		return err
	}
	if def.Created != nil {
		if err := def.Created(svc.handle); err != nil {
			return fmt.Errorf("bridge: service %s: created: %w", svc.fullName, err)
		}
	}
	for i := range b.mws {
		if f := b.mws[i].ServiceCreated; f != nil {
			f(svc.handle)
		}
	}
	b.mu.Lock()
	for _, s := range b.services {
		if s.fullName == svc.fullName {
			b.mu.Unlock()
			return fmt.Errorf("bridge: service %s is already registered", svc.fullName)
		}
	}
	b.services = append(b.services, svc)
	b.mu.Unlock()
	if b.ready.Load() {
		if err := b.startService(context.Background(), svc); err != nil {
			return err
		}
		b.broadcastInfo()
	}
	return nil
}

func (b *Broker) buildService(def Service) (*localService, error) {
	if def.Name == "" {
		return nil, errors.New("bridge: a service needs a name")
	}
	noVersionPrefix, _ := def.Settings["$noVersionPrefix"].(bool)
	fullName, err := versionedName(def.Name, def.Version, noVersionPrefix)
	if err != nil {
		return nil, err
	}
	svc := &localService{def: def, fullName: fullName}
	svc.handle = &ServiceHandle{broker: b, def: def, fullName: fullName}
	noServicePrefix, _ := def.Settings["$noServiceNamePrefix"].(bool)
	info := packets.ServiceInfo{
		Name: def.Name, Version: def.Version, FullName: fullName,
		Settings: packets.ValueOf(publicSettings(def.Settings)), Metadata: packets.ValueOf(orEmpty(def.Metadata)),
		Actions: map[string]packets.ActionInfo{}, Events: map[string]packets.EventInfo{},
	}
	if err := checkMethods(def.Name, def.Methods); err != nil {
		return nil, err
	}
	for _, a := range def.Actions {
		if a.Disabled {
			continue
		}
		if a.Name == "" || a.Handler == nil {
			return nil, fmt.Errorf("bridge: service %s: an action needs a name and a handler", fullName)
		}
		name := fullName + "." + a.Name
		if noServicePrefix {
			name = a.Name
		}
		la := &localAction{name: name, svc: svc, def: a}
		la.spec = ActionSpec{Name: name, RawName: a.Name, Service: fullName, NodeID: b.nodeID,
			Local: true, Def: &la.def, handle: svc.handle}
		if a.Params != nil {
			v, err := compileSchema(a.Params)
			if err != nil {
				return nil, fmt.Errorf("bridge: action %s: %w", name, err)
			}
			la.spec.valid = v
		}
		la.handler = b.wrapLocalAction(b.invoke(la), &la.spec)
		la.remote = b.wrapRemoteAction(b.request, &la.spec)
		svc.actions = append(svc.actions, la)
		if a.Visibility == "private" {
			continue
		}
		desc := maps.Clone(a.Descriptor)
		if desc == nil {
			desc = map[string]any{}
		}
		if a.Params != nil {
			desc["params"] = a.Params
		}
		if a.Timeout > 0 {
			desc["timeout"] = float64(a.Timeout.Milliseconds())
		}
		if a.Visibility != "" {
			desc["visibility"] = a.Visibility
		}
		if a.RetryPolicy != nil {
			desc["retryPolicy"] = a.RetryPolicy.descriptor()
		}
		if a.CircuitBreaker != nil {
			desc["circuitBreaker"] = a.CircuitBreaker.descriptor()
		}
		if a.Bulkhead != nil {
			desc["bulkhead"] = a.Bulkhead.descriptor()
		}
		if err := strategyDescriptor(desc, a.Strategy, a.StrategyOptions); err != nil {
			return nil, fmt.Errorf("bridge: action %s: %w", name, err)
		}
		desc["rawName"] = a.Name
		desc["name"] = name
		info.Actions[name] = packets.NewActionInfo(desc)
	}
	for _, e := range def.Events {
		if e.Name == "" || e.Handler == nil {
			return nil, fmt.Errorf("bridge: service %s: an event needs a name and a handler", fullName)
		}
		group := e.Group
		if group == "" {
			group = def.Name
		}
		le := &localEvent{svc: svc, def: e, group: group}
		le.handler = b.wrapLocalEvent(b.invokeEvent(le), &EventSpec{Name: e.Name, Group: group, Service: fullName, Def: &le.def})
		svc.events = append(svc.events, le)
		desc := map[string]any{"name": e.Name}
		if e.Bulkhead != nil {
			desc["bulkhead"] = e.Bulkhead.descriptor()
		}
		if err := strategyDescriptor(desc, e.Strategy, e.StrategyOptions); err != nil {
			return nil, fmt.Errorf("bridge: event %s: %w", e.Name, err)
		}
		if e.Group != "" {
			desc["group"] = e.Group
		}
		info.Events[e.Name] = packets.NewEventInfo(desc)
	}
	svc.info = info
	return svc, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Start connects to the cluster, starts the services and announces them.
func (b *Broker) Start(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("bridge: broker already started")
	}
	if err := b.brokerHook(ctx, func(m *Middleware) func(context.Context, *Broker) error { return m.Starting }, false); err != nil {
		b.started.Store(false)
		return err
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	b.loops = cancel
	if b.tr != nil {
		env := transporters.Env{
			Prefix: b.prefix, NodeID: b.nodeID, InstanceID: b.instanceID,
			Handler: transporters.Handler(b.receiveFn), Reconnected: b.onReconnected, Logger: b.log,
			Namespace: b.opts.Namespace, Serializer: b.ser, Nodes: nodeDirectory{b},
		}
		if err := b.tr.Connect(ctx, env); err != nil {
			cancel()
			b.started.Store(false)
			return err
		}
		for _, t := range protocol.NodeSubscriptions(b.nodeID) {
			if err := b.tr.Subscribe(ctx, t); err != nil {
				cancel()
				_ = b.tr.Close()
				b.started.Store(false)
				return err
			}
		}
		b.connected.Store(true)
		b.notify(EventTransporterConnected, map[string]any{"wasReconnect": false})
		if g, ok := b.tr.(transporters.Gossiper); ok {
			// Discovery and liveness travel in gossip (TCP): no DISCOVER,
			// no heartbeat timers, as with JS.
			b.runLoop(loopCtx, func(ctx context.Context) { b.gossipLoop(ctx, g.GossipPeriod()) })
		} else {
			b.send(protocol.BroadcastTopic(protocol.Discover), &packets.Discover{})
			b.runLoop(loopCtx, b.heartbeatLoop)
			b.runLoop(loopCtx, b.livenessLoop)
		}
	}
	b.mu.Lock()
	services := slices.Clone(b.services)
	b.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(services))
	for i, svc := range services {
		wg.Go(func() { errs[i] = b.startService(ctx, svc) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = b.Stop(context.Background())
		return err
	}
	b.ready.Store(true)
	b.broadcastInfo()
	b.log.Info("ServiceBroker started.", "services", len(services))
	b.notify(EventBrokerStarted, nil)
	return b.brokerHook(ctx, func(m *Middleware) func(context.Context, *Broker) error { return m.Started }, false)
}

func (b *Broker) runLoop(ctx context.Context, f func(context.Context)) {
	b.loopsDone.Go(func() { f(ctx) })
}

// startService waits for the dependencies, runs Started and registers the
// service's endpoints.
func (b *Broker) startService(ctx context.Context, svc *localService) error {
	if len(svc.def.Dependencies) > 0 {
		if err := b.WaitForServices(ctx, svc.def.Dependencies...); err != nil {
			return fmt.Errorf("bridge: service %s: dependencies: %w", svc.fullName, err)
		}
	}
	if b.wasRemoved(svc) {
		return nil
	}
	if err := b.serviceHook(ctx, svc.handle, func(m *Middleware) func(context.Context, *ServiceHandle) error { return m.ServiceStarting }, false); err != nil {
		return fmt.Errorf("bridge: service %s: starting: %w", svc.fullName, err)
	}
	if svc.def.Started != nil {
		if err := svc.def.Started(ctx, svc.handle); err != nil {
			return fmt.Errorf("bridge: service %s: started: %w", svc.fullName, err)
		}
	}
	b.reg.mu.Lock()
	for _, a := range svc.actions {
		if a.def.Visibility == "private" {
			continue // callable only from its own service, never through the registry
		}
		b.reg.addAction(a.name, &Endpoint{NodeID: b.nodeID, Local: true, node: b.local, action: a})
	}
	for _, e := range svc.events {
		b.reg.addEvent(e.def.Name, e.group, &Endpoint{NodeID: b.nodeID, Local: true, node: b.local, event: e})
	}
	b.reg.mu.Unlock()
	b.mu.Lock()
	if svc.removed { // by RemoveService while it started: not an error of Start
		b.mu.Unlock()
		b.reg.removeServiceEndpoints(svc)
		return nil
	}
	svc.started = true
	b.seqDirty = true
	b.infoCache = nil
	b.mu.Unlock()
	b.notify(EventServicesChanged, map[string]any{"localService": true})
	if err := b.serviceHook(ctx, svc.handle, func(m *Middleware) func(context.Context, *ServiceHandle) error { return m.ServiceStarted }, false); err != nil {
		return fmt.Errorf("bridge: service %s: started: %w", svc.fullName, err)
	}
	return nil
}

// Stop announces that the node leaves, stops the services and disconnects,
// as a JS broker does: an INFO with no services, a short delay, the
// services' Stopped handlers, then DISCONNECT.
func (b *Broker) Stop(ctx context.Context) error {
	if !b.started.Load() || !b.stopping.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if err := b.brokerHook(ctx, func(m *Middleware) func(context.Context, *Broker) error { return m.Stopping }, true); err != nil {
		errs = append(errs, err)
	}
	if b.connected.Load() {
		b.mu.Lock()
		b.seqDirty = true
		b.infoCache = nil
		b.mu.Unlock()
		b.sendInfo(protocol.BroadcastTopic(protocol.Info), true)
		select {
		case <-time.After(b.opts.StopDelay):
		case <-ctx.Done():
		}
	}
	b.ready.Store(false)
	b.mu.Lock()
	services := slices.Clone(b.services)
	b.mu.Unlock()
	for _, svc := range slices.Backward(services) {
		if !svc.started {
			continue
		}
		if err := b.stopService(ctx, svc); err != nil {
			errs = append(errs, err)
		}
	}
	if b.loops != nil {
		b.loops()
	}
	b.loopsDone.Wait()
	if b.connected.Load() {
		b.send(protocol.BroadcastTopic(protocol.Disconnect), &packets.Disconnect{})
		b.connected.Store(false)
		if err := b.tr.Close(); err != nil {
			errs = append(errs, err)
		}
		b.notify(EventTransporterDisconnected, map[string]any{"graceFul": true})
	}
	b.failPending(func(*pendingCall) bool { return true }, func(p *pendingCall) error {
		return errRequestRejected(p.action, p.nodeID)
	})
	b.log.Info("ServiceBroker stopped.")
	b.notify(EventBrokerStopped, nil)
	b.flushBus()
	if err := b.brokerHook(ctx, func(m *Middleware) func(context.Context, *Broker) error { return m.Stopped }, true); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopService runs a service's Stopped handler between the middlewares'
// ServiceStopping and ServiceStopped hooks.
func (b *Broker) stopService(ctx context.Context, svc *localService) error {
	var errs []error
	if err := b.serviceHook(ctx, svc.handle, func(m *Middleware) func(context.Context, *ServiceHandle) error { return m.ServiceStopping }, true); err != nil {
		errs = append(errs, fmt.Errorf("bridge: service %s: stopping: %w", svc.fullName, err))
	}
	if svc.def.Stopped != nil {
		if err := svc.def.Stopped(ctx, svc.handle); err != nil {
			errs = append(errs, fmt.Errorf("bridge: service %s: stopped: %w", svc.fullName, err))
		}
	}
	if err := b.serviceHook(ctx, svc.handle, func(m *Middleware) func(context.Context, *ServiceHandle) error { return m.ServiceStopped }, true); err != nil {
		errs = append(errs, fmt.Errorf("bridge: service %s: stopped: %w", svc.fullName, err))
	}
	return errors.Join(errs...)
}

// send serializes and publishes a payload. Errors are returned for the
// packet types whose failure JS reports (REQ, EVENT, PING); the others are
// logged.
func (b *Broker) send(topic protocol.Topic, p packets.Payload) error {
	if b.tr == nil || !b.connected.Load() {
		return errBrokerDisconnected()
	}
	env := p.Env()
	env.Ver, env.Sender = protocol.Version4, b.nodeID
	data, err := b.ser.Marshal(p)
	if err != nil {
		b.log.Error("Unable to serialize a packet.", "type", p.Type(), "err", err)
		return err
	}
	return b.sendFn(context.Background(), topic, data, p)
}

// publish hands a packet's bytes to the transporter; it is the innermost
// TransporterSend function.
func (b *Broker) publish(ctx context.Context, topic protocol.Topic, data []byte, p packets.Payload) error {
	if err := b.tr.Publish(ctx, topic, data); err != nil {
		b.log.Warn("Unable to publish a packet.", "type", p.Type(), "err", err)
		if errors.Is(err, transporters.ErrNotConnected) {
			return errBrokerDisconnected()
		}
		return err
	}
	return nil
}

// localInfo returns this node's INFO payload; a change of services since the
// last one increments seq. Callers must not modify it.
func (b *Broker) localInfo(stopping bool) *packets.Info {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.infoCache != nil && !b.seqDirty {
		return b.infoCache
	}
	b.reg.mu.Lock()
	if b.seqDirty {
		b.local.Seq++
		b.seqDirty = false
	}
	seq := b.local.Seq
	services := []packets.ServiceInfo{}
	if !stopping {
		for _, s := range b.services {
			if s.started {
				services = append(services, s.info)
			}
		}
	}
	b.local.Services = services
	b.reg.mu.Unlock()
	b.infoCache = &packets.Info{
		Services: services, IPList: b.local.IPList, Hostname: b.local.Hostname,
		Client: b.local.Client, Config: b.local.Config, InstanceID: b.instanceID,
		Metadata: b.opts.Metadata, Seq: seq,
	}
	return b.infoCache
}

// sendInfo sends this node's INFO to a topic.
func (b *Broker) sendInfo(topic protocol.Topic, stopping bool) {
	info := *b.localInfo(stopping) // a copy: send writes the envelope
	_ = b.send(topic, &info)
}

// broadcastInfo announces the services to every node and, when the message
// broker balances, renews the balanced subscriptions.
func (b *Broker) broadcastInfo() {
	if b.tr == nil || !b.connected.Load() {
		b.localInfo(false)
		return
	}
	// Subscribe first, as JS does: a node that learns of an action from
	// this INFO may call it through its balanced queue at once.
	if b.balanced {
		b.renewBalancedSubscriptions()
	}
	b.sendInfo(protocol.BroadcastTopic(protocol.Info), false)
}

func (b *Broker) renewBalancedSubscriptions() {
	var want []protocol.Topic
	b.mu.Lock()
	for _, s := range b.services {
		if !s.started {
			continue
		}
		for _, a := range s.actions {
			want = append(want, protocol.BalancedRequestTopic(a.name))
		}
		for _, e := range s.events {
			want = append(want, protocol.BalancedEventTopic(e.group, e.def.Name))
		}
	}
	old := b.balancedSubs
	b.balancedSubs = want
	b.mu.Unlock()
	ctx := context.Background()
	for _, t := range old {
		if !slices.Contains(want, t) {
			_ = b.tr.Unsubscribe(ctx, t)
		}
	}
	for _, t := range want {
		if err := b.tr.Subscribe(ctx, t); err != nil {
			b.log.Error("Unable to subscribe a balanced topic.", "topic", t.Name(b.prefix), "err", err)
		}
	}
}

// onReconnected runs after the transporter got its connection back: the
// node announces itself again and asks the others, as JS does.
func (b *Broker) onReconnected() {
	if !b.ready.Load() {
		return
	}
	b.mu.Lock()
	b.infoCache = nil
	b.mu.Unlock()
	b.broadcastInfo()
	b.send(protocol.BroadcastTopic(protocol.Discover), &packets.Discover{})
	b.notify(EventTransporterConnected, map[string]any{"wasReconnect": true})
}

// ipList returns the first IPv4 address of every non-loopback interface, or
// the loopback ones when there are no others, as JS does.
func ipList() []string {
	var external, internal []string
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			if ifc.Flags&net.FlagLoopback != 0 {
				internal = append(internal, ipn.IP.String())
			} else {
				external = append(external, ipn.IP.String())
			}
			break
		}
	}
	if len(external) > 0 {
		return external
	}
	if internal == nil {
		return []string{}
	}
	return internal
}
