package bridge

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

func init() {
	RegisterStrategy("Latency", func(b *Broker, opts map[string]any) Strategy { return newLatency(b, opts) })
}

// Latency picks the endpoint on the host with the shortest round trip, as
// JS's Latency strategy does. It looks at sampleCount endpoints drawn at
// random (all of them, in order, when there are no more than
// sampleCount), returns the first one whose host answers in less than
// lowLatency, else the fastest seen; with no figure at all it picks at
// random.
//
// The figures are per host name, shared by every Latency strategy of a
// broker, and kept by the first one made (JS's "master"): when the broker
// starts it sends a PING to every node, then every pingInterval one PING
// to a node of each host, and it averages the last collectCount round
// trips of each host. Every PONG counts, Broker.Ping's too. The timer
// stops with the broker. A broker without a transporter has no figures.
type Latency struct {
	sampleCount int
	low         float64 // milliseconds
	table       *latencyTable
	intn        func(n int) int
}

// newLatency makes a Latency strategy with JS's strategyOptions:
// sampleCount (default 5), lowLatency (milliseconds, default 10), and,
// for the broker's shared figures, collectCount (default 5) and
// pingInterval (seconds, default 10), taken from the first Latency
// strategy of the broker.
func newLatency(b *Broker, opts map[string]any) *Latency {
	s := &Latency{
		sampleCount: int(optNumber(opts, "sampleCount", 5)),
		low:         optDuration(opts, "lowLatency", time.Millisecond, 10*time.Millisecond).Seconds() * 1000,
		intn:        rand.IntN,
	}
	if b != nil && b.tr != nil {
		b.latency.once.Do(func() { b.latency.t = newLatencyTable(b, opts) })
		s.table = b.latency.t
	}
	return s
}

// Select returns the candidate on the fastest host among the sampled ones.
func (s *Latency) Select(c []*Endpoint, _ *Context) *Endpoint {
	var best *Endpoint
	var bestLatency float64
	count := sampleSize(s.sampleCount, len(c))
	for i := range count {
		ep := c[i]
		if count != len(c) {
			ep = c[s.intn(len(c))]
		}
		lat, ok := s.table.latency(ep.node.Hostname)
		if !ok {
			continue
		}
		if lat < s.low {
			return ep
		}
		// JS tests the best latency for truth: a best of 0 gives way.
		if best == nil || bestLatency == 0 || lat < bestLatency {
			best, bestLatency = ep, lat
		}
	}
	if best != nil {
		return best
	}
	return c[s.intn(len(c))]
}

// latencyShared is a broker's latency table, made by its first Latency
// strategy.
type latencyShared struct {
	once sync.Once
	t    *latencyTable
}

// latencyTable holds the average round trip to each host of the cluster
// and pings the hosts to keep it up to date.
type latencyTable struct {
	b            *Broker
	collectCount int
	interval     time.Duration
	intn         func(n int) int

	mu      sync.RWMutex
	avg     map[string]float64      // host name → average round trip, ms
	hosts   map[string]*latencyHost // host name → recent round trips and nodes
	running bool                    // the ping timer was started
	stopped bool
	timer   stopper
	cancel  []func()
	pinging sync.WaitGroup // a timer callback in progress
}

type latencyHost struct {
	history []float64 // the last collectCount round trips, ms
	nodes   []string  // the node IDs known on the host
}

func newLatencyTable(b *Broker, opts map[string]any) *latencyTable {
	t := &latencyTable{
		b:            b,
		collectCount: int(optNumber(opts, "collectCount", 5)),
		interval:     optDuration(opts, "pingInterval", time.Second, 10*time.Second),
		intn:         rand.IntN,
		avg:          map[string]float64{},
		hosts:        map[string]*latencyHost{},
	}
	t.cancel = []func(){
		b.OnLocalEvent(EventNodePong, t.onPong),
		b.OnLocalEvent(EventNodeConnected, t.onConnected),
		b.OnLocalEvent(EventNodeDisconnected, t.onDisconnected),
		b.OnLocalEvent(EventBrokerStarted, func(string, any) { t.start() }),
		b.OnLocalEvent(EventBrokerStopped, func(string, any) { t.stop() }),
	}
	// JS's master starts pinging on $broker.started only, so a Latency
	// strategy first made later (an action's own strategy, found in a
	// remote INFO) never pings; start at once instead.
	if b.ready.Load() {
		t.start()
	}
	return t
}

// latency returns the average round trip to a host in milliseconds.
func (t *latencyTable) latency(host string) (float64, bool) {
	if t == nil {
		return 0, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	lat, ok := t.avg[host]
	return lat, ok
}

// start pings every node, then starts the timer that pings the hosts.
func (t *latencyTable) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running || t.stopped {
		return
	}
	t.running = true
	t.pinging.Add(1)
	go func() {
		defer t.pinging.Done()
		_ = t.b.sendPing("")
		t.schedule()
	}()
}

func (t *latencyTable) schedule() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.timer = t.b.clock.AfterFunc(t.interval, t.pingHosts)
	}
}

// pingHosts sends a PING to one node of each host, picked at random.
func (t *latencyTable) pingHosts() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.pinging.Add(1)
	defer t.pinging.Done()
	targets := make([]string, 0, len(t.hosts))
	for _, h := range t.hosts {
		if len(h.nodes) > 0 {
			targets = append(targets, h.nodes[t.intn(len(h.nodes))])
		}
	}
	t.mu.Unlock()
	for _, id := range targets {
		_ = t.b.sendPing(id)
	}
	t.schedule()
}

// stop ends the pings for good, as JS's master does when the broker stops.
func (t *latencyTable) stop() {
	t.mu.Lock()
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
	}
	cancel := t.cancel
	t.cancel = nil
	t.mu.Unlock()
	t.pinging.Wait()
	for _, f := range cancel {
		f()
	}
}

// host returns a host's entry, made with node as its first node when new.
// Callers hold t.mu.
func (t *latencyTable) host(name, nodeID string) *latencyHost {
	h := t.hosts[name]
	if h == nil {
		h = &latencyHost{nodes: []string{nodeID}}
		t.hosts[name] = h
	}
	return h
}

func (t *latencyTable) onPong(_ string, payload any) {
	p, _ := payload.(map[string]any)
	nodeID, _ := p["nodeID"].(string)
	elapsed, ok := jsopt.GoNumber(p["elapsedTime"])
	if !ok {
		return
	}
	t.b.reg.mu.RLock()
	n := t.b.reg.nodes[nodeID]
	var hostname string
	if n != nil {
		hostname = n.Hostname
	}
	t.b.reg.mu.RUnlock()
	if n == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.host(hostname, nodeID)
	if len(h.history) > t.collectCount-1 && len(h.history) > 0 {
		h.history = h.history[1:]
	}
	h.history = append(h.history, elapsed)
	var sum float64
	for _, x := range h.history {
		sum += x
	}
	t.avg[hostname] = sum / float64(len(h.history))
}

func (t *latencyTable) onConnected(_ string, payload any) {
	p, _ := payload.(map[string]any)
	n, ok := p["node"].(Node)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.host(n.Hostname, n.ID)
	if !slices.Contains(h.nodes, n.ID) {
		h.nodes = append(h.nodes, n.ID)
	}
}

func (t *latencyTable) onDisconnected(_ string, payload any) {
	p, _ := payload.(map[string]any)
	n, ok := p["node"].(Node)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hosts[n.Hostname]
	if h == nil {
		return
	}
	h.nodes = slices.DeleteFunc(h.nodes, func(id string) bool { return id == n.ID })
	if len(h.nodes) == 0 {
		// The host's last node left: forget the host and its figure.
		delete(t.hosts, n.Hostname)
		delete(t.avg, n.Hostname)
	}
}

// sendPing sends a PING to a node, or to every node when nodeID is "",
// without waiting for the PONG: its round trip arrives as a "$node.pong"
// event.
func (b *Broker) sendPing(nodeID string) error {
	topic := protocol.BroadcastTopic(protocol.Ping)
	if nodeID != "" {
		topic = protocol.TargetedTopic(protocol.Ping, nodeID)
	}
	return b.send(topic, &packets.Ping{Time: time.Now().UnixMilli(), ID: newID()})
}
