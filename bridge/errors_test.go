package bridge

import (
	"context"
	"errors"
	"testing"

	"github.com/molbridge/molbridge/packets"
)

func TestErrorFromPayloadRebuildsAsJS(t *testing.T) {
	tests := []struct {
		in   packets.ErrorPayload
		want Error
	}{
		{packets.ErrorPayload{Name: "MoleculerClientError", Message: "Bad thing", NodeID: "b", Code: 422, Type: "BAD", Data: map[string]any{"x": 1.0}},
			Error{Name: "MoleculerClientError", Message: "Bad thing", NodeID: "b", Code: 422, Type: "BAD"}},
		{packets.ErrorPayload{Name: "ServiceNotAvailableError", Message: "ignored", Code: 1, Data: map[string]any{"action": "a.b", "nodeID": "n"}, Retryable: true},
			Error{Name: "ServiceNotAvailableError", Message: "Service 'a.b' is not available on 'n' node.", NodeID: "sender", Code: 404, Type: "SERVICE_NOT_AVAILABLE", Retryable: true}},
		{packets.ErrorPayload{Name: "RequestTimeoutError", Data: map[string]any{"action": "a.b", "nodeID": "n"}},
			Error{Name: "RequestTimeoutError", Message: "Request is timed out when call 'a.b' action on 'n' node.", NodeID: "sender", Code: 504, Type: "REQUEST_TIMEOUT"}},
		{packets.ErrorPayload{Name: "MaxCallLevelError", Data: map[string]any{"level": 5.0, "nodeID": "n"}},
			Error{Name: "MaxCallLevelError", Message: "Request level is reached the limit (5) on 'n' node.", NodeID: "sender", Code: 500, Type: "MAX_CALL_LEVEL"}},
		{packets.ErrorPayload{Name: "ValidationError", Message: "m"}, Error{Name: "ValidationError", Message: "m", NodeID: "sender", Code: 422, Type: "VALIDATION_ERROR"}},
		{packets.ErrorPayload{Name: "MoleculerError", Message: "m"}, Error{Name: "MoleculerError", Message: "m", NodeID: "sender", Code: 500}},
		{packets.ErrorPayload{Name: "TypeError", Message: "x is not a function"}, Error{Name: "TypeError", Message: "x is not a function", NodeID: "sender"}},
	}
	for _, tt := range tests {
		got := errorFromPayload(&tt.in, "sender")
		got.Data = nil
		if *got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.in.Name, *got, tt.want)
		}
	}
}

func TestErrorsIs(t *testing.T) {
	err := error(errRequestTimeout("a", "n"))
	if !errors.Is(err, ErrRequestTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrServiceNotFound) {
		t.Error("errors.Is does not match by name")
	}
	wrapped := asError(errors.New("plain"), "me")
	if wrapped.Name != "MoleculerError" || wrapped.Code != 500 || wrapped.NodeID != "me" {
		t.Errorf("plain error became %+v", wrapped)
	}
}
