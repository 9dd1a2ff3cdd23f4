package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/molbridge/molbridge/packets"
)

// Error is an error of the Moleculer family. It crosses the wire with its
// name, message, code, type, data, retryable flag and the ID of the node it
// came from, and is rebuilt on the other side as JS rebuilds it.
//
// Compare errors with errors.Is against the sentinels (ErrServiceNotFound,
// ErrRequestTimeout, ...), which match by Name, or take the details with
// errors.As:
//
//	var merr *bridge.Error
//	if errors.As(err, &merr) && merr.Code == 422 { ... }
type Error struct {
	// Name is the JS class name, e.g. "MoleculerClientError".
	Name    string
	Message string
	// Code is HTTP-like: 400 for client errors, 500 for server errors, ...
	Code int
	// Type is a machine-readable code such as "SERVICE_NOT_FOUND".
	Type string
	// Data is arbitrary detail, plain JSON-like Go data.
	Data any
	// Retryable tells the retry middleware that a new attempt may succeed.
	Retryable bool
	// NodeID is the node where the error arose.
	NodeID string
	// Stack is the stack trace a JS node sent, if any.
	Stack string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// Is reports whether target is an *Error with the same Name; a sentinel
// such as ErrRequestTimeout therefore matches every request timeout. A
// RequestTimeoutError also matches context.DeadlineExceeded.
func (e *Error) Is(target error) bool {
	if t, ok := target.(*Error); ok {
		return t.Name == e.Name
	}
	return target == context.DeadlineExceeded && e.Name == "RequestTimeoutError"
}

// Sentinels for errors.Is, one per error class of moleculer.
var (
	ErrMoleculer          = &Error{Name: "MoleculerError"}
	ErrRetryable          = &Error{Name: "MoleculerRetryableError"}
	ErrServer             = &Error{Name: "MoleculerServerError"}
	ErrClient             = &Error{Name: "MoleculerClientError"}
	ErrValidation         = &Error{Name: "ValidationError"}
	ErrServiceNotFound    = &Error{Name: "ServiceNotFoundError"}
	ErrServiceNotAvail    = &Error{Name: "ServiceNotAvailableError"}
	ErrRequestTimeout     = &Error{Name: "RequestTimeoutError"}
	ErrRequestSkipped     = &Error{Name: "RequestSkippedError"}
	ErrRequestRejected    = &Error{Name: "RequestRejectedError"}
	ErrQueueIsFull        = &Error{Name: "QueueIsFullError"}
	ErrMaxCallLevel       = &Error{Name: "MaxCallLevelError"}
	ErrBrokerDisconnected = &Error{Name: "BrokerDisconnectedError"}
	ErrGracefulStop       = &Error{Name: "GracefulStopTimeoutError"}
	ErrProtocolMismatch   = &Error{Name: "ProtocolVersionMismatchError"}
	ErrInvalidPacketData  = &Error{Name: "InvalidPacketDataError"}
	ErrServiceSchema      = &Error{Name: "ServiceSchemaError"}
	ErrBrokerOptions      = &Error{Name: "BrokerOptionsError"}
)

// NewError returns a MoleculerError; code 0 means 500.
func NewError(message string, code int, typ string, data any) *Error {
	return &Error{Name: "MoleculerError", Message: message, Code: orDefault(code, 500), Type: typ, Data: data}
}

// NewRetryableError returns a MoleculerRetryableError; code 0 means 500.
func NewRetryableError(message string, code int, typ string, data any) *Error {
	return &Error{Name: "MoleculerRetryableError", Message: message, Code: orDefault(code, 500), Type: typ, Data: data, Retryable: true}
}

// NewServerError returns a MoleculerServerError (retryable); code 0 means 500.
func NewServerError(message string, code int, typ string, data any) *Error {
	return &Error{Name: "MoleculerServerError", Message: message, Code: orDefault(code, 500), Type: typ, Data: data, Retryable: true}
}

// NewClientError returns a MoleculerClientError; code 0 means 400.
func NewClientError(message string, code int, typ string, data any) *Error {
	return &Error{Name: "MoleculerClientError", Message: message, Code: orDefault(code, 400), Type: typ, Data: data}
}

// NewValidationError returns a ValidationError (422); typ "" means
// "VALIDATION_ERROR".
func NewValidationError(message, typ string, data any) *Error {
	if typ == "" {
		typ = "VALIDATION_ERROR"
	}
	return &Error{Name: "ValidationError", Message: message, Code: 422, Type: typ, Data: data}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// actionData is the data of the errors JS builds from an action and a node.
func actionData(action, nodeID string) map[string]any {
	d := map[string]any{"action": action}
	if nodeID != "" {
		d["nodeID"] = nodeID
	}
	return d
}

func errServiceNotFound(action, nodeID string) *Error {
	msg := fmt.Sprintf("Service '%s' is not found.", action)
	if nodeID != "" {
		msg = fmt.Sprintf("Service '%s' is not found on '%s' node.", action, nodeID)
	}
	return &Error{Name: "ServiceNotFoundError", Message: msg, Code: 404, Type: "SERVICE_NOT_FOUND",
		Data: actionData(action, nodeID), Retryable: true}
}

func errServiceNotAvailable(action, nodeID string) *Error {
	msg := fmt.Sprintf("Service '%s' is not available.", action)
	if nodeID != "" {
		msg = fmt.Sprintf("Service '%s' is not available on '%s' node.", action, nodeID)
	}
	return &Error{Name: "ServiceNotAvailableError", Message: msg, Code: 404, Type: "SERVICE_NOT_AVAILABLE",
		Data: actionData(action, nodeID), Retryable: true}
}

func errRequestTimeout(action, nodeID string) *Error {
	return &Error{Name: "RequestTimeoutError", Code: 504, Type: "REQUEST_TIMEOUT", Retryable: true,
		Message: fmt.Sprintf("Request is timed out when call '%s' action on '%s' node.", action, nodeID),
		Data:    map[string]any{"action": action, "nodeID": nodeID}}
}

func errRequestSkipped(action, nodeID string) *Error {
	return &Error{Name: "RequestSkippedError", Code: 514, Type: "REQUEST_SKIPPED",
		Message: fmt.Sprintf("Calling '%s' is skipped because timeout reached on '%s' node.", action, nodeID),
		Data:    map[string]any{"action": action, "nodeID": nodeID}}
}

func errRequestRejected(action, nodeID string) *Error {
	return &Error{Name: "RequestRejectedError", Code: 503, Type: "REQUEST_REJECTED", Retryable: true,
		Message: fmt.Sprintf("Request is rejected when call '%s' action on '%s' node.", action, nodeID),
		Data:    map[string]any{"action": action, "nodeID": nodeID}}
}

func errQueueIsFull(action, nodeID string, size, limit int) *Error {
	return &Error{Name: "QueueIsFullError", Code: 429, Type: "QUEUE_FULL", Retryable: true,
		Message: fmt.Sprintf("Queue is full. Request '%s' action on '%s' node is rejected.", action, nodeID),
		Data:    map[string]any{"action": action, "nodeID": nodeID, "size": size, "limit": limit}}
}

func errMaxCallLevel(nodeID string, level int) *Error {
	return &Error{Name: "MaxCallLevelError", Code: 500, Type: "MAX_CALL_LEVEL",
		Message: fmt.Sprintf("Request level is reached the limit (%d) on '%s' node.", level, nodeID),
		Data:    map[string]any{"nodeID": nodeID, "level": level}}
}

func errBrokerDisconnected() *Error {
	return &Error{Name: "BrokerDisconnectedError", Code: 502, Type: "BAD_GATEWAY", Retryable: true,
		Message: "The broker's transporter has disconnected. Please try again when a connection is reestablished."}
}

// asError turns any error into a Moleculer error as the ErrorHandler
// middleware of JS does: a non-Moleculer error keeps its message and becomes
// a MoleculerError with code 500.
func asError(err error, nodeID string) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.NodeID == "" {
			c := *e
			c.NodeID = nodeID
			return &c
		}
		return e
	}
	return &Error{Name: "MoleculerError", Message: err.Error(), Code: 500, NodeID: nodeID}
}

// toPayload is the plain error object that crosses the wire.
func (e *Error) toPayload() *packets.ErrorPayload {
	return &packets.ErrorPayload{Name: e.Name, Message: e.Message, NodeID: e.NodeID, Code: e.Code,
		Type: e.Type, Retryable: e.Retryable, Stack: e.Stack, Data: e.Data}
}

// errorFromPayload rebuilds an error as JS's Regenerator does: classes whose
// message JS regenerates from data get it regenerated, the retryable flag is
// the one on the wire, and nodeID falls back to the packet's sender.
func errorFromPayload(p *packets.ErrorPayload, sender string) *Error {
	e := &Error{Name: p.Name, Message: p.Message, Code: p.Code, Type: p.Type, Data: p.Data,
		Retryable: p.Retryable, NodeID: p.NodeID, Stack: p.Stack}
	if e.NodeID == "" {
		e.NodeID = sender
	}
	data, _ := p.Data.(map[string]any)
	str := func(k string) string { s, _ := data[k].(string); return s }
	var rebuilt *Error
	switch p.Name {
	case "MoleculerError", "MoleculerRetryableError", "MoleculerServerError":
		e.Code = orDefault(p.Code, 500)
	case "MoleculerClientError":
		e.Code = orDefault(p.Code, 400)
	case "ValidationError":
		e.Code = 422
		if e.Type == "" {
			e.Type = "VALIDATION_ERROR"
		}
	case "ServiceNotFoundError":
		rebuilt = errServiceNotFound(str("action"), str("nodeID"))
		// JS builds the message from whatever data has: the action (and
		// node), else the service (and version), else nothing.
		switch {
		case str("service") != "" && str("version") != "":
			rebuilt.Message = fmt.Sprintf("Service '%s.%s' not found.", str("version"), str("service"))
		case str("service") != "":
			rebuilt.Message = fmt.Sprintf("Service '%s' not found.", str("service"))
		case str("action") == "":
			rebuilt.Message = ""
		}
	case "ServiceNotAvailableError":
		rebuilt = errServiceNotAvailable(str("action"), str("nodeID"))
	case "RequestTimeoutError":
		rebuilt = errRequestTimeout(str("action"), str("nodeID"))
	case "RequestSkippedError":
		rebuilt = errRequestSkipped(str("action"), str("nodeID"))
	case "RequestRejectedError":
		rebuilt = errRequestRejected(str("action"), str("nodeID"))
	case "QueueIsFullError":
		rebuilt = errQueueIsFull(str("action"), str("nodeID"), 0, 0)
	case "MaxCallLevelError":
		lvl, _ := data["level"].(float64)
		rebuilt = errMaxCallLevel(str("nodeID"), int(lvl))
	case "GracefulStopTimeoutError":
		rebuilt = &Error{Message: "Unable to stop ServiceBroker gracefully.", Code: 500, Type: "GRACEFUL_STOP_TIMEOUT"}
		e.Data = nil
		if svc, ok := data["service"].(map[string]any); ok {
			name, _ := svc["name"].(string)
			rebuilt.Message = fmt.Sprintf("Unable to stop '%s' service gracefully.", name)
			d := map[string]any{}
			for _, k := range []string{"name", "version"} {
				if v, ok := svc[k]; ok && v != nil {
					d[k] = v
				}
			}
			e.Data = d
		}
	case "ProtocolVersionMismatchError":
		rebuilt = &Error{Message: "Protocol version mismatch.", Code: 500, Type: "PROTOCOL_VERSION_MISMATCH"}
	case "InvalidPacketDataError":
		rebuilt = &Error{Message: "Invalid packet data.", Code: 500, Type: "INVALID_PACKET_DATA"}
	case "ServiceSchemaError":
		rebuilt = &Error{Message: p.Message, Code: 500, Type: "SERVICE_SCHEMA_ERROR"}
	case "BrokerOptionsError":
		rebuilt = &Error{Message: p.Message, Code: 500, Type: "BROKER_OPTIONS_ERROR"}
	}
	if rebuilt != nil {
		e.Message, e.Code, e.Type = rebuilt.Message, rebuilt.Code, rebuilt.Type
	}
	return e
}
