package tcp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/molbridge/molbridge/protocol"
)

type frame struct {
	t       protocol.PacketType
	payload string
}

func feedAll(t *testing.T, p *Parser, chunks ...[]byte) ([]frame, error) {
	t.Helper()
	var got []frame
	for _, c := range chunks {
		if err := p.Feed(c, func(typ protocol.PacketType, b []byte) { got = append(got, frame{typ, string(b)}) }); err != nil {
			return got, err
		}
	}
	return got, nil
}

func mustFrame(t *testing.T, typ protocol.PacketType, payload string) []byte {
	t.Helper()
	b, err := AppendFrame(nil, typ, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendFrameHeader(t *testing.T) {
	// protocol.md §7.9.3: a 100-byte REQ payload has the header 68 00 00 00 6A 02.
	b := mustFrame(t, protocol.Request, strings.Repeat("x", 100))
	if want := []byte{0x68, 0, 0, 0, 0x6A, 2}; !bytes.Equal(b[:6], want) {
		t.Fatalf("header % x, want % x", b[:6], want)
	}
	for _, typ := range []protocol.PacketType{protocol.Discover, protocol.Info, protocol.Heartbeat, protocol.Disconnect} {
		if _, err := AppendFrame(nil, typ, nil); err == nil {
			t.Errorf("AppendFrame(%s) succeeded; JS never frames it", typ)
		}
	}
}

func TestParserFramesAndSplits(t *testing.T) {
	stream := append(mustFrame(t, protocol.Event, `{"a":1}`), mustFrame(t, protocol.GossipHello, `{"host":"h"}`)...)
	stream = append(stream, mustFrame(t, protocol.Pong, ``)...)
	want := []frame{{protocol.Event, `{"a":1}`}, {protocol.GossipHello, `{"host":"h"}`}, {protocol.Pong, ``}}
	// Every split point, including inside the header.
	for i := 0; i <= len(stream); i++ {
		var p Parser
		got, err := feedAll(t, &p, stream[:i], stream[i:])
		if err != nil {
			t.Fatalf("split at %d: %v", i, err)
		}
		if len(got) != len(want) {
			t.Fatalf("split at %d: got %v, want %v", i, got, want)
		}
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("split at %d: frame %d is %v, want %v", i, k, got[k], want[k])
			}
		}
	}
	// Byte by byte.
	var p Parser
	var chunks [][]byte
	for i := range stream {
		chunks = append(chunks, stream[i:i+1])
	}
	got, err := feedAll(t, &p, chunks...)
	if err != nil || len(got) != 3 {
		t.Fatalf("byte by byte: %v %v", got, err)
	}
}

func TestParserErrors(t *testing.T) {
	good := mustFrame(t, protocol.Request, `{"id":"1"}`)

	badCRC := bytes.Clone(good)
	badCRC[0] ^= 0xFF
	var p Parser
	if _, err := feedAll(t, &p, badCRC); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("bad CRC: err = %v", err)
	}

	// Length 5 (< header size) with a valid CRC.
	short := []byte{0, 0, 0, 0, 5, 2}
	short[0] = short[1] ^ short[2] ^ short[3] ^ short[4] ^ short[5]
	p = Parser{}
	if _, err := feedAll(t, &p, short); err == nil || !strings.Contains(err.Error(), "length") {
		t.Errorf("length < 6: err = %v", err)
	}
	// Negative length.
	neg := []byte{0, 0xFF, 0xFF, 0xFF, 0xFF, 2}
	neg[0] = neg[1] ^ neg[2] ^ neg[3] ^ neg[4] ^ neg[5]
	p = Parser{}
	if _, err := feedAll(t, &p, neg); err == nil {
		t.Error("negative length accepted")
	}

	// The limit applies to the buffered bytes, which may hold several
	// frames, as in JS.
	p = Parser{MaxPacketSize: len(good) * 2}
	if got, err := feedAll(t, &p, append(bytes.Clone(good), good...)); err != nil || len(got) != 2 {
		t.Errorf("two frames at the limit: %v %v", got, err)
	}
	p = Parser{MaxPacketSize: len(good) * 2}
	if _, err := feedAll(t, &p, bytes.Repeat(good, 3)); err == nil || !strings.Contains(err.Error(), "maxPacketSize") {
		t.Errorf("three frames over the limit: err = %v", err)
	}
	big := mustFrame(t, protocol.Request, strings.Repeat("x", 2000))
	p = Parser{MaxPacketSize: 1000}
	if _, err := feedAll(t, &p, big[:500], big[500:]); err == nil {
		t.Error("oversized frame accepted")
	}

	// Unknown type ids (JS would crash): an error, not a frame.
	unknown := []byte{0, 0, 0, 0, 6, 9}
	unknown[0] = unknown[1] ^ unknown[2] ^ unknown[3] ^ unknown[4] ^ unknown[5]
	p = Parser{}
	if got, err := feedAll(t, &p, unknown); err == nil || len(got) != 0 {
		t.Errorf("type id 9: %v %v", got, err)
	}
}
