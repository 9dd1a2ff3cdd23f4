package kafkabroker

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func start(t *testing.T) *Broker {
	t.Helper()
	b, err := Start(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// oldClient speaks raw Kafka requests at fixed versions, as kafka-node does.
type oldClient struct {
	t    *testing.T
	c    net.Conn
	corr int32
}

func dialOld(t *testing.T, addr string) *oldClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &oldClient{t: t, c: c}
}

func (o *oldClient) do(req kmsg.Request, version int16) kmsg.Response {
	o.t.Helper()
	req.SetVersion(version)
	o.corr++
	body := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	body = binary.BigEndian.AppendUint16(body, uint16(version))
	body = binary.BigEndian.AppendUint32(body, uint32(o.corr))
	body = binary.BigEndian.AppendUint16(body, 4)
	body = append(body, "test"...)
	body = req.AppendTo(body)
	_ = o.c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := writeFrame(o.c, body); err != nil {
		o.t.Fatal(err)
	}
	frame, err := readFrame(o.c)
	if err != nil {
		o.t.Fatalf("%s v%d: no response: %v", kmsg.NameForKey(req.Key()), version, err)
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != o.corr {
		o.t.Fatalf("correlation ID %d, want %d", got, o.corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(version)
	if err := resp.ReadFrom(frame[4:]); err != nil {
		o.t.Fatalf("%s v%d response: %v", kmsg.NameForKey(req.Key()), version, err)
	}
	return resp
}

func metadataV1(o *oldClient, topics ...string) *kmsg.MetadataResponse {
	req := kmsg.NewPtrMetadataRequest()
	for _, tp := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(tp)
		req.Topics = append(req.Topics, rt)
	}
	return o.do(req, 1).(*kmsg.MetadataResponse)
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return buf.Bytes()
}

func produceV2(t *testing.T, o *oldClient, topic string, set []byte) *kmsg.ProduceResponse {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 0, set
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return o.do(req, 2).(*kmsg.ProduceResponse)
}

func fetchV(o *oldClient, version int16, topic string, offset int64) *kmsg.FetchResponse {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes = -1, 100, 1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return o.do(req, version).(*kmsg.FetchResponse)
}

// kafka-node's flow: Metadata v1 creates the topic, Produce v2 sends a
// MessageSet (here one plain message and a gzip wrapper of two), Fetch v2
// and v0 read MessageSets back.
func TestOldProduceFetch(t *testing.T) {
	b := start(t)
	o := dialOld(t, b.Addr())
	md := metadataV1(o, "MOL.INFO")
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != 0 || len(md.Topics[0].Partitions) != 1 {
		t.Fatalf("metadata v1 did not create the topic with one partition: %+v", md.Topics)
	}
	host, port, _ := net.SplitHostPort(b.Addr())
	if len(md.Brokers) != 1 || md.Brokers[0].Host != host || fmt.Sprint(md.Brokers[0].Port) != port {
		t.Fatalf("metadata advertises %+v, want the front %s", md.Brokers, b.Addr())
	}

	inner := appendMessage(nil, 1, message{offset: 0, timestamp: 1000, value: []byte("two")})
	inner = appendMessage(inner, 1, message{offset: 1, timestamp: 1001, key: []byte("k"), value: []byte("three")})
	set := appendMessage(nil, 1, message{timestamp: 999, value: []byte("one")})
	wrapper := appendMessage(nil, 1, message{timestamp: 1001, value: gzipped(t, inner)})
	wrapper[17] = 1 // attributes: gzip (offset 8 + size 4 + crc 4 + magic 1)
	binary.BigEndian.PutUint32(wrapper[12:], crc32.ChecksumIEEE(wrapper[16:]))
	set = append(set, wrapper...)
	pr := produceV2(t, o, "MOL.INFO", set)
	if p := pr.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("produce v2: %+v", p)
	}

	for _, v := range []int16{2, 0} {
		fr := fetchV(o, v, "MOL.INFO", 1)
		p := fr.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.HighWatermark != 3 {
			t.Fatalf("fetch v%d: %+v", v, p)
		}
		msgs, err := parseMessageSet(p.RecordBatches, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].offset != 1 || string(msgs[0].value) != "two" ||
			msgs[1].offset != 2 || string(msgs[1].key) != "k" || string(msgs[1].value) != "three" {
			t.Fatalf("fetch v%d from offset 1: %+v", v, msgs)
		}
		if magic := p.RecordBatches[16]; (v == 2) != (magic == 1) {
			t.Errorf("fetch v%d answered with magic %d", v, magic)
		}
	}
}

// joinOldGroup joins group as kafka-node does (FindCoordinator v0,
// JoinGroup v0, SyncGroup v0), leader and only member.
func joinOldGroup(t *testing.T, o *oldClient, group string) *kmsg.JoinGroupResponse {
	t.Helper()
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey = group
	if r := o.do(fc, 0).(*kmsg.FindCoordinatorResponse); r.ErrorCode != 0 {
		t.Fatalf("find coordinator: %+v", r)
	}
	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.SessionTimeoutMillis, jg.ProtocolType = group, 10000, "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "roundrobin", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	jg.Protocols = append(jg.Protocols, p)
	jr := o.do(jg, 0).(*kmsg.JoinGroupResponse)
	if jr.ErrorCode != 0 || jr.MemberID == "" || jr.LeaderID != jr.MemberID {
		t.Fatalf("join group v0: %+v", jr)
	}
	time.Sleep(200 * time.Millisecond)
	sg := kmsg.NewPtrSyncGroupRequest()
	sg.Group, sg.Generation, sg.MemberID = group, jr.Generation, jr.MemberID
	a := kmsg.NewSyncGroupRequestGroupAssignment()
	a.MemberID, a.MemberAssignment = jr.MemberID, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	sg.GroupAssignment = append(sg.GroupAssignment, a)
	if r := o.do(sg, 0).(*kmsg.SyncGroupResponse); r.ErrorCode != 0 {
		t.Fatalf("sync group v0 after join v0: error %d", r.ErrorCode)
	}
	return jr
}

// JoinGroup v0 has no rebalance timeout; the member must survive until its
// SyncGroup (kfake alone evicts it at once).
func TestOldJoinGroup(t *testing.T) {
	b := start(t)
	o := dialOld(t, b.Addr())
	jr := joinOldGroup(t, o, "g1")
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.Generation, hb.MemberID = "g1", jr.Generation, jr.MemberID
	if r := o.do(hb, 0).(*kmsg.HeartbeatResponse); r.ErrorCode != 0 {
		t.Fatalf("heartbeat v0: error %d", r.ErrorCode)
	}
}

// OffsetFetch v1 of a partition the group never committed: offset -1 with
// empty (not null) metadata, as real Kafka answers and as kafka-node needs
// to start a new group at fromOffset; a committed offset comes back as is.
func TestOldOffsetFetch(t *testing.T) {
	b := start(t)
	o := dialOld(t, b.Addr())
	metadataV1(o, "of")
	jr := joinOldGroup(t, o, "g-of")
	fetch := func() kmsg.OffsetFetchResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Group = "g-of"
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = "of", []int32{0}
		req.Topics = append(req.Topics, rt)
		r := o.do(req, 1).(*kmsg.OffsetFetchResponse)
		if len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 {
			t.Fatalf("offset fetch v1: %+v", r)
		}
		return r.Topics[0].Partitions[0]
	}
	p := fetch()
	if p.ErrorCode != 0 || p.Offset != -1 || p.Metadata == nil || *p.Metadata != "" {
		t.Fatalf("no commit yet: error %d, offset %d, metadata %v; want 0, -1, \"\"", p.ErrorCode, p.Offset, p.Metadata)
	}
	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Group, oc.Generation, oc.MemberID, oc.RetentionTimeMillis = "g-of", jr.Generation, jr.MemberID, -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic = "of"
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	cp.Partition, cp.Offset, cp.Metadata = 0, 7, kmsg.StringPtr("m")
	ct.Partitions = append(ct.Partitions, cp)
	oc.Topics = append(oc.Topics, ct)
	if r := o.do(oc, 2).(*kmsg.OffsetCommitResponse); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset commit v2: error %d", r.Topics[0].Partitions[0].ErrorCode)
	}
	if p := fetch(); p.ErrorCode != 0 || p.Offset != 7 || p.Metadata == nil || *p.Metadata != "m" {
		t.Fatalf("after a commit: error %d, offset %d, metadata %v; want 0, 7, \"m\"", p.ErrorCode, p.Offset, p.Metadata)
	}
}

// A modern client passes through, and sees what an old one produced.
func TestModernClientAndOldProducer(t *testing.T) {
	b := start(t)
	o := dialOld(t, b.Addr())
	metadataV1(o, "t1")
	produceV2(t, o, "t1", appendMessage(nil, 1, message{timestamp: time.Now().UnixMilli(), value: []byte("from-old")}))

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("t1"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation(),
		kgo.DefaultProduceTopic("t1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("from-new"), Partition: 0}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("polled %v: %v", got, err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if got[0] != "from-old" || got[1] != "from-new" {
		t.Errorf("modern consumer read %v", got)
	}
	// And the old client reads what the modern one produced.
	fr := fetchV(o, 2, "t1", 1)
	msgs, err := parseMessageSet(fr.Topics[0].Partitions[0].RecordBatches, 0)
	if err != nil || len(msgs) != 1 || string(msgs[0].value) != "from-new" {
		t.Errorf("old fetch of a modern record: %+v %v", msgs, err)
	}
}
