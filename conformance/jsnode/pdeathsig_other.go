//go:build !linux

package jsnode

import "os/exec"

// setParentDeathSignal does nothing here: the closed stdin pipe stops the
// child when this process dies.
func setParentDeathSignal(*exec.Cmd) {}
