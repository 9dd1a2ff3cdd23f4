package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets tests run the real command: the test binary started with
// MOLBRIDGE_TEST_MAIN=1 behaves as `molbridge`.
func TestMain(m *testing.M) {
	if os.Getenv("MOLBRIDGE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func runIn(args []string, env map[string]string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, stdio{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"--help"}} {
		code, out, _ := runIn(args, nil)
		if code != 0 || !strings.Contains(out, "molbridge <command>") || !strings.Contains(out, "peer") {
			t.Errorf("%v: code %d, usage:\n%s", args, code, out)
		}
	}
	if code, _, errOut := runIn(nil, nil); code != 2 || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no args: code %d, stderr:\n%s", code, errOut)
	}
	if code, _, errOut := runIn([]string{"nope"}, nil); code != 2 || !strings.Contains(errOut, `unknown command "nope"`) {
		t.Errorf("unknown command: code %d, stderr:\n%s", code, errOut)
	}
	for _, args := range [][]string{{"peer", "-h"}, {"help", "peer"}} {
		code, _, errOut := runIn(args, nil)
		if code != 0 || !strings.Contains(errOut, "READY <nodeID>") || !strings.Contains(errOut, "-transporter") {
			t.Errorf("%v: code %d, stderr:\n%s", args, code, errOut)
		}
	}
}

func TestPeerConfigPrecedence(t *testing.T) {
	env := map[string]string{
		"TRANSPORTER":         "nats://env:4222",
		"NODEID":              "env-node",
		"DISABLEBALANCER":     "true",
		"HEARTBEAT_INTERVAL":  "2", // jsnode.js alias
		"HEARTBEATTIMEOUT":    "7",
		"TRANSPORTER_OPTIONS": `{"user":"u"}`,
	}
	c, err := parsePeerConfig([]string{"--node-id", "flag-node", "--heartbeat-timeout=9"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := peerConfig{
		Transporter: "nats://env:4222", Serializer: "JSON", NodeID: "flag-node", DisableBalancer: true,
		HeartbeatInterval: 2, HeartbeatTimeout: 9, TransporterOptions: `{"user":"u"}`, LogLevel: "warn",
	}
	if *c != want {
		t.Errorf("config = %+v\nwant     %+v", *c, want)
	}
	o, err := c.brokerOptions(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.HeartbeatInterval != 2*time.Second || o.HeartbeatTimeout != 9*time.Second || o.TransporterOptions["user"] != "u" ||
		o.TransporterURL != "nats://env:4222" || o.NodeID != "flag-node" || !o.DisableBalancer {
		t.Errorf("options = %+v", o)
	}

	// Defaults.
	c, err = parsePeerConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Transporter != "nats://127.0.0.1:4222" || c.Serializer != "JSON" || c.HeartbeatInterval != 10 || c.HeartbeatTimeout != 30 {
		t.Errorf("defaults = %+v", *c)
	}

	// Bad values are reported, with the variable's name.
	_, err = parsePeerConfig(nil, func(k string) string { return map[string]string{"HEARTBEATINTERVAL": "soon"}[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HEARTBEATINTERVAL") {
		t.Errorf("bad env: %v", err)
	}
	if _, err := parsePeerConfig([]string{"--log-level", "loud"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("bad log level accepted")
	}
	if _, err := parsePeerConfig([]string{"extra"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("extra argument accepted")
	}
	if _, err := parsePeerConfig([]string{"-h"}, func(string) string { return "" }, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	c, _ = parsePeerConfig([]string{"--transporter-options", "[1]"}, func(string) string { return "" }, io.Discard)
	if _, err := c.brokerOptions(io.Discard); err == nil {
		t.Error("transporter options that are not an object accepted")
	}
	if code, _, _ := runIn([]string{"peer", "--transporter-options", "{"}, nil); code != 2 {
		t.Errorf("bad transporter options: exit code %d, want 2", code)
	}
}
