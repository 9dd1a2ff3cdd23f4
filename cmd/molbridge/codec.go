package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/molbridge/molbridge/internal/packetjson"
	"github.com/molbridge/molbridge/protocol"
	"github.com/molbridge/molbridge/serializers"
	_ "github.com/molbridge/molbridge/serializers/all"
)

const decodeUsage = `Usage: molbridge decode --serializer S --type T [FILE]

Reads the bytes of one packet from FILE (or stdin) and prints its payload as
JSON: keys sorted, absent fields absent, null as null, binary data as
{"type":"Buffer","data":[...]} (how JS shows a Node Buffer).

T is JS's packet type name: REQ, RES, EVENT, DISCOVER, INFO, DISCONNECT,
HEARTBEAT, PING, PONG, GOSSIP_HELLO, GOSSIP_REQ or GOSSIP_RES (the packet
type is never inside the bytes; it comes from the topic). Bytes that do not
decode are reported on stderr with exit code 1.

Flags:
`

const encodeUsage = `Usage: molbridge encode --serializer S --type T [FILE]

Reads a payload as JSON (the form "molbridge decode" prints) from FILE (or
stdin) and writes the packet's bytes to stdout. An absent field is undefined;
an object {"type":"Buffer","data":[...]} is binary data (the JSON serializer
writes it as that object). T is JS's packet type name, as for decode. Input
that cannot be encoded is reported on stderr with exit code 1.

Flags:
`

func runDecode(args []string, s stdio) int {
	return runCodec("decode", decodeUsage, args, s, func(ser string, t protocol.PacketType, in []byte, pretty bool) ([]byte, error) {
		out, err := packetjson.Decode(ser, t, in)
		if err != nil {
			return nil, err
		}
		if pretty {
			var b bytes.Buffer
			if err := json.Indent(&b, out, "", "  "); err != nil {
				return nil, err
			}
			out = b.Bytes()
		}
		return append(out, '\n'), nil
	})
}

func runEncode(args []string, s stdio) int {
	return runCodec("encode", encodeUsage, args, s, func(ser string, t protocol.PacketType, in []byte, _ bool) ([]byte, error) {
		return packetjson.Encode(ser, t, in)
	})
}

type codecFunc func(serializer string, t protocol.PacketType, in []byte, pretty bool) ([]byte, error)

func runCodec(name, usage string, args []string, s stdio, do codecFunc) int {
	var (
		serializer, typ string
		pretty          bool
	)
	fs := flag.NewFlagSet("molbridge "+name, flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	fs.StringVar(&serializer, "serializer", "JSON", "serializer `name`, as JS names it (JSON, MsgPack, Avro, ...)")
	fs.StringVar(&typ, "type", "", "packet `type`, as JS names it (REQ, RES, EVENT, INFO, ...); required")
	if name == "decode" {
		fs.BoolVar(&pretty, "pretty", false, "indent the JSON")
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	// Flags may come before or after FILE.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.stderr, "molbridge %s: %s\n", name, fmt.Sprintf(format, a...))
		return 1
	}
	if len(files) > 1 {
		return fail("one input file at most, got %s", strings.Join(files, " "))
	}
	if typ == "" {
		return fail("--type is required (one of %s)", typeNames())
	}
	t, ok := parseType(typ)
	if !ok {
		return fail("unknown packet type %q (one of %s)", typ, typeNames())
	}
	if _, err := serializers.New(serializer); err != nil {
		return fail("%v", err)
	}

	var (
		in  []byte
		err error
		src = "stdin"
	)
	if len(files) == 1 && files[0] != "-" {
		src = files[0]
		in, err = os.ReadFile(files[0])
	} else {
		in, err = io.ReadAll(s.stdin)
	}
	if err != nil {
		return fail("%v", err)
	}
	if len(in) == 0 {
		return fail("%s is empty", src)
	}

	out, err := safely(func() ([]byte, error) { return do(serializer, t, in, pretty) })
	if err != nil {
		what := "bytes"
		if name == "encode" {
			what = "JSON"
		}
		return fail("%s: not a valid %s %s payload: %v", src, serializer, t, describe(what, err))
	}
	if _, err := s.stdout.Write(out); err != nil {
		return fail("write: %v", err)
	}
	return 0
}

func describe(what string, err error) error {
	if what == "JSON" {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("invalid JSON at offset %d: %v", syn.Offset, err)
		}
	}
	return err
}

// safely runs f, turning a panic of a serializer into an error.
func safely(f func() ([]byte, error)) (out []byte, err error) {
	defer func() {
		if x := recover(); x != nil {
			out, err = nil, fmt.Errorf("internal error: %v", x)
		}
	}()
	return f()
}

// parseType accepts JS's packet type names, in any case.
func parseType(s string) (protocol.PacketType, bool) {
	return protocol.ParsePacketType(strings.ToUpper(strings.TrimSpace(s)))
}

func typeNames() string {
	names := make([]string, len(protocol.PacketTypes))
	for i, t := range protocol.PacketTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
