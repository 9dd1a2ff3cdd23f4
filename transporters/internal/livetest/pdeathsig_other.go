//go:build !linux

package livetest

import "os/exec"

// setParentDeathSignal does nothing here; the test's cleanup kills the
// server.
func setParentDeathSignal(*exec.Cmd) {}
