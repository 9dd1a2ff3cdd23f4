// Package kafkabroker is molbridge's Kafka broker for tests and development:
// franz-go's in-memory kfake cluster (one node) behind a front that lets
// kafka-node 5.0.0 — the client moleculer 0.14's Kafka transporter uses —
// talk to it.
//
// kafka-node speaks only the pre-0.11 protocol: Produce and Fetch v0-2
// (MessageSets, magic 0 and 1), Metadata v0-1 (which create topics when
// the broker allows it) and JoinGroup v0 (no rebalance timeout). It takes
// min(its max, the broker's max) of every API and ignores the broker's
// minimum. kfake serves Produce from v3 and Fetch from v4 (RecordBatches),
// creates topics only on Metadata v4+ requests that ask for it, and reads
// JoinGroup v0's missing rebalance timeout as -1. The front therefore
// rewrites, per connection, the requests of those old versions:
//
//   - Produce v0-2 → v3: the MessageSet (compressed wrappers unpacked)
//     becomes one uncompressed RecordBatch; the response goes back at the
//     client's version.
//   - Fetch v0-3 → v4: the RecordBatches of the response become a MessageSet
//     (magic 0 for v0-1, magic 1 for v2), starting at the fetch offset and
//     cut at the partition's max bytes.
//   - Metadata v0-3 → v4 with AllowAutoTopicCreation (an empty v0 topic
//     list, which means "all topics", becomes a null list).
//   - JoinGroup v0 → v1 with the rebalance timeout equal to the session
//     timeout.
//   - OffsetFetch v0-1 keeps its version, but a partition without a
//     committed offset gets the empty metadata string real Kafka sends
//     (kfake sends null). kafka-node reads the offset -1 as 0 (its 64-bit
//     decoding loses the sign in float rounding) and knows "no committed
//     offset" only by offset 0 with empty metadata; with null metadata it
//     takes offset 0 as committed, so a new consumer group (moleculer's:
//     one per broker instance, fromOffset "latest") reads every topic from
//     the start, old INFO packets of an earlier instance of its own node ID
//     included, and moleculer stops with "nodeID conflict".
//
// Every other request, and every request of a modern client (franz-go,
// librdkafka, the Java client), passes through unchanged.
//
// The broker is in-memory and single-node: nothing survives a restart,
// topics are created with one partition. It is not a Kafka for production.
package kafkabroker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Broker is a running test broker.
type Broker struct {
	cluster *kfake.Cluster
	ln      net.Listener
	log     *slog.Logger
}

// Options configure Start.
type Options struct {
	// Addr is the listen address; default "127.0.0.1:9092".
	Addr string
	// Logger receives connection and translation errors; nil discards.
	Logger *slog.Logger
	// Partitions is the partition count of auto-created topics; default 1,
	// Kafka's num.partitions default.
	Partitions int
}

// Start starts a broker listening on o.Addr.
func Start(o Options) (*Broker, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:9092"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("kafkabroker: %w", err)
	}
	b := &Broker{ln: ln, log: o.Logger}
	used := false
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.ClusterID("molbridge-kafkabroker"),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(o.Partitions),
		// kfake listens through the front: it advertises the front's
		// address in Metadata and FindCoordinator responses.
		kfake.ListenFn(func(string, string) (net.Listener, error) {
			if used {
				return nil, errors.New("kafkabroker: one node only")
			}
			used = true
			return &frontListener{Listener: ln, b: b}, nil
		}),
	)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("kafkabroker: %w", err)
	}
	b.cluster = c
	return b, nil
}

// Addr returns the address clients connect to.
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// Close stops the broker and drops all data.
func (b *Broker) Close() {
	b.cluster.Close()
	b.ln.Close()
}

// frontListener hands kfake one end of a pipe per client connection and
// translates between the other end and the client.
type frontListener struct {
	net.Listener
	b *Broker
}

func (l *frontListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	inner, outer := net.Pipe()
	f := &front{client: c, kfake: outer, log: l.b.log, pending: map[int32]pending{}}
	go f.requests()
	go f.responses()
	return pipeConn{Conn: inner, local: c.LocalAddr(), remote: c.RemoteAddr()}, nil
}

// pipeConn is kfake's end of the pipe, with the client's addresses.
type pipeConn struct {
	net.Conn
	local, remote net.Addr
}

func (c pipeConn) LocalAddr() net.Addr  { return c.local }
func (c pipeConn) RemoteAddr() net.Addr { return c.remote }

// pending is a translated request whose response must be translated back.
type pending struct {
	key     int16
	version int16 // the client's version
	// fetch: per topic and partition, the fetch offset and max bytes.
	fetch map[string]map[int32][2]int64
}

type front struct {
	client, kfake net.Conn
	log           *slog.Logger

	mu      sync.Mutex
	pending map[int32]pending
}

func (f *front) close() {
	f.client.Close()
	f.kfake.Close()
}

func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 256<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

func writeFrame(w io.Writer, body []byte) error {
	buf := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	_, err := w.Write(append(buf, body...))
	return err
}

// requests copies client requests to kfake, translating old versions.
func (f *front) requests() {
	defer f.close()
	for {
		frame, err := readFrame(f.client)
		if err != nil {
			return
		}
		out, err := f.translateRequest(frame)
		if err != nil {
			f.log.Warn("kafkabroker: bad request; closing the connection", "client", f.client.RemoteAddr(), "err", err)
			return
		}
		if err := writeFrame(f.kfake, out); err != nil {
			return
		}
	}
}

// responses copies kfake's responses to the client, translating those of
// translated requests.
func (f *front) responses() {
	defer f.close()
	for {
		frame, err := readFrame(f.kfake)
		if err != nil {
			return
		}
		if len(frame) >= 4 {
			corr := int32(binary.BigEndian.Uint32(frame))
			f.mu.Lock()
			p, ok := f.pending[corr]
			delete(f.pending, corr)
			f.mu.Unlock()
			if ok {
				f.log.Debug("kafkabroker: response", "api", kmsg.NameForKey(p.key), "v", p.version, "corr", corr)
				if frame, err = translateResponse(p, frame); err != nil {
					f.log.Warn("kafkabroker: bad response; closing the connection", "client", f.client.RemoteAddr(), "err", err)
					return
				}
			}
		}
		if err := writeFrame(f.client, frame); err != nil {
			return
		}
	}
}

// Request header v1 (every version the front translates is non-flexible):
// api key, api version, correlation ID, nullable client ID.
func parseHeader(frame []byte) (key, version int16, corr int32, headerLen int, err error) {
	if len(frame) < 10 {
		return 0, 0, 0, 0, errors.New("short request header")
	}
	key = int16(binary.BigEndian.Uint16(frame))
	version = int16(binary.BigEndian.Uint16(frame[2:]))
	corr = int32(binary.BigEndian.Uint32(frame[4:]))
	idLen := int(int16(binary.BigEndian.Uint16(frame[8:])))
	headerLen = 10
	if idLen > 0 {
		headerLen += idLen
	}
	if headerLen > len(frame) {
		return 0, 0, 0, 0, errors.New("short request header")
	}
	return key, version, corr, headerLen, nil
}

// needsTranslation reports whether a request version is one kfake does not
// serve as kafka-node expects.
func needsTranslation(key, version int16) bool {
	switch key {
	case 0: // Produce
		return version < 3
	case 1: // Fetch
		return version < 4
	case 3: // Metadata
		return version < 4
	case 11: // JoinGroup
		return version < 1
	case 9: // OffsetFetch: the response only
		return version < 2
	}
	return false
}

func (f *front) translateRequest(frame []byte) ([]byte, error) {
	key, version, corr, hl, err := parseHeader(frame)
	if err != nil {
		return nil, err
	}
	if !needsTranslation(key, version) {
		f.log.Debug("kafkabroker: pass", "api", kmsg.NameForKey(key), "v", version, "corr", corr)
		return frame, nil
	}
	f.log.Debug("kafkabroker: translate", "api", kmsg.NameForKey(key), "v", version, "corr", corr)
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	if err := req.ReadFrom(frame[hl:]); err != nil {
		return nil, fmt.Errorf("%s v%d: %w", kmsg.NameForKey(key), version, err)
	}
	p := pending{key: key, version: version}
	expectResponse := true
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		if err := upgradeProduce(r); err != nil {
			return nil, err
		}
		expectResponse = r.Acks != 0
	case *kmsg.FetchRequest:
		p.fetch = upgradeFetch(r)
	case *kmsg.MetadataRequest:
		if r.Version == 0 && len(r.Topics) == 0 {
			r.Topics = nil // v0: empty = all topics; v1+: null = all
		}
		r.AllowAutoTopicCreation = true
		r.SetVersion(4)
	case *kmsg.JoinGroupRequest:
		r.RebalanceTimeoutMillis = r.SessionTimeoutMillis
		r.SetVersion(1)
	}
	if expectResponse {
		f.mu.Lock()
		f.pending[corr] = p
		f.mu.Unlock()
	}
	out := make([]byte, 0, len(frame)+64)
	out = append(out, frame[:hl]...)
	binary.BigEndian.PutUint16(out[2:], uint16(req.GetVersion()))
	return req.AppendTo(out), nil
}

func upgradeProduce(r *kmsg.ProduceRequest) error {
	now := time.Now()
	for i := range r.Topics {
		t := &r.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			msgs, err := parseMessageSet(p.Records, 0)
			if err != nil {
				return fmt.Errorf("produce %s/%d: %w", t.Topic, p.Partition, err)
			}
			if len(msgs) == 0 {
				p.Records = nil
				continue
			}
			p.Records = recordBatch(msgs, now)
		}
	}
	r.TransactionID = nil
	r.SetVersion(3)
	return nil
}

func upgradeFetch(r *kmsg.FetchRequest) map[string]map[int32][2]int64 {
	at := map[string]map[int32][2]int64{}
	var total int64
	for _, t := range r.Topics {
		m := at[t.Topic]
		if m == nil {
			m = map[int32][2]int64{}
			at[t.Topic] = m
		}
		for _, p := range t.Partitions {
			m[p.Partition] = [2]int64{p.FetchOffset, int64(p.PartitionMaxBytes)}
			total += int64(p.PartitionMaxBytes)
		}
	}
	if r.Version < 3 {
		r.MaxBytes = int32(min(max(total, 1<<20), 1<<30))
	}
	r.IsolationLevel = 0
	r.SetVersion(4)
	return at
}

// translateResponse turns kfake's response to an upgraded request into the
// response the client asked for. The response header is the correlation ID
// only (none of these responses is flexible).
func translateResponse(p pending, frame []byte) ([]byte, error) {
	req := kmsg.RequestForKey(p.key)
	resp := req.ResponseKind()
	switch p.key {
	case 0:
		resp.SetVersion(3)
	case 1:
		resp.SetVersion(4)
	case 3:
		resp.SetVersion(4)
	case 11:
		resp.SetVersion(1)
	default:
		resp.SetVersion(p.version)
	}
	if err := resp.ReadFrom(frame[4:]); err != nil {
		return nil, fmt.Errorf("%s response v%d: %w", kmsg.NameForKey(p.key), resp.GetVersion(), err)
	}
	if fr, ok := resp.(*kmsg.FetchResponse); ok {
		magic := int8(0)
		if p.version >= 2 {
			magic = 1
		}
		for i := range fr.Topics {
			t := &fr.Topics[i]
			for j := range t.Partitions {
				part := &t.Partitions[j]
				msgs, err := parseRecordBatches(part.RecordBatches)
				if err != nil {
					return nil, fmt.Errorf("fetch %s/%d: %w", t.Topic, part.Partition, err)
				}
				req := p.fetch[t.Topic][part.Partition]
				part.RecordBatches = messageSet(msgs, magic, req[0], int(req[1]))
			}
		}
	}
	if or, ok := resp.(*kmsg.OffsetFetchResponse); ok {
		for i := range or.Topics {
			for j := range or.Topics[i].Partitions {
				part := &or.Topics[i].Partitions[j]
				if part.Metadata == nil {
					part.Metadata = kmsg.StringPtr("")
				}
			}
		}
	}
	resp.SetVersion(p.version)
	return resp.AppendTo(frame[:4:4]), nil
}
