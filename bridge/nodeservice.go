package bridge

import (
	"maps"
	"math"
	"os"
	"os/user"
	"runtime"
	"strings"
	"time"

	"github.com/molbridge/molbridge/packets"
)

// nodeService is the internal $node service every JS node runs, with the
// same actions, parameters and response shapes.
func nodeService(b *Broker) Service {
	flag := func(def bool) map[string]any {
		return map[string]any{"type": "boolean", "optional": true, "convert": true, "default": def}
	}
	internal := map[string]any{"cache": false, "tracing": false}
	filterParams := Schema{"onlyLocal": flag(false), "skipInternal": flag(false),
		"withEndpoints": flag(false), "onlyAvailable": flag(false)}
	multi := map[string]any{"type": "multi", "optional": true,
		"rules": []any{map[string]any{"type": "string"}, map[string]any{"type": "array", "items": "string"}}}
	return Service{
		Name: "$node",
		Actions: []Action{
			{Name: "list", Descriptor: internal, Params: Schema{"withServices": flag(false), "onlyAvailable": flag(false)},
				Handler: func(ctx *Context) (any, error) {
					p := paramFlags(ctx)
					return b.nodeListInfo(p["withServices"], p["onlyAvailable"]), nil
				}},
			{Name: "services", Descriptor: internal, Params: Schema{"onlyLocal": flag(false), "skipInternal": flag(false),
				"withActions": flag(false), "withEvents": flag(false), "onlyAvailable": flag(false), "grouping": flag(true)},
				Handler: func(ctx *Context) (any, error) { return b.serviceListInfo(paramFlags(ctx)), nil }},
			{Name: "actions", Descriptor: internal, Params: filterParams,
				Handler: func(ctx *Context) (any, error) { return b.endpointListInfo(paramFlags(ctx), false), nil }},
			{Name: "events", Descriptor: internal, Params: filterParams,
				Handler: func(ctx *Context) (any, error) { return b.endpointListInfo(paramFlags(ctx), true), nil }},
			{Name: "health", Descriptor: internal,
				Handler: func(*Context) (any, error) { return b.health(), nil }},
			{Name: "options", Descriptor: internal, Params: Schema{},
				Handler: func(*Context) (any, error) { return b.optionsInfo(), nil }},
			{Name: "metrics", Descriptor: internal, Params: Schema{"types": multi, "includes": multi, "excludes": multi},
				Handler: func(*Context) (any, error) {
					return nil, NewClientError("Metrics feature is disabled", 400, "METRICS_DISABLED", nil)
				}},
		},
	}
}

// paramFlags reads the boolean params of a $node action.
func paramFlags(ctx *Context) map[string]bool {
	out := map[string]bool{}
	v, _ := ctx.Params.Interface()
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k], _ = x.(bool)
	}
	if _, ok := m["grouping"]; !ok {
		out["grouping"] = true
	}
	return out
}

// uptimeSeconds is how JS stamps node times: whole seconds of this
// process's uptime.
func (b *Broker) uptimeSeconds(t time.Time) float64 {
	return math.Max(0, math.Round(t.Sub(b.created).Seconds()))
}

func (b *Broker) nodeListInfo(withServices, onlyAvailable bool) []map[string]any {
	out := []map[string]any{}
	for _, n := range b.reg.nodeList() {
		if onlyAvailable && !n.Available {
			continue
		}
		item := map[string]any{
			"id": n.ID, "instanceID": n.InstanceID, "available": n.Available, "local": n.Local,
			"config": orEmpty(n.Config), "client": n.Client, "metadata": orEmpty(n.Metadata),
			"ipList": n.IPList, "hostname": n.Hostname, "udpAddress": nil,
			"cpu": nil, "cpuSeq": nil, "seq": n.Seq, "offlineSince": nil,
		}
		if n.Local {
			item["port"] = nil
			item["lastHeartbeatTime"] = 0.0
		} else {
			item["lastHeartbeatTime"] = b.uptimeSeconds(n.LastHeartbeat)
			// INFO carries no port: JS has one for a remote node only when
			// the TCP transporter set it (urls, UDP, gossip).
			if n.Port != 0 {
				item["port"] = n.Port
			}
		}
		if n.CPU != nil {
			item["cpu"], item["cpuSeq"] = *n.CPU, n.CPUSeq
		}
		if !n.OfflineSince.IsZero() {
			item["offlineSince"] = b.uptimeSeconds(n.OfflineSince)
		}
		if withServices {
			item["services"] = n.Services
		}
		out = append(out, item)
	}
	return out
}

func (b *Broker) serviceListInfo(p map[string]bool) []map[string]any {
	out := []map[string]any{}
	byName := map[string]map[string]any{}
	for _, n := range b.reg.nodeList() {
		if !n.Available {
			continue
		}
		services := n.Services
		if n.Local {
			services = b.localInfo(false).Services
		}
		for _, s := range services {
			if p["skipInternal"] && strings.HasPrefix(s.Name, "$") || p["onlyLocal"] && !n.Local {
				continue
			}
			if p["grouping"] {
				if item := byName[s.FullName]; item != nil {
					item["nodes"] = append(item["nodes"].([]string), n.ID)
					continue
				}
			}
			item := map[string]any{"name": s.Name, "fullName": s.FullName, "settings": objectOrEmpty(s.Settings),
				"metadata": objectOrEmpty(s.Metadata), "local": n.Local, "available": n.Available}
			if s.Version != nil {
				item["version"] = s.Version
			}
			if p["grouping"] {
				item["nodes"] = []string{n.ID}
				byName[s.FullName] = item
			} else {
				item["nodeID"] = n.ID
			}
			if p["withActions"] {
				item["actions"] = s.Actions
			}
			if p["withEvents"] {
				events := map[string]packets.EventInfo{}
				for k, e := range s.Events {
					if !strings.HasPrefix(k, "$") {
						events[k] = e
					}
				}
				item["events"] = events
			}
			out = append(out, item)
		}
	}
	return out
}

// endpointListInfo answers $node.actions and $node.events.
func (b *Broker) endpointListInfo(p map[string]bool, events bool) []map[string]any {
	out := []map[string]any{}
	b.reg.mu.RLock()
	defer b.reg.mu.RUnlock()
	lists := b.reg.actionOrder
	if events {
		lists = b.reg.events
	}
	for _, l := range lists {
		if p["skipInternal"] && strings.HasPrefix(l.name, "$") {
			continue
		}
		available := false
		for _, ep := range l.endpoints {
			available = available || ep.available()
		}
		hasLocal := len(l.local) > 0
		if p["onlyLocal"] && !hasLocal || p["onlyAvailable"] && !available {
			continue
		}
		item := map[string]any{"name": l.name, "count": len(l.endpoints), "hasLocal": hasLocal, "available": available}
		key := "action"
		if events {
			item["group"], key = l.group, "event"
		}
		if len(l.endpoints) > 0 {
			item[key] = b.descriptor(l.endpoints[0])
			if p["withEndpoints"] {
				eps := []map[string]any{}
				for _, ep := range l.endpoints {
					eps = append(eps, map[string]any{"nodeID": ep.NodeID, "state": true, "available": ep.available()})
				}
				item["endpoints"] = eps
			}
		}
		out = append(out, item)
	}
	return out
}

// descriptor returns an endpoint's INFO descriptor.
func (b *Broker) descriptor(ep *Endpoint) packets.Value {
	switch {
	case ep.action != nil:
		return ep.action.svc.info.Actions[ep.action.name].Object()
	case ep.event != nil:
		return ep.event.svc.info.Events[ep.event.def.Name].Object()
	case !ep.info.IsUndefined():
		return ep.info
	}
	return packets.ValueOf(map[string]any{})
}

// objectOrEmpty is an object from INFO, {} when the node sent none.
func objectOrEmpty(v packets.Value) packets.Value {
	if v.IsUndefined() || v.IsNull() {
		return packets.ValueOf(map[string]any{})
	}
	return v
}

func (b *Broker) optionsInfo() map[string]any {
	o := b.opts
	transporter := any(o.TransporterURL)
	if o.TransporterURL == "" {
		transporter = nil
	}
	return map[string]any{
		"nodeID": b.nodeID, "namespace": o.Namespace, "transporter": transporter,
		"serializer": b.ser.Name(), "requestTimeout": o.RequestTimeout.Milliseconds(),
		"heartbeatInterval": o.HeartbeatInterval.Seconds(), "heartbeatTimeout": o.HeartbeatTimeout.Seconds(),
		"maxCallLevel": o.MaxCallLevel, "disableBalancer": o.DisableBalancer, "metadata": maps.Clone(o.Metadata),
		"registry": map[string]any{"strategy": o.Strategy, "preferLocal": !o.NoPreferLocal,
			"stopDelay": o.StopDelay.Milliseconds()},
		"transit": map[string]any{"maxQueueSize": o.MaxQueueSize, "maxChunkSize": 262144,
			"disableReconnect": false, "disableVersionCheck": false},
		"retryPolicy":    map[string]any{"enabled": false, "retries": 5, "delay": 100, "maxDelay": 1000, "factor": 2},
		"circuitBreaker": map[string]any{"enabled": false, "threshold": 0.5, "windowTime": 60, "minRequestCount": 20, "halfOpenTime": 10000},
		"bulkhead":       map[string]any{"enabled": false, "concurrency": 10, "maxQueueSize": 100},
		"tracking":       map[string]any{"enabled": false, "shutdownTimeout": 5000},
		"metrics":        map[string]any{"enabled": false}, "tracing": map[string]any{"enabled": false},
		"contextParamsCloning": false, "internalServices": true, "internalMiddlewares": true,
		"validator": true, "cacher": nil, "logLevel": nil,
	}
}

// health answers $node.health with JS's shape, from what Go and /proc can
// tell.
func (b *Broker) health() map[string]any {
	now := time.Now()
	load := readFloats("/proc/loadavg", 3)
	cores := runtime.NumCPU()
	util := math.Min(math.Floor(load[0]*100/float64(cores)), 100)
	total, free := memInfo()
	percent := 0.0
	if total > 0 {
		percent = free * 100 / total
	}
	uptime := readFloats("/proc/uptime", 1)[0]
	u := map[string]any{}
	if cur, err := user.Current(); err == nil {
		u = map[string]any{"uid": atoiOr(cur.Uid), "gid": atoiOr(cur.Gid), "username": cur.Username,
			"homedir": cur.HomeDir, "shell": os.Getenv("SHELL")}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	osType, release := unameInfo()
	host, _ := os.Hostname()
	arch := runtime.GOARCH
	switch arch {
	case "amd64":
		arch = "x64"
	case "386":
		arch = "ia32"
	}
	return map[string]any{
		"cpu": map[string]any{"load1": load[0], "load5": load[1], "load15": load[2], "cores": cores, "utilization": util},
		"mem": map[string]any{"free": free, "total": total, "percent": percent},
		"os": map[string]any{"uptime": uptime, "type": osType, "release": release, "hostname": host,
			"arch": arch, "platform": runtime.GOOS, "user": u},
		"process": map[string]any{"pid": os.Getpid(), "memory": map[string]any{"rss": ms.Sys, "heapTotal": ms.HeapSys,
			"heapUsed": ms.HeapAlloc, "external": 0, "arrayBuffers": 0},
			"uptime": now.Sub(processStart).Seconds(), "argv": os.Args},
		"client": b.local.Client,
		"net":    map[string]any{"ip": b.local.IPList},
		"time": map[string]any{"now": now.UnixMilli(), "iso": now.UTC().Format("2006-01-02T15:04:05.000Z"),
			"utc": now.UTC().Format(time.RFC1123)},
	}
}

var processStart = time.Now()
