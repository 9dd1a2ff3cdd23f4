package tcp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
)

// udpServer is the UDP discovery of the TCP transporter: it announces
// "<namespace>|<nodeID>|<tcpPort>" and reports the announcements of others.
type udpServer struct {
	opts      *Options
	namespace string
	nodeID    string
	port      int // TCP port announced
	onMessage func(nodeID, address string, port int)
	logf      func(msg string, args ...any)

	socks []*udpSock
	stop  chan struct{}
	wg    sync.WaitGroup
}

type udpSock struct {
	pc    net.PacketConn
	dests []string
}

// start binds the sockets and starts announcing. Bind failures are logged
// and leave discovery without that socket, as in JS.
func (u *udpServer) start() {
	u.stop = make(chan struct{})
	o := u.opts
	if o.UDPMulticast != "" {
		if o.UDPBindAddress != "" {
			u.listen(o.UDPBindAddress, o.UDPMulticast)
		} else {
			for _, ip := range interfaceAddresses() {
				u.listen(ip, o.UDPMulticast)
			}
		}
	}
	if o.UDPBroadcast {
		u.listen(o.UDPBindAddress, "")
	}
	for _, s := range u.socks {
		u.wg.Go(func() { u.read(s.pc) })
	}
	u.wg.Go(u.announceLoop)
}

func (u *udpServer) listen(host, group string) {
	if host == "" {
		host = "0.0.0.0"
	}
	port := u.opts.UDPPort
	if port == 0 {
		port = DefaultUDPPort
	}
	lc := net.ListenConfig{Control: udpControl(u.opts.UDPReuseAddr, group == "")}
	pc, err := lc.ListenPacket(context.Background(), "udp4", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		u.logf("UDP server binding error.", "address", host, "port", port, "err", err)
		return
	}
	s := &udpSock{pc: pc}
	if group != "" {
		if err := joinGroup(pc, host, group, u.opts.UDPMulticastTTL); err != nil {
			u.logf("UDP multicast membership error.", "address", host, "group", group, "err", err)
		}
		s.dests = []string{group}
	} else if len(u.opts.UDPBroadcastAddresses) > 0 {
		s.dests = u.opts.UDPBroadcastAddresses
	} else {
		s.dests = broadcastAddresses()
	}
	u.socks = append(u.socks, s)
}

// joinGroup makes a socket bound to the interface address host a member
// of group, sending through that interface.
func joinGroup(pc net.PacketConn, host, group string, ttl int) error {
	gip := net.ParseIP(group)
	if gip == nil {
		return fmt.Errorf("invalid multicast address %q", group)
	}
	p := ipv4.NewPacketConn(pc)
	var ifc *net.Interface
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		ifc = interfaceOf(ip)
	}
	if ifc != nil {
		if err := p.SetMulticastInterface(ifc); err != nil {
			return err
		}
	}
	if err := p.JoinGroup(ifc, &net.UDPAddr{IP: gip}); err != nil {
		return err
	}
	if ttl <= 0 {
		ttl = 1
	}
	return p.SetMulticastTTL(ttl)
}

func interfaceOf(ip net.IP) *net.Interface {
	ifaces, _ := net.Interfaces()
	for i := range ifaces {
		addrs, _ := ifaces[i].Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(ip) {
				return &ifaces[i]
			}
		}
	}
	return nil
}

func (u *udpServer) announceLoop() {
	if len(u.socks) == 0 {
		return
	}
	first := time.NewTimer(time.Duration(500+rand.IntN(500)) * time.Millisecond)
	defer first.Stop()
	period := u.opts.UDPPeriod
	if period <= 0 {
		period = 30 * time.Second
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	counter := 0
	for {
		select {
		case <-u.stop:
			return
		case <-first.C:
			u.announce()
			counter++
		case <-tick.C:
			u.announce()
			counter++
			if u.opts.UDPMaxDiscovery > 0 && counter >= u.opts.UDPMaxDiscovery {
				return
			}
		}
	}
}

func (u *udpServer) announce() {
	msg := []byte(u.namespace + "|" + u.nodeID + "|" + strconv.Itoa(u.port))
	port := u.opts.UDPPort
	if port == 0 {
		port = DefaultUDPPort
	}
	for _, s := range u.socks {
		for _, d := range s.dests {
			addr, err := net.ResolveUDPAddr("udp4", net.JoinHostPort(d, strconv.Itoa(port)))
			if err == nil {
				_, err = s.pc.WriteTo(msg, addr)
			}
			if err != nil {
				u.logf("Discovery packet broadcast error.", "address", d, "port", port, "err", err)
			}
		}
	}
}

func (u *udpServer) read(pc net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		parts := strings.Split(string(buf[:n]), "|")
		if len(parts) != 3 || parts[0] != u.namespace {
			continue
		}
		port, ok := jsParseInt(parts[2])
		ua, _ := from.(*net.UDPAddr)
		if !ok || ua == nil || parts[1] == "" {
			continue
		}
		u.onMessage(parts[1], ua.IP.String(), port)
	}
}

// jsParseInt reads a leading decimal integer as JS's parseInt(s, 10).
func jsParseInt(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\r\n")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	return n, err == nil
}

func (u *udpServer) close() {
	if u.stop == nil {
		return
	}
	close(u.stop)
	for _, s := range u.socks {
		_ = s.pc.Close()
	}
	u.wg.Wait()
}

// interfaceAddresses lists the IPv4 address of every interface, as JS's
// getInterfaceAddresses.
func interfaceAddresses() []string {
	var out []string
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				out = append(out, ipn.IP.String())
			}
		}
	}
	return out
}

// broadcastAddresses lists the directed broadcast address of every IPv4
// interface address, as JS's getBroadcastAddresses.
func broadcastAddresses() []string {
	var out []string
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip4 := ipn.IP.To4()
			if ip4 == nil || len(ipn.Mask) < 4 {
				continue
			}
			mask := ipn.Mask[len(ipn.Mask)-4:]
			b := make(net.IP, 4)
			for i := range b {
				b[i] = ip4[i] | ^mask[i]
			}
			out = append(out, b.String())
		}
	}
	return out
}
