package bridge

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/packets"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// This file holds what a broker does with a transporter that discovers
// nodes itself (transporters.Gossiper, the TCP transporter): the registry
// as the transporter sees it (nodeDirectory), and the gossip of node info,
// seq and CPU that replaces DISCOVER, INFO and HEARTBEAT, as JS's TCP
// transporter does it.

// nodeDirectory is the broker's registry as transporters.NodeDirectory.
type nodeDirectory struct{ b *Broker }

var _ transporters.NodeDirectory = nodeDirectory{}

func (d nodeDirectory) Node(id string) (transporters.NodeAddress, bool) {
	r := d.b.reg
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := r.nodes[id]
	if n == nil {
		return transporters.NodeAddress{}, false
	}
	return transporters.NodeAddress{ID: n.ID, Local: n.Local, Available: n.Available,
		Hostname: n.Hostname, IPList: slices.Clone(n.IPList), Port: n.Port}, true
}

func (d nodeDirectory) AddOfflineNode(id, host string, port int) bool {
	r := d.b.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nodes[id] != nil {
		return false
	}
	now := time.Now()
	r.addNode(&Node{ID: id, Hostname: host, IPList: []string{host}, Port: port,
		Config: map[string]any{}, OfflineSince: now, LastHeartbeat: now})
	return true
}

func (d nodeDirectory) UpdateOfflineNode(id, host string, port int) {
	r := d.b.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodes[id]
	if n == nil || n.Available || n.Local {
		return
	}
	n.Port, n.Hostname = port, host
	if !slices.Contains(n.IPList, host) {
		n.IPList = append([]string{host}, n.IPList...)
	}
}

func (d nodeDirectory) Disconnected(id string, unexpected bool) {
	d.b.nodeDisconnected(id, unexpected)
}

func (d nodeDirectory) SetLocalPort(port int) {
	b := d.b
	b.mu.Lock()
	b.reg.mu.Lock()
	b.local.Port = port
	b.local.Seq++
	b.reg.mu.Unlock()
	b.infoCache = nil
	b.mu.Unlock()
}

// gossipLoop measures the CPU and sends a GOSSIP_REQ every period.
func (b *Broker) gossipLoop(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b.measureCPU(ctx)
		b.sendGossipRequest()
	}
}

func cpuOrZero(n *Node) float64 {
	if n.CPU == nil {
		return 0
	}
	return *n.CPU
}

// sendGossipRequest tells a random online node, and with a probability
// growing with their share a random offline node, what this node knows.
func (b *Broker) sendGossipRequest() {
	req := &packets.GossipReq{Online: map[string][]any{}, Offline: map[string]int64{}}
	var online, offline []string
	b.reg.mu.RLock()
	if len(b.reg.nodeOrder) <= 1 {
		b.reg.mu.RUnlock()
		return
	}
	for _, id := range b.reg.nodeOrder {
		n := b.reg.nodes[id]
		if !n.Available {
			if n.Seq > 0 {
				req.Offline[id] = n.Seq
			}
			offline = append(offline, id)
			continue
		}
		req.Online[id] = []any{n.Seq, n.CPUSeq, cpuOrZero(n)}
		if !n.Local {
			online = append(online, id)
		}
	}
	b.reg.mu.RUnlock()
	if len(req.Online) == 0 {
		req.Online = nil
	}
	if len(req.Offline) == 0 {
		req.Offline = nil
	}
	send := func(ids []string) {
		id := ids[rand.IntN(len(ids))]
		p := *req // send writes the envelope
		go b.send(protocol.TargetedTopic(protocol.GossipReq, id), &p)
	}
	if len(online) > 0 {
		send(online)
	}
	if len(offline) > 0 {
		ratio := float64(len(offline)) / float64(len(online)+1)
		if ratio >= 1 || rand.Float64() < ratio {
			send(offline)
		}
	}
}

// gossipLocalInfo is this node's info as gossip carries it: the INFO
// payload plus the TCP port, without the envelope.
func (b *Broker) gossipLocalInfo() map[string]any {
	info := b.localInfo(false)
	m, err := toJSONMap(info)
	if err != nil {
		b.log.Error("Unable to encode the local node info.", "err", err)
		return map[string]any{}
	}
	delete(m, "ver")
	delete(m, "sender")
	b.reg.mu.RLock()
	m["port"] = b.local.Port
	b.reg.mu.RUnlock()
	return m
}

// gossipRemoteInfo is a remote node's info as last received. Callers hold
// b.reg.mu.
func (b *Broker) gossipRemoteInfo(n *Node) map[string]any {
	if m := b.gossipRaw[n.ID]; m != nil {
		return m
	}
	m, err := toJSONMap(&packets.Info{Services: n.Services, IPList: n.IPList, Hostname: n.Hostname,
		Client: n.Client, Config: n.Config, InstanceID: n.InstanceID, Metadata: n.Metadata, Seq: n.Seq})
	if err != nil {
		return map[string]any{}
	}
	delete(m, "ver")
	delete(m, "sender")
	m["port"] = n.Port
	return m
}

func toJSONMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(data, &m)
	return m, err
}

func gossipInt(v any) int64 {
	f, _ := jsopt.GoNumber(v)
	return int64(f)
}

// gossipHeartbeat updates a node's CPU as JS's Node.heartbeat does; it
// also brings an offline node back online, without its services. Callers
// hold b.reg.mu.
func gossipHeartbeat(n *Node, cpu any, cpuSeq int64) {
	if !n.Available {
		n.Available, n.OfflineSince = true, time.Time{}
	}
	if c, ok := jsopt.GoNumber(cpu); ok {
		n.CPU, n.CPUSeq = &c, cpuSeq
		if cpuSeq == 0 {
			n.CPUSeq = 1
		}
	}
	n.LastHeartbeat = time.Now()
}

// onGossipReq answers a GOSSIP_REQ with what the requester lacks.
func (b *Broker) onGossipReq(p *packets.GossipReq) {
	res := &packets.GossipRes{Online: map[string][]any{}, Offline: map[string]int64{}}
	type downNode struct {
		id  string
		seq int64
	}
	var down []downNode
	var localSeq int64 // the requester thinks this node is offline
	includeLocal := false
	var localCPUSeq int64
	var localCPU float64

	b.reg.mu.Lock()
	senderKnown := b.reg.nodes[p.Sender] != nil
	for _, id := range b.reg.nodeOrder {
		n := b.reg.nodes[id]
		off := p.Offline[id]
		on, hasOn := p.Online[id]
		var seq, cpuSeq int64
		var cpu any
		if off != 0 {
			seq = off
		} else if hasOn {
			if len(on) > 0 {
				seq = gossipInt(on[0])
			}
			if len(on) > 1 {
				cpuSeq = gossipInt(on[1])
			}
			if len(on) > 2 {
				cpu = on[2]
			}
		}
		if seq == 0 || seq < n.Seq {
			// The requester is behind.
			switch {
			case !n.Available:
				res.Offline[id] = n.Seq
			case n.Local:
				includeLocal, localCPUSeq, localCPU = true, n.CPUSeq, cpuOrZero(n)
			default:
				res.Online[id] = []any{b.gossipRemoteInfo(n), n.CPUSeq, cpuOrZero(n)}
			}
			continue
		}
		switch {
		case off != 0 && !n.Available:
			n.Seq = max(n.Seq, seq)
		case off != 0 && !n.Local:
			down = append(down, downNode{id, seq})
		case off != 0:
			// Said to be offline: come back with a higher seq.
			localSeq, includeLocal, localCPUSeq, localCPU = seq+1, true, n.CPUSeq, cpuOrZero(n)
		case hasOn && n.Available:
			if cpuSeq > n.CPUSeq {
				gossipHeartbeat(n, cpu, cpuSeq)
			} else if cpuSeq < n.CPUSeq {
				res.Online[id] = []any{n.CPUSeq, cpuOrZero(n)}
			}
		}
	}
	b.reg.mu.Unlock()

	for _, d := range down {
		b.nodeDisconnected(d.id, false)
		b.reg.mu.Lock()
		if n := b.reg.nodes[d.id]; n != nil {
			n.Seq = d.seq
		}
		b.reg.mu.Unlock()
	}
	if localSeq != 0 {
		b.mu.Lock()
		b.reg.mu.Lock()
		b.local.Seq = localSeq
		b.reg.mu.Unlock()
		b.infoCache = nil
		b.mu.Unlock()
	}
	if includeLocal {
		res.Online[b.nodeID] = []any{b.gossipLocalInfo(), localCPUSeq, localCPU}
	}
	if len(res.Online) == 0 {
		res.Online = nil
	}
	if len(res.Offline) == 0 {
		res.Offline = nil
	}
	if res.Online == nil && res.Offline == nil {
		return
	}
	if !senderKnown {
		b.log.Warn("Dropped a GOSSIP_REQ of an unknown node.", "sender", p.Sender)
		return
	}
	go b.send(protocol.TargetedTopic(protocol.GossipRes, p.Sender), res)
}

// onGossipRes takes in the node info, CPU values and offline nodes of a
// GOSSIP_RES.
func (b *Broker) onGossipRes(p *packets.GossipRes) {
	for id, row := range p.Online {
		if id == b.nodeID {
			continue
		}
		var info map[string]any
		var cpu any
		var cpuSeq int64
		switch len(row) {
		case 1:
			info, _ = row[0].(map[string]any)
		case 2:
			cpuSeq, cpu = gossipInt(row[0]), row[1]
		case 3:
			info, _ = row[0].(map[string]any)
			cpuSeq, cpu = gossipInt(row[1]), row[2]
		}
		if info != nil {
			b.reg.mu.RLock()
			n := b.reg.nodes[id]
			newer := n == nil
			if n != nil {
				if s, ok := jsopt.GoNumber(info["seq"]); ok && float64(n.Seq) < s {
					newer = true
				}
			}
			b.reg.mu.RUnlock()
			if newer {
				b.processGossipInfo(id, info)
			}
		}
		if cpuSeq != 0 {
			b.reg.mu.Lock()
			if n := b.reg.nodes[id]; n != nil && !n.Local && cpuSeq > n.CPUSeq {
				gossipHeartbeat(n, cpu, cpuSeq)
			}
			b.reg.mu.Unlock()
		}
	}
	for id, seq := range p.Offline {
		if id == b.nodeID {
			continue
		}
		b.reg.mu.RLock()
		n := b.reg.nodes[id]
		behind := n != nil && n.Seq < seq
		available := behind && n.Available
		b.reg.mu.RUnlock()
		if !behind {
			continue
		}
		if available {
			b.nodeDisconnected(id, false)
		}
		b.reg.mu.Lock()
		n.Seq = seq
		b.reg.mu.Unlock()
	}
}

// processGossipInfo handles a node's info from a GOSSIP_RES as an INFO
// packet, and keeps its TCP port and the info as received.
func (b *Broker) processGossipInfo(id string, m map[string]any) {
	m["sender"] = id
	data, err := json.Marshal(m)
	var info packets.Info
	if err == nil {
		err = json.Unmarshal(data, &info)
	}
	if err != nil {
		b.log.Warn("Dropped an invalid node info in a GOSSIP_RES.", "node", id, "err", err)
		return
	}
	info.Sender, info.Ver = id, protocol.Version4
	port, _ := jsopt.GoNumber(m["port"])
	b.onInfo(&info)
	b.reg.mu.Lock()
	if n := b.reg.nodes[id]; n != nil {
		n.Port = int(port)
	}
	b.gossipRaw[id] = m
	b.reg.mu.Unlock()
}
