package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestPickNames(t *testing.T) {
	got, err := pickNames("serializer", "cbor, json,MsgPack", conformanceSerializers)
	if err != nil || !slices.Equal(got, []string{"JSON", "MsgPack", "CBOR"}) {
		t.Errorf("pickNames = %v, %v", got, err)
	}
	if got, _ := pickNames("serializer", "all", conformanceSerializers); len(got) != 7 {
		t.Errorf("all serializers = %v", got)
	}
	if got, _ := pickNames("transporter", "", []string{"NATS", "TCP"}); len(got) != 2 {
		t.Errorf("default transporters = %v", got)
	}
	if _, err := pickNames("transporter", "NATS,Zmq", []string{"NATS"}); err == nil || !strings.Contains(err.Error(), "Zmq") {
		t.Errorf("unknown name: err = %v", err)
	}
	if len(conformanceTransporters) != 8 {
		t.Errorf("%d transporters, want JS's 8", len(conformanceTransporters))
	}
}

func TestParseCellOutput(t *testing.T) {
	out := `live: running over AMQP × JSON
=== RUN   TestA
=== PAUSE TestA
=== RUN   TestB
=== PAUSE TestB
=== CONT  TestA
=== CONT  TestB
    calls_test.go:170: NOT APPLICABLE on AMQP × JSON: checking parentID: AMQP delivers a node's targeted packets through a work queue
--- PASS: TestB (1.50s)
=== RUN   TestA/sub
    --- FAIL: TestA/sub (0.10s)
--- FAIL: TestA (2.00s)
FAIL
`
	c := &conformanceCell{}
	parseCellOutput(c, out)
	if c.Passed != 1 || !slices.Equal(c.Failed, []string{"TestA"}) {
		t.Errorf("passed %d, failed %v", c.Passed, c.Failed)
	}
	if len(c.NotAppl) != 1 || !strings.HasPrefix(c.NotAppl[0], "TestB: checking parentID: AMQP delivers") {
		t.Errorf("not applicable: %q", c.NotAppl)
	}

	c = &conformanceCell{}
	parseCellOutput(c, liveMissingPrefix+" transporter TCP: no transporter for \"TCP\"\n")
	if c.Detail != `transporter TCP: no transporter for "TCP"` {
		t.Errorf("missing detail %q", c.Detail)
	}
}

func TestConformanceReport(t *testing.T) {
	cells := []*conformanceCell{
		{Transporter: "NATS", Serializer: "JSON", Result: cellPass, Passed: 40},
		{Transporter: "TCP", Serializer: "JSON", Result: cellMissing, Detail: "transporter TCP: not registered"},
	}
	r := conformanceReport(cells, conformanceConfig{transporters: []string{"NATS", "TCP"}, serializers: []string{"JSON"}, parallel: 2})
	for _, want := range []string{"| NATS | pass |", "| TCP | missing |", "- TCP × JSON: transporter TCP: not registered", "Cells impossible in JS itself"} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
	var b bytes.Buffer
	printConformanceTable(&b, cells)
	if !strings.Contains(b.String(), "2 cells: 1 pass, 0 fail, 1 missing") {
		t.Errorf("table:\n%s", b.String())
	}
}
