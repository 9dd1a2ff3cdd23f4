package bridge

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
)

// receive takes the bytes of every packet from the transporter. A packet
// that cannot be decoded, has another protocol version or claims this node's
// ID from another instance is logged and dropped.
func (b *Broker) receive(t protocol.PacketType, data []byte) {
	p, err := b.ser.Unmarshal(t, data)
	if err != nil {
		b.log.Warn("Dropped a malformed packet.", "type", t, "err", err)
		return
	}
	env := p.Env()
	if env.Ver != protocol.Version4 {
		b.log.Warn("Dropped a packet of another protocol version.", "type", t, "ver", env.Ver, "sender", env.Sender)
		return
	}
	if env.Sender == "" {
		b.log.Warn("Dropped a packet without sender.", "type", t)
		return
	}
	if env.Sender == b.nodeID {
		switch t {
		case protocol.Info:
			if info := p.(*packets.Info); info.InstanceID != b.instanceID {
				b.log.Error("Another node uses this node's ID; its packet is dropped.",
					"instanceID", info.InstanceID)
			}
			return
		case protocol.Event, protocol.Request, protocol.Response:
		default:
			return
		}
	}
	switch p := p.(type) {
	case *packets.Request:
		go b.serveRequest(p)
	case *packets.Response:
		b.onResponse(p)
	case *packets.Event:
		go b.onEvent(p)
	case *packets.Discover:
		if b.ready.Load() {
			b.sendInfo(protocol.TargetedTopic(protocol.Info, p.Sender), false)
		}
	case *packets.Info:
		b.onInfo(p)
	case *packets.Heartbeat:
		b.onHeartbeat(p)
	case *packets.Disconnect:
		b.nodeDisconnected(p.Sender, false)
	case *packets.GossipReq:
		b.onGossipReq(p)
	case *packets.GossipRes:
		b.onGossipRes(p)
	case *packets.Ping:
		_ = b.send(protocol.TargetedTopic(protocol.Pong, p.Sender),
			&packets.Pong{Time: p.Time, ID: p.ID, Arrived: time.Now().UnixMilli()})
	case *packets.Pong:
		now := time.Now().UnixMilli()
		elapsed := now - p.Time
		b.notify(EventNodePong, map[string]any{"nodeID": p.Sender, "elapsedTime": elapsed,
			"timeDiff": math.Round(float64(now-p.Arrived) - float64(elapsed)/2), "id": p.ID})
		b.pendingMu.Lock()
		ch := b.pings[p.ID]
		delete(b.pings, p.ID)
		b.pendingMu.Unlock()
		if ch != nil {
			ch <- p
		}
	}
}

// onInfo registers or updates a node and its services (JS's
// NodeCatalog.processNodeInfo).
func (b *Broker) onInfo(p *packets.Info) {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	n := b.reg.nodes[p.Sender]
	isNew, reconnected := n == nil, false
	if isNew {
		n = &Node{ID: p.Sender}
		b.reg.addNode(n)
	} else if !n.Available {
		reconnected = true
	}
	if isNew || reconnected {
		n.Available, n.OfflineSince, n.LastHeartbeat = true, time.Time{}, time.Now()
	}
	n.Metadata, n.IPList, n.Hostname = p.Metadata, p.IPList, p.Hostname
	n.Client, n.Config = p.Client, p.Config
	if n.Config == nil {
		n.Config = map[string]any{}
	}
	seq := p.Seq
	if seq == 0 {
		seq = 1
	}
	changed := seq > n.Seq || reconnected || isNew || p.InstanceID != n.InstanceID
	if changed {
		n.InstanceID, n.Seq, n.Services = p.InstanceID, seq, p.Services
		b.reg.registerRemoteServices(n, p.Services)
	}
	snapshot := *n
	switch {
	case isNew:
		b.log.Info("Node connected.", "node", n.ID)
		b.notify(EventNodeConnected, map[string]any{"node": snapshot, "reconnected": false})
	case reconnected:
		b.log.Info("Node reconnected.", "node", n.ID)
		b.notify(EventNodeConnected, map[string]any{"node": snapshot, "reconnected": true})
	default:
		b.notify(EventNodeUpdated, map[string]any{"node": snapshot})
	}
	if changed {
		b.notify(EventServicesChanged, map[string]any{"localService": false})
	}
}

// onHeartbeat refreshes a node, or asks an unknown or offline one for its
// INFO.
func (b *Broker) onHeartbeat(p *packets.Heartbeat) {
	b.reg.mu.Lock()
	n := b.reg.nodes[p.Sender]
	if n == nil || !n.Available {
		b.reg.mu.Unlock()
		_ = b.send(protocol.TargetedTopic(protocol.Discover, p.Sender), &packets.Discover{})
		return
	}
	cpu := p.CPU
	n.CPU, n.LastHeartbeat = &cpu, time.Now()
	if n.CPUSeq == 0 {
		n.CPUSeq = 1
	}
	b.reg.mu.Unlock()
}

// nodeDisconnected marks a node offline, drops its endpoints and rejects
// the calls waiting for it.
func (b *Broker) nodeDisconnected(nodeID string, unexpected bool) {
	b.reg.mu.Lock()
	n := b.reg.nodes[nodeID]
	if n == nil || !n.Available || n.Local {
		b.reg.mu.Unlock()
		return
	}
	n.Available, n.OfflineSince = false, time.Now()
	n.Seq++
	b.reg.removeNodeEndpoints(nodeID)
	b.notify(EventNodeDisconnected, map[string]any{"node": *n, "unexpected": unexpected})
	b.reg.mu.Unlock()
	if unexpected {
		b.log.Warn("Node disconnected unexpectedly.", "node", nodeID)
	} else {
		b.log.Info("Node disconnected.", "node", nodeID)
	}
	b.failPending(func(p *pendingCall) bool { return p.nodeID == nodeID }, func(p *pendingCall) error {
		return errRequestRejected(p.action, p.nodeID)
	})
}

// heartbeatLoop sends HEARTBEAT every interval, with the jitter JS adds.
func (b *Broker) heartbeatLoop(ctx context.Context) {
	interval := b.opts.HeartbeatInterval + time.Duration(rand.IntN(1001)-500)*time.Millisecond
	if interval < 100*time.Millisecond {
		interval = b.opts.HeartbeatInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cpu := b.measureCPU(ctx)
		_ = b.send(protocol.BroadcastTopic(protocol.Heartbeat), &packets.Heartbeat{CPU: cpu})
	}
}

// measureCPU records this node's CPU use, counting a change in CPUSeq, and
// returns it.
func (b *Broker) measureCPU(ctx context.Context) float64 {
	cpu := cpuUsage(ctx)
	b.reg.mu.Lock()
	if b.local.CPU == nil || *b.local.CPU != cpu {
		b.local.CPUSeq++
	}
	b.local.CPU = &cpu
	b.reg.mu.Unlock()
	return cpu
}

// livenessLoop marks silent nodes offline and forgets long-gone ones.
func (b *Broker) livenessLoop(ctx context.Context) {
	period := min(b.opts.HeartbeatTimeout/2, time.Second)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var silent []string
		b.reg.mu.Lock()
		for id, n := range b.reg.nodes {
			switch {
			case n.Local:
			case n.Available && now.Sub(n.LastHeartbeat) > b.opts.HeartbeatTimeout:
				silent = append(silent, id)
			case !n.Available && now.Sub(n.LastHeartbeat) > b.opts.CleanOfflineNodesTimeout:
				b.reg.deleteNode(id)
			}
		}
		b.reg.mu.Unlock()
		for _, id := range silent {
			b.nodeDisconnected(id, true)
		}
	}
}

// WaitForServices waits until every named service is available somewhere in
// the cluster. Names are full names ("v2.greeter"). It returns the context's
// error when ctx ends first.
func (b *Broker) WaitForServices(ctx context.Context, names ...string) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if b.hasServices(names) {
			return nil
		}
		select {
		case <-ctx.Done():
			return NewServerError("Services waiting is timed out.", 500, "WAITFOR_SERVICES",
				map[string]any{"services": names})
		case <-t.C:
		}
	}
}

func (b *Broker) hasServices(names []string) bool {
	b.mu.Lock()
	local := map[string]bool{}
	for _, s := range b.services {
		if s.started {
			local[s.fullName] = true
		}
	}
	b.mu.Unlock()
	b.reg.mu.RLock()
	defer b.reg.mu.RUnlock()
	for _, name := range names {
		if local[name] {
			continue
		}
		found := false
		for _, n := range b.reg.nodes {
			if n.Local || !n.Available {
				continue
			}
			if slices.ContainsFunc(n.Services, func(s packets.ServiceInfo) bool { return s.FullName == name }) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Pong is the answer to a Ping.
type Pong struct {
	NodeID string
	// Elapsed is the round-trip time.
	Elapsed time.Duration
	// TimeDiff is the estimated difference of the remote clock from ours.
	TimeDiff time.Duration
}

// Ping sends a PING to a node and waits for its PONG.
func (b *Broker) Ping(ctx context.Context, nodeID string) (Pong, error) {
	id := newID()
	ch := make(chan *packets.Pong, 1)
	b.pendingMu.Lock()
	b.pings[id] = ch
	b.pendingMu.Unlock()
	defer func() {
		b.pendingMu.Lock()
		delete(b.pings, id)
		b.pendingMu.Unlock()
	}()
	sent := time.Now()
	if err := b.send(protocol.TargetedTopic(protocol.Ping, nodeID), &packets.Ping{Time: sent.UnixMilli(), ID: id}); err != nil {
		return Pong{}, err
	}
	select {
	case p := <-ch:
		now := time.Now()
		elapsed := now.Sub(sent)
		diff := time.Duration(now.UnixMilli()-p.Arrived)*time.Millisecond - elapsed/2
		return Pong{NodeID: p.Sender, Elapsed: elapsed, TimeDiff: diff}, nil
	case <-ctx.Done():
		return Pong{}, ctx.Err()
	}
}

// Nodes returns a snapshot of the nodes the registry knows, this one first.
func (b *Broker) Nodes() []Node {
	nodes := b.reg.nodeList()
	for i := range nodes {
		nodes[i].Services = slices.Clone(nodes[i].Services)
		nodes[i].Metadata = maps.Clone(nodes[i].Metadata)
	}
	return nodes
}
