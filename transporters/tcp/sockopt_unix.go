//go:build unix

package tcp

import "syscall"

// udpControl sets SO_REUSEADDR (when reuse) and SO_BROADCAST on a UDP
// socket before it is bound, as Node's dgram does for reuseAddr and
// setBroadcast.
func udpControl(reuse, broadcast bool) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if reuse {
				if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); serr != nil {
					return
				}
			}
			if broadcast {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}
