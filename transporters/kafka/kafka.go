// Package kafka is the Kafka transporter, on franz-go (kgo). Importing it
// registers it for "kafka://" connection strings and the name "Kafka", as
// moleculer 0.14's Kafka transporter (kafka-node).
//
// It behaves as the JS transporter does on the wire:
//
//   - Topics are "<prefix>.<TYPE>[.<nodeID>]". Each subscribed topic is
//     created first (broker defaults for partitions and replication).
//   - Every node consumes in a consumer group of its own, named after the
//     broker's instance ID, so every node reads every message of the shared
//     broadcast topics. A partition without a committed offset starts at
//     the end of the log: packets published before the subscription are not
//     delivered, packets published after Subscribe returned are.
//   - Packets are published to partition 0, uncompressed, without a key.
//   - The packet type of a received message is the second "."-separated
//     token of its topic, as JS reads it (so a namespace containing "."
//     breaks receiving, in JS as here).
//   - There is no built-in balancer: disableBalancer is not honoured.
//
// The test broker on 127.0.0.1:9092 (cmd/kafkabroker) is an in-memory,
// single-node kfake that also speaks kafka-node's old protocol versions.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/molbridge/molbridge/internal/jsopt"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/transporters"
)

// DefaultBrokers is the broker address used when none is given (kafka-node's
// default kafkaHost).
const DefaultBrokers = "localhost:9092"

func init() {
	transporters.Register("kafka", func(url string, opts map[string]any) (transporters.Transporter, error) {
		o, err := OptionsFromJS(url, opts)
		if err != nil {
			return nil, err
		}
		return New(o), nil
	})
}

// Options configure the Kafka transporter.
type Options struct {
	// Brokers are the seed brokers, "host:port".
	Brokers []string
	// GroupID is the consumer group; default the broker's instance ID.
	GroupID string
	// ClientID is the Kafka client ID; default "kafka-node-client", as JS.
	ClientID string
	// Partition is the partition every packet is published to (JS:
	// publish.partition, default 0).
	Partition int32
	// SubscribeTimeout bounds Subscribe when its context has no deadline
	// (default 30 s).
	SubscribeTimeout time.Duration
	// KgoOptions are extra franz-go options, applied last.
	KgoOptions []kgo.Opt
}

// OptionsFromJS reads a connection string ("kafka://host:port") and the JS
// transporter options object ({host, client: {kafkaHost, clientId},
// consumer: {groupId}, publish: {partition}}).
func OptionsFromJS(url string, js map[string]any) (Options, error) {
	o := Options{}
	host := strings.TrimPrefix(url, "kafka://")
	if s, ok := jsopt.String(js["host"]); ok {
		host = strings.TrimPrefix(s, "kafka://")
	}
	if c, ok := js["client"].(map[string]any); ok {
		if s, ok := jsopt.String(c["kafkaHost"]); ok {
			host = s
		}
		if s, ok := jsopt.String(c["clientId"]); ok {
			o.ClientID = s
		}
	}
	if c, ok := js["consumer"].(map[string]any); ok {
		if s, ok := jsopt.String(c["groupId"]); ok {
			o.GroupID = s
		}
	}
	if p, ok := js["publish"].(map[string]any); ok {
		if v, present := p["partition"]; present {
			n, ok := jsopt.Int(v)
			if !ok || n < 0 {
				return o, fmt.Errorf("kafka: option publish.partition: want a partition number, got %v", v)
			}
			o.Partition = int32(n)
		}
		if v, ok := jsopt.Int(p["attributes"]); ok && v != 0 {
			return o, errors.New("kafka: option publish.attributes: only 0 (no compression) is supported")
		}
	}
	for _, h := range strings.Split(host, ",") {
		if h = strings.TrimSpace(h); h != "" {
			o.Brokers = append(o.Brokers, h)
		}
	}
	if len(o.Brokers) == 0 {
		o.Brokers = []string{DefaultBrokers}
	}
	return o, nil
}

// Transporter is the Kafka transporter.
type Transporter struct {
	opts Options

	mu  sync.Mutex
	env transporters.Env
	cl  *kgo.Client
	// start holds, per topic being subscribed, the end offsets read before
	// the subscription; the group's first assignment starts there.
	start map[string]map[int32]int64
	// ready is closed when a topic's partitions are assigned and
	// positioned.
	ready  map[string]chan struct{}
	topics map[string]bool
	cancel context.CancelFunc
	done   chan struct{}
}

var _ transporters.Transporter = (*Transporter)(nil)

// New returns a Kafka transporter.
func New(o Options) *Transporter {
	if len(o.Brokers) == 0 {
		o.Brokers = []string{DefaultBrokers}
	}
	if o.ClientID == "" {
		o.ClientID = "kafka-node-client"
	}
	if o.SubscribeTimeout <= 0 {
		o.SubscribeTimeout = 30 * time.Second
	}
	return &Transporter{opts: o}
}

// BuiltInBalancer reports false: Kafka has no balancing JS would use.
func (*Transporter) BuiltInBalancer() bool { return false }

// Connect connects to the brokers and joins the node's consumer group.
func (t *Transporter) Connect(ctx context.Context, env transporters.Env) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	env.Logger = logger
	group := t.opts.GroupID
	if group == "" {
		group = env.InstanceID
	}
	if group == "" {
		group = env.NodeID
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(t.opts.Brokers...),
		kgo.ClientID(t.opts.ClientID),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.DisableIdempotentWrite(),
		kgo.ProducerLinger(0),
		kgo.AllowAutoTopicCreation(),
		kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.AdjustFetchOffsetsFn(t.adjustOffsets),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			logger.Debug("Kafka partitions assigned", "partitions", assigned)
		}),
	}
	opts = append(opts, t.opts.KgoOptions...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return fmt.Errorf("kafka: connect %s: %w", strings.Join(t.opts.Brokers, ","), err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	t.mu.Lock()
	t.env, t.cl, t.cancel, t.done = env, cl, cancel, make(chan struct{})
	t.start, t.ready, t.topics = map[string]map[int32]int64{}, map[string]chan struct{}{}, map[string]bool{}
	done := t.done
	t.mu.Unlock()
	go t.consume(pctx, cl, env, done)
	return nil
}

// adjustOffsets starts partitions that have no committed offset at the end
// offsets read in Subscribe, and reports the topics as ready.
func (t *Transporter) adjustOffsets(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, parts := range offsets {
		start := t.start[topic]
		for p, o := range parts {
			if o.EpochOffset().Offset >= 0 {
				continue // committed in an earlier session of this group
			}
			if at, ok := start[p]; ok {
				parts[p] = kgo.NewOffset().At(at)
			}
		}
		if ch, ok := t.ready[topic]; ok {
			close(ch)
			delete(t.ready, topic)
		}
	}
	return offsets, nil
}

func (t *Transporter) consume(ctx context.Context, cl *kgo.Client, env transporters.Env, done chan struct{}) {
	defer close(done)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			env.Logger.Warn("Kafka consumer error", "topic", topic, "partition", p, "err", err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			parts := strings.Split(r.Topic, ".")
			if len(parts) < 2 {
				return
			}
			env.Handler(protocol.PacketType(parts[1]), r.Value)
		})
	}
}

func (t *Transporter) client() *kgo.Client {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cl
}

// Subscribe creates the topic, reads its end offsets and adds it to the
// group's topics; it returns once the group consumes it from there.
func (t *Transporter) Subscribe(ctx context.Context, topic protocol.Topic) error {
	cl := t.client()
	if cl == nil {
		return transporters.ErrNotConnected
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.opts.SubscribeTimeout)
		defer cancel()
	}
	name := topic.Name(t.env.Prefix)
	t.mu.Lock()
	dup := t.topics[name]
	t.mu.Unlock()
	if dup {
		return nil
	}
	if err := createTopic(ctx, cl, name); err != nil {
		return err
	}
	ends, err := endOffsets(ctx, cl, name)
	if err != nil {
		return err
	}
	ready := make(chan struct{})
	t.mu.Lock()
	t.start[name], t.ready[name], t.topics[name] = ends, ready, true
	t.mu.Unlock()
	cl.AddConsumeTopics(name)
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kafka: subscribe %s: no partition assignment: %w", name, ctx.Err())
	}
}

// createTopic creates a topic with the broker's default partitions and
// replication; an existing topic is fine.
func createTopic(ctx context.Context, cl *kgo.Client, name string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("kafka: create topic %s: %w", name, err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("kafka: create topic %s: %w", name, err)
		}
	}
	return nil
}

// endOffsets returns the end offset of every partition of a topic, waiting
// for a just-created topic to show up in the metadata.
func endOffsets(ctx context.Context, cl *kgo.Client, name string) (map[int32]int64, error) {
	for {
		md := kmsg.NewPtrMetadataRequest()
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(name)
		md.Topics = append(md.Topics, mt)
		mresp, err := md.RequestWith(ctx, cl)
		if err != nil {
			return nil, fmt.Errorf("kafka: metadata of %s: %w", name, err)
		}
		var parts []int32
		for _, t := range mresp.Topics {
			if t.ErrorCode == 0 {
				for _, p := range t.Partitions {
					if p.ErrorCode == 0 {
						parts = append(parts, p.Partition)
					}
				}
			}
		}
		if len(parts) > 0 {
			lo := kmsg.NewPtrListOffsetsRequest()
			lo.ReplicaID = -1
			lt := kmsg.NewListOffsetsRequestTopic()
			lt.Topic = name
			for _, p := range parts {
				lp := kmsg.NewListOffsetsRequestTopicPartition()
				lp.Partition, lp.Timestamp = p, -1 // latest
				lt.Partitions = append(lt.Partitions, lp)
			}
			lo.Topics = append(lo.Topics, lt)
			lresp, err := lo.RequestWith(ctx, cl)
			if err != nil {
				return nil, fmt.Errorf("kafka: end offsets of %s: %w", name, err)
			}
			ends := map[int32]int64{}
			for _, t := range lresp.Topics {
				for _, p := range t.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
						return nil, fmt.Errorf("kafka: end offset of %s/%d: %w", name, p.Partition, err)
					}
					ends[p.Partition] = p.Offset
				}
			}
			if len(ends) == len(parts) {
				return ends, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("kafka: topic %s has no partitions: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Unsubscribe stops consuming a topic.
func (t *Transporter) Unsubscribe(_ context.Context, topic protocol.Topic) error {
	cl := t.client()
	if cl == nil {
		return nil
	}
	name := topic.Name(t.env.Prefix)
	t.mu.Lock()
	delete(t.topics, name)
	delete(t.start, name)
	t.mu.Unlock()
	cl.PurgeTopicsFromConsuming(name)
	return nil
}

// Publish sends data to partition 0 (or Options.Partition) of the topic
// and waits for the leader's acknowledgement.
func (t *Transporter) Publish(ctx context.Context, topic protocol.Topic, data []byte) error {
	cl := t.client()
	if cl == nil {
		return transporters.ErrNotConnected
	}
	r := &kgo.Record{Topic: topic.Name(t.env.Prefix), Value: data, Partition: t.opts.Partition}
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		if errors.Is(err, kgo.ErrClientClosed) {
			return transporters.ErrNotConnected
		}
		return fmt.Errorf("kafka: publish to %s: %w", r.Topic, err)
	}
	return nil
}

// Close leaves the consumer group and closes the client.
func (t *Transporter) Close() error {
	t.mu.Lock()
	cl, cancel, done := t.cl, t.cancel, t.done
	t.cl = nil
	t.mu.Unlock()
	if cl == nil {
		return nil
	}
	cancel()
	<-done
	ctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	_ = cl.LeaveGroupContext(ctx)
	cl.Close()
	return nil
}
