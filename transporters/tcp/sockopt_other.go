//go:build !unix

package tcp

import "syscall"

// udpControl is a no-op where the socket options are not reachable
// through package syscall; UDP discovery then cannot share its port with
// other nodes on the same host.
func udpControl(_, _ bool) func(network, address string, c syscall.RawConn) error {
	return nil
}
